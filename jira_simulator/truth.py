"""Ground truth: what a complete sync with the operator's (admin's) access must end up with.

Named as the `jira_raw` tables (docs/architecture.md): per site (by cloud id) `issues`,
`issue_changelog` (`"<history_id>:<item_index>"`), `projects`, `issue_types`, `statuses`,
`status_categories`, `users`, `groups`, `group_members` (`"<group_id>:<account_id>"`, inactive
members included), `boards`, `sprints` (of boards whose project is visible), `issue_sprints`
(`"<sprint_id>:<issue_id>"`: the issues' Sprint fields now), `worklogs` (of visible issues, deleted
ones left out); per organization `teams` and `team_members` (`"<team_id>:<account_id>"`).
Each table is `{"count": n, "ids": [...]}`. Computed from the live world, so admin mutations
show up immediately. Each set mirrors the endpoint a sync reads it from: `statuses` is what
`GET /status` returns, `users` what `users/search` returns, `issues` what a search sees.

`issue_states` (`GET /_sim/truth/issues`) adds what each of those issues is now: key, status and
its category, issue type, `updated`; what the sync's `jira.issues` must show after any change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jira_simulator import agile
from jira_simulator.model import STATUS_CATEGORIES, Issue, Organization, Project, Site, World


def _table(ids: Iterable[str]) -> dict[str, Any]:
    ordered = list(ids)
    return {"count": len(ordered), "ids": ordered}


def _visible(site: Site, viewer_id: str) -> tuple[list[Project], list[Issue]]:
    """The projects and issues `viewer_id` can browse (archived and trashed projects are left out of search)."""
    projects = sorted(
        (p for p in site.projects.values() if p.live and viewer_id not in p.hidden_from),
        key=lambda p: int(p.id),
    )
    visible = {p.id for p in projects}
    issues = sorted((i for i in site.issues.values() if i.project_id in visible), key=lambda i: int(i.id))
    return projects, issues


def site_truth(world: World, site: Site, viewer_id: str) -> dict[str, Any]:
    projects, issues = _visible(site, viewer_id)
    visible = {p.id for p in projects}
    changelog = [
        f"{h.id}:{index}" for issue in issues for h in issue.histories for index in range(len(h.items))
    ]
    issue_types = [
        t.id for t in site.issue_types.values() if t.scope_project_id is None or t.scope_project_id in visible
    ]
    statuses = [
        s.id for s in site.statuses.values() if s.scope_project_id is None or s.scope_project_id in visible
    ]
    boards = sorted((b for b in site.agile.boards.values() if b.project_id in visible), key=lambda b: b.id)
    board_ids = {b.id for b in boards}
    sprints = sorted((s for s in site.agile.sprints.values() if s.board_id in board_ids), key=lambda s: s.id)
    sprint_ids = {s.id for s in sprints}
    issue_sprints = [
        f"{sprint_id}:{i.id}" for i in issues for sprint_id in agile.sprint_ids(i) if sprint_id in sprint_ids
    ]
    worklogs = sorted((w.id for i in issues for w in i.worklogs), key=int)
    users = [a for a in site.user_ids if a in world.users]
    groups = sorted(site.groups.values(), key=lambda g: g.name.casefold())
    members = [f"{g.group_id}:{a}" for g in groups for a in g.member_ids if a in world.users]
    return {
        "name": site.name,
        "url_path": f"/site/{site.name}",
        "organization_id": site.organization_id,
        "time_zone": site.time_zone,
        "issues": _table(i.id for i in issues),
        "issue_changelog": _table(changelog),
        "projects": _table(p.id for p in projects),
        "issue_types": _table(sorted(issue_types, key=int)),
        "statuses": _table(sorted(statuses, key=int)),
        "status_categories": _table(str(c) for c in sorted(STATUS_CATEGORIES)),
        "users": _table(users),
        "groups": _table(g.group_id for g in groups),
        "group_members": _table(members),
        "boards": _table(str(b.id) for b in boards),
        "sprints": _table(str(s.id) for s in sprints),
        "issue_sprints": _table(issue_sprints),
        "worklogs": _table(worklogs),
    }


def organization_truth(organization: Organization) -> dict[str, Any]:
    teams = sorted((t for t in organization.teams.values() if not t.deleted), key=lambda t: t.team_id)
    return {
        "name": organization.name,
        "site_cloud_ids": list(organization.site_cloud_ids),
        "teams": _table(t.team_id for t in teams),
        "team_members": _table(f"{t.team_id}:{a}" for t in teams for a in t.member_ids),
    }


def ground_truth(world: World) -> dict[str, Any]:
    with world.lock:
        return {
            "sites": {
                cloud_id: site_truth(world, site, world.admin_account_id)
                for cloud_id, site in world.sites.items()
            },
            "organizations": {org_id: organization_truth(org) for org_id, org in world.organizations.items()},
        }


def issue_states(world: World) -> dict[str, Any]:
    """Per site (by cloud id), each visible issue's current key, status, category, type and `updated`."""
    with world.lock:
        return {
            cloud_id: {
                issue.id: {
                    "key": issue.key,
                    "status": site.statuses[issue.status_id].name,
                    "status_category": STATUS_CATEGORIES[site.statuses[issue.status_id].category_id].key,
                    "issue_type": site.issue_types[issue.issue_type_id].name,
                    "updated_ms": issue.updated_ms,
                }
                for issue in _visible(site, world.admin_account_id)[1]
            }
            for cloud_id, site in world.sites.items()
        }
