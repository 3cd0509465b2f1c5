"""A small simulator world loaded through the real raw assets, then the transforms: the
invariants that must hold on any data (every issue mapped, every history consistent, every user
linked or listed)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from jira_simulator.process import SimulatorProcess
from tests.assets.warehouse.engines_kit import load_raw, run_sql_areas, simulated_sync_file


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("simulated")
    with SimulatorProcess(issues=40, seed=11) as sim, pytest.MonkeyPatch.context() as env:
        env.setenv("SIM_EMAIL", sim.admin_email)
        env.setenv("SIM_API_TOKEN", sim.api_token)
        env.setenv("DLT_DATA_DIR", str(workdir / "dlt"))
        truth = sim.truth()
        sync_file = simulated_sync_file(
            sim,
            workdir,
            {
                "path": str(workdir / "warehouse.duckdb"),
                "publish_path": str(workdir / "jira_analytics.duckdb"),
            },
        )
        raw_runs = load_raw(sync_file)
        result = run_sql_areas(sync_file)
    return {"workdir": workdir, "raw_runs": raw_runs, "result": result, "truth": truth}


def query(loaded, sql):
    with duckdb.connect(str(loaded["workdir"] / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_raw_load_and_transforms_succeed(loaded):
    assert all(run.success for run in loaded["raw_runs"])
    assert loaded["result"].success
    truth_issues = sum(site["issues"]["count"] for site in loaded["truth"]["sites"].values())
    assert query(loaded, "SELECT count(*) FROM jira.issues") == [(truth_issues,)]


def test_every_issue_is_mapped(loaded):
    assert query(
        loaded,
        """
        SELECT count(*) FROM jira_raw.issues AS r
        ANTI JOIN jira.issues AS i ON i.cloud_id = r.cloud_id AND i.issue_id = r.id
        """,
    ) == [(0,)]
    assert query(
        loaded,
        """
        SELECT count(*) FROM jira.issues
        WHERE type_category NOT IN ('feature', 'bug', 'chore', 'discovery', 'incident', 'other')
            OR state NOT IN ('open', 'in_progress', 'closed')
            OR tenant_id IS NULL OR type_rule IS NULL OR state_rule LIKE '%unknown'
        """,
    ) == [(0,)]


def test_status_history_is_consistent_with_current_state(loaded):
    checks = {e.check_name: e for e in loaded["result"].get_asset_check_evaluations()}
    assert checks["status_history_consistent"].passed, checks["status_history_consistent"].description
    assert query(
        loaded,
        """
        SELECT count(*) FROM analytics.issue_status_history AS h
        JOIN jira.issues AS i USING (cloud_id, issue_id)
        WHERE h.left_at IS NULL AND h.state <> i.state
        """,
    ) == [(0,)]
    assert query(
        loaded,
        """
        SELECT count(*) FROM analytics.issue_cycle_times
        WHERE (state = 'closed') <> (closed_at IS NOT NULL)
            OR lead_time_hours < 0 OR cycle_time_hours > lead_time_hours OR in_progress_hours < 0
        """,
    ) == [(0,)]


def test_every_user_is_linked_or_listed(loaded):
    assert query(
        loaded,
        """
        SELECT count(*) FROM jira_raw.users AS u
        WHERE NOT EXISTS (SELECT 1 FROM jira.user_links AS l
                          WHERE l.cloud_id = u.cloud_id AND l.jira_account_id = u.account_id)
          AND NOT EXISTS (SELECT 1 FROM jira.unlinked_users AS x
                          WHERE x.cloud_id = u.cloud_id AND x.jira_account_id = u.account_id)
        """,
    ) == [(0,)]
    assert query(loaded, "SELECT DISTINCT source FROM jira.teams ORDER BY 1") == [
        ("groups_api",),
        ("teams_api",),
    ]


def test_the_snapshot_is_published(loaded):
    published: Path = loaded["workdir"] / "jira_analytics.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM analytics.issue_cycle_times").fetchall() == query(
            loaded, "SELECT count(*) FROM jira.issues"
        )
