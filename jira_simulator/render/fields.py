"""Jira's fields: the system and custom fields a site has, and the `fields` parameter's grammar."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jira_simulator.history import STORY_POINTS_FIELD, STORY_POINTS_NAME

SEVERITY_FIELD = "customfield_10060"


@dataclass(frozen=True)
class FieldDef:
    id: str
    name: str
    schema: dict[str, Any]
    navigable: bool = True
    custom: bool = False
    clause_names: tuple[str, ...] = ()
    orderable: bool = True
    searchable: bool = True


def _system(
    id_: str,
    name: str,
    type_: str,
    *,
    items: str | None = None,
    navigable: bool = True,
    clauses: tuple[str, ...] = (),
) -> FieldDef:
    schema: dict[str, Any] = {"type": type_, "system": id_}
    if items:
        schema["items"] = items
    return FieldDef(id_, name, schema, navigable=navigable, clause_names=clauses or (id_,))


FIELDS: dict[str, FieldDef] = {
    f.id: f
    for f in (
        _system("summary", "Summary", "string"),
        _system("status", "Status", "status"),
        _system("issuetype", "Issue Type", "issuetype", clauses=("issuetype", "type")),
        _system("project", "Project", "project"),
        _system("assignee", "Assignee", "user"),
        _system("reporter", "Reporter", "user"),
        _system("creator", "Creator", "user"),
        _system("created", "Created", "datetime", clauses=("created", "createdDate")),
        _system("updated", "Updated", "datetime", clauses=("updated", "updatedDate")),
        _system("resolutiondate", "Resolved", "datetime", clauses=("resolutiondate", "resolved")),
        _system("resolution", "Resolution", "resolution"),
        _system("priority", "Priority", "priority"),
        _system("labels", "Labels", "array", items="string"),
        _system("parent", "Parent", "issuelink"),
        _system("duedate", "Due date", "date", clauses=("due", "duedate")),
        _system("components", "Components", "array", items="component", clauses=("component",)),
        _system("fixVersions", "Fix versions", "array", items="version", clauses=("fixVersion",)),
        _system("versions", "Affects versions", "array", items="version", clauses=("affectedVersion",)),
        _system("description", "Description", "string"),
        _system("environment", "Environment", "string"),
        _system("statuscategorychangedate", "Status Category Changed", "datetime"),
        _system("subtasks", "Sub-tasks", "array", items="issuelinks"),
        _system("issuelinks", "Linked Issues", "array", items="issuelinks"),
        _system("comment", "Comment", "comments-page", navigable=False),
        _system("worklog", "Log Work", "array", items="worklog", navigable=False),
        FieldDef(
            STORY_POINTS_FIELD,
            STORY_POINTS_NAME,
            {
                "type": "number",
                "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float",
                "customId": 10016,
            },
            custom=True,
            clause_names=("cf[10016]", STORY_POINTS_NAME),
        ),
        FieldDef(
            SEVERITY_FIELD,
            "Severity",
            {
                "type": "option",
                "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
                "customId": 10060,
            },
            custom=True,
            clause_names=("cf[10060]", "Severity"),
        ),
    )
}
NAVIGABLE = [f.id for f in FIELDS.values() if f.navigable]
ALL_FIELDS = list(FIELDS)


def select_fields(requested: Iterable[str] | None, default: Iterable[str]) -> list[str]:
    """Resolve Jira's `fields` parameter (`*all`, `*navigable`, names, `-name`) to field ids, in order.

    `id` and `key` are not fields (they are always on the issue), unknown names are ignored, as
    Jira ignores them.
    """
    values = [
        v.strip() for item in (requested if requested is not None else default) for v in item.split(",")
    ]
    chosen: list[str] = []
    excluded: set[str] = set()
    for value in values:
        if not value:
            continue
        if value.startswith("-"):
            excluded.add(value[1:])
        elif value == "*all":
            chosen.extend(ALL_FIELDS)
        elif value == "*navigable":
            chosen.extend(NAVIGABLE)
        elif value in FIELDS:
            chosen.append(value)
    seen: set[str] = set()
    return [f for f in chosen if f not in excluded and not (f in seen or seen.add(f))]


def field_body(definition: FieldDef) -> dict[str, Any]:
    """`FieldDetails`, as `GET /field` lists it."""
    return {
        "id": definition.id,
        "key": definition.id,
        "name": definition.name,
        "custom": definition.custom,
        "orderable": definition.orderable,
        "navigable": definition.navigable,
        "searchable": definition.searchable,
        "clauseNames": list(definition.clause_names),
        "schema": definition.schema,
    }
