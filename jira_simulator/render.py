"""Model objects to Jira Cloud JSON, for REST v2 and v3.

v3 renders rich text (description, environment, comment and worklog bodies) as Atlassian
Document Format; v2 as plain strings. Timestamps are rendered in the site's zone as
`yyyy-MM-dd'T'HH:mm:ss.SSS+hhmm`. `self` URLs use the host and prefix that was called, so
gateway callers get gateway URLs. Keys whose value Jira's schema does not allow to be null
(e.g. a hidden `emailAddress`, a change item's `from`) are omitted rather than set to null.

One `Renderer` serves one request and caches the small shared objects (users, statuses, types)
it renders, which matters when a page holds 100 issues with their changelogs.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from jira_simulator.history import STORY_POINTS_FIELD, STORY_POINTS_NAME
from jira_simulator.model import (
    STATUS_CATEGORIES,
    ChangeItem,
    Comment,
    Component,
    History,
    Issue,
    IssueType,
    Priority,
    Project,
    Resolution,
    Site,
    Status,
    User,
    Version,
    Workflow,
    Worklog,
    World,
)
from jira_simulator.timefmt import format_timestamp, zone

ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
SEVERITY_FIELD = "customfield_10060"


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document (one paragraph per line)."""
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
            for line in text.split("\n")
        ],
    }


def duration_text(seconds: int) -> str:
    """Jira's `timeSpent` rendering: `1d 2h 30m` (8-hour days, 5-day weeks)."""
    minutes = seconds // 60
    parts = []
    for unit, size in (("w", 5 * 8 * 60), ("d", 8 * 60), ("h", 60), ("m", 1)):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0m"


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


class Renderer:
    """Renders one request's objects for one site, API version, base URL and viewer."""

    def __init__(
        self, world: World, site: Site, version: int, base_url: str, origin: str, viewer_id: str | None
    ):
        self.world = world
        self.site = site
        self.version = version
        self.base = base_url.rstrip("/")  # .../rest/api/3
        self.site_url = f"{origin}/site/{site.name}"
        self.viewer_id = viewer_id
        self.tz = zone(site.time_zone)
        self._users: dict[str, dict[str, Any]] = {}
        self._statuses: dict[str, dict[str, Any]] = {}
        self._types: dict[str, dict[str, Any]] = {}
        self._projects: dict[str, dict[str, Any]] = {}
        self._priorities: dict[str, dict[str, Any]] = {}
        self._categories = project_categories(site)

    # -- scalars -----------------------------------------------------------------------------

    def ts(self, ms: int | None) -> str | None:
        return None if ms is None else format_timestamp(ms, self.tz)

    def rich(self, text: str | None) -> Any:
        if text is None:
            return None
        return adf(text) if self.version == 3 else text

    def avatars(self, kind: str, ident: str) -> dict[str, str]:
        return {
            f"{n}x{n}": f"{self.site_url}/secure/{kind}avatar?id={ident}&size={n}" for n in (48, 24, 16, 32)
        }

    # -- users ---------------------------------------------------------------------------------

    def user_ref(self, account_id: str | None) -> dict[str, Any] | None:
        """`UserDetails`, as Jira embeds users in issues and changelogs."""
        if account_id is None:
            return None
        cached = self._users.get(account_id)
        if cached is None:
            user = self.world.users.get(account_id)
            cached = self._users[account_id] = self._user_body(user, account_id, full=False)
        return cached

    def user(self, user: User) -> dict[str, Any]:
        """`User`, as the user endpoints return it."""
        return self._user_body(user, user.account_id, full=True)

    def _user_body(self, user: User | None, account_id: str, *, full: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"self": f"{self.base}/user?accountId={account_id}", "accountId": account_id}
        if user is None:
            body.update(displayName="Former user", active=False, accountType="unknown")
            return body
        if full:
            body["accountType"] = user.account_type
        if user.email and (user.email_visible or user.account_id == self.viewer_id):
            body["emailAddress"] = user.email
        body["avatarUrls"] = self.avatars("user", account_id)
        body["displayName"] = user.display_name
        body["active"] = user.active
        body["timeZone"] = user.time_zone
        if full:
            body["locale"] = user.locale
            if user.app_type:
                body["appType"] = user.app_type
        else:
            body["accountType"] = user.account_type
        return body

    # -- configuration objects -----------------------------------------------------------------

    def status_category(self, category_id: int) -> dict[str, Any]:
        category = STATUS_CATEGORIES[category_id]
        return {
            "self": f"{self.base}/statuscategory/{category.id}",
            "id": category.id,
            "key": category.key,
            "colorName": category.color_name,
            "name": category.name,
        }

    def status(self, status: Status) -> dict[str, Any]:
        cached = self._statuses.get(status.id)
        if cached is None:
            cached = {
                "self": f"{self.base}/status/{status.id}",
                "description": status.description,
                "iconUrl": f"{self.site_url}/images/icons/statuses/generic.png",
                "name": status.name,
                "untranslatedName": status.name,
                "id": status.id,
                "statusCategory": self.status_category(status.category_id),
            }
            if status.scope_project_id:
                cached["scope"] = self.scope(status.scope_project_id)
            self._statuses[status.id] = cached
        return cached

    def scope(self, project_id: str) -> dict[str, Any]:
        return {"type": "PROJECT", "project": {"id": project_id}}

    def issue_type(self, issue_type: IssueType) -> dict[str, Any]:
        cached = self._types.get(issue_type.id)
        if cached is None:
            cached = {
                "self": f"{self.base}/issuetype/{issue_type.id}",
                "id": issue_type.id,
                "description": issue_type.description,
                "iconUrl": f"{self.site_url}/secure/viewavatar?size=medium&avatarId={10300 + int(issue_type.id) % 50}",
                "name": issue_type.name,
                "subtask": issue_type.subtask,
                "avatarId": 10300 + int(issue_type.id) % 50,
                "hierarchyLevel": issue_type.hierarchy_level,
            }
            if issue_type.scope_project_id:
                cached["entityId"] = _entity_id(self.site.cloud_id, issue_type.id)
                cached["scope"] = self.scope(issue_type.scope_project_id)
            self._types[issue_type.id] = cached
        return cached

    def priority(self, priority: Priority) -> dict[str, Any]:
        cached = self._priorities.get(priority.id)
        if cached is None:
            cached = self._priorities[priority.id] = {
                "self": f"{self.base}/priority/{priority.id}",
                "iconUrl": f"{self.site_url}/images/icons/priorities/{priority.name.lower()}.svg",
                "name": priority.name,
                "id": priority.id,
            }
        return cached

    def priority_full(self, priority: Priority) -> dict[str, Any]:
        colors = {"1": "#d04437", "2": "#f15C75", "3": "#f79232", "4": "#707070", "5": "#999999"}
        return {
            **self.priority(priority),
            "description": f"{priority.name} priority.",
            "statusColor": colors.get(priority.id, "#707070"),
            "isDefault": priority.name == "Medium",
        }

    def resolution(self, resolution: Resolution) -> dict[str, Any]:
        return {
            "self": f"{self.base}/resolution/{resolution.id}",
            "id": resolution.id,
            "description": resolution.description,
            "name": resolution.name,
        }

    def project_category(self, project: Project) -> dict[str, Any] | None:
        if project.category_name is None:
            return None
        category_id = self._categories.get(project.category_name, "10000")
        return {
            "self": f"{self.base}/projectCategory/{category_id}",
            "id": category_id,
            "name": project.category_name,
            "description": f"{project.category_name} projects.",
        }

    def project_ref(self, project: Project) -> dict[str, Any]:
        """`ProjectDetails`, as embedded in issues."""
        cached = self._projects.get(project.id)
        if cached is None:
            cached = {
                "self": f"{self.base}/project/{project.id}",
                "id": project.id,
                "key": project.key,
                "name": project.name,
                "projectTypeKey": project.project_type_key,
                "simplified": project.simplified,
                "avatarUrls": self.avatars("project", project.id),
            }
            category = self.project_category(project)
            if category is not None:
                cached["projectCategory"] = category
            self._projects[project.id] = cached
        return cached

    def project(self, project: Project, expand: set[str]) -> dict[str, Any]:
        """`Project`, as project/search and project/{key} return it."""
        body: dict[str, Any] = {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "self": f"{self.base}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "avatarUrls": self.avatars("project", project.id),
            "projectTypeKey": project.project_type_key,
            "simplified": project.simplified,
            "style": project.style,
            "isPrivate": False,
            "properties": {},
            "uuid": _entity_id(self.site.cloud_id, f"project-{project.id}"),
        }
        category = self.project_category(project)
        if category is not None:
            body["projectCategory"] = category
        if project.archived:
            body["archived"] = True
        if "description" in expand:
            body["description"] = project.description
        if "lead" in expand and project.lead_account_id:
            lead = self.world.users.get(project.lead_account_id)
            if lead is not None:
                body["lead"] = self.user(lead)
        if "issuetypes" in expand:
            body["issueTypes"] = [self.issue_type(self.site.issue_types[t]) for t in project.issue_type_ids]
        if "url" in expand:
            body["url"] = f"{self.site_url}/browse/{project.key}"
        if "insight" in expand:
            issues = [i for i in self.site.issues.values() if i.project_id == project.id]
            insight: dict[str, Any] = {"totalIssueCount": len(issues)}
            if issues:
                insight["lastIssueUpdateTime"] = self.ts(max(i.updated_ms for i in issues))
            body["insight"] = insight
        return body

    def component(self, project: Project, component: Component) -> dict[str, Any]:
        return {
            "self": f"{self.base}/component/{component.id}",
            "id": component.id,
            "name": component.name,
            "description": component.description,
            "assigneeType": "PROJECT_DEFAULT",
            "realAssigneeType": "PROJECT_DEFAULT",
            "isAssigneeTypeValid": False,
            "project": project.key,
            "projectId": int(project.id),
        }

    def project_version(self, project: Project, version: Version) -> dict[str, Any]:
        body: dict[str, Any] = {
            "self": f"{self.base}/version/{version.id}",
            "id": version.id,
            "name": version.name,
            "archived": version.archived,
            "released": version.released,
            "projectId": int(project.id),
        }
        if version.release_date:
            body["releaseDate"] = version.release_date
        return body

    def workflow(self, workflow: Workflow, expand: set[str]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": {"name": workflow.name, "entityId": workflow.id},
            "description": workflow.description,
            "isDefault": False,
        }
        if "statuses" in expand:
            body["statuses"] = [
                {"id": sid, "name": self.site.statuses[sid].name, "properties": {}}
                for sid in workflow.status_ids
            ]
        if "transitions" in expand:
            body["transitions"] = [
                {
                    "id": t.id,
                    "name": t.name,
                    "description": "",
                    "from": list(t.from_status_ids),
                    "to": t.to_status_id,
                    "type": "global" if not t.from_status_ids else "directed",
                }
                for t in workflow.transitions
            ]
        return body

    # -- issues --------------------------------------------------------------------------------

    def change_item(self, item: ChangeItem) -> dict[str, Any]:
        body: dict[str, Any] = {"field": item.field, "fieldtype": item.field_type}
        if item.field_id is not None:
            body["fieldId"] = item.field_id
        if item.from_id is not None:
            body["from"] = item.from_id
        if item.from_string is not None:
            body["fromString"] = item.from_string
        if item.to_id is not None:
            body["to"] = item.to_id
        if item.to_string is not None:
            body["toString"] = item.to_string
        return body

    def history(self, history: History, field_ids: set[str] | None = None) -> dict[str, Any]:
        items = history.items
        if field_ids is not None:
            items = [i for i in items if (i.field_id or i.field) in field_ids]
        body: dict[str, Any] = {"id": history.id}
        author = self.user_ref(history.author_account_id)
        if author is not None:
            body["author"] = author
        body["created"] = self.ts(history.created_ms)
        body["items"] = [self.change_item(i) for i in items]
        return body

    def embedded_changelog(self, issue: Issue, cap: int) -> dict[str, Any]:
        """The changelog embedded by `expand=changelog`: the most recent `cap` histories, newest first."""
        histories = issue.histories[::-1][:cap]
        return {
            "startAt": 0,
            "maxResults": len(histories),
            "total": len(issue.histories),
            "histories": [self.history(h) for h in histories],
        }

    def issue_link(self, issue: Issue) -> dict[str, Any]:
        """A short issue, as `parent` and `subtasks` embed it."""
        site = self.site
        fields: dict[str, Any] = {
            "summary": issue.summary,
            "status": self.status(site.statuses[issue.status_id]),
            "issuetype": self.issue_type(site.issue_types[issue.issue_type_id]),
        }
        if issue.priority_id:
            fields["priority"] = self.priority(site.priorities[issue.priority_id])
        return {"id": issue.id, "key": issue.key, "self": f"{self.base}/issue/{issue.id}", "fields": fields}

    def comment(self, issue: Issue, comment: Comment) -> dict[str, Any]:
        author = self.user_ref(comment.author_account_id)
        return {
            "self": f"{self.base}/issue/{issue.id}/comment/{comment.id}",
            "id": comment.id,
            "author": author,
            "body": self.rich(comment.body),
            "updateAuthor": author,
            "created": self.ts(comment.created_ms),
            "updated": self.ts(comment.updated_ms),
            "jsdPublic": True,
        }

    def worklog(self, issue: Issue, worklog: Worklog) -> dict[str, Any]:
        author = self.user_ref(worklog.author_account_id)
        return {
            "self": f"{self.base}/issue/{issue.id}/worklog/{worklog.id}",
            "author": author,
            "updateAuthor": author,
            "comment": self.rich(worklog.comment),
            "created": self.ts(worklog.created_ms),
            "updated": self.ts(worklog.updated_ms),
            "started": self.ts(worklog.started_ms),
            "timeSpent": duration_text(worklog.time_spent_seconds),
            "timeSpentSeconds": worklog.time_spent_seconds,
            "id": worklog.id,
            "issueId": issue.id,
        }

    def comments_page(self, issue: Issue) -> dict[str, Any]:
        return {
            "comments": [self.comment(issue, c) for c in issue.comments],
            "self": f"{self.base}/issue/{issue.id}/comment",
            "maxResults": len(issue.comments),
            "total": len(issue.comments),
            "startAt": 0,
        }

    def worklogs_page(self, issue: Issue, cap: int = 20) -> dict[str, Any]:
        shown = issue.worklogs[:cap]
        return {
            "startAt": 0,
            "maxResults": cap,
            "total": len(issue.worklogs),
            "worklogs": [self.worklog(issue, w) for w in shown],
        }

    def field_value(self, field_id: str, issue: Issue, children: Callable[[str], list[Issue]]) -> Any:
        site = self.site
        if field_id == "summary":
            return issue.summary
        if field_id == "status":
            return self.status(site.statuses[issue.status_id])
        if field_id == "issuetype":
            return self.issue_type(site.issue_types[issue.issue_type_id])
        if field_id == "project":
            return self.project_ref(site.projects[issue.project_id])
        if field_id == "assignee":
            return self.user_ref(issue.assignee_id)
        if field_id == "reporter":
            return self.user_ref(issue.reporter_id)
        if field_id == "creator":
            return self.user_ref(issue.creator_id)
        if field_id == "created":
            return self.ts(issue.created_ms)
        if field_id == "updated":
            return self.ts(issue.updated_ms)
        if field_id == "resolutiondate":
            return self.ts(issue.resolved_ms)
        if field_id == "statuscategorychangedate":
            return self.ts(issue.status_category_changed_ms)
        if field_id == "resolution":
            return self.resolution(site.resolutions[issue.resolution_id]) if issue.resolution_id else None
        if field_id == "priority":
            return self.priority(site.priorities[issue.priority_id]) if issue.priority_id else None
        if field_id == "labels":
            return list(issue.labels)
        if field_id == "parent":
            parent = site.issues.get(issue.parent_id) if issue.parent_id else None
            return self.issue_link(parent) if parent is not None else None
        if field_id == "duedate":
            return issue.due_date
        if field_id == "components":
            project = site.projects[issue.project_id]
            return [
                {
                    "self": f"{self.base}/component/{c.id}",
                    "id": c.id,
                    "name": c.name,
                    "description": c.description,
                }
                for c in project.components
                if c.id in issue.component_ids
            ]
        if field_id == "fixVersions":
            project = site.projects[issue.project_id]
            return [
                self.project_version(project, v) for v in project.versions if v.id in issue.fix_version_ids
            ]
        if field_id in ("versions", "issuelinks"):
            return []
        if field_id == "description":
            return self.rich(issue.description)
        if field_id == "environment":
            return None
        if field_id == "subtasks":
            return [self.issue_link(child) for child in children(issue.id)]
        if field_id == "comment":
            return self.comments_page(issue)
        if field_id == "worklog":
            return self.worklogs_page(issue)
        value = issue.custom_fields.get(field_id)
        if field_id == SEVERITY_FIELD and isinstance(value, dict):
            return {"self": f"{self.base}/customFieldOption/{value['id']}", **value}
        return value

    def issue(
        self,
        issue: Issue,
        fields: list[str],
        *,
        expand: set[str] = frozenset(),  # type: ignore[assignment]
        changelog_cap: int = 40,
        children: Callable[[str], list[Issue]] = lambda issue_id: [],
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"id": issue.id, "self": f"{self.base}/issue/{issue.id}", "key": issue.key}
        if not fields and not expand:
            return body  # an id-only search answers id, key and self, nothing else
        body["expand"] = ISSUE_EXPAND
        if fields:
            values: dict[str, Any] = {}
            for field_id in fields:
                value = self.field_value(field_id, issue, children)
                if value is None and field_id == "parent":
                    continue  # Jira leaves `parent` out when there is none
                values[field_id] = value
            body["fields"] = values
        if "renderedFields" in expand:
            body["renderedFields"] = {f: self.rendered(f, issue) for f in fields}
        if "names" in expand:
            body["names"] = {f: FIELDS[f].name for f in fields}
        if "schema" in expand:
            body["schema"] = {f: FIELDS[f].schema for f in fields}
        if "transitions" in expand:
            body["transitions"] = self.transitions(issue)
        if "changelog" in expand:
            body["changelog"] = self.embedded_changelog(issue, changelog_cap)
        return body

    def rendered(self, field_id: str, issue: Issue) -> str | None:
        """`renderedFields`: rich text as HTML; fields without an HTML rendering are null."""
        if field_id == "description" and issue.description is not None:
            return "".join(f"<p>{html.escape(line)}</p>" for line in issue.description.split("\n"))
        return None

    def transitions(self, issue: Issue) -> list[dict[str, Any]]:
        project = self.site.projects[issue.project_id]
        workflow = self.site.workflows.get(project.workflow_id or "")
        if workflow is None:
            return []
        return [
            {
                "id": t.id,
                "name": t.name,
                "to": self.status(self.site.statuses[t.to_status_id]),
                "hasScreen": False,
                "isGlobal": not t.from_status_ids,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "looped": False,
            }
            for t in workflow.transitions_from(issue.status_id)
            if t.to_status_id != issue.status_id
        ]

    def field(self, definition: FieldDef) -> dict[str, Any]:
        body: dict[str, Any] = {
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
        return body


def project_categories(site: Site) -> dict[str, str]:
    """Category name -> id: the site's categories, numbered in name order from 10000."""
    names = sorted({p.category_name for p in site.projects.values() if p.category_name})
    return {name: str(10000 + index) for index, name in enumerate(names)}


def _entity_id(cloud_id: str, seed: str) -> str:
    return str(uuid.uuid5(uuid.UUID(cloud_id), seed))
