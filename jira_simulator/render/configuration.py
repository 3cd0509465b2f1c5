"""Site configuration objects: statuses and their categories, issue types, priorities, resolutions,
project categories. Cached per request (a page of 100 issues embeds the same few many times)."""

from __future__ import annotations

from typing import Any

from jira_simulator.model import STATUS_CATEGORIES, IssueType, Priority, Project, Resolution, Site, Status
from jira_simulator.render.context import RenderContext, entity_id

PRIORITY_COLORS = {"1": "#d04437", "2": "#f15C75", "3": "#f79232", "4": "#707070", "5": "#999999"}


def project_categories(site: Site) -> dict[str, str]:
    """Category name -> id: the site's categories, numbered in name order from 10000."""
    names = sorted({p.category_name for p in site.projects.values() if p.category_name})
    return {name: str(10000 + index) for index, name in enumerate(names)}


class ConfigurationRenderer:
    def __init__(self, context: RenderContext) -> None:
        self.context = context
        self._statuses: dict[str, dict[str, Any]] = {}
        self._types: dict[str, dict[str, Any]] = {}
        self._priorities: dict[str, dict[str, Any]] = {}
        self._categories = project_categories(context.site)

    def status_category(self, category_id: int) -> dict[str, Any]:
        category = STATUS_CATEGORIES[category_id]
        return {
            "self": f"{self.context.base}/statuscategory/{category.id}",
            "id": category.id,
            "key": category.key,
            "colorName": category.color_name,
            "name": category.name,
        }

    def status(self, status: Status) -> dict[str, Any]:
        cached = self._statuses.get(status.id)
        if cached is None:
            context = self.context
            cached = {
                "self": f"{context.base}/status/{status.id}",
                "description": status.description,
                "iconUrl": f"{context.site_url}/images/icons/statuses/generic.png",
                "name": status.name,
                "untranslatedName": status.name,
                "id": status.id,
                "statusCategory": self.status_category(status.category_id),
            }
            if status.scope_project_id:
                cached["scope"] = scope(status.scope_project_id)
            self._statuses[status.id] = cached
        return cached

    def issue_type(self, issue_type: IssueType) -> dict[str, Any]:
        cached = self._types.get(issue_type.id)
        if cached is None:
            context = self.context
            avatar_id = 10300 + int(issue_type.id) % 50
            cached = {
                "self": f"{context.base}/issuetype/{issue_type.id}",
                "id": issue_type.id,
                "description": issue_type.description,
                "iconUrl": f"{context.site_url}/secure/viewavatar?size=medium&avatarId={avatar_id}",
                "name": issue_type.name,
                "subtask": issue_type.subtask,
                "avatarId": avatar_id,
                "hierarchyLevel": issue_type.hierarchy_level,
            }
            if issue_type.scope_project_id:
                cached["entityId"] = entity_id(context.site.cloud_id, issue_type.id)
                cached["scope"] = scope(issue_type.scope_project_id)
            self._types[issue_type.id] = cached
        return cached

    def priority(self, priority: Priority) -> dict[str, Any]:
        cached = self._priorities.get(priority.id)
        if cached is None:
            context = self.context
            cached = self._priorities[priority.id] = {
                "self": f"{context.base}/priority/{priority.id}",
                "iconUrl": f"{context.site_url}/images/icons/priorities/{priority.name.lower()}.svg",
                "name": priority.name,
                "id": priority.id,
            }
        return cached

    def priority_full(self, priority: Priority) -> dict[str, Any]:
        return {
            **self.priority(priority),
            "description": f"{priority.name} priority.",
            "statusColor": PRIORITY_COLORS.get(priority.id, "#707070"),
            "isDefault": priority.name == "Medium",
        }

    def resolution(self, resolution: Resolution) -> dict[str, Any]:
        return {
            "self": f"{self.context.base}/resolution/{resolution.id}",
            "id": resolution.id,
            "description": resolution.description,
            "name": resolution.name,
        }

    def project_category(self, project: Project) -> dict[str, Any] | None:
        if project.category_name is None:
            return None
        category_id = self._categories.get(project.category_name, "10000")
        return {
            "self": f"{self.context.base}/projectCategory/{category_id}",
            "id": category_id,
            "name": project.category_name,
            "description": f"{project.category_name} projects.",
        }


def scope(project_id: str) -> dict[str, Any]:
    """A project-scoped (team-managed) object's `scope`."""
    return {"type": "PROJECT", "project": {"id": project_id}}
