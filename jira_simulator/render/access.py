"""Who may use what: groups as Jira names them (`GroupName`), application roles, the license."""

from __future__ import annotations

from typing import Any

from jira_simulator.applications import Application, granting_groups, holders, site_applications
from jira_simulator.model import Group
from jira_simulator.render.context import RenderContext


class AccessRenderer:
    def __init__(self, context: RenderContext) -> None:
        self.context = context

    def group_ref(self, group: Group) -> dict[str, Any]:
        """`GroupName`: `{name, groupId, self}`, as users' `groups`, share permissions and roles embed it."""
        return {
            "name": group.name,
            "groupId": group.group_id,
            "self": f"{self.context.base}/group?groupId={group.group_id}",
        }

    def application_role(self, application: Application) -> dict[str, Any]:
        """`ApplicationRole`, as a real site answers it (Airbyte's `application_roles` capture)."""
        site = self.context.site
        groups = granting_groups(site, application)
        default = [g for g in groups if g.name == application.default_group]
        used = len(holders(self.context.world, site, application))
        return {
            "key": application.key,
            "groups": [g.name for g in groups],
            "groupDetails": [self.group_ref(g) for g in groups],
            "name": application.name,
            "defaultGroups": [g.name for g in default],
            "defaultGroupsDetails": [self.group_ref(g) for g in default],
            "selectedByDefault": False,
            "defined": True,
            "numberOfSeats": application.seats,
            "remainingSeats": max(application.seats - used, 0),
            "userCount": used,
            "userCountDescription": application.counted,
            "hasUnlimitedSeats": False,
            "platform": False,
        }

    def license(self) -> dict[str, Any]:
        return {"applications": [{"id": a.key, "plan": "PAID"} for a in site_applications(self.context.site)]}
