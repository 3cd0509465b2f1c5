"""Webhooks into the warehouse and the 30-day lifecycle: inbox drain (sensor + ingest asset),
`jira.webhook_registrations` with its expiry check, the refresh sensor, and the miss-rate check."""

from __future__ import annotations

import dagster as dg

from assets.raw.catalog import syncs_issues
from assets.webhooks.inbox_sensor import build_inbox_sensor
from assets.webhooks.ingest import webhook_ingest
from assets.webhooks.lifecycle_sensor import build_lifecycle_sensor
from assets.webhooks.miss_rate import webhook_miss_rate
from assets.webhooks.registrations import webhook_registrations
from pipelines.config import SyncConfig


def build_definitions(config: SyncConfig) -> dg.Definitions:
    """The miss-rate check needs the sweep's asset (jira_raw/issue_updates), defined when a site syncs issues."""
    return dg.Definitions(
        assets=[webhook_ingest, webhook_registrations],
        asset_checks=[webhook_miss_rate] if syncs_issues(config) else [],
        sensors=[
            build_inbox_sensor(config.automation.webhook_inbox),
            build_lifecycle_sensor(config.automation.webhook_lifecycle),
        ],
    )
