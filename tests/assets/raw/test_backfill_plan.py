"""The backfill estimate in the UI: job `plan_issues_backfill` run as Dagster runs it, against the
simulator; its observation on `jira_raw/issues` carries the plan's figures."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import dagster as dg
import pytest

from assets.definitions import build_definitions
from assets.raw.backfill_plan import ISSUES_KEY, PLAN_JOB
from jira_sync.demo_world import DemoOptions, connected_demo
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
