"""Sprint membership as Jira Software records it: the `Sprint` field and its changelog items.

Adding an issue to a sprint, removing it, and carrying it over when a sprint completes all change
the issue's `Sprint` field and record one history with a `Sprint` item whose `from`/`to` are the
comma-separated sprint ids before and after (`"2781"` -> `"2781, 2807"`; names likewise in
`fromString`/`toString`), as public captures of Jira changelogs show. Completing a sprint keeps
it in the field of every issue that was in it; an unfinished issue moved to the next sprint gets
that sprint added, one moved to the backlog gets no change at all.

The generator, the scenario loader and the admin API share these functions.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Any

from jira_simulator.agile_model import SPRINT_FIELD, SPRINT_FIELD_NAME, Agile, Board, Sprint
from jira_simulator.model import ChangeItem, History, Issue, Site

DONE_CATEGORY = 3


def sprint_ids(issue: Issue) -> list[int]:
    """The ids in the issue's Sprint field, oldest first."""
    return [int(value["id"]) for value in issue.custom_fields.get(SPRINT_FIELD) or ()]


def issues_in(site: Site, sprint: Sprint) -> list[Issue]:
    """Issues whose Sprint field holds `sprint`, in id order (Jira orders by rank)."""
    return sorted(
        (i for i in site.issues.values() if sprint.id in sprint_ids(i)),
        key=lambda i: int(i.id),
    )


def set_sprints(
    site: Site, issue: Issue, new_ids: Sequence[int], author_id: str | None, at_ms: int
) -> History | None:
    """Set the issue's Sprint field to `new_ids` as one history at `at_ms` (None if nothing changed).

    The history is put in time order among the issue's histories, so a world builder may record a
    change in the past; `updated` moves forward only.
    """
    agile: Agile = site.agile
    old_ids = sprint_ids(issue)
    new = list(dict.fromkeys(new_ids))
    if new == old_ids:
        return None
    unknown = [i for i in new if i not in agile.sprints]
    if unknown:
        raise ValueError(f"{issue.key}: no sprint {unknown[0]} on site {site.name}")
    item = ChangeItem(
        SPRINT_FIELD_NAME,
        "custom",
        SPRINT_FIELD,
        _ids_text(old_ids),
        _names_text(agile, old_ids),
        _ids_text(new),
        _names_text(agile, new),
    )
    if new:
        issue.custom_fields[SPRINT_FIELD] = [agile.sprints[i].field_value for i in new]
    else:
        issue.custom_fields.pop(SPRINT_FIELD, None)
    history = History(str(site.next_history_id), author_id, at_ms, [item])
    site.next_history_id += 1
    position = bisect.bisect_right([h.created_ms for h in issue.histories], at_ms)
    issue.histories.insert(position, history)
    issue.updated_ms = max(issue.updated_ms, at_ms)
    return history


def add_to_sprint(
    site: Site, issue: Issue, sprint: Sprint, author_id: str | None, at_ms: int
) -> History | None:
    """Put the issue in `sprint`; an open sprint it was in before is replaced (Jira moves it)."""
    agile = site.agile
    kept = [i for i in sprint_ids(issue) if agile.sprints[i].state == "closed" and i != sprint.id]
    return set_sprints(site, issue, [*kept, sprint.id], author_id, at_ms)


def remove_from_sprint(
    site: Site, issue: Issue, sprint: Sprint, author_id: str | None, at_ms: int
) -> History | None:
    """Take the issue out of an open sprint (back to the backlog)."""
    return set_sprints(site, issue, [i for i in sprint_ids(issue) if i != sprint.id], author_id, at_ms)


def is_done(site: Site, issue: Issue) -> bool:
    return site.statuses[issue.status_id].category_id == DONE_CATEGORY


def done_at(site: Site, issue: Issue, at_ms: int) -> bool:
    """Whether the issue's status was in the Done category at `at_ms` (replayed from its changelog)."""
    status_id = _initial_status(issue)
    for history in issue.histories:
        if history.created_ms > at_ms:
            break
        for item in history.items:
            if item.field_id == "status" and item.to_id is not None:
                status_id = item.to_id
    status = site.statuses.get(status_id or "")
    return status is not None and status.category_id == DONE_CATEGORY


def _initial_status(issue: Issue) -> str | None:
    for history in issue.histories:
        for item in history.items:
            if item.field_id == "status":
                return item.from_id
    return issue.status_id


def start_sprint(sprint: Sprint, at_ms: int, end_ms: int | None = None) -> None:
    if sprint.state != "future":
        raise ValueError(f"sprint {sprint.id} is {sprint.state}; only a future sprint can be started")
    sprint.state = "active"
    sprint.start_ms = at_ms
    sprint.end_ms = end_ms if end_ms is not None else sprint.end_ms or at_ms + 14 * 86_400_000
    sprint.refresh()


def complete_sprint(
    site: Site, sprint: Sprint, at_ms: int, move_to: Sprint | None, author_id: str | None
) -> list[tuple[Issue, History | None]]:
    """Close an active sprint. Unfinished issues go to `move_to` (a history each) or the backlog
    (no change: the closed sprint stays in their field). Returns the unfinished issues."""
    if sprint.state != "active":
        raise ValueError(f"sprint {sprint.id} is {sprint.state}; only the active sprint can be completed")
    if move_to is not None and (move_to.state == "closed" or move_to.id == sprint.id):
        raise ValueError(f"cannot move open issues to sprint {move_to.id}: it is {move_to.state}")
    unfinished = [i for i in issues_in(site, sprint) if not is_done(site, i)]
    sprint.state = "closed"
    sprint.complete_ms = at_ms
    sprint.refresh()
    moved: list[tuple[Issue, History | None]] = []
    for issue in unfinished:
        history = None
        if move_to is not None:
            history = set_sprints(site, issue, [*sprint_ids(issue), move_to.id], author_id, at_ms)
        moved.append((issue, history))
    return moved


def new_board(
    agile: Agile, name: str, board_type: str, project_id: str, *, estimation_field: str | None = None
) -> Board:
    board = Board(
        agile.next_board_id,
        name,
        board_type,  # type: ignore[arg-type]
        project_id,
        filter_id=str(10000 + agile.next_board_id),
        estimation_field=estimation_field,
    )
    agile.boards[board.id] = board
    agile.next_board_id += 1
    return board


def new_sprint(agile: Agile, board: Board, name: str, created_ms: int, **dates: Any) -> Sprint:
    if not board.has_sprints:
        raise ValueError(f"board {board.id} ({board.type}) does not support sprints")
    sprint = Sprint(agile.next_sprint_id, board.id, name, "future", created_ms, **dates)
    agile.sprints[sprint.id] = sprint
    agile.next_sprint_id += 1
    return sprint


def _ids_text(ids: Iterable[int]) -> str | None:
    return ", ".join(str(i) for i in ids) or None


def _names_text(agile: Agile, ids: Iterable[int]) -> str | None:
    return ", ".join(agile.sprints[i].name for i in ids) or None
