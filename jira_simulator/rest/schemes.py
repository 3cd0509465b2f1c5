"""Screens and schemes: `screens` (tabs, tab fields), `screenscheme`, `issuetypescreenscheme`,
`issuetypescheme` (and its project and mapping views), `workflowscheme` (by id, by project).

All Jira-admin operations (*Administer Jira*; the spec documents 401/403 for others, and 404 for an
unknown screen or scheme). What the schemes hold: `jira_simulator.schemes`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import JiraError
from jira_simulator.render import FIELDS
from jira_simulator.rest.common import (
    MANAGE_CONFIGURATION,
    MANAGE_PROJECT,
    RestCall,
    page_bean,
    paged,
    query_int,
    query_values,
    respond,
)
from jira_simulator.schemes import (
    IssueTypeScheme,
    IssueTypeScreenScheme,
    SiteSchemes,
    WorkflowScheme,
    site_schemes,
)

T = TypeVar("T")
ORDERS = {"name", "id"}


def _admin_call(request: Request, scope: str) -> tuple[RestCall, SiteSchemes]:
    call = RestCall.of(request, scope)
    call.require_admin()
    return call, site_schemes(call.site)


def _page(
    call: RestCall,
    items: Sequence[T],
    render: Callable[[T], dict[str, Any]],
    *,
    default: int,
) -> Response:
    """Filter by `id` and `queryString`, order by `orderBy` (name | id, ±), page by startAt/maxResults."""
    request = call.request
    ids = set(query_values(request, "id") or [])
    text = (request.query_params.get("queryString") or "").casefold()
    chosen = [
        item for item in items if (not ids or str(item.id) in ids) and text in str(item.name).casefold()
    ]
    order = request.query_params.get("orderBy")
    if order and order.lstrip("+-") in ORDERS:
        field = order.lstrip("+-")
        chosen.sort(
            key=lambda item: int(item.id) if field == "id" else str(item.name).casefold(),
            reverse=order.startswith("-"),
        )
    return paged(call, [render(item) for item in chosen], default=default)


async def screens(request: Request) -> Response:
    call, schemes = _admin_call(request, MANAGE_PROJECT)
    return _page(
        call,
        schemes.screens,
        lambda s: {"id": s.id, "name": s.name, "description": s.description},
        default=100,
    )


def _screen_or_404(schemes: SiteSchemes, screen_id: str) -> Any:
    screen = schemes.screen(screen_id)
    if screen is None:
        raise JiraError(404, f"The screen with ID {screen_id} does not exist.")
    return screen


async def screen_tabs(request: Request) -> Response:
    _, schemes = _admin_call(request, MANAGE_PROJECT)
    screen = _screen_or_404(schemes, request.path_params["screen"])
    return respond([{"id": screen.tab_id, "name": "Field Tab"}])


async def screen_tab_fields(request: Request) -> Response:
    _, schemes = _admin_call(request, MANAGE_PROJECT)
    screen = _screen_or_404(schemes, request.path_params["screen"])
    if request.path_params["tab"] != str(screen.tab_id):
        raise JiraError(404, f"The screen tab with ID {request.path_params['tab']} does not exist.")
    return respond([{"id": f, "name": FIELDS[f].name} for f in screen.field_ids])


async def screen_schemes(request: Request) -> Response:
    call, schemes = _admin_call(request, MANAGE_PROJECT)
    return _page(
        call,
        schemes.screen_schemes,
        lambda s: {
            "id": s.id,
            "name": s.name,
            "description": s.description,
            "screens": {"default": s.default_screen_id},
        },
        default=25,
    )


def _type_screen_scheme(scheme: IssueTypeScreenScheme) -> dict[str, Any]:
    return {"id": scheme.id, "name": scheme.name, "description": scheme.description}


async def issue_type_screen_schemes(request: Request) -> Response:
    call, schemes = _admin_call(request, MANAGE_CONFIGURATION)
    return _page(call, schemes.issue_type_screen_schemes, _type_screen_scheme, default=50)


def _project_ids(request: Request) -> set[str]:
    return set(query_values(request, "projectId") or [])


def _by_project(call: RestCall, pairs: list[tuple[dict[str, Any], tuple[str, ...]]], key: str) -> Response:
    """The `…/project` views: one entry per scheme naming the wanted projects that use it."""
    wanted = _project_ids(call.request)
    values = [
        {key: body, "projectIds": [p for p in project_ids if p in wanted]}
        for body, project_ids in pairs
        if wanted & set(project_ids)
    ]
    return paged(call, values, default=50)


async def issue_type_screen_scheme_projects(request: Request) -> Response:
    call, schemes = _admin_call(request, MANAGE_CONFIGURATION)
    pairs = [(_type_screen_scheme(s), s.project_ids) for s in schemes.issue_type_screen_schemes]
    return _by_project(call, pairs, "issueTypeScreenScheme")


def _type_scheme(scheme: IssueTypeScheme) -> dict[str, Any]:
    body: dict[str, Any] = {"id": scheme.id, "name": scheme.name, "description": scheme.description}
    if scheme.default_issue_type_id is not None:
        body["defaultIssueTypeId"] = scheme.default_issue_type_id
    if scheme.is_default:
        body["isDefault"] = True
    return body


async def issue_type_schemes(request: Request) -> Response:
    call, schemes = _admin_call(request, MANAGE_CONFIGURATION)
    return _page(call, schemes.issue_type_schemes, _type_scheme, default=50)


async def issue_type_scheme_projects(request: Request) -> Response:
    call, schemes = _admin_call(request, MANAGE_CONFIGURATION)
    pairs = [(_type_scheme(s), s.project_ids) for s in schemes.issue_type_schemes]
    return _by_project(call, pairs, "issueTypeScheme")


async def issue_type_scheme_mapping(request: Request) -> Response:
    call, schemes = _admin_call(request, MANAGE_CONFIGURATION)
    wanted = set(query_values(request, "issueTypeSchemeId") or [])
    values = [
        {"issueTypeSchemeId": s.id, "issueTypeId": t}
        for s in schemes.issue_type_schemes
        if not wanted or s.id in wanted
        for t in s.issue_type_ids
    ]
    return paged(call, values, default=50)


def _workflow_scheme(call: RestCall, scheme: WorkflowScheme) -> dict[str, Any]:
    return {
        "id": scheme.id,
        "name": scheme.name,
        "description": scheme.description,
        "defaultWorkflow": scheme.default_workflow,
        "issueTypeMappings": {},
        "self": f"{call.base_url}/workflowscheme/{scheme.id}",
    }


async def workflow_schemes(request: Request) -> Response:
    call, schemes = _admin_call(request, MANAGE_CONFIGURATION)
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", 50, minimum=1, maximum=100)
    everything = [_workflow_scheme(call, s) for s in schemes.workflow_schemes]
    return respond(
        page_bean(call, everything[start_at : start_at + max_results], start_at, max_results, len(everything))
    )


async def workflow_scheme(request: Request) -> Response:
    call, schemes = _admin_call(request, MANAGE_CONFIGURATION)
    wanted = request.path_params["scheme"]
    for scheme in schemes.workflow_schemes:
        if str(scheme.id) == wanted:
            return respond(_workflow_scheme(call, scheme))
    raise JiraError(404, f"The workflow scheme with ID {wanted} does not exist.")


async def workflow_scheme_projects(request: Request) -> Response:
    call, schemes = _admin_call(request, MANAGE_CONFIGURATION)
    wanted = _project_ids(request)
    if not wanted:
        raise JiraError(400, "projectId is required: name at least one project.")
    values = [
        {"workflowScheme": _workflow_scheme(call, s), "projectIds": [p for p in s.project_ids if p in wanted]}
        for s in schemes.workflow_schemes
        if wanted & set(s.project_ids)
    ]
    return respond({"values": values})


def routes() -> list[Route]:
    return [
        Route("/screens", screens, methods=["GET"]),
        Route("/screens/{screen}/tabs", screen_tabs, methods=["GET"]),
        Route("/screens/{screen}/tabs/{tab}/fields", screen_tab_fields, methods=["GET"]),
        Route("/screenscheme", screen_schemes, methods=["GET"]),
        Route("/issuetypescreenscheme", issue_type_screen_schemes, methods=["GET"]),
        Route("/issuetypescreenscheme/project", issue_type_screen_scheme_projects, methods=["GET"]),
        Route("/issuetypescheme", issue_type_schemes, methods=["GET"]),
        Route("/issuetypescheme/project", issue_type_scheme_projects, methods=["GET"]),
        Route("/issuetypescheme/mapping", issue_type_scheme_mapping, methods=["GET"]),
        Route("/workflowscheme", workflow_schemes, methods=["GET"]),
        Route("/workflowscheme/project", workflow_scheme_projects, methods=["GET"]),
        Route("/workflowscheme/{scheme}", workflow_scheme, methods=["GET"]),
    ]
