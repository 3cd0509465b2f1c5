"""The monthly partitions of the issues assets, from the sync file's `sync.history_start`."""

from __future__ import annotations

import dagster as dg

from pipelines.config import SyncConfig


def issue_created_months(config: SyncConfig) -> dg.MonthlyPartitionsDefinition:
    """Months of issue creation from history_start's month to the current month (end_offset=1)."""
    start = config.sync.history_start.replace(day=1)
    return dg.MonthlyPartitionsDefinition(start_date=start.isoformat(), end_offset=1, timezone="UTC")
