"""The analyst snapshot (group `publish`)."""

from __future__ import annotations

import dagster as dg

from assets.publish.checks import analyst_snapshot_opens
from assets.publish.snapshot import analyst_snapshot
from pipelines.config import SyncConfig


def build_definitions(config: SyncConfig) -> dg.Definitions:
    return dg.Definitions(assets=[analyst_snapshot], asset_checks=[analyst_snapshot_opens])
