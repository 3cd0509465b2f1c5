"""JQL's ORDER BY: sort keys per field, empty values last, key descending without ORDER BY."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jira_simulator.jql.context import JqlContext
from jira_simulator.jql.errors import field_error
from jira_simulator.jql.fields import FIELD_ALIASES
from jira_simulator.jql.syntax import SortField
from jira_simulator.model import Issue


def _key_sort(issue: Issue) -> tuple[str, int]:
    project_key, _, number = issue.key.rpartition("-")
    return project_key, int(number)


class _Descending:
    """Wraps a sort value so that ascending sort orders it descending (None always last)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return other.value < self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value


def _sort_getter(name: str, context: JqlContext) -> Callable[[Issue], Any]:
    canonical = FIELD_ALIASES.get(name.casefold(), name.casefold())
    site = context.site
    users = context.world.users
    getters: dict[str, Callable[[Issue], Any]] = {
        "key": _key_sort,
        "rank": lambda i: int(i.id),
        "id": lambda i: int(i.id),
        "created": lambda i: i.created_ms,
        "updated": lambda i: i.updated_ms,
        "resolved": lambda i: i.resolved_ms,
        "statuscategorychangeddate": lambda i: i.status_category_changed_ms,
        "duedate": lambda i: i.due_date,
        "priority": lambda i: -int(i.priority_id) if i.priority_id else None,
        "status": lambda i: site.statuses[i.status_id].name.casefold(),
        "issuetype": lambda i: site.issue_types[i.issue_type_id].name.casefold(),
        "project": lambda i: site.projects[i.project_id].key,
        "summary": lambda i: i.summary.casefold(),
        "assignee": lambda i: (
            users[i.assignee_id].display_name.casefold() if i.assignee_id in users else None
        ),
        "reporter": lambda i: (
            users[i.reporter_id].display_name.casefold() if i.reporter_id in users else None
        ),
    }
    getter = getters.get(canonical)
    if getter is None:
        raise field_error(name)
    return getter


def sort_key(order_by: tuple[SortField, ...], context: JqlContext) -> Callable[[Issue], Any]:
    fields = order_by or (SortField("key", True),)  # Jira's order without ORDER BY: newest key first
    getters = [(_sort_getter(f.field, context), f.descending) for f in fields]

    def key(issue: Issue) -> tuple[Any, ...]:
        parts: list[Any] = []
        for getter, descending in getters:
            value = getter(issue)
            # None sorts last in both directions, as Jira puts empty values last.
            parts.append((value is None, _Descending(value) if descending and value is not None else value))
        parts.append(int(issue.id))
        return tuple(parts)

    return key
