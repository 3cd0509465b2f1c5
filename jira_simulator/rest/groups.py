"""Groups: `group/bulk`, `group/member` (inactive members only on request), `groups/picker`."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import JiraError, bad_request
from jira_simulator.model import Group
from jira_simulator.rest.common import (
    MANAGE_CONFIGURATION,
    READ_USER,
    RestCall,
    page_bean,
    query_bool,
    query_int,
    query_values,
    respond,
)

BULK_DEFAULT = 50
BULK_MAX = 1000
MEMBERS_DEFAULT = 50
MEMBERS_MAX = 50
PICKER_DEFAULT = 20


def _groups_by_name(call: RestCall) -> list[Group]:
    return sorted(call.site.groups.values(), key=lambda g: g.name.casefold())


async def group_bulk(request: Request) -> Response:
    call = RestCall.of(request, READ_USER)
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", BULK_DEFAULT, minimum=1, maximum=BULK_MAX)
    ids = set(request.query_params.getlist("groupId"))
    names = {n.casefold() for n in request.query_params.getlist("groupName")}
    matching = [
        g
        for g in _groups_by_name(call)
        if (not ids and not names) or g.group_id in ids or g.name.casefold() in names
    ]
    values = [{"groupId": g.group_id, "name": g.name} for g in matching[start_at : start_at + max_results]]
    return respond(page_bean(call, values, start_at, max_results, len(matching)))


async def group_member(request: Request) -> Response:
    call = RestCall.of(request, MANAGE_CONFIGURATION)
    group_id = request.query_params.get("groupId")
    group_name = request.query_params.get("groupname")
    if group_id and group_name:
        raise bad_request("You cannot provide both groupId and groupname; use groupId.")
    if not group_id and not group_name:
        raise bad_request("You must provide a groupId (or the deprecated groupname).")
    group = next(
        (
            g
            for g in call.site.groups.values()
            if (group_id and g.group_id == group_id)
            or (group_name and g.name.casefold() == group_name.casefold())
        ),
        None,
    )
    if group is None:
        raise JiraError(404, f"Group '{group_id or group_name}' does not exist.")
    include_inactive = query_bool(request, "includeInactiveUsers", False)
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", MEMBERS_DEFAULT, minimum=1, maximum=MEMBERS_MAX)
    users = call.world.users
    members = [users[a] for a in group.member_ids if a in users and (include_inactive or users[a].active)]
    members.sort(key=lambda u: (u.display_name.casefold(), u.account_id))
    renderer = call.renderer
    values = [renderer.users.user_ref(u.account_id) for u in members[start_at : start_at + max_results]]
    return respond(page_bean(call, values, start_at, max_results, len(members)))


async def groups_picker(request: Request) -> Response:
    call = RestCall.of(request, READ_USER)
    query = request.query_params.get("query") or ""
    case_insensitive = query_bool(request, "caseInsensitive", False)
    max_results = query_int(request, "maxResults", PICKER_DEFAULT, minimum=0, maximum=1000)
    excluded = set(query_values(request, "exclude") or [])
    excluded_ids = set(query_values(request, "excludeId") or [])

    def matches(group: Group) -> bool:
        if group.name in excluded or group.group_id in excluded_ids:
            return False
        if case_insensitive:
            return query.casefold() in group.name.casefold()
        return query in group.name

    matching = [g for g in _groups_by_name(call) if matches(g)]
    shown = matching[:max_results]
    return respond(
        {
            "header": f"Showing {len(shown)} of {len(matching)} matching groups",
            "total": len(matching),
            "groups": [
                {
                    "name": g.name,
                    "html": html.escape(g.name).replace(html.escape(query), f"<b>{html.escape(query)}</b>", 1)
                    if query
                    else html.escape(g.name),
                    "groupId": g.group_id,
                    "labels": [],
                }
                for g in shown
            ],
        }
    )


def routes() -> list[Route]:
    return [
        Route("/group/bulk", group_bulk, methods=["GET"]),
        Route("/group/member", group_member, methods=["GET"]),
        Route("/groups/picker", groups_picker, methods=["GET"]),
    ]
