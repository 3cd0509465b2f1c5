"""Projects and what belongs to them: components, versions, the workflow their issues walk."""

from __future__ import annotations

from typing import Any

from jira_simulator.model import Component, Project, Version, Workflow
from jira_simulator.render.configuration import ConfigurationRenderer
from jira_simulator.render.context import RenderContext, entity_id
from jira_simulator.render.users import UserRenderer
from jira_simulator.retired import retention_till_ms


class ProjectRenderer:
    def __init__(self, context: RenderContext, users: UserRenderer, config: ConfigurationRenderer) -> None:
        self.context = context
        self.users = users
        self.config = config
        self._refs: dict[str, dict[str, Any]] = {}

    def project_ref(self, project: Project) -> dict[str, Any]:
        """`ProjectDetails`, as embedded in issues."""
        cached = self._refs.get(project.id)
        if cached is None:
            context = self.context
            cached = {
                "self": f"{context.base}/project/{project.id}",
                "id": project.id,
                "key": project.key,
                "name": project.name,
                "projectTypeKey": project.project_type_key,
                "simplified": project.simplified,
                "avatarUrls": context.avatars("project", project.id),
            }
            category = self.config.project_category(project)
            if category is not None:
                cached["projectCategory"] = category
            self._refs[project.id] = cached
        return cached

    def project(self, project: Project, expand: set[str]) -> dict[str, Any]:
        """`Project`, as project/search and project/{key} return it."""
        context = self.context
        site = context.site
        body: dict[str, Any] = {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "self": f"{context.base}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "avatarUrls": context.avatars("project", project.id),
            "projectTypeKey": project.project_type_key,
            "simplified": project.simplified,
            "style": project.style,
            "isPrivate": False,
            "properties": {},
            "uuid": entity_id(site.cloud_id, f"project-{project.id}"),
        }
        category = self.config.project_category(project)
        if category is not None:
            body["projectCategory"] = category
        if project.archived:
            body["archived"] = True
            self._retired_by(body, "archived", project.archived_by, project.archived_ms)
        if project.deleted:
            body["deleted"] = True
            self._retired_by(body, "deleted", project.deleted_by, project.deleted_ms)
            body["retentionTillDate"] = context.ts(retention_till_ms(project))
        if "description" in expand:
            body["description"] = project.description
        if "lead" in expand and project.lead_account_id:
            lead = context.world.users.get(project.lead_account_id)
            if lead is not None:
                body["lead"] = self.users.user(lead)
        if "issuetypes" in expand:
            body["issueTypes"] = [self.config.issue_type(site.issue_types[t]) for t in project.issue_type_ids]
        if "url" in expand:
            body["url"] = f"{context.site_url}/browse/{project.key}"
        if "insight" in expand:
            issues = [i for i in site.issues.values() if i.project_id == project.id]
            insight: dict[str, Any] = {"totalIssueCount": len(issues)}
            if issues:
                insight["lastIssueUpdateTime"] = context.ts(max(i.updated_ms for i in issues))
            body["insight"] = insight
        return body

    def _retired_by(
        self, body: dict[str, Any], state: str, account_id: str | None, at_ms: int | None
    ) -> None:
        """`archivedBy`/`archivedDate` or `deletedBy`/`deletedDate` of a retired project."""
        user = self.context.world.users.get(account_id or "")
        if user is not None:
            body[f"{state}By"] = self.users.user(user)
        if at_ms is not None:
            body[f"{state}Date"] = self.context.ts(at_ms)

    def component(self, project: Project, component: Component) -> dict[str, Any]:
        """`ProjectComponent`: a component with a lead assigns its issues to the lead
        (`COMPONENT_LEAD`, as Airbyte's capture shows `lead`, `assignee`, `realAssignee`)."""
        body: dict[str, Any] = {
            "self": f"{self.context.base}/component/{component.id}",
            "id": component.id,
            "name": component.name,
            "description": component.description,
        }
        lead = self.context.world.users.get(component.lead_account_id or "")
        if lead is not None:
            rendered = self.users.user(lead)
            body.update(
                lead=rendered,
                assigneeType="COMPONENT_LEAD",
                assignee=rendered,
                realAssigneeType="COMPONENT_LEAD",
                realAssignee=rendered,
                isAssigneeTypeValid=True,
            )
        else:
            body.update(
                assigneeType="PROJECT_DEFAULT", realAssigneeType="PROJECT_DEFAULT", isAssigneeTypeValid=False
            )
        body.update(project=project.key, projectId=int(project.id))
        return body

    def component_ref(self, component: Component) -> dict[str, Any]:
        """A component as an issue's `components` field embeds it."""
        return {
            "self": f"{self.context.base}/component/{component.id}",
            "id": component.id,
            "name": component.name,
            "description": component.description,
        }

    def version(self, project: Project, version: Version) -> dict[str, Any]:
        body: dict[str, Any] = {
            "self": f"{self.context.base}/version/{version.id}",
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
            statuses = self.context.site.statuses
            body["statuses"] = [
                {"id": sid, "name": statuses[sid].name, "properties": {}} for sid in workflow.status_ids
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
