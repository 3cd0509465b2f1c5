"""Components across projects: `component` (paged, by project), `component/{id}`, its issue count.

A project's own lists (`project/{key}/components`, `/component`) live in `projects.py`; both render
the same `ProjectComponent` (lead and assignee as the component's lead sets them).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import JiraError, bad_request
from jira_simulator.model import Component, Project
from jira_simulator.rest.common import READ_WORK, RestCall, paged, query_values, respond

ORDERS = {"name", "description"}


def component_issue_counts(call: RestCall, project: Project) -> dict[str, int]:
    counts: dict[str, int] = {}
    for issue in call.site.issues.values():
        if issue.project_id == project.id:
            for component_id in issue.component_ids:
                counts[component_id] = counts.get(component_id, 0) + 1
    return counts


def find_component(call: RestCall, component_id: str) -> tuple[Project, Component]:
    for project in call.site.projects.values():
        for component in project.components:
            if component.id == component_id and not project.deleted and call.may_browse(project):
                return project, component
    raise JiraError(404, f"The component with id {component_id} does not exist.")


async def components(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    refs = query_values(request, "projectIdsOrKeys")
    projects = [call.project_or_404(ref) for ref in refs] if refs else call.visible_projects()
    text = (request.query_params.get("query") or "").casefold()
    found = [
        (project, component)
        for project in sorted(projects, key=lambda p: int(p.id))
        for component in project.components
        if text in component.name.casefold() or text in component.description.casefold()
    ]
    order = request.query_params.get("orderBy")
    if order is not None:
        if order.lstrip("+-") not in ORDERS:
            raise bad_request(f"orderBy: '{order}' is not supported; use name or description (optionally -).")
        field = order.lstrip("+-")
        found.sort(key=lambda pc: getattr(pc[1], field).casefold(), reverse=order.startswith("-"))
    return paged(call, [call.renderer.projects.component(p, c) for p, c in found], default=50)


async def component(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    project, found = find_component(call, request.path_params["component"])
    return respond(call.renderer.projects.component(project, found))


async def related_issue_counts(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    project, found = find_component(call, request.path_params["component"])
    return respond(
        {
            "self": f"{call.base_url}/component/{found.id}/relatedIssueCounts",
            "issueCount": component_issue_counts(call, project).get(found.id, 0),
        }
    )


def routes() -> list[Route]:
    return [
        Route("/component", components, methods=["GET"]),
        Route("/component/{component}", component, methods=["GET"]),
        Route("/component/{component}/relatedIssueCounts", related_issue_counts, methods=["GET"]),
    ]
