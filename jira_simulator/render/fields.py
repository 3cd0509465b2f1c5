"""Jira's fields: the system and custom fields a site has, and the `fields` parameter's grammar."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jira_simulator.agile_model import SPRINT_FIELD, SPRINT_FIELD_NAME, SPRINT_FIELD_TYPE
from jira_simulator.history import STORY_POINTS_FIELD, STORY_POINTS_NAME

SEVERITY_FIELD = "customfield_10060"


@dataclass(frozen=True)
class FieldDef:
    """One entry of `GET /field`; `on_issue` fields are rendered into issues' `fields`."""

    id: str
    name: str
    schema: dict[str, Any] | None
    navigable: bool = True
    custom: bool = False
    clause_names: tuple[str, ...] = ()
    orderable: bool = True
    searchable: bool = True
    on_issue: bool = True


def _system(
    id_: str,
    name: str,
    type_: str | None,
    *,
    items: str | None = None,
    clauses: tuple[str, ...] | None = None,
    navigable: bool = True,
    orderable: bool = True,
    searchable: bool = True,
    on_issue: bool = True,
) -> FieldDef:
    schema: dict[str, Any] | None = None
    if type_ is not None:
        schema = (
            {"type": type_, "system": id_}
            if items is None
            else {"type": type_, "items": items, "system": id_}
        )
    return FieldDef(
        id_,
        name,
        schema,
        navigable=navigable,
        clause_names=(id_,) if clauses is None else clauses,
        orderable=orderable,
        searchable=searchable,
        on_issue=on_issue,
    )


# Jira Cloud's system fields with the attributes a real site lists them with: names, `orderable`,
# `navigable`, `searchable`, `clauseNames` and `schema` as a live `GET /rest/api/3/field` lists
# them (a Cloud answer recorded in a public C# client's `JiraApiClient.GetFields`, fields
# statuscategorychangedate ... status); the editable fields not in that capture (summary,
# assignee, priority, ...) are orderable, as Jira's create/edit screens make them. `issuekey`,
# `statusCategory` and `thumbnail` are listed but never appear in an issue's `fields`; `parent`,
# `issuekey`, `statusCategory` and `thumbnail` have no `schema` there.
FIELDS: dict[str, FieldDef] = {
    f.id: f
    for f in (
        _system(
            "statuscategorychangedate",
            "Status Category Changed",
            "datetime",
            clauses=("statusCategoryChangedDate",),
            orderable=False,
        ),
        _system("parent", "Parent", None, orderable=False, searchable=False),
        _system(
            "issuekey",
            "Key",
            None,
            clauses=("id", "issue", "issuekey", "key"),
            orderable=False,
            searchable=False,
            on_issue=False,
        ),
        _system("timespent", "Time Spent", "number", orderable=False, searchable=False),
        _system(
            "timeoriginalestimate",
            "Original estimate",
            "number",
            clauses=("originalEstimate", "timeoriginalestimate"),
            orderable=False,
            searchable=False,
        ),
        _system("project", "Project", "project", orderable=False),
        _system(
            "aggregatetimespent", "Σ Time Spent", "number", clauses=(), orderable=False, searchable=False
        ),
        _system("statusCategory", "Status Category", None, orderable=False, on_issue=False),
        _system("timetracking", "Time tracking", "timetracking", clauses=(), navigable=False),
        _system(
            "attachment", "Attachment", "array", items="attachment", clauses=("attachments",), navigable=False
        ),
        _system(
            "aggregatetimeestimate",
            "Σ Remaining Estimate",
            "number",
            clauses=(),
            orderable=False,
            searchable=False,
        ),
        _system(
            "resolutiondate", "Resolved", "datetime", clauses=("resolutiondate", "resolved"), orderable=False
        ),
        _system("workratio", "Work Ratio", "number", orderable=False),
        _system("issuerestriction", "Restrict to", "issuerestriction", clauses=(), navigable=False),
        _system("lastViewed", "Last Viewed", "datetime", orderable=False, searchable=False),
        _system("watches", "Watchers", "watches", clauses=("watchers",), orderable=False, searchable=False),
        _system("thumbnail", "Images", None, clauses=(), orderable=False, searchable=False, on_issue=False),
        _system("creator", "Creator", "user", orderable=False),
        _system("subtasks", "Sub-tasks", "array", items="issuelinks", orderable=False, searchable=False),
        _system("created", "Created", "datetime", clauses=("created", "createdDate"), orderable=False),
        _system("aggregateprogress", "Σ Progress", "progress", clauses=(), orderable=False, searchable=False),
        _system(
            "timeestimate",
            "Remaining Estimate",
            "number",
            clauses=("remainingEstimate", "timeestimate"),
            orderable=False,
            searchable=False,
        ),
        _system(
            "aggregatetimeoriginalestimate",
            "Σ Original Estimate",
            "number",
            clauses=(),
            orderable=False,
            searchable=False,
        ),
        _system("progress", "Progress", "progress", orderable=False, searchable=False),
        _system("comment", "Comment", "comments-page", navigable=False),
        _system("votes", "Votes", "votes", orderable=False, searchable=False),
        _system("worklog", "Log Work", "array", items="worklog", clauses=(), navigable=False),
        _system("updated", "Updated", "datetime", clauses=("updated", "updatedDate"), orderable=False),
        _system("status", "Status", "status", orderable=False),
        _system("summary", "Summary", "string"),
        _system("issuetype", "Issue Type", "issuetype", clauses=("issuetype", "type")),
        _system("assignee", "Assignee", "user"),
        _system("reporter", "Reporter", "user"),
        _system("resolution", "Resolution", "resolution"),
        _system("priority", "Priority", "priority"),
        _system("labels", "Labels", "array", items="string"),
        _system("duedate", "Due date", "date", clauses=("due", "duedate")),
        _system("components", "Components", "array", items="component", clauses=("component",)),
        _system("fixVersions", "Fix versions", "array", items="version", clauses=("fixVersion",)),
        _system("versions", "Affects versions", "array", items="version", clauses=("affectedVersion",)),
        _system("description", "Description", "string"),
        _system("environment", "Environment", "string"),
        _system("issuelinks", "Linked Issues", "array", items="issuelinks", clauses=("issueLink",)),
        _system("security", "Security Level", "securitylevel", clauses=("level",)),
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
            SPRINT_FIELD,
            SPRINT_FIELD_NAME,
            {"type": "array", "items": "json", "custom": SPRINT_FIELD_TYPE, "customId": 10020},
            custom=True,
            clause_names=("cf[10020]", "Sprint", "sprint"),
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
NAVIGABLE = [f.id for f in FIELDS.values() if f.navigable and f.on_issue]
ALL_FIELDS = [f.id for f in FIELDS.values() if f.on_issue]


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
        elif value in FIELDS and FIELDS[value].on_issue:
            chosen.append(value)
    seen: set[str] = set()
    return [f for f in chosen if f not in excluded and not (f in seen or seen.add(f))]


def field_body(definition: FieldDef) -> dict[str, Any]:
    """`FieldDetails`, as `GET /field` lists it (no `schema` key where the field has none)."""
    body: dict[str, Any] = {
        "id": definition.id,
        "key": definition.id,
        "name": definition.name,
        "custom": definition.custom,
        "orderable": definition.orderable,
        "navigable": definition.navigable,
        "searchable": definition.searchable,
        "clauseNames": list(definition.clause_names),
    }
    if definition.schema is not None:
        body["schema"] = definition.schema
    return body
