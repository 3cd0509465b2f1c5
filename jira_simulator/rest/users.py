"""Users: `users`, `users/search` (bare arrays, every account), `user`, `user/bulk`, `user/groups`, `myself`."""

from __future__ import annotations

import html
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.applications import user_applications
from jira_simulator.errors import JiraError, bad_request
from jira_simulator.model import User
from jira_simulator.permissions import holds
from jira_simulator.rest.common import READ_USER, RestCall, page_bean, query_int, query_values, respond

SEARCH_DEFAULT = 50
SEARCH_MAX = 1000
BULK_DEFAULT = 10
BULK_MAX = 200
USER_NOT_FOUND = "Specified user does not exist or you do not have required permissions"


def site_users(call: RestCall) -> list[User]:
    return [call.world.users[a] for a in call.site.user_ids if a in call.world.users]


def _with_expansions(call: RestCall, user: User, expand: set[str]) -> dict[str, Any]:
    """`User` with its expandable lists: always their `size`, the `items` only when expanded.

    As Atlassian's own examples of `myself` and `user` show: `"groups": {"items": [], "size": 3}`,
    `"applicationRoles": {"items": [], "size": 1}`, and `expand` naming both.
    """
    body = call.renderer.users.user(user)
    access = call.renderer.access
    groups = [g for g in call.site.groups.values() if user.account_id in g.member_ids]
    applications = user_applications(call.world, call.site, user.account_id)
    body["groups"] = {
        "size": len(groups),
        "items": [access.group_ref(g) for g in groups] if "groups" in expand else [],
    }
    body["applicationRoles"] = {
        "size": len(applications),
        "items": [access.application_role(a) for a in applications] if "applicationroles" in expand else [],
    }
    body["expand"] = "groups,applicationRoles"
    return body


def _expand(request: Request) -> set[str]:
    return {e.casefold() for e in query_values(request, "expand") or []}


async def users_search(request: Request) -> Response:
    call = RestCall.of(request, READ_USER)
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", SEARCH_DEFAULT, minimum=0, maximum=SEARCH_MAX)
    users = site_users(call)[start_at : start_at + max_results]
    return respond([call.renderer.users.user(u) for u in users])


async def user(request: Request) -> Response:
    call = RestCall.of(request, READ_USER)
    account_id = request.query_params.get("accountId")
    if not account_id:
        raise bad_request("The accountId query parameter is required.")
    found = call.world.users.get(account_id)
    if found is None or account_id not in call.site.user_ids:
        raise JiraError(404, USER_NOT_FOUND)
    return respond(_with_expansions(call, found, _expand(request)))


async def user_bulk(request: Request) -> Response:
    call = RestCall.of(request, READ_USER)
    account_ids = request.query_params.getlist("accountId")
    if not account_ids:
        raise bad_request("The accountId query parameter is required; repeat it for each user.")
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", BULK_DEFAULT, minimum=1, maximum=BULK_MAX)
    on_site = set(call.site.user_ids)
    found = [
        call.world.users[a] for a in dict.fromkeys(account_ids) if a in on_site and a in call.world.users
    ]
    values = [call.renderer.users.user(u) for u in found[start_at : start_at + max_results]]
    return respond(page_bean(call, values, start_at, max_results, len(found)))


async def user_groups(request: Request) -> Response:
    call = RestCall.of(request, READ_USER)
    account_id = request.query_params.get("accountId")
    if not account_id:
        raise bad_request("The accountId query parameter is required.")
    if account_id not in call.site.user_ids:
        raise JiraError(404, USER_NOT_FOUND)
    return respond(
        [call.renderer.access.group_ref(g) for g in call.site.groups.values() if account_id in g.member_ids]
    )


async def myself(request: Request) -> Response:
    call = RestCall.of(request, READ_USER)
    found = call.caller
    if found is None:
        raise JiraError(401, "Client must be authenticated to access this resource.")
    return respond(_with_expansions(call, found, _expand(request)))


def _matches(user: User, text: str) -> bool:
    """Jira's user query: a prefix of the display name or of any of its words, or of the email."""
    text = text.casefold()
    names = [user.display_name.casefold(), *user.display_name.casefold().split()]
    return any(n.startswith(text) for n in names) or bool(
        user.email and user.email.casefold().startswith(text)
    )


def _active_matching(call: RestCall, request: Request) -> list[User]:
    query = request.query_params.get("query")
    account_id = request.query_params.get("accountId")
    if not query and not account_id:
        raise bad_request("The query parameter is required, unless accountId is given.")
    return [
        u
        for u in site_users(call)
        if u.active
        and (account_id is None or u.account_id == account_id)
        and (not query or _matches(u, query))
    ]


async def user_search(request: Request) -> Response:
    """`user/search`: active accounts matching `query` (or `accountId`), a bare array."""
    call = RestCall.of(request, READ_USER)
    found = _active_matching(call, request)
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", SEARCH_DEFAULT, minimum=0, maximum=SEARCH_MAX)
    return respond([call.renderer.users.user(u) for u in found[start_at : start_at + max_results]])


async def assignable_search(request: Request) -> Response:
    """`user/assignable/search`: who may be assigned issues of a project (or of an issue's project)."""
    call = RestCall.of(request, READ_USER)
    issue_ref = request.query_params.get("issueKey") or request.query_params.get("issueId")
    project_ref = request.query_params.get("project")
    if issue_ref:
        project = call.site.projects[call.issue_or_404(issue_ref).project_id]
    elif project_ref:
        project = call.project_or_404(project_ref)
    else:
        raise bad_request("A project or an issue (issueKey or issueId) is required.")
    query = request.query_params.get("query")
    found = [
        u
        for u in site_users(call)
        if u.active
        and (not query or _matches(u, query))
        and holds(call.world, call.site, project, u.account_id, "ASSIGNABLE_USER")
    ]
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", SEARCH_DEFAULT, minimum=0, maximum=SEARCH_MAX)
    return respond([call.renderer.users.user(u) for u in found[start_at : start_at + max_results]])


async def user_picker(request: Request) -> Response:
    """`user/picker`: `FoundUsers` with the matched part of each name in `<strong>`."""
    call = RestCall.of(request, READ_USER)
    query = request.query_params.get("query")
    if not query:
        raise bad_request("The query parameter is required.")
    found = [u for u in site_users(call) if u.active and _matches(u, query)]
    max_results = query_int(request, "maxResults", 50, minimum=1, maximum=1000)
    shown = found[:max_results]
    users = []
    for user in shown:
        name = html.escape(user.display_name)
        users.append(
            {
                "accountId": user.account_id,
                "accountType": user.account_type,
                "html": f"{name}"
                if not user.email_visible or not user.email
                else f"{name} - {html.escape(user.email)}",
                "displayName": user.display_name,
                "avatarUrl": call.renderer.avatars("user", user.account_id)["16x16"],
            }
        )
    return respond(
        {
            "users": users,
            "total": len(found),
            "header": f"Showing {len(shown)} of {len(found)} matching users",
        }
    )


def routes() -> list[Route]:
    return [
        Route("/users/search", users_search, methods=["GET"]),
        Route("/users", users_search, methods=["GET"]),
        Route("/user/bulk", user_bulk, methods=["GET"]),
        Route("/user/groups", user_groups, methods=["GET"]),
        Route("/user", user, methods=["GET"]),
        Route("/myself", myself, methods=["GET"]),
        Route("/user/search", user_search, methods=["GET"]),
        Route("/user/assignable/search", assignable_search, methods=["GET"]),
        Route("/user/picker", user_picker, methods=["GET"]),
    ]
