"""Dashboards: `dashboard` (PageOfDashboards, `filter=my|favourite`), `dashboard/search`
(PageBeanDashboard with its filters), `dashboard/{id}`.

Only dashboards the caller may see are answered (`sharing.can_see`); the system dashboard is
shared with everyone. `dashboard/search` with `status=archived|deleted` finds none: the simulated
sites archive and trash no dashboards.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import JiraError, bad_request
from jira_simulator.model import Dashboard
from jira_simulator.rest.common import READ_WORK, RestCall, paged, query_int, respond
from jira_simulator.rest.shared_objects import shared_query, sort_shared
from jira_simulator.sharing import can_see

STATUSES = {"active", "archived", "deleted"}


def visible_dashboards(call: RestCall) -> list[Dashboard]:
    return [
        d
        for d in call.site.dashboards.values()
        if can_see(call.world, call.site, d.share_permissions, d.owner_account_id, call.principal.account_id)
    ]


def _render(call: RestCall, dashboards: list[Dashboard]) -> list[dict[str, Any]]:
    is_admin = call.is_admin
    return [call.renderer.sharing.dashboard(d, is_admin=is_admin) for d in dashboards]


async def dashboards(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    which = request.query_params.get("filter")
    if which not in (None, "my", "favourite"):
        raise bad_request(f"The filter '{which}' is not valid; use my or favourite.")
    viewer = call.principal.account_id
    found = visible_dashboards(call)
    if which == "my":
        found = [d for d in found if d.owner_account_id == viewer]
    elif which == "favourite":
        found = [d for d in found if viewer in d.favourited_by]
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", 20, minimum=1, maximum=1000)
    url = request.url
    body: dict[str, Any] = {"startAt": start_at, "maxResults": max_results, "total": len(found)}
    if start_at > 0:
        body["prev"] = str(url.include_query_params(startAt=max(start_at - max_results, 0)))
    if start_at + max_results < len(found):
        body["next"] = str(url.include_query_params(startAt=start_at + max_results))
    body["dashboards"] = _render(call, found[start_at : start_at + max_results])
    return respond(body)


async def dashboard_search(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    query = shared_query(call, "dashboardName")
    status = request.query_params.get("status", "active")
    if status not in STATUSES:
        raise bad_request(f"The status '{status}' is not valid; use active, archived or deleted.")
    matching = [d for d in visible_dashboards(call) if status == "active" and query.matches(d)]
    ordered = sort_shared(call, matching, favourite="favorite")
    return paged(call, _render(call, ordered), default=50, maximum=1000)  # type: ignore[arg-type]


async def dashboard(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    wanted = request.path_params["dashboard"]
    found = next((d for d in visible_dashboards(call) if d.id == wanted), None)
    if found is None:
        raise JiraError(404, f"The dashboard with id '{wanted}' does not exist.")
    return respond(_render(call, [found])[0])


def routes() -> list[Route]:
    return [
        Route("/dashboard", dashboards, methods=["GET"]),
        Route("/dashboard/search", dashboard_search, methods=["GET"]),
        Route("/dashboard/{dashboard}", dashboard, methods=["GET"]),
    ]
