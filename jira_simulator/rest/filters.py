"""Filters: `filter/search`, `filter/{id}` (its share permissions and columns), `filter/my`,
`filter/favourite`, `filter/defaultShareScope`.

Only filters the caller may see are answered (`sharing.can_see`); a Jira admin may pass
`overrideSharePermissions=true` to `filter/search` to see all. An unknown or invisible filter is
400 with Jira's sentence (the spec documents 400 for `filter/{id}`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import JiraError, bad_request
from jira_simulator.model import Filter
from jira_simulator.rest.common import (
    READ_WORK,
    RestCall,
    page_bean,
    query_bool,
    query_int,
    query_values,
    respond,
)
from jira_simulator.sharing import can_see

FILTER_UNAVAILABLE = (
    "The selected filter is not available to you, perhaps it has been deleted or had its permissions changed."
)
FILTER_EXPANDS = {
    "description", "owner", "jql", "viewurl", "searchurl", "favourite", "favouritedcount",
    "sharepermissions", "editpermissions", "iswritable", "subscriptions", "approximatelastused",
}  # fmt: skip
# The columns a board filter's list view shows; personal filters have no column configuration.
BOARD_COLUMNS = (
    ("Issue Type", "issuetype"), ("Key", "issuekey"), ("Summary", "summary"), ("Assignee", "assignee"),
    ("Reporter", "reporter"), ("Priority", "priority"), ("Status", "status"), ("Resolution", "resolution"),
    ("Created", "created"), ("Updated", "updated"), ("Due date", "duedate"),
)  # fmt: skip
ORDERS = {"name", "id", "description", "favourite_count", "is_favourite", "owner", "is_shared"}


def visible_filters(call: RestCall) -> list[Filter]:
    return [
        f
        for f in call.site.filters.values()
        if can_see(call.world, call.site, f.share_permissions, f.owner_account_id, call.principal.account_id)
    ]


def _filter_or_400(call: RestCall, filter_id: str) -> Filter:
    found = call.site.filters.get(filter_id)
    if found is None or found not in visible_filters(call):
        raise JiraError(400, FILTER_UNAVAILABLE)
    return found


def _expand(request: Request) -> set[str]:
    values = {e.casefold() for e in query_values(request, "expand") or []}
    unknown = values - FILTER_EXPANDS
    if unknown:
        raise bad_request(f"The expand value '{sorted(unknown)[0]}' is not valid.")
    return values


def _order_key(call: RestCall, order: str) -> Any:
    viewer = call.principal.account_id
    users = call.world.users
    keys = {
        "name": lambda f: f.name.casefold(),
        "id": lambda f: int(f.id),
        "description": lambda f: f.description.casefold(),
        "favourite_count": lambda f: len(f.favourited_by),
        "is_favourite": lambda f: viewer in f.favourited_by,
        "owner": lambda f: (
            users[f.owner_account_id].display_name.casefold() if f.owner_account_id in users else ""
        ),
        "is_shared": lambda f: bool(f.share_permissions),
    }
    return keys[order]


async def filter_search(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    params = request.query_params
    if params.get("accountId") and params.get("owner"):
        raise bad_request("The owner and accountId parameters cannot be combined; use accountId.")
    if params.get("groupname") and params.get("groupId"):
        raise bad_request("The groupname and groupId parameters cannot be combined; use groupId.")
    expand = _expand(request)
    order = params.get("orderBy", "name")
    if order.lstrip("+-") not in ORDERS:
        raise bad_request(f"orderBy: '{order}' is not supported.")
    override = query_bool(request, "overrideSharePermissions", False) and call.is_admin
    pool = list(call.site.filters.values()) if override else visible_filters(call)
    name = (params.get("filterName") or "").casefold()
    owner = params.get("accountId") or params.get("owner")
    group_id = params.get("groupId") or next(
        (g.group_id for g in call.site.groups.values() if g.name == params.get("groupname")), None
    )
    project_id = params.get("projectId")
    ids = set(query_values(request, "id") or [])
    matching = [
        f
        for f in pool
        if name in f.name.casefold()
        and (owner is None or f.owner_account_id == owner)
        and (not ids or f.id in ids)
        and (group_id is None or any(s.group_id == group_id for s in f.share_permissions))
        and (project_id is None or any(s.project_id == project_id for s in f.share_permissions))
    ]
    matching.sort(key=_order_key(call, order.lstrip("+-")), reverse=order.startswith("-"))
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", 50, minimum=1, maximum=100)
    values = [call.renderer.sharing.filter(f, expand) for f in matching[start_at : start_at + max_results]]
    return respond(page_bean(call, values, start_at, max_results, len(matching)))


async def get_filter(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    return respond(call.renderer.sharing.filter(_filter_or_400(call, request.path_params["filter"])))


async def my_filters(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    viewer = call.principal.account_id
    favourites = query_bool(request, "includeFavourites", False)
    chosen = [
        f
        for f in visible_filters(call)
        if f.owner_account_id == viewer or (favourites and viewer in f.favourited_by)
    ]
    return respond([call.renderer.sharing.filter(f) for f in chosen])


async def favourite_filters(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    viewer = call.principal.account_id
    return respond(
        [call.renderer.sharing.filter(f) for f in visible_filters(call) if viewer in f.favourited_by]
    )


async def default_share_scope(request: Request) -> Response:
    RestCall.of(request, READ_WORK)
    return respond({"scope": "PRIVATE"})  # a new user's default: filters and dashboards start private


async def share_permissions(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    found = call.site.filters.get(request.path_params["filter"])
    if found is None or found not in visible_filters(call):
        raise JiraError(404, FILTER_UNAVAILABLE)
    return respond([call.renderer.sharing.share(s) for s in found.share_permissions])


async def columns(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    found = _filter_or_400(call, request.path_params["filter"])
    if not found.name.startswith("Filter for "):
        raise JiraError(404, "No column configuration is set for this filter.")
    return respond([{"label": label, "value": value} for label, value in BOARD_COLUMNS])


def routes() -> list[Route]:
    return [
        Route("/filter/search", filter_search, methods=["GET"]),
        Route("/filter/my", my_filters, methods=["GET"]),
        Route("/filter/favourite", favourite_filters, methods=["GET"]),
        Route("/filter/defaultShareScope", default_share_scope, methods=["GET"]),
        Route("/filter/{filter}", get_filter, methods=["GET"]),
        Route("/filter/{filter}/permission", share_permissions, methods=["GET"]),
        Route("/filter/{filter}/columns", columns, methods=["GET"]),
    ]
