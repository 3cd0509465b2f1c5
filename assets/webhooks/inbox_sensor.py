"""Sees new rows in the receiver's inbox and asks for a webhook ingest run (no warehouse access).

The cursor is the highest inbox `seq` already handed to a run. A run drains everything pending
when it executes, so while one is queued or running the sensor waits; rows that are still
pending after the last run finished (it failed) get a bounded number of numbered retries.
"""

import dagster as dg

from assets.automation import run_tags, sensor_status
from assets.resources import SyncConfigResource
from assets.webhooks.ingest import WEBHOOK_DRAIN_KEYS, WEBHOOK_EVENTS_KEY
from pipelines.config import InboxSensorSettings, SensorSettings
from pipelines.inbox import describe, inbox_exists, inbox_location, open_inbox

INBOX_SENSOR = "jira_webhook_inbox"
INGEST_TAG = "jira_sync/webhook_ingest"
MAX_RETRIES = 3


def build_inbox_sensor(settings: SensorSettings) -> dg.SensorDefinition:
    """The sensor, on or stopped and as often as the sync file's `automation.webhook_inbox` says.

    Dagster's daemon evaluates sensors about every 5 s at best; with a run's start-up that keeps a
    change made in Jira visible in jira.issues well within a minute (see docs/webhooks.md).
    """
    return dg.sensor(
        name=INBOX_SENSOR,
        asset_selection=WEBHOOK_DRAIN_KEYS,
        minimum_interval_seconds=settings.interval_seconds,
        default_status=sensor_status(settings),
        description="Requests a webhook ingest run when the receiver's inbox holds undrained deliveries.",
    )(drain_requests)


def drain_requests(
    context: dg.SensorEvaluationContext, sync_config: SyncConfigResource
) -> dg.SensorResult | dg.SkipReason:
    location = inbox_location(sync_config.load())
    if not inbox_exists(location):
        return dg.SkipReason(
            f"no inbox at {describe(location)} yet (the receiver creates it on its first start)"
        )
    inbox = open_inbox(location)
    try:
        stats = inbox.stats()
    finally:
        inbox.close()
    cursor = int(context.cursor or 0)
    if stats.pending == 0:
        return dg.SensorResult(skip_reason="inbox fully drained", cursor=str(max(cursor, stats.last_seq)))
    runs = context.instance.get_runs(filters=dg.RunsFilter(tags={INGEST_TAG: "drain"}), limit=20)
    if any(not run.is_finished for run in runs):
        return dg.SkipReason(f"{stats.pending} pending; an ingest run is already queued or running")
    run_key = f"inbox:{stats.last_seq}"
    if stats.last_seq <= cursor:
        # Everything pending was handed to a run that finished without draining it: retry a few times.
        keys = [run.tags.get("dagster/run_key", "") for run in runs]
        attempts = sum(1 for key in keys if key == run_key or key.startswith(f"{run_key}:retry"))
        if attempts > MAX_RETRIES:
            return dg.SkipReason(
                f"{stats.pending} deliveries still pending after {attempts} ingest runs up to inbox seq "
                f"{stats.last_seq}; see the failed runs of {'/'.join(WEBHOOK_EVENTS_KEY.path)}"
            )
        run_key = f"{run_key}:retry{attempts}"
    context.log.info(f"{stats.pending} pending deliveries (last seq {stats.last_seq}): requesting {run_key}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=run_key,
                asset_selection=WEBHOOK_DRAIN_KEYS,
                tags={INGEST_TAG: "drain", **run_tags(f"sensor {INBOX_SENSOR}", "webhook drain")},
            )
        ],
        cursor=str(stats.last_seq),
    )


webhook_inbox_sensor = build_inbox_sensor(InboxSensorSettings())
