"""The analyst snapshot and the flow report built from it (group `publish`)."""

from __future__ import annotations

import dagster as dg

from assets.publish.checks import analyst_snapshot_opens
from assets.publish.flow_report import flow_report
from assets.publish.snapshot import analyst_snapshot
from pipelines.config import SyncConfig


def build_definitions(config: SyncConfig) -> dg.Definitions:
    return dg.Definitions(assets=[analyst_snapshot, flow_report], asset_checks=[analyst_snapshot_opens])
