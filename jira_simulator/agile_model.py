"""Jira Software's boards and sprints as the simulated world holds them (plain dataclasses).

Shapes follow the Jira Software Cloud REST API (`/rest/agile/1.0`):
https://developer.atlassian.com/cloud/jira/software/rest/api-group-board/ and
https://developer.atlassian.com/cloud/jira/software/rest/api-group-sprint/ (Board: id, name,
type scrum | kanban | simple, location; Sprint: id, state future | active | closed, name,
startDate, endDate, completeDate, createdDate, originBoardId, goal).

The issue field `Sprint` (`customfield_10020` on Cloud sites, custom type
`com.pyxis.greenhopper.jira:gh-sprint`) holds every sprint an issue has been in that is still
relevant: an issue carried over from a closed sprint keeps the closed one in the list. Its value
is a list of `{id, name, state, boardId, goal, startDate, endDate, completeDate}` objects with
UTC `...Z` dates, as public captures of Cloud issues show. Imports nothing from the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

SPRINT_FIELD = "customfield_10020"
SPRINT_FIELD_NAME = "Sprint"
SPRINT_FIELD_TYPE = "com.pyxis.greenhopper.jira:gh-sprint"

BoardType = Literal["scrum", "kanban", "simple"]
SprintState = Literal["future", "active", "closed"]


def agile_date(ms: int | None) -> str | None:
    """Epoch ms as the agile API and the Sprint field render dates: `2021-10-12T15:20:44.479Z`."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@dataclass
class Board:
    id: int
    name: str
    type: BoardType
    project_id: str
    filter_id: str
    # The board's estimation statistic (story points), e.g. customfield_10016; None: issue count.
    estimation_field: str | None = None
    sprints_enabled: bool = False  # scrum boards; team-managed (simple) boards with sprints on

    @property
    def has_sprints(self) -> bool:
        return self.type == "scrum" or self.sprints_enabled


@dataclass
class Sprint:
    id: int
    board_id: int
    name: str
    state: SprintState
    created_ms: int
    start_ms: int | None = None
    end_ms: int | None = None
    complete_ms: int | None = None
    goal: str = ""
    # The object the Sprint field holds for this sprint: one dict shared by every issue in the
    # sprint, refreshed when the sprint changes, so issues always render its current state.
    field_value: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        value: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "boardId": self.board_id,
            "goal": self.goal,
        }
        for key, ms in (
            ("startDate", self.start_ms),
            ("endDate", self.end_ms),
            ("completeDate", self.complete_ms),
        ):
            if ms is not None:
                value[key] = agile_date(ms)
        self.field_value.clear()
        self.field_value.update(value)


@dataclass
class Agile:
    """A site's boards and sprints (ids are per site, as on Jira: board 1, sprint 1, ...)."""

    boards: dict[int, Board] = field(default_factory=dict)
    sprints: dict[int, Sprint] = field(default_factory=dict)
    next_board_id: int = 1
    next_sprint_id: int = 1

    def board_sprints(self, board_id: int) -> list[Sprint]:
        return sorted((s for s in self.sprints.values() if s.board_id == board_id), key=lambda s: s.id)
