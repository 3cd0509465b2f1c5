"""Sprints and worklogs end to end: the hand-written sprint scenario served by the simulator, loaded
through the real raw assets, transformed; the sprint report equals what the scenario constructs."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from assets.definitions import build_definitions
from jira_simulator.process import SimulatorProcess
from jira_sync.truth_check import check_warehouse
from pipelines.config import load_sync_config
from tests.assets.warehouse.engines_kit import load_raw, run_sql_areas

SCENARIO = Path(__file__).resolve().parents[3] / "jira_simulator" / "scenarios" / "sprints.yaml"
COLUMNS = (
    "sprint_name, state, committed_issues, added_issues, removed_issues, completed_issues, "
    "not_completed_issues, carried_over_issues, committed_points, added_points, removed_points, "
    "completed_points, not_completed_points"
)
# By construction (the comments in sprints.yaml say why each issue counts where it does).
WORKLOGS = dg.AssetKey(["jira_raw", "worklogs"])
EXPECTED = [
    ("Alpha Sprint 1", "closed", 4, 2, 1, 3, 2, 2, 17.0, 5.0, 8.0, 8.0, 6.0),
    ("Alpha Sprint 2", "closed", 3, 0, 0, 2, 1, 0, 8.0, None, None, 6.0, 3.0),
    ("Alpha Sprint 3", "active", 1, 0, 0, 0, None, None, 5.0, None, None, None, None),
]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("sprints")
    with SimulatorProcess(scenario=SCENARIO) as sim, pytest.MonkeyPatch.context() as env:
        env.setenv("SIM_EMAIL", sim.admin_email)
        env.setenv("SIM_API_TOKEN", sim.api_token)
        env.setenv("DLT_DATA_DIR", str(workdir / "dlt"))
        truth = sim.truth()
        sites = [
            {
                "name": name,
                "url": sim.site_url(name),
                "cloud_id": cloud_id,
                "auth": {"method": "api_token", "email_env": "SIM_EMAIL", "api_token_env": "SIM_API_TOKEN"},
                "team_sync": {"method": "groups_api"},
                "issues": {"extra_fields": ["customfield_10016"]},
            }
            for name, cloud_id in sim.cloud_ids.items()
        ]
        sync_file = workdir / "jira_sync.yaml"
        sync_file.write_text(
            yaml.safe_dump(
                {
                    "version": 1,
                    "warehouse": {
                        "path": str(workdir / "warehouse.duckdb"),
                        "publish_path": str(workdir / "jira_analytics.duckdb"),
                    },
                    "atlassian": {"auth_url": sim.base_url, "api_url": sim.base_url},
                    "sync": {"history_start": "2024-01-01"},
                    "tenants": [{"id": "sprints", "sites": sites}],
                }
            )
        )
        runs = load_raw(sync_file)
        job = build_definitions(load_sync_config(sync_file)).resolve_implicit_global_asset_job_def()
        runs.append(
            job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), asset_selection=[WORKLOGS])
        )
        runs.append(run_sql_areas(sync_file))
        checks = check_warehouse(
            workdir / "warehouse.duckdb", truth, {v: k for k, v in sim.cloud_ids.items()}
        )
    return {"workdir": workdir, "runs": runs, "checks": checks}


def query(loaded, sql: str) -> list[tuple]:
    with duckdb.connect(str(loaded["workdir"] / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_boards_sprints_membership_and_worklogs_equal_the_truth(loaded) -> None:
    assert all(run.success for run in loaded["runs"])
    # team_sync is groups_api here: the organization's Atlassian Teams are not synced.
    bad = [c.line() for c in loaded["checks"] if not c.ok and c.table not in ("teams", "team_members")]
    assert not bad, bad
    checked = {c.table for c in loaded["checks"]}
    assert {"boards", "sprints", "worklogs", "jira.issue_sprints"} <= checked


def test_the_sprint_report_is_the_one_the_scenario_constructs(loaded) -> None:
    rows = query(loaded, f"SELECT {COLUMNS} FROM analytics.sprint_reports ORDER BY sprint_id")
    assert rows == EXPECTED
    assert query(loaded, "SELECT DISTINCT board_name, estimation_field_id FROM analytics.sprint_reports") == [
        ("ALPHA board", "customfield_10016")
    ]


def test_membership_over_time_keeps_every_stay(loaded) -> None:
    stays = query(
        loaded,
        """
        SELECT j.issue_key, m.sprint_id, strftime(m.joined_at, '%m-%d %H:%M'), strftime(m.left_at, '%m-%d %H:%M')
        FROM analytics.sprint_membership AS m JOIN jira.issues AS j USING (cloud_id, issue_id)
        WHERE j.issue_key IN ('ALPHA-2', 'ALPHA-4', 'ALPHA-5') ORDER BY 1, 2
        """,
    )
    assert stays == [
        ("ALPHA-2", "21", "02-29 10:00", None),  # a closed sprint stays in the field
        ("ALPHA-2", "22", "03-15 18:00", None),  # carried over when Sprint 1 completed
        ("ALPHA-4", "21", "02-28 12:00", "03-07 12:00"),  # removed
        ("ALPHA-5", "21", "03-01 09:00", None),  # created in the sprint: no history
    ]


def test_time_logged_per_issue_person_and_team(loaded) -> None:
    rows = query(
        loaded,
        "SELECT issue_key, team_name, day::VARCHAR, seconds, hours FROM analytics.time_logged ORDER BY 1, 3",
    )
    assert rows == [
        ("ALPHA-9", "(no team)", "2024-04-03", 5400, 1.5),
        ("OPS-1", "(no team)", "2024-03-05", 3600, 1.0),
        ("OPS-1", "(no team)", "2024-03-06", 7200, 2.0),
    ]
