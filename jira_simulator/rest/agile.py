"""Jira Software's agile REST API (`/rest/agile/1.0`): boards, board configuration, sprints, sprint issues.

Shapes, paging and messages follow Atlassian's Jira Software Cloud reference
(https://developer.atlassian.com/cloud/jira/software/rest/api-group-board/ and
https://developer.atlassian.com/cloud/jira/software/rest/api-group-sprint/): pages are
`{maxResults, startAt, total, isLast, values}` with `maxResults` default 50; a board is
`{id, self, name, type, location}`; a sprint `{id, self, state, name, startDate, endDate,
completeDate, createdDate, originBoardId, goal}` (dates only once set, UTC `...Z`); a board's
sprints come closed first, then active, then future. Jira Software has no classic OAuth scopes
("Jira Software doesn't support classic scopes. Use granular scopes instead.",
https://developer.atlassian.com/cloud/jira/software/scopes-for-oauth-2-3LO-and-forge-apps), so
3LO callers need `read:board-scope:jira-software` (+ `read:project:jira`) for boards,
`read:board-scope.admin:jira-software` for a board's configuration and `read:sprint:jira-software`
for sprints. Boards and sprints are visible when their project is.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator import agile
from jira_simulator.agile_model import Board, Sprint, agile_date
from jira_simulator.errors import JiraError, bad_request
from jira_simulator.model import Issue
from jira_simulator.render import NAVIGABLE, select_fields
from jira_simulator.rest.common import RestCall, query_int, query_values, respond

READ_BOARDS = ("read:board-scope:jira-software", "read:project:jira")
READ_BOARD_CONFIGURATION = ("read:board-scope.admin:jira-software", "read:project:jira")
READ_SPRINTS = ("read:sprint:jira-software",)
PAGE_DEFAULT = 50
BOARD_NOT_FOUND = "Board does not exist or you do not have permission to see it."
STATE_ORDER = {"closed": 0, "active": 1, "future": 2}
RANK_FIELD_ID = 10019


def _agile_base(call: RestCall) -> str:
    return call.base_url  # the mount is .../rest/agile/1.0


def _boards(call: RestCall) -> list[Board]:
    visible = {p.id for p in call.visible_projects()}
    return [b for b in call.site.agile.boards.values() if b.project_id in visible]


def _board_or_404(call: RestCall, raw_id: str) -> Board:
    if not raw_id.isdigit():
        raise JiraError(400, f"The board id '{raw_id}' is not a number.")
    board = next((b for b in _boards(call) if b.id == int(raw_id)), None)
    if board is None:
        raise JiraError(404, BOARD_NOT_FOUND)
    return board


def _sprint_or_404(call: RestCall, raw_id: str) -> Sprint:
    sprint = call.site.agile.sprints.get(int(raw_id)) if raw_id.isdigit() else None
    visible = {b.id for b in _boards(call)}
    if sprint is None or sprint.board_id not in visible:
        raise JiraError(
            404, f"Sprint with id {raw_id} does not exist or you do not have permission to see it."
        )
    return sprint


def _page(call: RestCall, values: list[Any]) -> dict[str, Any]:
    start_at = query_int(call.request, "startAt", 0)
    max_results = query_int(call.request, "maxResults", PAGE_DEFAULT, minimum=0, maximum=PAGE_DEFAULT)
    page = values[start_at : start_at + max_results]
    return {
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(values),
        "isLast": start_at + len(page) >= len(values),
        "values": page,
    }


def board_body(call: RestCall, board: Board) -> dict[str, Any]:
    project = call.site.projects[board.project_id]
    return {
        "id": board.id,
        "self": f"{_agile_base(call)}/board/{board.id}",
        "name": board.name,
        "type": board.type,
        "location": {
            "projectId": int(project.id),
            "displayName": f"{project.name} ({project.key})",
            "projectName": project.name,
            "projectKey": project.key,
            "projectTypeKey": project.project_type_key,
            "avatarURI": f"{call.origin}/secure/projectavatar?size=small&s=small&pid={project.id}",
            "name": f"{project.name} ({project.key})",
        },
    }


def sprint_body(call: RestCall, sprint: Sprint) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": sprint.id,
        "self": f"{_agile_base(call)}/sprint/{sprint.id}",
        "state": sprint.state,
        "name": sprint.name,
    }
    for key, ms in (
        ("startDate", sprint.start_ms),
        ("endDate", sprint.end_ms),
        ("completeDate", sprint.complete_ms),
        ("createdDate", sprint.created_ms),
    ):
        if ms is not None:
            body[key] = agile_date(ms)
    body["originBoardId"] = sprint.board_id
    body["goal"] = sprint.goal
    return body


async def boards(request: Request) -> Response:
    call = RestCall.of(request, *READ_BOARDS)
    found = sorted(_boards(call), key=lambda b: b.id)
    types = query_values(request, "type")
    if types:
        found = [b for b in found if b.type in types]
    project = request.query_params.get("projectKeyOrId")
    if project:
        target = call.project_or_404(project)
        found = [b for b in found if b.project_id == target.id]
    name = request.query_params.get("name")
    if name:
        found = [b for b in found if name.casefold() in b.name.casefold()]
    return respond(_page(call, [board_body(call, b) for b in found]))


async def board(request: Request) -> Response:
    call = RestCall.of(request, *READ_BOARDS)
    return respond(board_body(call, _board_or_404(call, request.path_params["board"])))


async def board_configuration(request: Request) -> Response:
    call = RestCall.of(request, *READ_BOARD_CONFIGURATION)
    found = _board_or_404(call, request.path_params["board"])
    site = call.site
    project = site.projects[found.project_id]
    workflow = site.workflows.get(project.workflow_id or "")
    status_ids = workflow.status_ids if workflow is not None else []
    columns: dict[int, list[str]] = {}
    for status_id in status_ids:
        columns.setdefault(site.statuses[status_id].category_id, []).append(status_id)
    names = {2: "To Do", 4: "In Progress", 3: "Done"}
    body: dict[str, Any] = {
        "id": found.id,
        "name": found.name,
        "type": found.type,
        "self": f"{_agile_base(call)}/board/{found.id}/configuration",
        "location": {
            "type": "project",
            "key": project.key,
            "id": project.id,
            "self": f"{call.origin}/rest/api/2/project/{project.id}",
            "name": project.name,
        },
        "filter": {"id": found.filter_id, "self": f"{call.origin}/rest/api/2/filter/{found.filter_id}"},
        "subQuery": {"query": "resolution = EMPTY OR resolution changed after -2w"},
        "columnConfig": {
            "columns": [
                {
                    "name": names[category],
                    "statuses": [
                        {"id": s, "self": f"{call.origin}/rest/api/2/status/{s}"} for s in columns[category]
                    ],
                }
                for category in (2, 4, 3)
                if category in columns
            ],
            "constraintType": "none",
        },
        "ranking": {"rankCustomFieldId": RANK_FIELD_ID},
    }
    if found.estimation_field is not None:
        body["estimation"] = {
            "type": "field",
            "field": {"fieldId": found.estimation_field, "displayName": "Story point estimate"},
        }
    return respond(body)


async def board_sprints(request: Request) -> Response:
    call = RestCall.of(request, *READ_SPRINTS)
    found = _board_or_404(call, request.path_params["board"])
    if not found.has_sprints:
        raise JiraError(400, "The board does not support sprints")
    states = query_values(request, "state")
    unknown = [s for s in states or () if s not in STATE_ORDER]
    if unknown:
        raise bad_request(f"The value '{unknown[0]}' of 'state' is not valid; use future, active or closed.")
    sprints = [s for s in call.site.agile.board_sprints(found.id) if not states or s.state in states]
    sprints.sort(key=lambda s: (STATE_ORDER[s.state], s.id))
    return respond(_page(call, [sprint_body(call, s) for s in sprints]))


async def sprint(request: Request) -> Response:
    call = RestCall.of(request, *READ_SPRINTS)
    return respond(sprint_body(call, _sprint_or_404(call, request.path_params["sprint"])))


async def sprint_issues(request: Request) -> Response:
    """Issues whose Sprint field holds the sprint, with the agile fields `sprint` and `closedSprints`."""
    call = RestCall.of(request, *READ_SPRINTS)
    if "board" in request.path_params:
        _board_or_404(call, request.path_params["board"])
    found = _sprint_or_404(call, request.path_params["sprint"])
    issues = [i for i in agile.issues_in(call.site, found) if call.visible_issue(i) is not None]
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", PAGE_DEFAULT, minimum=0, maximum=PAGE_DEFAULT)
    fields = select_fields(query_values(request, "fields"), NAVIGABLE)
    page = issues[start_at : start_at + max_results]
    return respond(
        {
            "expand": "schema,names",
            "startAt": start_at,
            "maxResults": max_results,
            "total": len(issues),
            "issues": [_agile_issue(call, issue, fields) for issue in page],
        }
    )


def _agile_issue(call: RestCall, issue: Issue, fields: list[str]) -> dict[str, Any]:
    body = call.renderer.issues.issue(issue, fields)
    sprints = [call.site.agile.sprints[i] for i in agile.sprint_ids(issue)]
    current = next((s for s in reversed(sprints) if s.state != "closed"), None)
    extra = {
        "sprint": sprint_body(call, current) if current else None,
        "closedSprints": [sprint_body(call, s) for s in sprints if s.state == "closed"],
    }
    body.setdefault("fields", {}).update(extra)
    return body


def routes() -> list[Route]:
    return [
        Route("/board", boards, methods=["GET"]),
        Route("/board/{board}", board, methods=["GET"]),
        Route("/board/{board}/configuration", board_configuration, methods=["GET"]),
        Route("/board/{board}/sprint", board_sprints, methods=["GET"]),
        Route("/board/{board}/sprint/{sprint}/issue", sprint_issues, methods=["GET"]),
        Route("/sprint/{sprint}", sprint, methods=["GET"]),
        Route("/sprint/{sprint}/issue", sprint_issues, methods=["GET"]),
    ]
