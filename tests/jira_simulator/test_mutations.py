"""Mutations keep the world consistent: histories, `updated`, keys, resolutions, one event each."""

from __future__ import annotations

import pytest

from jira_simulator import mutations
from jira_simulator.generator import generate_world
from jira_simulator.model import IssueEvent, Site, World
from jira_simulator.mutations import IssueChanges, MutationError


@pytest.fixture
def world() -> World:
    return generate_world(issues=60, seed=5)


@pytest.fixture
def events(world: World) -> list[IssueEvent]:
    seen: list[IssueEvent] = []
    world.listeners.append(seen.append)
    return seen


@pytest.fixture
def site(world: World) -> Site:
    return world.site_by_name("acme")  # type: ignore[return-value]


def _staff(world: World, site: Site, n: int = 0) -> str:
    return [a for a in site.user_ids if world.users[a].account_type == "atlassian" and world.users[a].active][
        n + 1
    ]


def test_create_issue_takes_the_next_key_and_emits_created(world: World, site: Site, events: list) -> None:
    before = max(int(k.split("-")[1]) for k in site.issue_ids_by_key if k.startswith("PLAT-"))
    issue = mutations.create_issue(world, site, project="PLAT", issue_type="Story", summary="New thing")
    assert issue.key == f"PLAT-{before + 1}"
    assert site.find_issue(issue.key) is issue
    assert site.statuses[issue.status_id].name == "Backlog"
    assert issue.created_ms == issue.updated_ms and abs(issue.created_ms - world.clock.now_ms()) < 5000
    assert issue.histories == []  # Jira records no history for creation
    (event,) = events
    assert (event.kind, event.event_type_name, event.cloud_id) == (
        "jira:issue_created",
        "issue_created",
        site.cloud_id,
    )
    assert event.history is not None and event.history.items[0].to_string == "Backlog"
    assert event.issue is not issue and event.issue.key == issue.key


def test_update_records_one_history_and_names_assignee_only_changes(
    world: World, site: Site, events: list
) -> None:
    issue = mutations.create_issue(world, site, project="PLAT", issue_type="Task", summary="Edit me")
    events.clear()
    history = mutations.update_issue(
        world, site, issue.key, IssueChanges(summary="Edited", labels=["backend", "ux"], priority="High")
    )
    assert history is not None and issue.histories[-1] is history
    assert {i.field for i in history.items} == {"summary", "labels", "priority"}
    assert issue.summary == "Edited" and issue.labels == ["backend", "ux"]
    assert issue.updated_ms == history.created_ms
    assignee = _staff(world, site)
    mutations.update_issue(world, site, issue.key, IssueChanges(assignee=assignee))
    assert [e.event_type_name for e in events] == ["issue_updated", "issue_assigned"]
    assert events[1].history.items[0].to_id == assignee
    assert mutations.update_issue(world, site, issue.key, IssueChanges(summary="Edited")) is None
    assert len(events) == 2  # no change, no event
    cleared = mutations.update_issue(world, site, issue.key, IssueChanges(labels=None))
    assert cleared is not None and issue.labels == [] and cleared.items[0].from_string == "backend ux"
    with pytest.raises(MutationError, match="priority cannot be cleared"):
        mutations.update_issue(world, site, issue.key, IssueChanges(priority=None))


def test_transition_to_done_sets_resolution_and_leaving_done_clears_it(
    world: World, site: Site, events: list
) -> None:
    issue = mutations.create_issue(world, site, project="PLAT", issue_type="Bug", summary="Crash")
    done = mutations.transition_issue(world, site, issue.key, "Done")
    assert [i.field for i in done.items] == ["resolution", "status"]
    assert site.resolutions[issue.resolution_id].name == "Done"
    assert issue.resolved_ms == done.created_ms and issue.status_category_changed_ms == done.created_ms
    reopened = mutations.transition_issue(
        world, site, issue.key, "reopened"
    )  # names match case-insensitively
    assert reopened.items[0].field == "resolution" and reopened.items[0].to_id is None
    assert issue.resolution_id is None and issue.resolved_ms is None
    assert [e.event_type_name for e in events[1:]] == ["issue_generic", "issue_generic"]
    with pytest.raises(MutationError, match="no status 'Waiting for Customer'.*Backlog"):
        mutations.transition_issue(world, site, issue.key, "Waiting for Customer")


def test_move_gives_a_new_key_keeps_the_old_one_and_moves_subtasks(
    world: World, site: Site, events: list
) -> None:
    parent = mutations.create_issue(world, site, project="PLAT", issue_type="Story", summary="Parent")
    child = mutations.create_issue(
        world, site, project="PLAT", issue_type="Sub-task", summary="Child", parent=parent.key
    )
    old_parent_key, old_child_key = parent.key, child.key
    events.clear()
    history = mutations.move_issue(world, site, old_parent_key, "DATA")
    assert parent.key.startswith("DATA-") and child.key.startswith("DATA-")
    assert site.find_issue(old_parent_key) is parent and site.find_issue(old_child_key) is child
    assert [i.field for i in history.items][:2] == ["project", "Key"]
    assert history.items[1].from_string == old_parent_key and history.items[1].to_string == parent.key
    assert [e.event_type_name for e in events] == ["issue_moved", "issue_moved"]
    target_statuses = mutations.project_statuses(site, site.find_project("DATA"))  # type: ignore[arg-type]
    assert parent.status_id in {s.id for s in target_statuses}


def test_move_into_a_project_without_the_status_maps_it(world: World, site: Site) -> None:
    issue = mutations.create_issue(world, site, project="PLAT", issue_type="Task", summary="Task")
    mutations.transition_issue(world, site, issue.key, "In Review")
    history = mutations.move_issue(world, site, issue.key, "OPS")
    assert "status" in [i.field for i in history.items]
    assert issue.status_id in {s.id for s in mutations.project_statuses(site, site.find_project("OPS"))}


def test_delete_removes_the_issue_and_its_subtasks_and_never_reuses_the_key(
    world: World, site: Site, events: list
) -> None:
    parent = mutations.create_issue(world, site, project="OPS", issue_type="Task", summary="Doomed")
    child = mutations.create_issue(
        world, site, project="OPS", issue_type="Sub-task", summary="Too", parent=parent.id
    )
    events.clear()
    deleted = mutations.delete_issue(world, site, parent.key)
    assert deleted == [child.key, parent.key]
    assert site.find_issue(parent.key) is None and site.find_issue(child.id) is None
    assert [(e.kind, e.event_type_name, e.history) for e in events] == [
        ("jira:issue_deleted", None, None)
    ] * 2
    fresh = mutations.create_issue(world, site, project="OPS", issue_type="Task", summary="After")
    assert int(fresh.key.split("-")[1]) > int(child.key.split("-")[1])


def test_events_carry_the_issue_as_it_was_at_that_change(world: World, site: Site, events: list) -> None:
    issue = mutations.create_issue(world, site, project="PLAT", issue_type="Task", summary="v1")
    mutations.update_issue(world, site, issue.key, IssueChanges(summary="v2"))
    assert [e.issue.summary for e in events] == ["v1", "v2"]


def test_bad_mutations_say_what_is_wrong(world: World, site: Site) -> None:
    with pytest.raises(MutationError, match="no issue type 'Incident'.*Story"):
        mutations.create_issue(world, site, project="PLAT", issue_type="Incident", summary="x")
    with pytest.raises(MutationError, match="needs a parent"):
        mutations.create_issue(world, site, project="PLAT", issue_type="Sub-task", summary="x")
    with pytest.raises(MutationError, match="no project 'NOPE'") as missing:
        mutations.create_issue(world, site, project="NOPE", issue_type="Task", summary="x")
    assert missing.value.status == 404
    with pytest.raises(MutationError, match="not a user of site"):
        mutations.create_issue(world, site, project="PLAT", issue_type="Task", summary="x", assignee="ghost")
    with pytest.raises(MutationError, match="unknown time zone"):
        mutations.update_user(world, world.admin_account_id, time_zone="Mars/Olympus")


def test_users_groups_teams_and_project_access_change(world: World, site: Site) -> None:
    account = _staff(world, site, 3)
    user = mutations.update_user(world, account, email="moved@example.com", email_visible=False, active=False)
    assert (user.email, user.email_visible, user.active) == ("moved@example.com", False, False)
    group = mutations.create_group(world, site, "release-managers")
    mutations.add_group_member(world, site, "release-managers", account)
    assert site.groups[group.group_id].member_ids == [account]
    mutations.remove_group_member(world, site, group.group_id, account)
    mutations.delete_group(world, site, group.group_id)
    assert group.group_id not in site.groups
    org = next(iter(world.organizations.values()))
    team = mutations.create_team(
        world, org, display_name="Tiger", member_ids=[account], site_cloud_id=site.cloud_id
    )
    mutations.add_team_member(world, org, team.team_id, world.admin_account_id)
    assert team.member_ids == [account, world.admin_account_id]
    mutations.set_team_state(world, org, team.team_id, "ARCHIVED")
    assert team.state == "ARCHIVED"
    mutations.set_team_state(world, org, team.team_id, "DELETED")
    with pytest.raises(MutationError, match="no team"):
        mutations.add_team_member(world, org, team.team_id, account)
    project = mutations.set_project_hidden(world, site, "PLAT", world.admin_account_id, hidden=True)
    assert world.admin_account_id in project.hidden_from
