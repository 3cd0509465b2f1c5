"""Retired projects of the default world: one archived and one in the trash on each site.

Jira Cloud keeps both kinds, and a sync must treat them as Jira does (Atlassian, "Archive a
project" and "Trash for Jira Cloud projects"): their issues "won't appear in basic or advanced
search results" but can "still [be accessed] through direct links" (read-only); archived projects
stay readable through the API for users who could browse them; trashed projects are listed only
in the trash (Jira admins) and are purged 60 days after they were moved there. `project/search`
lists them with `status=archived` / `status=deleted` (`archived`, `archivedBy`, `archivedDate`;
`deleted`, `deletedBy`, `deletedDate`, `retentionTillDate`).

They are built after the live world, from their own random stream, with project, issue and
history ids above every live one, so the live world (its issues, ids, histories, pinned hard cases
and the ground truth) is exactly what it was without them.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from jira_simulator import catalog
from jira_simulator.history import HistoryWriter
from jira_simulator.model import Component, Issue, Project, Site, World
from jira_simulator.timefmt import utc_ms

TRASH_RETENTION_MS = 60 * 86_400_000
ARCHIVED_MS = utc_ms(2025, 6, 30)
TRASHED_DAYS_AGO = 9  # moved to the trash this many days before the world was built
ISSUES_PER_PROJECT = 16
MIN_WORLD_ISSUES = 100  # like the pinned hard cases, retired projects join worlds of some size
WORKFLOW = "simple"
ISSUE_TYPES = ("Story", "Task", "Bug")
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class RetiredPlan:
    key: str
    name: str
    trashed: bool  # False: archived


PLANS = {
    "acme": (RetiredPlan("LEGACY", "Legacy Portal", False), RetiredPlan("HACK", "Hackathon 2023", True)),
    "globex": (RetiredPlan("CRM", "Old CRM", False), RetiredPlan("PILOT", "Pilot Program", True)),
}


def add_retired_projects(world: World, issues: int) -> None:
    """Add each site's retired projects with their issues (worlds of fewer than 100 issues get none)."""
    if issues < MIN_WORLD_ISSUES:
        return
    rng = random.Random(f"{world.seed}:retired")
    built_ms = int(time.time() * 1000)
    for site in world.sites.values():
        for plan in PLANS.get(site.name, ()):
            _retire(world, site, plan, rng, built_ms)


def _retire(world: World, site: Site, plan: RetiredPlan, rng: random.Random, built_ms: int) -> None:
    status_ids = {s.name: s.id for s in site.statuses.values() if s.scope_project_id is None}
    type_ids = {t.name: t.id for t in site.issue_types.values() if t.scope_project_id is None}
    workflow = next(w for w in site.workflows.values() if w.name == catalog.WORKFLOW_PLANS[WORKFLOW].name)
    staff = [
        a
        for a in site.user_ids
        if (u := world.users.get(a)) is not None
        and u.account_type == "atlassian"
        and u.active
        and u.api_token
    ]
    project_id = str(max(int(p) for p in site.projects) + 1)
    project = Project(
        id=project_id,
        key=plan.key,
        name=plan.name,
        issue_type_ids=[type_ids[name] for name in ISSUE_TYPES],
        lead_account_id=rng.choice(staff),
        category_name="Engineering",
        description=f"The {plan.name} project (retired).",
        workflow_id=workflow.id,
        components=[Component(f"{project_id}0", "Core", f"Core of {plan.name}.")],
    )
    if plan.trashed:
        project.deleted = True
        project.deleted_by = world.admin_account_id
        project.deleted_ms = built_ms - TRASHED_DAYS_AGO * 86_400_000
    else:
        project.archived = True
        project.archived_by = world.admin_account_id
        project.archived_ms = ARCHIVED_MS
    site.projects[project.id] = project
    writer = HistoryWriter(site, world.users)
    start = utc_ms(2022, 1, 10) + rng.randrange(0, 300) * 86_400_000
    paths = catalog.WORKFLOW_PLANS[WORKFLOW].paths
    for number in range(1, ISSUES_PER_PROJECT + 1):
        created = start + number * 3 * 86_400_000 + rng.randrange(0, 20) * HOUR_MS
        reporter = rng.choice(staff)
        issue = Issue(
            id=str(site.next_issue_id),
            key=f"{plan.key}-{number}",
            project_id=project.id,
            issue_type_id=type_ids[rng.choice(ISSUE_TYPES)],
            status_id=status_ids["To Do"],
            summary=f"{plan.name}: item {number}",
            created_ms=created,
            updated_ms=created,
            reporter_id=reporter,
            creator_id=reporter,
            priority_id=rng.choice(("2", "3", "3", "4")),
            status_category_changed_ms=created,
        )
        site.next_issue_id += 1
        path = rng.choices([p for _, p in paths], weights=[w for w, _ in paths])[0]
        at = created
        for status in path[1:]:
            at += rng.randrange(2, 72) * HOUR_MS
            writer.change(issue, rng.choice(staff), at, status_id=status_ids[status])
        site.issues[issue.id] = issue
        site.issue_ids_by_key[issue.key] = issue.id
    project.issue_counter = ISSUES_PER_PROJECT


def retention_till_ms(project: Project) -> int | None:
    """When a trashed project is purged for good: 60 days after it was moved to the trash."""
    return None if project.deleted_ms is None else project.deleted_ms + TRASH_RETENTION_MS
