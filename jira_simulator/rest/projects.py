"""Projects: `project/search`, `project`, `project/{key}`, versions, components, statuses, roles."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import bad_request
from jira_simulator.model import Project
from jira_simulator.render import project_categories
from jira_simulator.rest.common import READ_WORK, RestCall, page_bean, query_int, query_values, respond
from jira_simulator.rest.components import component_issue_counts
from jira_simulator.roles import ROLES

SEARCH_DEFAULT = 50
SEARCH_MAX = 100
MAX_IDS = 50
ORDERINGS = {
    "key": lambda p: p.key,
    "name": lambda p: p.name.casefold(),
    "category": lambda p: (p.category_name or "").casefold(),
}


def project_status(project: Project) -> str:
    return "deleted" if project.deleted else "archived" if project.archived else "live"


def _expand(request: Request) -> set[str]:
    return {e.casefold() for e in query_values(request, "expand") or []}


async def project_search(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", SEARCH_DEFAULT, minimum=1, maximum=SEARCH_MAX)
    ids = set(query_values(request, "id") or [])
    keys = {k.upper() for k in query_values(request, "keys") or []}
    if len(ids) > MAX_IDS or len(keys) > MAX_IDS:
        raise bad_request(f"At most {MAX_IDS} project IDs and {MAX_IDS} keys can be given.")
    text = (request.query_params.get("query") or "").casefold()
    type_keys = set(query_values(request, "typeKey") or [])
    wanted_status = set(query_values(request, "status") or ["live"])
    order_by = request.query_params.get("orderBy", "key")
    ordering = ORDERINGS.get(order_by.lstrip("+-"))
    if ordering is None:
        raise bad_request(
            f"orderBy: '{order_by}' is not supported; use key, name or category (optionally -)."
        )

    category_id = request.query_params.get("categoryId")
    category_name = next(
        (name for name, cid in project_categories(call.site).items() if cid == category_id), None
    )

    def wanted(project: Project) -> bool:
        # `status` (live | archived | deleted): the trash is a Jira admin's to see.
        if project_status(project) not in wanted_status or not call.may_browse(project):
            return False
        if project.deleted and not call.is_admin:
            return False
        return (
            (category_id is None or project.category_name == category_name)
            and (not ids or project.id in ids)
            and (not keys or project.key in keys)
            and (not text or text in project.key.casefold() or text in project.name.casefold())
            and (not type_keys or project.project_type_key in type_keys)
        )

    matching = sorted((p for p in call.site.projects.values() if wanted(p)), key=ordering)
    if order_by.startswith("-"):
        matching.reverse()
    expand = _expand(request)
    values = [call.renderer.projects.project(p, expand) for p in matching[start_at : start_at + max_results]]
    return respond(page_bean(call, values, start_at, max_results, len(matching)))


async def all_projects(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    expand = _expand(request)
    return respond(
        [
            call.renderer.projects.project(p, expand)
            for p in sorted(call.visible_projects(), key=lambda p: p.key)
        ]
    )


async def project(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    found = call.project_or_404(request.path_params["project"])
    expand = _expand(request) | {"description", "lead", "issuetypes", "url"}
    body = call.renderer.projects.project(found, expand)
    body["components"] = [call.renderer.projects.component(found, c) for c in found.components]
    body["versions"] = [call.renderer.projects.version(found, v) for v in found.versions]
    body["roles"] = {r.name: f"{call.base_url}/project/{found.id}/role/{r.id}" for r in ROLES}
    body["assigneeType"] = "UNASSIGNED"
    return respond(body)


async def versions(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    found = call.project_or_404(request.path_params["project"])
    return respond([call.renderer.projects.version(found, v) for v in found.versions])


async def versions_page(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    found = call.project_or_404(request.path_params["project"])
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", 50, minimum=1, maximum=100)
    everything = [call.renderer.projects.version(found, v) for v in found.versions]
    return respond(
        page_bean(call, everything[start_at : start_at + max_results], start_at, max_results, len(everything))
    )


async def components(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    found = call.project_or_404(request.path_params["project"])
    return respond([call.renderer.projects.component(found, c) for c in found.components])


async def components_page(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    found = call.project_or_404(request.path_params["project"])
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", 50, minimum=1, maximum=100)
    counts = component_issue_counts(call, found)
    everything = [
        {**call.renderer.projects.component(found, c), "issueCount": counts.get(c.id, 0)}
        for c in found.components
    ]
    return respond(
        page_bean(call, everything[start_at : start_at + max_results], start_at, max_results, len(everything))
    )


async def project_statuses(request: Request) -> Response:
    """Each issue type of the project with the statuses of the project's workflow."""
    call = RestCall.of(request, READ_WORK)
    found = call.project_or_404(request.path_params["project"])
    workflow = call.site.workflows.get(found.workflow_id or "")
    status_ids = workflow.status_ids if workflow else list(call.site.statuses)
    renderer = call.renderer
    return respond(
        [
            {
                "self": f"{call.base_url}/issuetype/{type_id}",
                "id": type_id,
                "name": call.site.issue_types[type_id].name,
                "subtask": call.site.issue_types[type_id].subtask,
                "statuses": [renderer.config.status(call.site.statuses[s]) for s in status_ids],
            }
            for type_id in found.issue_type_ids
        ]
    )


def routes() -> list[Route]:
    return [
        Route("/project/search", project_search, methods=["GET"]),
        Route("/project", all_projects, methods=["GET"]),
        Route("/project/{project}", project, methods=["GET"]),
        Route("/project/{project}/versions", versions, methods=["GET"]),
        Route("/project/{project}/version", versions_page, methods=["GET"]),
        Route("/project/{project}/components", components, methods=["GET"]),
        Route("/project/{project}/component", components_page, methods=["GET"]),
        Route("/project/{project}/statuses", project_statuses, methods=["GET"]),
    ]
