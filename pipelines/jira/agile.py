"""Jira Software boards and sprints (`/rest/agile/1.0`): one complete snapshot per site.

Boards come from `GET /board` (pages of 50: `values`, `isLast`), each board's estimation field
from `GET /board/{id}/configuration` (`estimation.field.fieldId`), sprints from
`GET /board/{id}/sprint` of every board but kanban ones (a board without sprints answers 400 "The
board does not support sprints"). A sprint listed by several boards is kept once, with the board
it was created on (`originBoardId`). Shapes: Atlassian's Jira Software Cloud reference
(api-group-board, api-group-sprint).

Issue membership is not read here: it is the issues' Sprint field (`issues.sprint_field`, loaded
with every issue) and its changelog. The snapshot checks that field against the site's field list
(`GET /rest/api/3/field`, custom type `com.pyxis.greenhopper.jira:gh-sprint`), so a site whose
Sprint field has another ID fails with the ID to write in the sync file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from pipelines.auth.oauth import JIRA_SOFTWARE_SCOPES
from pipelines.jira.client import JiraHttp, JiraRequestError
from pipelines.jira.reference import page_bean_values
from pipelines.jira.runtime import SiteRuntime
from pipelines.jira.tables import from_rows

BOARDS = "/rest/agile/1.0/board"
BOARD_CONFIGURATION = "/rest/agile/1.0/board/{board_id}/configuration"
BOARD_SPRINTS = "/rest/agile/1.0/board/{board_id}/sprint"
FIELDS = "/rest/api/3/field"
AGILE_PAGE_SIZE = 50  # the agile API's maxResults default and cap
SPRINT_FIELD_TYPE = "com.pyxis.greenhopper.jira:gh-sprint"


class AgileUnavailable(RuntimeError):
    """The site answers no boards: no Jira Software, or a grant without its scopes."""


class SprintFieldMismatch(RuntimeError):
    """The sync file names another Sprint field than the site has."""


@dataclass(frozen=True)
class AgileSnapshot:
    cloud_id: str
    boards: pa.Table
    sprints: pa.Table


def fetch_agile_snapshot(http: JiraHttp, site: SiteRuntime) -> AgileSnapshot:
    """Every board (with its estimation field) and every sprint of the site, fetched whole."""
    client = http.rest_client(site.api_base_url, site.auth)
    try:
        boards = list(page_bean_values(client, BOARDS, AGILE_PAGE_SIZE))
    except JiraRequestError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (401, 403, 404):
            raise AgileUnavailable(
                f"{exc}; the site has no Jira Software, or its OAuth grant lacks Jira Software's scopes "
                f"({', '.join(JIRA_SOFTWARE_SCOPES)}): re-connect the site with them, or remove `sprints` "
                "from the site's entities in the sync file"
            ) from exc
        raise
    board_rows: list[dict[str, Any]] = []
    sprint_rows: dict[str, dict[str, Any]] = {}
    for board in boards:
        board_id = board.get("id")
        configuration = http.get_json(client, BOARD_CONFIGURATION.format(board_id=board_id))
        board_rows.append(board_row(site.cloud_id, board, configuration))
        if board.get("type") == "kanban":
            continue
        try:
            for sprint in page_bean_values(client, BOARD_SPRINTS.format(board_id=board_id), AGILE_PAGE_SIZE):
                row = sprint_row(site.cloud_id, sprint, board_id)
                sprint_rows.setdefault(row["id"], row)
        except JiraRequestError as exc:
            if exc.response is None or exc.response.status_code != 400:
                raise  # 400: "The board does not support sprints" (a simple board without them)
    return AgileSnapshot(
        site.cloud_id, from_rows("boards", board_rows), from_rows("sprints", list(sprint_rows.values()))
    )


def sprint_field_problem(http: JiraHttp, site: SiteRuntime) -> str | None:
    """Why the site's `issues.sprint_field` is wrong, or None when it is the site's Sprint field."""
    configured = site.config.issues.sprint_field
    if configured is None:
        return None
    fields = http.get_json(http.rest_client(site.api_base_url, site.auth), FIELDS)
    sprint_fields = [
        str(f.get("id"))
        for f in fields or ()
        if isinstance(f, dict) and (f.get("schema") or {}).get("custom") == SPRINT_FIELD_TYPE
    ]
    if configured in sprint_fields:
        return None
    if not sprint_fields:
        return (
            f"the site has no Sprint field ({SPRINT_FIELD_TYPE}) but the sync file names {configured}; "
            "write `issues.sprint_field: null` for this site, or remove `sprints` from its entities"
        )
    return (
        f"the site's Sprint field is {sprint_fields[0]}, not {configured}: write "
        f"`issues.sprint_field: {sprint_fields[0]}` for this site in the sync file (sprint membership "
        "is read from that field)"
    )


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


def board_row(cloud_id: str, board: dict[str, Any], configuration: dict[str, Any] | None) -> dict[str, Any]:
    location = board.get("location") or {}
    estimation = ((configuration or {}).get("estimation") or {}).get("field") or {}
    return {
        "cloud_id": cloud_id,
        "id": _id(board.get("id")),
        "name": board.get("name"),
        "type": board.get("type"),
        "project_id": _id(location.get("projectId")),
        "project_key": location.get("projectKey"),
        "estimation_field_id": estimation.get("fieldId"),
        "filter_id": _id(((configuration or {}).get("filter") or {}).get("id")),
    }


def sprint_row(cloud_id: str, sprint: dict[str, Any], listed_by: Any) -> dict[str, Any]:
    return {
        "cloud_id": cloud_id,
        "id": _id(sprint.get("id")),
        "board_id": _id(sprint.get("originBoardId", listed_by)),
        "name": sprint.get("name"),
        "state": sprint.get("state"),
        "start_date": sprint.get("startDate"),
        "end_date": sprint.get("endDate"),
        "complete_date": sprint.get("completeDate"),
        "created_date": sprint.get("createdDate"),
        "goal": sprint.get("goal"),
    }
