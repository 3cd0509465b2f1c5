"""Analytics transforms (schema `analytics`): status history, cycle times, daily flow."""

from __future__ import annotations

import dagster as dg

from assets.analytics.assets import ANALYTICS_ASSETS
from assets.analytics.checks import ANALYTICS_CHECKS
from pipelines.config import SyncConfig


def build_definitions(config: SyncConfig) -> dg.Definitions:
    return dg.Definitions(assets=ANALYTICS_ASSETS, asset_checks=ANALYTICS_CHECKS)
