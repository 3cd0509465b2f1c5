"""Status history, cycle times and daily flow on issues with known histories."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.assets.core.transform_world import (
    ALPHA,
    at,
    check_results,
    insert,
    materialization,
    new_warehouse,
    query,
    run_transforms,
    write_sync_file,
)

STATUSES = [
    ("1", "To Do", "new"),
    ("2", "Backlog", "new"),
    ("3", "In Progress", "indeterminate"),
    ("4", "In Review", "indeterminate"),
    ("5", "Done", "done"),
    ("8", "Closed", "done"),
]
NAMES = {i: n for i, n, _ in STATUSES}


def issue(issue_id, key, created, status_id, assignee=None, project=("101", "OPS")):
    category = dict((i, c) for i, _, c in STATUSES)[status_id]
    return {
        "cloud_id": ALPHA,
        "id": issue_id,
        "key": key,
        "project_id": project[0],
        "project_key": project[1],
        "issue_type_id": "10001",
        "issue_type_name": "Story",
        "status_id": status_id,
        "status_name": NAMES[status_id],
        "status_category_key": category,
        "assignee_account_id": assignee,
        "created": created,
        "updated": created,
        "synced_at": datetime.now(UTC),
    }


def moves(issue_id, *steps):
    """Status changes: (history_id, when, from_id, to_id)."""
    return [
        {
            "cloud_id": ALPHA,
            "issue_id": issue_id,
            "history_id": history_id,
            "item_index": 0,
            "created": when,
            "field": "status",
            "field_id": "status",
            "from_id": from_id,
            "from_string": NAMES[from_id],
            "to_id": to_id,
            "to_string": NAMES[to_id],
        }
        for history_id, when, from_id, to_id in steps
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    directory = tmp_path_factory.mktemp("flow")
    sync_file = write_sync_file(directory)
    warehouse = directory / "warehouse.duckdb"
    new_warehouse(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        insert(
            con,
            "projects",
            [{"cloud_id": ALPHA, "id": "100", "key": "ACME"}, {"cloud_id": ALPHA, "id": "101", "key": "OPS"}],
        )
        insert(con, "issue_types", [{"cloud_id": ALPHA, "id": "10001", "name": "Story"}])
        insert(
            con,
            "statuses",
            [{"cloud_id": ALPHA, "id": i, "name": n, "status_category_key": c} for i, n, c in STATUSES],
        )
        insert(
            con,
            "users",
            [
                {
                    "cloud_id": ALPHA,
                    "account_id": "u1",
                    "email_address": "u1@acme.io",
                    "account_type": "atlassian",
                },
                {
                    "cloud_id": ALPHA,
                    "account_id": "u2",
                    "email_address": "u2@acme.io",
                    "account_type": "atlassian",
                },
            ],
        )
        insert(
            con,
            "groups",
            [
                {"cloud_id": ALPHA, "group_id": "g1", "name": "developers"},
                {"cloud_id": ALPHA, "group_id": "g2", "name": "core"},
            ],
        )
        insert(
            con,
            "group_members",
            [
                {"cloud_id": ALPHA, "group_id": "g1", "account_id": "u1"},
                {"cloud_id": ALPHA, "group_id": "g1", "account_id": "u2"},
                {"cloud_id": ALPHA, "group_id": "g2", "account_id": "u1"},
            ],
        )
        insert(
            con,
            "issues",
            [
                issue("A", "OPS-1", at(1, 10), "1"),  # never changed
                issue("B", "OPS-2", at(1, 9), "5", assignee="u1"),  # straight through
                issue("C", "OPS-3", at(1, 0), "8", assignee="u1"),  # reopened
                issue("D", "OPS-4", at(2, 8), "5", assignee="u2"),  # closed without in progress
                issue("E", "OPS-5", at(3, 6), "3"),  # initial status only known from the changelog
                issue("G", "OPS-6", at(4, 0), "5"),  # two changes in the same second
                issue("F", "ACME-1", at(27, month=2), "5", project=("100", "ACME")),  # stale changelog
            ],
        )
        insert(
            con,
            "issue_changelog",
            moves("B", ("11", at(2, 9), "1", "3"), ("12", at(3, 9), "3", "4"), ("13", at(4, 21), "4", "5"))
            + [  # a non-status item of the same history is ignored
                {
                    "cloud_id": ALPHA,
                    "issue_id": "B",
                    "history_id": "11",
                    "item_index": 1,
                    "created": at(2, 9),
                    "field": "assignee",
                    "field_id": "assignee",
                    "from_id": None,
                    "to_id": "u1",
                }
            ]
            + moves(
                "C",
                ("21", at(2, 0), "1", "3"),
                ("22", at(3, 0), "3", "5"),
                ("23", at(5, 12), "5", "3"),
                ("24", at(6, 12), "3", "5"),
                ("25", at(6, 18), "5", "8"),
            )
            + moves("D", ("31", at(2, 20), "1", "5"))
            + moves("E", ("41", at(3, 12), "2", "3"))
            + moves("G", ("10", at(4, 10), "3", "5"), ("9", at(4, 10), "1", "3"))
            + moves("F", ("61", at(28, month=2), "1", "3")),
        )
    result = run_transforms(sync_file)
    return warehouse, result


def history(warehouse, issue_id):
    return query(
        warehouse,
        """
        SELECT status_name, state, entered_at, left_at FROM analytics.issue_status_history
        WHERE issue_id = ? ORDER BY interval_number
        """,
        [issue_id],
    )


def clocks(warehouse, issue_id):
    (row,) = query(
        warehouse,
        """
        SELECT state, closed_at, lead_time_hours, first_in_progress_at, cycle_time_hours,
            in_progress_hours, reopen_count, age_hours
        FROM analytics.issue_cycle_times WHERE issue_id = ?
        """,
        [issue_id],
    )
    return dict(
        zip(
            ["state", "closed_at", "lead", "first_in_progress", "cycle", "in_progress", "reopens", "age"],
            row,
            strict=True,
        )
    )


def hours_since(moment):
    return (datetime.now(UTC) - moment).total_seconds() / 3600


def test_the_run_succeeds(world):
    _, result = world
    assert result.success


def test_history_of_an_issue_that_never_changed(world):
    warehouse, _ = world
    assert history(warehouse, "A") == [("To Do", "open", at(1, 10), None)]
    c = clocks(warehouse, "A")
    assert (c["closed_at"], c["lead"], c["cycle"], c["reopens"], c["in_progress"]) == (None, None, None, 0, 0)
    assert c["age"] == pytest.approx(hours_since(at(1, 10)), abs=0.1)


def test_history_and_clocks_straight_through(world):
    warehouse, _ = world
    assert history(warehouse, "B") == [
        ("To Do", "open", at(1, 9), at(2, 9)),
        ("In Progress", "in_progress", at(2, 9), at(3, 9)),
        ("In Review", "in_progress", at(3, 9), at(4, 21)),
        ("Done", "closed", at(4, 21), None),
    ]
    c = clocks(warehouse, "B")
    assert c["closed_at"] == at(4, 21)
    assert c["lead"] == pytest.approx(84)
    assert c["cycle"] == pytest.approx(60)
    assert c["in_progress"] == pytest.approx(60)
    assert (c["reopens"], c["age"]) == (0, None)


def test_reopened_issue(world):
    warehouse, _ = world
    assert [row[0] for row in history(warehouse, "C")] == [
        "To Do",
        "In Progress",
        "Done",
        "In Progress",
        "Done",
        "Closed",
    ]
    previous = query(
        warehouse,
        "SELECT previous_state FROM analytics.issue_status_history WHERE issue_id = 'C' ORDER BY interval_number",
    )
    assert [p for (p,) in previous] == [None, "open", "in_progress", "closed", "in_progress", "closed"]
    c = clocks(warehouse, "C")
    assert c["reopens"] == 1  # Done -> Closed stays closed: not a reopen
    assert c["closed_at"] == at(6, 12)  # the last entry into closed
    assert c["lead"] == pytest.approx(132)
    assert c["first_in_progress"] == at(2, 0)
    assert c["cycle"] == pytest.approx(108)
    assert c["in_progress"] == pytest.approx(48)  # 24 h before the reopen, 24 h after


def test_closed_without_passing_through_in_progress(world):
    warehouse, _ = world
    c = clocks(warehouse, "D")
    assert c["lead"] == pytest.approx(12)
    assert (c["cycle"], c["first_in_progress"], c["in_progress"]) == (None, None, 0)


def test_initial_status_is_the_from_of_the_first_change(world):
    warehouse, _ = world
    assert history(warehouse, "E") == [
        ("Backlog", "open", at(3, 6), at(3, 12)),
        ("In Progress", "in_progress", at(3, 12), None),
    ]
    c = clocks(warehouse, "E")
    assert c["in_progress"] == pytest.approx(hours_since(at(3, 12)), abs=0.1)
    assert c["closed_at"] is None and c["age"] == pytest.approx(hours_since(at(3, 6)), abs=0.1)


def test_changes_in_the_same_second_follow_the_history_id_numerically(world):
    warehouse, _ = world
    assert history(warehouse, "G") == [
        ("To Do", "open", at(4, 0), at(4, 10)),
        ("In Progress", "in_progress", at(4, 10), at(4, 10)),
        ("Done", "closed", at(4, 10), None),
    ]


def test_history_check_flags_only_the_issue_with_a_stale_changelog(world):
    _, result = world
    evaluation = check_results(result)["status_history_consistent"]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    problems = evaluation.metadata["problems"].value
    assert problems == {"last_interval_is_not_current_status": {"issues": 1, "examples": ["ACME-1"]}}


def flow(warehouse, team_id=None, all_teams=False):
    rows = query(
        warehouse,
        """
        SELECT day, sum(wip), sum(arrivals), sum(throughput) FROM analytics.flow_daily
        WHERE project_key = 'OPS' AND (? OR team_id IS NOT DISTINCT FROM ?)
        GROUP BY day ORDER BY day
        """,
        [all_teams, team_id],
    )
    return {day: (int(w), int(a), int(t)) for day, w, a, t in rows}


def test_flow_daily_for_the_project(world):
    warehouse, _ = world
    days = flow(warehouse, all_teams=True)
    march = {d: days[date(2026, 3, d)] for d in range(1, 8)}
    #            (wip, arrivals, throughput)
    assert march == {
        1: (0, 3, 0),  # A, B, C created
        2: (2, 1, 1),  # B and C in progress at midnight; D created and closed
        3: (2, 1, 1),  # B (In Review) and E; C closed
        4: (1, 1, 2),  # E; G created; B and G closed
        5: (2, 0, 0),  # C reopened, E
        6: (1, 0, 1),  # E; C closed again (Done -> Closed is not another close)
        7: (1, 0, 0),
    }
    today = datetime.now(UTC).date()
    assert max(days) == today and days[today][0] == 1  # every day up to today, E still in progress


def test_flow_daily_attributes_issues_to_the_assignees_smallest_team(world):
    warehouse, _ = world
    names = dict(
        query(
            warehouse,
            "SELECT DISTINCT team_id, team_name FROM analytics.flow_daily WHERE team_id IS NOT NULL",
        )
    )
    assert names == {"g1": "developers", "g2": "core"}
    core = flow(warehouse, "g2")  # u1 is in developers and core: core is smaller
    assert core[date(2026, 3, 1)] == (0, 2, 0) and core[date(2026, 3, 2)] == (2, 0, 0)
    assert core[date(2026, 3, 5)] == (1, 0, 0)
    developers = flow(warehouse, "g1")  # u2's issue D
    assert developers[date(2026, 3, 2)] == (0, 1, 1)
    unassigned = flow(warehouse, None)  # A, E, G
    assert unassigned[date(2026, 3, 3)] == (1, 1, 0)
    no_team = query(warehouse, "SELECT DISTINCT team_name FROM analytics.flow_daily WHERE team_id IS NULL")
    assert no_team == [("(no team)",)]
    teams = query(
        warehouse, "SELECT issue_id, team_name, team_rule FROM analytics.issue_cycle_times ORDER BY 1"
    )
    assert {issue: (name, rule) for issue, name, rule in teams} == {
        "A": ("(no team)", "none:unassigned"),
        "B": ("core", "assignee"),
        "C": ("core", "assignee"),
        "D": ("developers", "assignee"),
        "E": ("(no team)", "none:unassigned"),
        "F": ("(no team)", "none:unassigned"),
        "G": ("(no team)", "none:unassigned"),
    }


def test_the_documented_example_queries_run_on_the_published_snapshot(world):
    warehouse, _ = world
    published = warehouse.parent / "published" / "jira_analytics.duckdb"
    docs = (Path(__file__).resolve().parents[3] / "docs" / "analytics.md").read_text(encoding="utf-8")
    examples = re.findall(r"```sql\n(.*?)```", docs, flags=re.DOTALL)
    assert len(examples) >= 5
    with duckdb.connect(str(published), read_only=True) as con:
        results = [con.execute(sql).fetchall() for sql in examples]
    assert sum(1 for rows in results if rows) >= len(results) - 1  # all but the unlinked users (none here)
    cycle_by_team = {(team, month.date()): (closed, days) for team, month, closed, days in results[0]}
    assert cycle_by_team[("core", date(2026, 3, 1))] == (2, 3.5)  # B 60 h and C 108 h


def test_headline_figures_are_numeric_metadata_the_ui_can_plot(world):
    _, result = world
    flow_meta = materialization(result, "analytics", "flow_daily").metadata
    assert (
        isinstance(flow_meta["wip"], dg.IntMetadataValue) and flow_meta["wip"].value == 2
    )  # E, and F (its stale changelog)
    assert isinstance(flow_meta["weekly_throughput"], dg.FloatMetadataValue)
    cycle_meta = materialization(result, "analytics", "issue_cycle_times").metadata
    assert cycle_meta["closed_last_12_weeks"].value == 0  # the world's issues closed in March
