"""Workflows and statuses as the workflow admin API lists them: `workflows/search` (the current
API), `workflow/search` (its deprecated predecessor, still what dlt's verified source reads),
`statuses/search` and `statuses?id=`.

Shapes follow Atlassian's `WorkflowSearchResponse`, `JiraWorkflow` and `PageOfStatuses` (and the
spec's examples: status categories as `TODO` / `IN_PROGRESS` / `DONE`, transitions `INITIAL` /
`GLOBAL` / `DIRECTED` with `links` from their source statuses). A team-managed project's workflow
and statuses are project-scoped (`scope: {type: PROJECT, project: {id}}`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import bad_request
from jira_simulator.model import STATUS_CATEGORIES, Site, Status, Workflow
from jira_simulator.render import entity_id
from jira_simulator.rest.common import (
    MANAGE_CONFIGURATION,
    MANAGE_PROJECT,
    RestCall,
    page_bean,
    paged,
    query_bool,
    query_int,
    query_values,
    respond,
)

CATEGORY_NAMES = {"new": "TODO", "indeterminate": "IN_PROGRESS", "done": "DONE", "undefined": "TODO"}


def _category(status: Status) -> str:
    return CATEGORY_NAMES[STATUS_CATEGORIES[status.category_id].key]


def _status_scope(status: Status) -> dict[str, Any]:
    if status.scope_project_id:
        return {"type": "PROJECT", "project": {"id": status.scope_project_id}}
    return {"type": "GLOBAL"}


def _workflow_project(site: Site, workflow: Workflow) -> str | None:
    """The team-managed project a workflow belongs to, if it is project-scoped."""
    users = [p for p in site.projects.values() if p.workflow_id == workflow.id]
    return users[0].id if users and all(p.simplified for p in users) else None


def _jira_status(status: Status) -> dict[str, Any]:
    return {
        "id": status.id,
        "name": status.name,
        "description": status.description,
        "statusCategory": _category(status),
        "scope": _status_scope(status),
    }


async def statuses_search(request: Request) -> Response:
    call = RestCall.of(request, MANAGE_CONFIGURATION)
    call.require_admin(401)
    project_id = request.query_params.get("projectId")
    text = (request.query_params.get("searchString") or "").casefold()
    category = request.query_params.get("statusCategory")
    if category is not None and category not in CATEGORY_NAMES.values():
        raise bad_request(f"The status category '{category}' is not valid; use TODO, IN_PROGRESS or DONE.")
    matching = [
        s
        for s in call.site.statuses.values()
        if (project_id is None or s.scope_project_id == project_id)
        and text in s.name.casefold()
        and (category is None or _category(s) == category)
    ]
    return paged(call, [_jira_status(s) for s in matching], default=200, maximum=200)


async def statuses_by_id(request: Request) -> Response:
    call = RestCall.of(request, MANAGE_CONFIGURATION)
    call.require_admin(401)
    ids = query_values(request, "id")
    if not ids:
        raise bad_request("The id parameter is required: name up to 50 status IDs.")
    return respond([_jira_status(call.site.statuses[i]) for i in ids if i in call.site.statuses])


def _jira_workflow(call: RestCall, workflow: Workflow) -> dict[str, Any]:
    project_id = _workflow_project(call.site, workflow)
    scope: dict[str, Any] = (
        {"type": "PROJECT", "project": {"id": project_id}} if project_id else {"type": "GLOBAL"}
    )
    initial = workflow.status_ids[0] if workflow.status_ids else None
    transitions: list[dict[str, Any]] = []
    if initial is not None:
        transitions.append(_transition("1", "Create", initial, "INITIAL", []))
    for t in workflow.transitions:
        links = [{"fromStatusReference": s, "fromPort": 0, "toPort": 1} for s in t.from_status_ids]
        transitions.append(
            _transition(t.id, t.name, t.to_status_id, "DIRECTED" if links else "GLOBAL", links)
        )
    body: dict[str, Any] = {
        "id": workflow.id,
        "name": workflow.name,
        "description": workflow.description,
        "scope": scope,
        "isEditable": True,
        "version": {
            "id": entity_id(call.site.cloud_id, f"workflow-version-{workflow.id}"),
            "versionNumber": 0,
        },
        "statuses": [
            {"statusReference": s, "deprecated": False, "properties": {}} for s in workflow.status_ids
        ],
        "transitions": transitions,
    }
    return body


def _transition(
    transition_id: str, name: str, to_status: str, kind: str, links: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": transition_id,
        "name": name,
        "description": "",
        "type": kind,
        "toStatusReference": to_status,
        "links": links,
        "actions": [],
        "validators": [],
        "triggers": [],
        "properties": {},
    }


async def workflows_search(request: Request) -> Response:
    call = RestCall.of(request, MANAGE_CONFIGURATION)
    call.require_admin(401)
    text = (request.query_params.get("queryString") or "").casefold()
    scope = request.query_params.get("scope")
    workflows = sorted(call.site.workflows.values(), key=lambda w: w.name.casefold())
    if request.query_params.get("orderBy", "name").lstrip("+").startswith("-"):
        workflows.reverse()
    active = query_bool(request, "isActive", False) if request.query_params.get("isActive") else None
    used = {p.workflow_id for p in call.site.projects.values()}

    def wanted(workflow: Workflow) -> bool:
        project_scoped = _workflow_project(call.site, workflow) is not None
        if scope is not None and scope.upper() != ("PROJECT" if project_scoped else "GLOBAL"):
            return False
        if active is not None and (workflow.id in used) != active:
            return False
        return text in workflow.name.casefold()

    matching = [w for w in workflows if wanted(w)]
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", 50, minimum=1, maximum=200)
    page = matching[start_at : start_at + max_results]
    body = page_bean(call, [_jira_workflow(call, w) for w in page], start_at, max_results, len(matching))
    referenced = dict.fromkeys(s for w in page for s in w.status_ids)
    body["statuses"] = [
        {**_jira_status(call.site.statuses[s]), "statusReference": s}
        for s in referenced
        if s in call.site.statuses
    ]
    return respond(body)


async def workflow_search(request: Request) -> Response:
    """The deprecated `workflow/search`: PageBeanWorkflow with `expand=statuses,transitions`."""
    call = RestCall.of(request, MANAGE_PROJECT)
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", 50, minimum=1, maximum=200)
    names = set(query_values(request, "workflowName") or [])
    query = (request.query_params.get("queryString") or "").casefold()
    expand = {e.casefold() for e in query_values(request, "expand") or []}
    workflows = sorted(call.site.workflows.values(), key=lambda w: w.name.casefold())
    if request.query_params.get("orderBy", "name").lstrip("+") == "-name":
        workflows.reverse()
    matching = [
        w for w in workflows if (not names or w.name in names) and (not query or query in w.name.casefold())
    ]
    values = [call.renderer.projects.workflow(w, expand) for w in matching[start_at : start_at + max_results]]
    return respond(page_bean(call, values, start_at, max_results, len(matching)))


def routes() -> list[Route]:
    return [
        Route("/workflows/search", workflows_search, methods=["GET"]),
        Route("/workflow/search", workflow_search, methods=["GET"]),
        Route("/statuses/search", statuses_search, methods=["GET"]),
        Route("/statuses", statuses_by_id, methods=["GET"]),
    ]
