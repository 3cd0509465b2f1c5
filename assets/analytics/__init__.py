"""Analytics transforms (schema `analytics`): status history, cycle times, daily flow, sprints
(with `jira.issue_sprints`) and time logged (with `jira.worklogs`)."""

from __future__ import annotations

import dagster as dg

from assets.analytics.assets import ANALYTICS_ASSETS
from assets.analytics.checks import ANALYTICS_CHECKS
from assets.analytics.sprints import SPRINT_ASSETS
from assets.analytics.worklogs import WORKLOG_ASSETS
from pipelines.config import SyncConfig

# Every asset of the area (the snapshot depends on them all).
AREA_ASSETS = [*ANALYTICS_ASSETS, *SPRINT_ASSETS, *WORKLOG_ASSETS]


def build_definitions(config: SyncConfig) -> dg.Definitions:
    return dg.Definitions(assets=AREA_ASSETS, asset_checks=ANALYTICS_CHECKS)
