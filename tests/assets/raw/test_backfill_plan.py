"""The backfill estimate in the UI: job `plan_issues_backfill` run as Dagster runs it, against the
simulator; its observation on `jira_raw/issues` carries the plan's figures."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import dagster as dg
import pytest

from assets.definitions import build_definitions
from assets.main_steps import ISSUES_BACKFILL_JOB
from assets.raw.backfill_plan import ISSUES_KEY, PLAN_JOB
from jira_sync.demo_world import DemoOptions, connected_demo
from jira_sync.main_job import plan_steps
from pipelines.config import load_sync_config


def test_the_plan_job_records_the_estimate_on_the_issues_asset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = DemoOptions(issues=600, seed=2, warehouse=tmp_path / "w.duckdb", demo_dir=tmp_path / "demo")
    with connected_demo(options) as demo:
        for name, value in demo.environ.items():
            monkeypatch.setitem(os.environ, name, value)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.BetaWarning)
            defs = build_definitions(load_sync_config(demo.sync_file))
        with dg.instance_for_test() as instance:
            result = defs.resolve_job_def(PLAN_JOB).execute_in_process(
                instance=instance,
                run_config={"ops": {"plan_issues_backfill_estimate": {"config": {"from_month": "2021-01"}}}},
            )
            assert result.success
            observation = instance.fetch_observations(ISSUES_KEY, limit=1).records[0].asset_observation
            # The backfill of the same window then reports what it spent beside the plan.
            whole = defs.resolve_job_def(PLAN_JOB).execute_in_process(instance=instance)
            assert whole.success
            step = next(s for s in plan_steps(defs) if s.job_name == ISSUES_BACKFILL_JOB)
            backfill = defs.resolve_job_def(ISSUES_BACKFILL_JOB).execute_in_process(
                instance=instance, tags=step.tags
            )
            assert backfill.success
            spent = backfill.get_asset_materialization_events()[0].materialization.metadata
            said = [
                e.message for e in instance.all_logs(backfill.run_id) if "backfill spent" in (e.message or "")
            ]
        truth = demo.simulator.truth()
    metadata = observation.metadata
    issues = sum(len(site["issues"]["ids"]) for site in truth["sites"].values())
    assert metadata["estimated_issues"].value == issues
    assert metadata["estimated_requests"].value > issues // 100
    assert metadata["estimated_oauth_points"].value > issues
    # The demo's app quota (quota.points_per_hour 10,000,000; 90 % of it for backfills)
    assert metadata["estimated_oauth_hours"].value == round(
        metadata["estimated_oauth_points"].value / 9_000_000, 2
    )
    assert "site acme (tenant demo) (oauth): about " in metadata["estimate"].value
    assert metadata["estimate_window"].value.startswith("2021-01-01 00:00 .. ")
    assert spent["run_estimated_requests"].value > 0 and spent["run_estimated_oauth_points"].value > 0
    # Same order of magnitude: at 600 issues the run makes ~15 requests, and how often its
    # scheduler splits windows depends on timing (a loaded machine splits more or less); the
    # planner's accuracy at scale is measured by benchmarks/quota_backfill.py (within 2 %).
    made, planned = spent["run_http_requests"].value, spent["run_estimated_requests"].value
    assert made / 2 <= planned <= made * 2, (made, planned)
    assert said and "; planned: " in said[0] and "requests" in said[0], said
