"""Raw dlt assets into `jira_raw`, generated from the sync file (only what some site selects)."""

from __future__ import annotations

import dagster as dg

from assets.raw.backfill_plan import plan_issues_backfill
from assets.raw.catalog import syncs, syncs_issues
from assets.raw.census import build_census_assets
from assets.raw.issues import build_issue_assets
from assets.raw.reference import build_reference_assets
from assets.raw.sweep import build_sweep_asset
from assets.raw.worklogs import build_worklog_asset
from pipelines.config import SyncConfig


def build_definitions(config: SyncConfig) -> dg.Definitions:
    assets: list[dg.AssetsDefinition] = build_reference_assets(config)
    jobs: list[dg.JobDefinition] = []
    if syncs_issues(config):
        assets += [build_issue_assets(config), build_sweep_asset(config), build_census_assets(config)]
        jobs.append(plan_issues_backfill)
    if syncs(config, "worklogs"):
        assets.append(build_worklog_asset(config))
    return dg.Definitions(assets=assets, jobs=jobs)
