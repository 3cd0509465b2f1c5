"""Filters: `filter/search`, `filter/{id}` (its share permissions and columns), `filter/my`,
`filter/favourite`, `filter/defaultShareScope`.

Only filters the caller may see are answered (`sharing.can_see`); a Jira admin may pass
`overrideSharePermissions=true` to `filter/search` to see all. An unknown or invisible filter is
400 with Jira's sentence (the spec documents 400 for `filter/{id}`; Atlassian's jira-rest-java-client
and Jira's own func tests expect exactly this 400 and sentence for `filter/999999`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import JiraError, bad_request
from jira_simulator.model import Filter
from jira_simulator.rest.common import (
    READ_WORK,
    RestCall,
    paged,
    query_bool,
    query_values,
    respond,
)
from jira_simulator.rest.shared_objects import shared_query, sort_shared
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


async def filter_search(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    query = shared_query(call, "filterName")
    expand = _expand(request)
    override = query_bool(request, "overrideSharePermissions", False) and call.is_admin
    pool = list(call.site.filters.values()) if override else visible_filters(call)
    ids = set(query_values(request, "id") or [])
    matching = [f for f in pool if query.matches(f) and (not ids or f.id in ids)]
    ordered = sort_shared(call, matching, favourite="favourite")
    return paged(call, [call.renderer.sharing.filter(f, expand) for f in ordered], default=50)  # type: ignore[arg-type]


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
