"""Flatteners: Jira answers (issues decoded into `pages` Structs, the rest as JSON dicts) to the
column lists of `jira_raw` tables."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
import orjson
import pyarrow as pa

from pipelines.jira import pages
from pipelines.jira.tables import empty_columns, from_rows, to_arrow

GROUP_NAME_PREFIX = "name:"


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


class IssueColumns:
    """Column lists for `issues` and `issue_changelog`, filled issue by issue."""

    def __init__(
        self, cloud_id: str, synced_at: str, extra_fields: Iterable[str] = (), sprint_field: str | None = None
    ) -> None:
        self.cloud_id = cloud_id
        self.synced_at = synced_at
        self.extra_fields = tuple(extra_fields)
        self.sprint_field = sprint_field
        sprint = () if sprint_field is None or sprint_field in self.extra_fields else (sprint_field,)
        self.decoded_fields = (*self.extra_fields, *sprint)  # what pages.issue_type must declare
        self.issues = empty_columns("issues")
        self.changelog = empty_columns("issue_changelog")

    def __len__(self) -> int:
        return len(self.issues["id"])

    def add_issue(self, issue: pages.Issue, histories: list[pages.History] | None) -> None:
        """One issue; `histories` is its complete changelog (None: keep what is stored)."""
        fields = issue.fields or pages.Fields()
        issue_id = str(issue.id)
        project, issuetype, status = fields.project, fields.issuetype, fields.status
        parent, priority, resolution = fields.parent, fields.priority, fields.resolution
        assignee, reporter, creator = fields.assignee, fields.reporter, fields.creator
        category = status.statusCategory if status is not None else None
        changelog = issue.changelog
        if changelog is not None and changelog.total is not None:
            total = int(changelog.total)
        else:
            total = None if histories is None else len(histories)
        labels = fields.labels
        if self.extra_fields:
            extra = {}
            for name in self.extra_fields:
                value = getattr(fields, name, msgspec.UNSET)
                if value is not msgspec.UNSET:
                    extra[name] = value
            extra_json = orjson.dumps(extra).decode()
        else:
            extra_json = None
        columns = self.issues
        columns["cloud_id"].append(self.cloud_id)
        columns["id"].append(issue_id)
        columns["key"].append(issue.key)
        columns["project_id"].append(None if project is None else _id(project.id))
        columns["project_key"].append(None if project is None else project.key)
        columns["issue_type_id"].append(None if issuetype is None else _id(issuetype.id))
        columns["issue_type_name"].append(None if issuetype is None else issuetype.name)
        columns["status_id"].append(None if status is None else _id(status.id))
        columns["status_name"].append(None if status is None else status.name)
        columns["status_category_key"].append(None if category is None else category.key)
        columns["priority_name"].append(None if priority is None else priority.name)
        columns["resolution_name"].append(None if resolution is None else resolution.name)
        columns["summary"].append(fields.summary)
        columns["parent_id"].append(None if parent is None else _id(parent.id))
        columns["parent_key"].append(None if parent is None else parent.key)
        columns["assignee_account_id"].append(None if assignee is None else assignee.accountId)
        columns["reporter_account_id"].append(None if reporter is None else reporter.accountId)
        columns["creator_account_id"].append(None if creator is None else creator.accountId)
        columns["labels"].append(orjson.dumps(labels).decode() if labels is not None else None)
        columns["created"].append(fields.created)
        columns["updated"].append(fields.updated)
        columns["resolved"].append(fields.resolutiondate)
        columns["status_category_changed"].append(fields.statuscategorychangedate)
        columns["due_date"].append(fields.duedate)
        columns["changelog_total"].append(total)
        columns["extra_fields"].append(extra_json)
        sprint_field = self.sprint_field
        sprints = getattr(fields, sprint_field, None) if sprint_field else None
        columns["sprint_ids"].append(sprint_ids_text(sprints) if sprints is not msgspec.UNSET else None)
        columns["synced_at"].append(self.synced_at)
        columns["deleted"].append(False)
        if histories is not None:
            self.add_histories(issue_id, histories)

    def add_histories(self, issue_id: str, histories: Iterable[pages.History]) -> None:
        """One row per history item, appended column by column."""
        columns = self.changelog
        history_ids, item_indexes, authors, created = [], [], [], []
        field, field_id, field_type = columns["field"], columns["field_id"], columns["field_type"]
        from_id, from_string = columns["from_id"], columns["from_string"]
        to_id, to_string = columns["to_id"], columns["to_string"]
        for history in histories:
            items = history.items
            if not items:
                continue
            count = len(items)
            history_ids += [str(history.id)] * count
            item_indexes += range(count)
            author = history.author
            authors += [None if author is None else author.accountId] * count
            created += [history.created] * count
            for item in items:
                field.append(item.field)
                field_id.append(item.fieldId)
                field_type.append(item.fieldtype)
                value = item.from_
                from_id.append(None if value is None else str(value))
                from_string.append(item.fromString)
                value = item.to
                to_id.append(None if value is None else str(value))
                to_string.append(item.toString)
        rows = len(history_ids)
        columns["cloud_id"] += [self.cloud_id] * rows
        columns["history_id"] += history_ids
        columns["item_index"] += item_indexes
        columns["issue_id"] += [issue_id] * rows
        columns["author_account_id"] += authors
        columns["created"] += created
        columns["deleted"] += [False] * rows

    def issues_table(self) -> pa.Table:
        return to_arrow("issues", self.issues)

    def changelog_table(self) -> pa.Table:
        return to_arrow("issue_changelog", self.changelog)


_SERVER_SPRINT_ID = re.compile(r"\[id=(\d+)[,\]]")


def sprint_ids_text(value: Any) -> str | None:
    """The Sprint field's sprint ids, comma-separated as its changelog items write them ("21, 22").
    Cloud sends objects with an `id`; Jira Server's older string form
    (`...Sprint@1a2b[id=37,rapidViewId=5,...]`) is read too."""
    if not value:
        return None
    ids = []
    for sprint in value if isinstance(value, list) else [value]:
        if isinstance(sprint, dict) and sprint.get("id") is not None:
            ids.append(str(sprint["id"]))
        elif isinstance(sprint, str) and (match := _SERVER_SPRINT_ID.search(sprint)):
            ids.append(match.group(1))
    return ", ".join(ids) if ids else None


def issue_tombstones(cloud_id: str, issue_ids: Iterable[str]) -> tuple[pa.Table, pa.Table]:
    """Rows that hard-delete issues and their whole changelog (deleted=True)."""
    ids = list(issue_ids)
    issues = from_rows("issues", [{"cloud_id": cloud_id, "id": i, "deleted": True} for i in ids])
    changelog = from_rows(
        "issue_changelog",
        [
            {"cloud_id": cloud_id, "issue_id": i, "history_id": "", "item_index": -1, "deleted": True}
            for i in ids
        ],
    )
    return issues, changelog


def project_row(cloud_id: str, project: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "cloud_id": cloud_id,
        "id": _id(project.get("id")),
        "key": project.get("key"),
        "name": project.get("name"),
        "project_type_key": project.get("projectTypeKey"),
        "style": project.get("style"),
        "simplified": project.get("simplified"),
        "archived": bool(project.get("archived", False)),
        "category_name": (project.get("projectCategory") or {}).get("name"),
        "lead_account_id": (project.get("lead") or {}).get("accountId"),
    }


def issue_type_row(cloud_id: str, issue_type: Mapping[str, Any]) -> dict[str, Any]:
    scope = issue_type.get("scope") or {}
    return {
        "cloud_id": cloud_id,
        "id": _id(issue_type.get("id")),
        "name": issue_type.get("name"),
        "description": issue_type.get("description"),
        "subtask": issue_type.get("subtask"),
        "hierarchy_level": issue_type.get("hierarchyLevel"),
        "scope_project_id": _id((scope.get("project") or {}).get("id")),
    }


def status_row(cloud_id: str, status: Mapping[str, Any]) -> dict[str, Any]:
    category = status.get("statusCategory") or {}
    scope = status.get("scope") or {}
    return {
        "cloud_id": cloud_id,
        "id": _id(status.get("id")),
        "name": status.get("name"),
        "status_category_id": _id(category.get("id")),
        "status_category_key": category.get("key"),
        "scope_project_id": _id((scope.get("project") or {}).get("id")),
    }


def status_category_row(cloud_id: str, category: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "cloud_id": cloud_id,
        "id": _id(category.get("id")),
        "key": category.get("key"),
        "name": category.get("name"),
        "color_name": category.get("colorName"),
    }


def user_row(cloud_id: str, user: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "cloud_id": cloud_id,
        "account_id": user.get("accountId"),
        "account_type": user.get("accountType") or "unknown",
        "display_name": user.get("displayName"),
        "email_address": user.get("emailAddress") or None,
        "active": user.get("active"),
        "time_zone": user.get("timeZone"),
        "locale": user.get("locale"),
    }


def group_row(cloud_id: str, group: Mapping[str, Any]) -> dict[str, Any]:
    """`groupId` is nullable in Jira's schema (legacy groups): such a group is keyed by its name."""
    group_id = _id(group.get("groupId")) or f"{GROUP_NAME_PREFIX}{group.get('name')}"
    return {"cloud_id": cloud_id, "group_id": group_id, "name": group.get("name")}


def team_row(organization_id: str, cloud_id: str, team: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "organization_id": organization_id,
        "team_id": _id(team.get("teamId")),
        "cloud_id": cloud_id,
        "display_name": team.get("displayName"),
        "description": team.get("description"),
        "state": team.get("state"),
        "team_type": team.get("teamType"),
    }
