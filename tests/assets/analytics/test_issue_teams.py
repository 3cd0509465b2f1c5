"""Team attribution (analytics.issue_teams): who did the work, which team that is, and why not."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest
import yaml

from tests.assets.core.transform_world import (
    ALPHA,
    BETA,
    at,
    insert,
    insert_people,
    insert_statuses,
    new_warehouse,
    query,
    run_transforms,
    write_sync_file,
)

STATUS = {"1": ("To Do", "new"), "3": ("In Progress", "indeterminate"), "5": ("Done", "done")}


def issue(cloud_id, issue_id, project, status_id, assignee=None):
    name, category = STATUS[status_id]
    return {
        "cloud_id": cloud_id,
        "id": issue_id,
        "key": f"{project}-{issue_id}",
        "project_id": f"p-{project}",
        "project_key": project,
        "issue_type_id": "10001",
        "issue_type_name": "Story",
        "status_id": status_id,
        "status_name": name,
        "status_category_key": category,
        "assignee_account_id": assignee,
        "created": at(1),
        "updated": at(1),
        "synced_at": datetime.now(UTC),
    }


def change(cloud_id, issue_id, history_id, when, field, from_id, to_id):
    return {
        "cloud_id": cloud_id,
        "issue_id": issue_id,
        "history_id": history_id,
        "item_index": 0,
        "created": when,
        "field": field,
        "field_id": field,
        "from_id": from_id,
        "to_id": to_id,
    }


def closed_on(cloud_id, issue_id, day):
    return [
        change(cloud_id, issue_id, f"{issue_id}-s1", at(day - 1), "status", "1", "3"),
        change(cloud_id, issue_id, f"{issue_id}-s2", at(day), "status", "3", "5"),
    ]


@pytest.fixture(scope="module")
def teams(tmp_path_factory):
    directory = tmp_path_factory.mktemp("issue_teams")
    sync_file = write_sync_file(
        directory,
        alpha_projects={"DEF": {"team": "Developers"}, "BAD": {"team": "no such team"}},
    )
    document = yaml.safe_load(sync_file.read_text(encoding="utf-8"))
    document["tenants"][0]["sites"][1]["team_sync"] = {"method": "none"}
    sync_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    warehouse = directory / "warehouse.duckdb"
    new_warehouse(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        insert(
            con,
            "projects",
            [{"cloud_id": ALPHA, "id": f"p-{k}", "key": k} for k in ("OPS", "DEF", "BAD")]
            + [{"cloud_id": BETA, "id": "p-SUP", "key": "SUP"}],
        )
        insert_statuses(con, STATUS)
        insert_people(
            con, ALPHA, ["u1", "u2", "u3"], {"g-core": ("Core", ["u1"]), "g-dev": ("developers", ["u2"])}
        )
        insert(
            con,
            "issues",
            [
                issue(ALPHA, "1", "OPS", "5", assignee="u2"),  # u1 closed it, reassigned to u2 afterwards
                issue(ALPHA, "2", "OPS", "5"),  # u2 worked on it, unassigned when closed
                issue(ALPHA, "3", "OPS", "3"),  # open, assigned to u1 then unassigned again
                issue(ALPHA, "4", "OPS", "3", assignee="u2"),  # open, assigned since creation
                issue(ALPHA, "5", "OPS", "1"),  # never assigned
                issue(ALPHA, "6", "OPS", "5", assignee="u3"),  # u3 is in no team
                issue(ALPHA, "7", "DEF", "1"),  # never assigned; DEF's default team is Developers
                issue(ALPHA, "8", "DEF", "5", assignee="u1"),  # the assignee's team wins over the default
                issue(ALPHA, "9", "BAD", "1"),  # BAD's default team does not exist
                issue(BETA, "10", "SUP", "3", assignee="u9"),  # beta syncs no teams
            ],
        )
        insert(
            con,
            "issue_changelog",
            [
                change(ALPHA, "1", "1-a1", at(2), "assignee", None, "u1"),
                *closed_on(ALPHA, "1", 5),
                change(ALPHA, "1", "1-a2", at(7), "assignee", "u1", "u2"),
                change(ALPHA, "2", "2-a1", at(2), "assignee", None, "u2"),
                *closed_on(ALPHA, "2", 5),
                change(ALPHA, "2", "2-a2", at(5), "assignee", "u2", None),  # same moment as the close
                change(ALPHA, "3", "3-a1", at(2), "assignee", None, "u1"),
                change(ALPHA, "3", "3-s1", at(3), "status", "1", "3"),
                change(ALPHA, "3", "3-a2", at(4), "assignee", "u1", None),
                change(ALPHA, "4", "4-s1", at(3), "status", "1", "3"),
                *closed_on(ALPHA, "6", 4),
                *closed_on(ALPHA, "8", 4),
                change(BETA, "10", "10-s1", at(3), "status", "1", "3"),
            ],
        )
    assert run_transforms(sync_file).success
    rows = query(
        warehouse,
        "SELECT issue_id, work_assignee_account_id, team_id, team_name, team_rule FROM analytics.issue_teams",
    )
    return {issue_id: tuple(rest) for issue_id, *rest in rows}, warehouse


def test_the_team_of_whoever_was_assigned_when_the_issue_closed(teams):
    by_issue, _ = teams
    assert by_issue["1"] == ("u1", "g-core", "Core", "assignee")  # not u2, assigned after the close
    assert by_issue["2"] == ("u2", "g-dev", "developers", "assignee")  # unassigned on close: the last one


def test_open_issues_count_for_the_last_person_assigned(teams):
    by_issue, _ = teams
    assert by_issue["3"] == ("u1", "g-core", "Core", "assignee")
    assert by_issue["4"] == ("u2", "g-dev", "developers", "assignee")  # initial assignee, never changed


def test_the_project_default_team_when_nobody_in_a_team_did_the_work(teams):
    by_issue, _ = teams
    assert by_issue["7"] == (None, "g-dev", "developers", "project_default")  # matched by name, any case
    assert by_issue["8"] == ("u1", "g-core", "Core", "assignee")


def test_issues_without_a_team_say_so_and_why(teams):
    by_issue, _ = teams
    assert by_issue["5"] == (None, None, "(no team)", "none:unassigned")
    assert by_issue["6"] == ("u3", None, "(no team)", "none:assignee_in_no_team")
    assert by_issue["9"] == (None, None, "(no team)", "none:project_default_not_found")
    assert by_issue["10"] == ("u9", None, "(no team)", "none:no_team_sync")


def test_every_team_metric_uses_the_attribution(teams):
    _, warehouse = teams
    cycle = dict(query(warehouse, "SELECT issue_id, team_name FROM analytics.issue_cycle_times"))
    assert cycle["1"] == "Core" and cycle["5"] == "(no team)"
    flow_teams = query(
        warehouse,
        "SELECT project_key, team_name, sum(arrivals) FROM analytics.flow_daily GROUP BY ALL ORDER BY ALL",
    )
    assert flow_teams == [
        ("BAD", "(no team)", 1),
        ("DEF", "Core", 1),
        ("DEF", "developers", 1),
        ("OPS", "(no team)", 2),
        ("OPS", "Core", 2),
        ("OPS", "developers", 2),
        ("SUP", "(no team)", 1),
    ]
