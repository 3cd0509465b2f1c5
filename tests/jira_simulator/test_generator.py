"""The generated default world: every hard case is there, and every history replays to its issue."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jira_simulator.generator import ADMIN_EMAIL, DATA_END_MS, DEFAULT_ISSUES, generate_world
from jira_simulator.model import World
from jira_simulator.timefmt import zone

TYPE_NAMES = {
    "Story",
    "Bug",
    "Defect",
    "Epic",
    "New Feature",
    "Enhancement",
    "Task",
    "Technical Task",
    "Sub-task",
    "Spike",
    "Research",
    "Incident",
    "Production Issue",
}
# The keyword heuristics of jira_sync.yaml: at least one type must match none of them.
TYPE_KEYWORDS = (
    *("incident", "outage", "emergency", "production issue", "bug", "defect", "fix"),
    *("spike", "research", "investigation", "discovery", "story", "feature", "epic", "enhancement"),
    *("task", "chore", "maintenance", "technical"),
)


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(DEFAULT_ISSUES, seed=1)


def test_two_sites_one_organization_own_time_zones(world: World) -> None:
    assert len(world.sites) == 2 and len(world.organizations) == 1
    (org,) = world.organizations.values()
    assert sorted(org.site_cloud_ids) == sorted(world.sites)
    assert {s.time_zone for s in world.sites.values()} == {"Europe/Berlin", "America/New_York"}
    live = [i for s in world.sites.values() for i in s.issues.values() if s.projects[i.project_id].live]
    assert len(live) == DEFAULT_ISSUES  # `--issues` counts the live projects' issues
    ids = [set(s.issues) for s in world.sites.values()]
    assert ids[0] & ids[1], "the same issue ids exist on both sites (cloud_id must be part of every key)"


def test_admin_is_far_west_of_utc(world: World) -> None:
    admin = world.admin
    assert admin.email == ADMIN_EMAIL and admin.api_token == "sim-api-token"
    offset = datetime(2026, 1, 1, tzinfo=zone(admin.time_zone)).utcoffset()
    assert offset is not None and offset.total_seconds() <= -10 * 3600


def test_accounts_cover_the_identity_hard_cases(world: World) -> None:
    users = list(world.users.values())
    assert any(u.email and not u.email_visible for u in users)
    assert any(u.account_type == "app" for u in users)
    assert any(u.account_type == "customer" for u in users)
    assert any(not u.active for u in users)
    offsets = {
        datetime(2026, 6, 1, tzinfo=zone(u.time_zone)).utcoffset().total_seconds() / 3600 for u in users
    }
    assert max(offsets) >= 12 and min(offsets) <= -10
    grouped = {a for s in world.sites.values() for g in s.groups.values() for a in g.member_ids}
    team_members = {
        a for org in world.organizations.values() for t in org.teams.values() for a in t.member_ids
    }
    assert team_members - grouped, "some team members are in no group"
    inactive = {u.account_id for u in users if not u.active}
    assert inactive & grouped, "inactive users are still group members"


def test_issue_types_and_statuses_like_real_sites(world: World) -> None:
    for site in world.sites.values():
        names = {t.name for t in site.issue_types.values()}
        assert names >= TYPE_NAMES
        assert any(not any(k in n.lower() for k in TYPE_KEYWORDS) for n in names)
        by_name = {s.name: s.category_id for s in site.statuses.values() if s.scope_project_id is None}
        expected = {
            "To Do": 2,
            "Backlog": 2,
            "Selected for Development": 2,
            "In Progress": 4,
            "In Review": 4,
            "QA": 4,
            "Done": 3,
            "Closed": 3,
            "Won't Do": 3,
        }
        assert expected.items() <= by_name.items()
    acme = next(s for s in world.sites.values() if s.name == "acme")
    scoped = [s for s in acme.statuses.values() if s.scope_project_id]
    assert {s.name for s in scoped} == {"To Do", "In Progress", "Done"}, "team-managed statuses reuse names"


def test_issues_span_several_years_and_parents(world: World) -> None:
    for site in world.sites.values():
        years = {datetime.fromtimestamp(i.created_ms / 1000, UTC).year for i in site.issues.values()}
        assert len(years) >= 5
        for issue in site.issues.values():
            if site.issue_types[issue.issue_type_id].subtask:
                parent = site.issues[issue.parent_id]
                assert parent.project_id == issue.project_id
                assert not site.issue_types[parent.issue_type_id].subtask
    assert any(
        site.issue_types[i.issue_type_id].subtask
        for s in world.sites.values()
        for i in s.issues.values()
        for site in [s]
    )


def test_long_histories_and_a_moved_issue(world: World) -> None:
    acme = next(s for s in world.sites.values() if s.name == "acme")
    counts = sorted(len(i.histories) for s in world.sites.values() for i in s.issues.values())
    assert counts[-1] == 150 and sum(c > 100 for c in counts) >= 3
    assert len(acme.find_issue("PLAT-3").histories) == 150
    moved = acme.find_issue("PLAT-5")
    assert moved is not None and moved.key.startswith("MOB-")
    assert acme.find_issue(moved.key) is moved
    assert {i.field for i in moved.histories[-1].items} == {"project", "Key"}


def test_histories_replay_to_every_issue(world: World) -> None:
    reopened = straight_to_done = field_changes = 0
    for site in world.sites.values():
        for issue in site.issues.values():
            workflow = site.workflows[site.projects[issue.project_id].workflow_id]
            times = [h.created_ms for h in issue.histories]
            assert times == sorted(times) and all(issue.created_ms <= t <= DATA_END_MS for t in times)
            assert issue.updated_ms == max([issue.created_ms, *times])
            status = None
            for history in issue.histories:
                for item in history.items:
                    if item.field == "status":
                        assert status in (None, item.from_id)
                        allowed = {t.to_status_id for t in workflow.transitions_from(item.from_id)}
                        assert item.to_id in allowed, (issue.key, item.from_string, item.to_string)
                        was_done = site.statuses[item.from_id].category_id == 3
                        now_done = site.statuses[item.to_id].category_id == 3
                        reopened += was_done and not now_done
                        straight_to_done += item.from_string == "To Do" and item.to_string == "Done"
                        status = item.to_id
                    else:
                        field_changes += 1
            if status is not None:
                assert status == issue.status_id
            done = site.statuses[issue.status_id].category_id == 3
            assert (issue.resolved_ms is not None) == done == (issue.resolution_id is not None)
    assert reopened > 0 and straight_to_done > 0 and field_changes > 100


def test_generation_is_deterministic() -> None:
    def summary(world: World) -> list[tuple]:
        return [
            (s.cloud_id, i.id, i.key, i.status_id, i.updated_ms, len(i.histories))
            for s in world.sites.values()
            for i in s.issues.values()
        ]

    assert summary(generate_world(200, seed=9)) == summary(generate_world(200, seed=9))
    assert summary(generate_world(200, seed=9)) != summary(generate_world(200, seed=10))
