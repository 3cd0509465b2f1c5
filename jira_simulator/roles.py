"""Project roles and who plays them in each project, read from the site's groups and projects.

Jira Cloud's four default roles (ids as a fresh site has them) with their actors: a group actor
stands for its members, a user actor for one account (`ProjectRole.actors`, Atlassian's example of
`project/{key}/role/{id}`: `atlassian-group-role-actor` with `actorGroup`, `atlassian-user-role-actor`
with `actorUser.accountId`). Derived, not stored, so the actors always follow the groups, leads and
accounts as admin mutations change them:

- Administrators: the project lead and the Jira admin groups;
- atlassian-addons-project-access: the group of app accounts;
- Member: the product groups (`jira-software-users`, service agents on service projects), or on a
  site without them every other group;
- Viewer: contractors who use the site but belong to no group (they browse, they do not work).
"""

from __future__ import annotations

from dataclasses import dataclass

from jira_simulator.applications import ADMIN_GROUPS
from jira_simulator.model import Group, Project, Site, World


@dataclass(frozen=True)
class Role:
    id: int
    name: str
    description: str


ADMINISTRATORS = Role(10002, "Administrators", "A project role that represents administrators in a project")
ADDONS = Role(10003, "atlassian-addons-project-access", "A project role that represents Connect add-ons")
MEMBER = Role(10100, "Member", "Members of the project")
VIEWER = Role(10101, "Viewer", "People who can see the project")
ROLES = (ADMINISTRATORS, ADDONS, MEMBER, VIEWER)
ADDON_GROUP = "atlassian-addons-admin"
PRODUCT_GROUPS = ("jira-software-users", "jira-servicemanagement-users", "support-agents")


@dataclass(frozen=True)
class Actor:
    """One role actor: a group (`group` set) or a user (`account_id` set)."""

    id: int
    group: Group | None = None
    account_id: str | None = None


def role_by_id(role_id: str | int) -> Role | None:
    return next((r for r in ROLES if str(r.id) == str(role_id)), None)


def role_actors(world: World, site: Site, project: Project | None, role: Role) -> list[Actor]:
    """The role's actors in a project, or its default actors (`project` None: groups only)."""
    groups = list(site.groups.values())
    by_name = {g.name: g for g in groups}
    base = 10000 + (int(project.id) % 1000 if project else 0) * 100 + ROLES.index(role) * 20
    chosen_groups: list[Group] = []
    accounts: list[str] = []
    if role is ADMINISTRATORS:
        chosen_groups = [by_name[n] for n in ADMIN_GROUPS if n in by_name]
        accounts = [project.lead_account_id] if project and project.lead_account_id else []
    elif role is ADDONS:
        chosen_groups = [by_name[ADDON_GROUP]] if ADDON_GROUP in by_name else []
    elif role is MEMBER:
        wanted = [n for n in PRODUCT_GROUPS if n in by_name]
        if project is None or project.project_type_key != "service_desk":
            wanted = [n for n in wanted if n == "jira-software-users"] or wanted
        chosen_groups = [by_name[n] for n in wanted] or [
            g for g in groups if g.name not in ADMIN_GROUPS and g.name != ADDON_GROUP
        ]
    elif role is VIEWER and project is not None:
        grouped = {a for g in groups for a in g.member_ids}
        accounts = [
            a
            for a in site.user_ids
            if a not in grouped
            and (user := world.users.get(a)) is not None
            and user.account_type == "atlassian"
            and a != world.admin_account_id
        ]
    actors = [Actor(base + n, group=g) for n, g in enumerate(chosen_groups)]
    actors += [Actor(base + len(actors) + n, account_id=a) for n, a in enumerate(accounts)]
    return actors


def plays_role(world: World, site: Site, project: Project, role: Role, account_id: str) -> bool:
    for actor in role_actors(world, site, project, role):
        if actor.account_id == account_id or (
            actor.group is not None and account_id in actor.group.member_ids
        ):
            return True
    return False
