"""JQL parsing and evaluation against a world: operators, dates in the caller's zone, errors, plans."""

from __future__ import annotations

from datetime import datetime

import pytest

from jira_simulator.generator import generate_world
from jira_simulator.jql import JqlContext, JqlError, compile_query, issue_matches, parse_jql
from jira_simulator.model import Issue, Site, World
from jira_simulator.timefmt import zone

NOW = int(datetime(2026, 11, 28, 12, 0, tzinfo=zone("UTC")).timestamp() * 1000)


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(400, seed=4)


@pytest.fixture(scope="module")
def acme(world: World) -> Site:
    return world.site_by_name("acme")


def run(world: World, site: Site, jql: str, account_id: str | None = None) -> list[Issue]:
    context = JqlContext(site, world, account_id or world.admin_account_id, NOW)
    compiled = compile_query(parse_jql(jql), context)
    return sorted((i for i in site.issues.values() if compiled.predicate(i)), key=compiled.sort_key)


def keys_of(issues: list[Issue]) -> set[str]:
    return {i.key for i in issues}


def by_project(site: Site, *keys: str) -> set[str]:
    ids = {site.find_project(k).id for k in keys}
    return {i.key for i in site.issues.values() if i.project_id in ids}


def test_boolean_logic_and_lists(world: World, acme: Site) -> None:
    assert keys_of(run(world, acme, "project in (PLAT, MOB)")) == by_project(acme, "PLAT", "MOB")
    assert keys_of(run(world, acme, "project = PLAT OR project = mob")) == by_project(acme, "PLAT", "MOB")
    everything_else = {i.key for i in acme.issues.values()} - by_project(acme, "PLAT")
    assert keys_of(run(world, acme, "project NOT IN (PLAT)")) == everything_else
    assert keys_of(run(world, acme, "NOT project = PLAT")) == everything_else
    done = {i.key for i in acme.issues.values() if acme.statuses[i.status_id].category_id == 3}
    precedence = run(world, acme, "project = PLAT AND statusCategory = Done OR project = MOB")
    assert keys_of(precedence) == (by_project(acme, "PLAT") & done) | by_project(acme, "MOB")
    grouped = run(world, acme, "project = PLAT AND (statusCategory = Done OR project = MOB)")
    assert keys_of(grouped) == by_project(acme, "PLAT") & done


def test_field_clauses(world: World, acme: Site) -> None:
    unassigned = {i.key for i in acme.issues.values() if i.assignee_id is None}
    assert keys_of(run(world, acme, "assignee IS EMPTY")) == unassigned
    assert (
        keys_of(run(world, acme, "assignee is not empty"))
        == {i.key for i in acme.issues.values()} - unassigned
    )
    in_review = {i.key for i in acme.issues.values() if acme.statuses[i.status_id].name == "In Review"}
    assert keys_of(run(world, acme, 'status = "In Review"')) == in_review
    assert keys_of(run(world, acme, "status in ('in review')")) == in_review
    subtasks = {i.key for i in acme.issues.values() if i.parent_id}
    assert keys_of(run(world, acme, "parent is not EMPTY")) == subtasks
    parent = acme.issues[next(i for i in acme.issues.values() if i.parent_id).parent_id]
    children = {i.key for i in acme.issues.values() if i.parent_id == parent.id}
    assert keys_of(run(world, acme, f"parent = {parent.key}")) == children
    assert keys_of(run(world, acme, "key in (PLAT-1, plat-2) AND issuetype != Epic")) <= {"PLAT-1", "PLAT-2"}
    moved = acme.find_issue("PLAT-5")
    assert keys_of(run(world, acme, "issueKey = PLAT-5")) == {moved.key}
    assert keys_of(run(world, acme, "key >= PLAT-10 AND key < PLAT-12")) == {"PLAT-10", "PLAT-11"}
    assert keys_of(run(world, acme, f"id = {moved.id}")) == {moved.key}
    mine = {i.key for i in acme.issues.values() if i.reporter_id == world.admin_account_id}
    assert keys_of(run(world, acme, "reporter = currentUser()")) == mine
    developers = next(g for g in acme.groups.values() if g.name == "developers").member_ids
    by_developers = {i.key for i in acme.issues.values() if i.assignee_id in developers}
    assert keys_of(run(world, acme, 'assignee in membersOf("Developers")')) == by_developers


def test_dates_read_in_the_callers_zone(world: World, acme: Site) -> None:
    issue = acme.find_issue("PLAT-4")
    far_east = next(u for u in world.users.values() if u.time_zone == "Pacific/Kiritimati")
    for fmt in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M"):
        a_minute_later = (issue.created_ms + 60_000) / 1000
        admin_wall_clock = datetime.fromtimestamp(a_minute_later, zone("Pacific/Pago_Pago")).strftime(fmt)
        jql = f'key = PLAT-4 AND created > "{admin_wall_clock}"'
        # For the admin (UTC-11) those digits are a minute after the creation.
        assert keys_of(run(world, acme, jql)) == set()
        # Read in Kiritimati (UTC+14) the same digits are 25 hours earlier: the issue is newer.
        assert keys_of(run(world, acme, jql, far_east.account_id)) == {"PLAT-4"}
    day = datetime.fromtimestamp(issue.created_ms / 1000, zone("Pacific/Pago_Pago")).strftime("%Y-%m-%d")
    assert keys_of(run(world, acme, f"key = PLAT-4 AND created >= {day}")) == {"PLAT-4"}
    epoch = f"key = PLAT-4 AND created >= {issue.created_ms} AND created <= {issue.created_ms}"
    assert (
        keys_of(run(world, acme, epoch))
        == keys_of(run(world, acme, epoch, far_east.account_id))
        == {"PLAT-4"}
    )


def test_relative_periods_and_functions_use_the_simulated_clock(world: World, acme: Site) -> None:
    recent = {i.key for i in acme.issues.values() if i.updated_ms >= NOW - 30 * 86_400_000}
    assert keys_of(run(world, acme, "updated >= -30d")) == recent
    assert keys_of(run(world, acme, "updated >= '-4w 2d'")) == {
        i.key for i in acme.issues.values() if i.updated_ms >= NOW - 30 * 86_400_000
    }
    assert run(world, acme, "created > now()") == []
    # 12:00 UTC on the 28th is 01:00 on the 28th in Pago Pago: the admin's day began 11 hours after UTC's.
    start = int(datetime(2026, 11, 28, tzinfo=zone("Pacific/Pago_Pago")).timestamp() * 1000)
    context = JqlContext(acme, world, world.admin_account_id, NOW)
    compiled = compile_query(parse_jql("created >= startOfDay()"), context)
    assert compiled.plan.created == (start, None)


def test_order_by(world: World, acme: Site) -> None:
    newest_first = run(world, acme, "project = PLAT ORDER BY created DESC, key ASC")
    assert [i.created_ms for i in newest_first] == sorted((i.created_ms for i in newest_first), reverse=True)
    by_key = run(world, acme, "project = PLAT ORDER BY key")
    assert [int(i.key.split("-")[1]) for i in by_key] == sorted(int(i.key.split("-")[1]) for i in by_key)
    default = run(world, acme, "project = PLAT")
    assert [i.key for i in default] == [i.key for i in reversed(by_key)]
    with pytest.raises(JqlError, match="at most 7"):
        parse_jql("project = PLAT ORDER BY key, id, created, updated, status, priority, summary, assignee")


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("project = ", "Expecting either a value, list or function before the end of the query"),
        ("project PLAT", "Expecting operator but got 'PLAT'"),
        ("(project = PLAT", "Expecting ')' before the end of the query"),
        ('summary ~ "unfinished', "The quoted string 'unfinished' has not been completed"),
        ("project = AND", "You must surround 'AND' in quotation marks"),
        ("votes > 3", "Field 'votes' does not exist or you do not have permission to view it."),
        ("project > PLAT", "The operator '>' is not supported by the 'project' field."),
        ("status = Nope", "The value 'Nope' does not exist for the field 'status'."),
        ("key = PLAT-99999", "An issue with key 'PLAT-99999' does not exist for field 'key'."),
        ("updated > 'last tuesday'", "Date value 'last tuesday' for field 'updated' is invalid."),
        ("assignee = nobodyAtAll", "The value 'nobodyAtAll' does not exist for the field 'assignee'."),
        ("created > someFunction()", "Unable to find JQL function 'someFunction()'."),
    ],
)
def test_invalid_jql_is_explained_as_jira_does(world: World, acme: Site, jql: str, message: str) -> None:
    with pytest.raises(JqlError) as raised:
        run(world, acme, jql)
    assert message in raised.value.messages[0]


def test_plans_use_the_indexable_restrictions(world: World, acme: Site) -> None:
    context = JqlContext(acme, world, world.admin_account_id, NOW)
    plan = compile_query(
        parse_jql(
            "project in (PLAT, MOB) AND created >= 1600000000000 AND created < 1700000000000 AND status = QA"
        ),
        context,
    ).plan
    assert plan.project_ids == {acme.find_project("PLAT").id, acme.find_project("MOB").id}
    assert plan.created == (1600000000000, 1700000000000)
    assert compile_query(parse_jql("project = PLAT OR updated > -1d"), context).plan.project_ids is None


def test_issue_matches_for_webhook_filters(world: World, acme: Site) -> None:
    issue = acme.find_issue("PLAT-1")
    assert issue_matches("project = PLAT", issue, acme, world)
    assert not issue_matches("project = MOB", issue, acme, world)
    assert issue_matches("", issue, acme, world)
    with pytest.raises(JqlError):
        issue_matches("project ==", issue, acme, world)
