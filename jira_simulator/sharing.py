"""Filters and dashboards the site's users made, and who may see them.

Generated worlds get what a real site accumulates: Jira's *Default dashboard* (the system
dashboard, shared globally, id 10000), each board's filter under the id the board's configuration
names (`Filter for KEY board`, `project = KEY ORDER BY Rank ASC`, shared with the project, owned by
its lead - as Airbyte's capture of a real site shows them), and personal filters and dashboards
owned by staff, private or shared with a group, a project, a project role or every logged-in
user. Built from their own random stream, after the boards.

Visibility is Jira's rule for both (spec, `filter/search` and `dashboard/search`): the owner's,
shared with a group the user is in, with a project the user can browse (or a role they play in
it), with every logged-in user, or with the public. The system dashboard is shared with everyone.
"""

from __future__ import annotations

import random

from jira_simulator.model import Dashboard, Filter, SharePermission, Site, World
from jira_simulator.roles import MEMBER, plays_role

PERSONAL_FILTERS = (
    ("My open issues", "assignee = currentUser() AND resolution = Unresolved ORDER BY priority DESC, updated DESC"),
    ("Reported by me", "reporter = currentUser() ORDER BY created DESC"),
    ("Recently resolved", "resolved >= -14d ORDER BY resolved DESC"),
    ("Unassigned in {key}", "project = {key} AND assignee IS EMPTY AND resolution = Unresolved"),
    ("{key} bugs", "project = {key} AND issuetype = Bug ORDER BY priority DESC"),
    ("Due this week", "due <= endOfWeek() AND resolution = Unresolved ORDER BY due ASC"),
    ("Stale {key} work", "project = {key} AND updated <= -30d AND statusCategory != Done"),
    ("Created this month", "created >= startOfMonth() ORDER BY created DESC"),
)  # fmt: skip
DASHBOARDS = (
    ("{key} overview", "Progress and open work of {name}."),
    ("Team health", "Throughput, cycle time and blockers."),
    ("Release readiness", "What is left before the next release."),
    ("Support queue", "Requests waiting for an agent."),
)
FILTER_ID_START = 10000
DASHBOARD_ID_START = 10000  # the system dashboard; users' dashboards follow


def add_filters_and_dashboards(world: World) -> None:
    for site in world.sites.values():
        _furnish_site(world, site, random.Random(f"{world.seed}:sharing:{site.name}"))


def _staff(world: World, site: Site) -> list[str]:
    return [
        a
        for a in site.user_ids
        if (u := world.users.get(a)) is not None
        and u.account_type == "atlassian"
        and u.active
        and u.api_token
    ]


def _furnish_site(world: World, site: Site, rng: random.Random) -> None:
    staff = _staff(world, site)
    live = sorted((p for p in site.projects.values() if p.live), key=lambda p: int(p.id))
    groups = sorted(site.groups.values(), key=lambda g: g.name)
    share_ids = iter(range(10000, 10_000_000))

    def share(kind: str) -> list[SharePermission]:
        if kind == "private":
            return []
        if kind == "group":
            return [SharePermission(next(share_ids), "group", group_id=rng.choice(groups).group_id)]
        if kind == "project":
            return [SharePermission(next(share_ids), "project", project_id=rng.choice(live).id)]
        if kind == "projectRole":
            return [
                SharePermission(
                    next(share_ids), "projectRole", project_id=rng.choice(live).id, role_id=MEMBER.id
                )
            ]
        return [SharePermission(next(share_ids), kind)]  # loggedin | global

    for board in sorted(site.agile.boards.values(), key=lambda b: b.id):
        # Each board's saved filter, under the id its configuration names (`board/{id}/configuration`).
        project = site.projects[board.project_id]
        owner = project.lead_account_id or staff[0]
        site.filters[board.filter_id] = Filter(
            board.filter_id,
            f"Filter for {board.name}",
            owner,
            f"project = {project.key} ORDER BY Rank ASC",
            description=f"The board filter of {project.name}.",
            share_permissions=[SharePermission(next(share_ids), "project", project_id=project.id)],
            favourited_by={owner},
        )
    next_filter = max([FILTER_ID_START - 1, *(int(f) for f in site.filters)]) + 1
    for index in range(12):
        name, jql = PERSONAL_FILTERS[index % len(PERSONAL_FILTERS)]
        project = live[index % len(live)]
        owner = rng.choice(staff)
        kind = rng.choice(("private", "private", "group", "project", "projectRole", "loggedin"))
        fans = {owner, *rng.sample(staff, min(len(staff), rng.randrange(0, 4)))}
        site.filters[str(next_filter)] = Filter(
            str(next_filter),
            name.format(key=project.key),
            owner,
            jql.format(key=project.key),
            share_permissions=share(kind),
            favourited_by=fans if rng.random() < 0.8 else set(),
        )
        next_filter += 1
    site.dashboards[str(DASHBOARD_ID_START)] = Dashboard(
        str(DASHBOARD_ID_START),
        "Default dashboard",
        None,
        share_permissions=[SharePermission(next(share_ids), "global")],
        system=True,
    )
    for index in range(6):
        name, description = DASHBOARDS[index % len(DASHBOARDS)]
        project = live[index % len(live)]
        owner = rng.choice(staff)
        kind = rng.choice(("private", "group", "project", "loggedin"))
        dashboard_id = str(DASHBOARD_ID_START + 1 + index)
        site.dashboards[dashboard_id] = Dashboard(
            dashboard_id,
            name.format(key=project.key),
            owner,
            description=description.format(name=project.name),
            share_permissions=share(kind),
            favourited_by={owner, *rng.sample(staff, min(len(staff), rng.randrange(0, 3)))},
        )


def can_see(
    world: World, site: Site, shares: list[SharePermission], owner: str | None, account_id: str
) -> bool:
    """Jira's visibility rule for a filter or dashboard (`owner` None: the system dashboard)."""
    if owner is None or owner == account_id:
        return True
    for share in shares:
        if share.type in ("global", "loggedin", "authenticated"):
            return True
        if share.type == "group":
            group = site.groups.get(share.group_id or "")
            if group is not None and account_id in group.member_ids:
                return True
        if share.type in ("project", "projectRole"):
            project = site.projects.get(share.project_id or "")
            if project is None or not project.live or account_id in project.hidden_from:
                continue
            if share.type == "project" or plays_role(world, site, project, MEMBER, account_id):
                return True
        if share.type == "user" and share.account_id == account_id:
            return True
    return False
