"""Issues: their fields, `parent`/`subtasks` links, the expands (`names`, `schema`, `transitions`,
`renderedFields`, `changelog`)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from jira_simulator.model import Issue
from jira_simulator.render.changelog import ChangelogRenderer
from jira_simulator.render.configuration import ConfigurationRenderer
from jira_simulator.render.context import RenderContext
from jira_simulator.render.fields import FIELDS, SEVERITY_FIELD
from jira_simulator.render.projects import ProjectRenderer
from jira_simulator.render.users import UserRenderer
from jira_simulator.render.work import WorkRenderer, duration_text
from jira_simulator.watchers import voter_ids, watcher_ids

ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
TIME_TRACKING_FIELDS = {
    "timespent",
    "aggregatetimespent",
    "timeoriginalestimate",
    "aggregatetimeoriginalestimate",
    "timeestimate",
    "aggregatetimeestimate",
    "workratio",
    "progress",
    "aggregateprogress",
    "timetracking",
}


class IssueRenderer:
    def __init__(
        self,
        context: RenderContext,
        users: UserRenderer,
        config: ConfigurationRenderer,
        projects: ProjectRenderer,
        changelog: ChangelogRenderer,
        work: WorkRenderer,
    ) -> None:
        self.context = context
        self.users = users
        self.config = config
        self.projects = projects
        self.changelog = changelog
        self.work = work

    def issue(
        self,
        issue: Issue,
        fields: list[str],
        *,
        expand: set[str] = frozenset(),  # type: ignore[assignment]
        changelog_cap: int = 40,
        children: Callable[[str], list[Issue]] = lambda issue_id: [],
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": issue.id,
            "self": f"{self.context.base}/issue/{issue.id}",
            "key": issue.key,
        }
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
            body["schema"] = {f: FIELDS[f].schema for f in fields if FIELDS[f].schema is not None}
        if "transitions" in expand:
            body["transitions"] = self.transitions(issue)
        if "changelog" in expand:
            body["changelog"] = self.changelog.embedded(issue, changelog_cap)
        return body

    def field_value(self, field_id: str, issue: Issue, children: Callable[[str], list[Issue]]) -> Any:
        context, config = self.context, self.config
        site = context.site
        if field_id == "summary":
            return issue.summary
        if field_id == "status":
            return config.status(site.statuses[issue.status_id])
        if field_id == "issuetype":
            return config.issue_type(site.issue_types[issue.issue_type_id])
        if field_id == "project":
            return self.projects.project_ref(site.projects[issue.project_id])
        if field_id == "assignee":
            return self.users.user_ref(issue.assignee_id)
        if field_id == "reporter":
            return self.users.user_ref(issue.reporter_id)
        if field_id == "creator":
            return self.users.user_ref(issue.creator_id)
        if field_id == "created":
            return context.ts(issue.created_ms)
        if field_id == "updated":
            return context.ts(issue.updated_ms)
        if field_id == "resolutiondate":
            return context.ts(issue.resolved_ms)
        if field_id == "statuscategorychangedate":
            return context.ts(issue.status_category_changed_ms)
        if field_id == "resolution":
            return config.resolution(site.resolutions[issue.resolution_id]) if issue.resolution_id else None
        if field_id == "priority":
            return config.priority(site.priorities[issue.priority_id]) if issue.priority_id else None
        if field_id == "labels":
            return list(issue.labels)
        if field_id == "parent":
            parent = site.issues.get(issue.parent_id) if issue.parent_id else None
            return self.issue_link(parent) if parent is not None else None
        if field_id == "duedate":
            return issue.due_date
        if field_id == "components":
            project = site.projects[issue.project_id]
            return [self.projects.component_ref(c) for c in project.components if c.id in issue.component_ids]
        if field_id == "fixVersions":
            project = site.projects[issue.project_id]
            return [
                self.projects.version(project, v) for v in project.versions if v.id in issue.fix_version_ids
            ]
        if field_id in ("versions", "issuelinks"):
            return []
        if field_id == "description":
            return context.rich(issue.description)
        if field_id == "environment":
            return None
        if field_id == "subtasks":
            return [self.issue_link(child) for child in children(issue.id)]
        if field_id == "comment":
            return self.work.comments_page(issue)
        if field_id == "worklog":
            return self.work.worklogs_page(issue)
        if field_id in TIME_TRACKING_FIELDS:
            return self.time_tracking(field_id, issue, children)
        if field_id == "watches":
            watchers = watcher_ids(context.world, site, issue)
            return {
                "self": f"{context.base}/issue/{issue.key}/watchers",
                "watchCount": len(watchers),
                "isWatching": context.viewer_id in watchers,
            }
        if field_id == "votes":
            voters = voter_ids(context.world, site, issue)
            return {
                "self": f"{context.base}/issue/{issue.key}/votes",
                "votes": len(voters),
                "hasVoted": context.viewer_id in voters,
            }
        if field_id == "attachment":
            return []
        if field_id == "issuerestriction":
            return {"issuerestrictions": {}, "shouldDisplay": False}
        value = issue.custom_fields.get(field_id)
        if field_id == SEVERITY_FIELD and isinstance(value, dict):
            return {"self": f"{context.base}/customFieldOption/{value['id']}", **value}
        return value

    def time_tracking(self, field_id: str, issue: Issue, children: Callable[[str], list[Issue]]) -> Any:
        """Time spent is the issue's logged work (Σ adds its sub-tasks'); the world sets no estimates,
        so estimates are null and the work ratio -1, as a real issue without an estimate shows."""
        if field_id == "workratio":
            return -1
        if field_id in (
            "timeoriginalestimate",
            "timeestimate",
            "aggregatetimeoriginalestimate",
            "aggregatetimeestimate",
        ):
            return None
        aggregate = field_id.startswith("aggregate")
        spent = sum(w.time_spent_seconds for w in issue.worklogs)
        if aggregate:
            spent += sum(w.time_spent_seconds for child in children(issue.id) for w in child.worklogs)
        if field_id in ("timespent", "aggregatetimespent"):
            return spent or None
        if field_id in ("progress", "aggregateprogress"):
            return (
                {"progress": spent, "total": spent, "percent": 100} if spent else {"progress": 0, "total": 0}
            )
        if not spent:  # timetracking
            return {}
        return {"timeSpent": duration_text(spent), "timeSpentSeconds": spent}

    def issue_link(self, issue: Issue) -> dict[str, Any]:
        """A short issue, as `parent` and `subtasks` embed it."""
        config = self.config
        site = self.context.site
        fields: dict[str, Any] = {
            "summary": issue.summary,
            "status": config.status(site.statuses[issue.status_id]),
            "issuetype": config.issue_type(site.issue_types[issue.issue_type_id]),
        }
        if issue.priority_id:
            fields["priority"] = config.priority(site.priorities[issue.priority_id])
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.context.base}/issue/{issue.id}",
            "fields": fields,
        }

    def rendered(self, field_id: str, issue: Issue) -> str | None:
        """`renderedFields`: rich text as HTML; fields without an HTML rendering are null."""
        if field_id == "description" and issue.description is not None:
            return "".join(f"<p>{html.escape(line)}</p>" for line in issue.description.split("\n"))
        return None

    def transitions(self, issue: Issue) -> list[dict[str, Any]]:
        site = self.context.site
        project = site.projects[issue.project_id]
        workflow = site.workflows.get(project.workflow_id or "")
        if workflow is None:
            return []
        return [
            {
                "id": t.id,
                "name": t.name,
                "to": self.config.status(site.statuses[t.to_status_id]),
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
