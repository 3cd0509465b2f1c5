"""The webhook ingest asset: drains the receiver's inbox into the warehouse, batch by batch.

Each batch is one DuckDB transaction (see apply.py); its inbox rows are marked drained only after
that commit. A crash in between replays the batch next time, which the apply steps absorb.
"""

from datetime import UTC, datetime

import dagster as dg

from assets.core.common import core_key
from assets.core.sql import transaction, transform_connection
from assets.raw.catalog import table_spec_metadata
from assets.resources import WAREHOUSE_POOL, SyncConfigResource, WarehouseResource
from assets.webhooks.apply import ApplySummary, apply_events
from pipelines.inbox import open_inbox

WEBHOOK_EVENTS_KEY = dg.AssetKey(["jira_raw", "webhook_events"])
BATCH_SIZE = 2000
# One run drains at most this many batches; the inbox sensor asks for the next run at once.
MAX_BATCHES_PER_RUN = 50


@dg.asset(
    key=WEBHOOK_EVENTS_KEY,
    group_name="webhooks",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    deps=[core_key("issues")],
    metadata=table_spec_metadata("webhook_events"),
    description=(
        "Webhook deliveries drained from the receiver's inbox: raw events (one row per cloud_id, "
        "webhook_identifier), applied to jira_raw.issues / issue_changelog / issue_deletions and to "
        "jira.issues. An event older than the stored issue never overwrites it."
    ),
)
def webhook_events(
    context: dg.AssetExecutionContext, sync_config: SyncConfigResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    sync = sync_config.load()
    if not sync.webhooks.inbox.exists():
        context.log.info(f"no inbox at {sync.webhooks.inbox} yet (the receiver creates it): nothing to drain")
        return dg.MaterializeResult(metadata={"events": 0, "inbox": str(sync.webhooks.inbox)})
    total = ApplySummary()
    batches, max_lag = 0, 0.0
    inbox = open_inbox(sync.webhooks.inbox)
    try:
        with transform_connection(warehouse) as con:
            after_seq = 0
            while batches < MAX_BATCHES_PER_RUN:
                events = inbox.pending(BATCH_SIZE, after_seq=after_seq)
                if not events:
                    break
                with transaction(con):
                    summary = apply_events(con, events, sync, load_id=f"webhook_{context.run.run_id}")
                inbox.mark_drained(events)
                committed = datetime.now(UTC)
                max_lag = max(max_lag, *((committed - e.received_at).total_seconds() for e in events))
                total.add(summary)
                batches += 1
                after_seq = events[-1].seq
            stored = (
                con.execute("SELECT count(*) FROM jira_raw.webhook_events").fetchall()[0][0]
                if batches
                else None
            )
        remaining = inbox.stats().pending
    finally:
        inbox.close()
    for note in total.notes:
        context.log.warning(note)
    metadata = {
        "events": total.events,
        "new_events": total.new_events,
        "issues_upserted": total.upserted,
        "stale_events_skipped": total.stale_skipped,
        "changelog_rows_added": total.changelog_rows,
        "issues_deleted": total.deleted,
        "jira_issues_upserted": total.core_upserted,
        "jira_issues_deleted": total.core_deleted,
        "batches": batches,
        "still_pending": remaining,
        "max_receive_to_commit_seconds": round(max_lag, 3),
    }
    if stored is not None:
        metadata["dagster/row_count"] = int(stored)
    return dg.MaterializeResult(metadata=metadata)
