"""Filters, dashboards and their share permissions, as Jira renders them for one viewer.

Shapes as Airbyte's capture of a real site shows them (streams `filters`, `filter_sharing`,
`dashboards`): a project share embeds the project (`self`, `id`, `key`, `assigneeType`, `name`,
`roles: {}`, `avatarUrls`, category, type, `simplified`, `style`, `properties`), a group share the
`GroupName`; dashboards carry `popularity`, `view` (`/jira/dashboards/<id>`), `isWritable`,
`systemDashboard`, and a dashboard owner is a `UserBean`. A project share the viewer cannot browse
is `project-unknown`, as the spec's enum has it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

from jira_simulator.model import Dashboard, Filter, SharePermission
from jira_simulator.render.access import AccessRenderer
from jira_simulator.render.configuration import ConfigurationRenderer
from jira_simulator.render.context import RenderContext
from jira_simulator.render.users import UserRenderer
from jira_simulator.roles import role_by_id

FILTER_EXPAND = (
    "description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,sharePermissions,editPermissions,"
    "isWritable,approximateLastUsed,subscriptions"
)


class SharingRenderer:
    def __init__(
        self,
        context: RenderContext,
        users: UserRenderer,
        access: AccessRenderer,
        config: ConfigurationRenderer,
    ) -> None:
        self.context = context
        self.users = users
        self.access = access
        self.config = config

    def owner(self, account_id: str) -> dict[str, Any] | None:
        ref = self.users.user_ref(account_id)
        if ref is None:
            return None
        return {k: ref[k] for k in ("self", "accountId", "avatarUrls", "displayName", "active") if k in ref}

    def share(self, share: SharePermission) -> dict[str, Any]:
        context = self.context
        body: dict[str, Any] = {"id": share.id, "type": share.type}
        if share.type == "group":
            group = context.site.groups.get(share.group_id or "")
            if group is not None:
                body["group"] = self.access.group_ref(group)
        elif share.type in ("project", "projectRole"):
            project = context.site.projects.get(share.project_id or "")
            if project is None or context.viewer_id in project.hidden_from:
                return {"id": share.id, "type": "project-unknown"}
            short: dict[str, Any] = {
                "self": f"{context.base}/project/{project.id}",
                "id": project.id,
                "key": project.key,
                "assigneeType": "UNASSIGNED",
                "name": project.name,
                "roles": {},
                "avatarUrls": context.avatars("project", project.id),
                "projectTypeKey": project.project_type_key,
                "simplified": project.simplified,
                "style": project.style,
                "properties": {},
            }
            category = self.config.project_category(project)
            if category is not None:
                short["projectCategory"] = category
            body["project"] = short
            role = role_by_id(share.role_id) if share.role_id is not None else None
            if role is not None:
                body["role"] = {
                    "self": f"{context.base}/project/{project.id}/role/{role.id}",
                    "name": role.name,
                    "id": role.id,
                    "description": role.description,
                }
        return body

    def filter(self, found: Filter, expand: set[str] | None = None) -> dict[str, Any]:
        """`Filter` (expand None: every detail, as `filter/{id}`) or `FilterDetails` with `expand`."""
        context = self.context
        body: dict[str, Any] = {}
        if expand is not None:
            body["expand"] = FILTER_EXPAND
        body.update(self=f"{context.base}/filter/{found.id}", id=found.id, name=found.name)
        every = expand is None

        def wanted(key: str) -> bool:
            return every or key.casefold() in expand  # type: ignore[operator]

        if wanted("description") and found.description:
            body["description"] = found.description
        if wanted("owner"):
            owner = self.owner(found.owner_account_id)
            if owner is not None:
                body["owner"] = owner
        if wanted("jql"):
            body["jql"] = found.jql
        if wanted("viewUrl"):
            body["viewUrl"] = f"{context.site_url}/issues/?filter={found.id}"
        if wanted("searchUrl"):
            body["searchUrl"] = f"{context.base}/search?jql={quote_plus(found.jql)}"
        if wanted("favourite"):
            body["favourite"] = context.viewer_id in found.favourited_by
        if wanted("favouritedCount"):
            body["favouritedCount"] = len(found.favourited_by)
        if wanted("sharePermissions"):
            body["sharePermissions"] = [self.share(s) for s in found.share_permissions]
        if wanted("editPermissions"):
            body["editPermissions"] = [self.share(s) for s in found.edit_permissions]
        if not every and wanted("isWritable"):
            body["isWritable"] = context.viewer_id == found.owner_account_id
        if every:
            body["sharedUsers"] = {
                "size": 0,
                "items": [],
                "max-results": 1000,
                "start-index": 0,
                "end-index": 0,
            }
            body["subscriptions"] = {
                "size": 0,
                "items": [],
                "max-results": 1000,
                "start-index": 0,
                "end-index": 0,
            }
        elif wanted("subscriptions"):
            body["subscriptions"] = []
        return body

    def dashboard(self, found: Dashboard, *, is_admin: bool) -> dict[str, Any]:
        context = self.context
        body: dict[str, Any] = {"id": found.id, "isFavourite": context.viewer_id in found.favourited_by}
        if found.description:
            body["description"] = found.description
        body["name"] = found.name
        if found.owner_account_id is not None:
            owner = self.owner(found.owner_account_id)
            if owner is not None:
                body["owner"] = owner
        body.update(
            popularity=len(found.favourited_by),
            self=f"{context.base}/dashboard/{found.id}",
            sharePermissions=[self.share(s) for s in found.share_permissions],
            editPermissions=[self.share(s) for s in found.edit_permissions],
            view=f"/jira/dashboards/{found.id}",
            isWritable=context.viewer_id == found.owner_account_id or (found.system and is_admin),
            systemDashboard=found.system,
        )
        return body
