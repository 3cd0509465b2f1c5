"""The webhook ingest asset: drains the receiver's inbox into the warehouse, batch by batch.

Each batch is screened and applied by `drain.drain_batch` (one DuckDB transaction, split only
when a delivery cannot be applied); its inbox rows are marked drained or quarantined only after
the warehouse commit. A crash in between replays the batch next time, which the apply steps
absorb. The `webhook_quarantine` check reports what sits in quarantine and how to retry it.
"""

from datetime import UTC, datetime

import dagster as dg

from assets.core.common import raw_key
from assets.core.sql import transform_connection
from assets.raw.catalog import table_spec_metadata
from assets.resources import WAREHOUSE_POOL, SyncConfigResource, WarehouseResource
from assets.webhooks.apply import DRAIN_TABLES, ApplySummary, prune_superseded
from assets.webhooks.drain import drain_batch
from pipelines import registry
from pipelines.inbox import describe, inbox_exists, inbox_location, open_inbox
from pipelines.inbox.store import InboxStore

WEBHOOK_EVENTS_KEY = raw_key("webhook_events")
# The drain's assets, one per table it owns: a run selects them all (the multi-asset does not split).
WEBHOOK_DRAIN_KEYS = [raw_key(table) for table in DRAIN_TABLES]
QUARANTINE_CHECK = "webhook_quarantine"
RETRY_COMMAND = "jira-sync webhooks retry-quarantined"
BATCH_SIZE = 2000
# One run drains at most this many batches; the inbox sensor asks for the next run at once.
MAX_BATCHES_PER_RUN = 50
EXAMPLES = 10


class WebhookIngestConfig(dg.Config):
    """`retry_quarantined`: put every quarantined delivery back in line first (after a fix)."""

    retry_quarantined: bool = False


@dg.multi_asset(
    name="webhook_ingest",
    specs=[
        dg.AssetSpec(
            key=raw_key(table),
            group_name="webhooks",
            kinds={"duckdb"},
            metadata=table_spec_metadata(table),
            description=registry.table(table).description,
        )
        for table in DRAIN_TABLES
    ],
    pool=WAREHOUSE_POOL,
    can_subset=False,
    description=(
        "Drains the receiver's inbox into the drain's own raw tables: every delivery "
        "(jira_raw.webhook_events, one row per cloud_id, webhook_identifier), each issue's newest "
        "delivered state (jira_raw.webhook_issues) and the delivered changelog items "
        "(jira_raw.webhook_changelog). It writes no other table; the jira assets derive the "
        "current issues from these and the REST loads. A delivery that cannot be applied is "
        "quarantined in the inbox with the reason; the others still apply."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            QUARANTINE_CHECK,
            asset=WEBHOOK_EVENTS_KEY,
            description=f"WARN while deliveries sit in quarantine; retry them after a fix with `{RETRY_COMMAND}`.",
        )
    ],
)
def webhook_ingest(
    context: dg.AssetExecutionContext,
    config: WebhookIngestConfig,
    sync_config: SyncConfigResource,
    warehouse: WarehouseResource,
):
    sync = sync_config.load()
    location = inbox_location(sync)
    if not inbox_exists(location):
        context.log.info(f"no inbox at {describe(location)} yet (the receiver creates it): nothing to drain")
        for key in WEBHOOK_DRAIN_KEYS:
            yield dg.MaterializeResult(asset_key=key, metadata={"events": 0, "inbox": describe(location)})
        yield dg.AssetCheckResult(check_name=QUARANTINE_CHECK, passed=True, description="no inbox yet")
        return
    total = ApplySummary()
    batches, max_lag, quarantined_now = 0, 0.0, 0
    inbox = open_inbox(location)
    try:
        if config.retry_quarantined:
            released = inbox.release_quarantined()
            context.log.info(f"{released} quarantined deliveries put back in line")
        with transform_connection(warehouse) as con:
            after_seq = 0
            while batches < MAX_BATCHES_PER_RUN:
                # a claim holds its events until they are marked (PostgreSQL: another drain running
                # meanwhile takes other events); a failure releases them for the next run
                with inbox.claim(BATCH_SIZE, after_seq=after_seq) as claim:
                    events = claim.events
                    if not events:
                        break
                    drained = drain_batch(con, events, sync)
                    claim.mark_drained(drained.applied)
                    claim.quarantine(drained.quarantined)
                for event, reason in drained.quarantined:
                    context.log.warning(
                        f"quarantined {event.tenant_id}/{event.cloud_id} delivery {event.identifier} "
                        f"({event.event} {event.issue_key}): {reason}"
                    )
                quarantined_now += len(drained.quarantined)
                committed = datetime.now(UTC)
                max_lag = max(max_lag, *((committed - e.received_at).total_seconds() for e in events))
                total.add(drained.summary)
                batches += 1
                after_seq = events[-1].seq
            pruned = prune_superseded(con)
            stored = (
                {
                    table: con.execute(f"SELECT count(*) FROM jira_raw.{table}").fetchall()[0][0]
                    for table in DRAIN_TABLES
                }
                if batches and total.events
                else {}
            )
        remaining = inbox.stats().pending
        check = quarantine_check(inbox)
    finally:
        inbox.close()
    run = {
        "events": total.events,
        "quarantined": quarantined_now,
        "batches": batches,
        "still_pending": remaining,
        "max_receive_to_commit_seconds": round(max_lag, 3),
    }
    written = {
        "webhook_events": {"new_events": total.new_events, "deletion_events": total.deletions},
        "webhook_issues": {
            "issues_upserted": total.upserted,
            "stale_events_skipped": total.stale_skipped,
            "superseded_rows_pruned": pruned,
        },
        "webhook_changelog": {"changelog_rows_added": total.changelog_rows},
    }
    for table in DRAIN_TABLES:
        metadata = {**run, **written[table]}
        if table in stored:
            metadata["dagster/row_count"] = int(stored[table])
        yield dg.MaterializeResult(asset_key=raw_key(table), metadata=metadata)
    yield check


def quarantine_check(inbox: InboxStore) -> dg.AssetCheckResult:
    """WARN while anything is quarantined: how many, examples with reasons, and the retry command."""
    waiting = inbox.stats().quarantined
    if not waiting:
        return dg.AssetCheckResult(
            check_name=QUARANTINE_CHECK, passed=True, description="no delivery in quarantine"
        )
    examples = [
        f"{q.event.tenant_id}/{q.event.cloud_id} {q.event.identifier} {q.event.event} "
        f"{q.event.issue_key or q.event.issue_id}: {q.reason[:300]}"
        for q in inbox.quarantined(EXAMPLES)
    ]
    return dg.AssetCheckResult(
        check_name=QUARANTINE_CHECK,
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{waiting} webhook deliveries are quarantined (they could not be applied; the others were). "
            f"Fix the cause, then retry them: `{RETRY_COMMAND}` (or materialize this asset with run "
            "config retry_quarantined: true)"
        ),
        metadata={
            "quarantined": waiting,
            "retry_command": RETRY_COMMAND,
            "examples": dg.MetadataValue.md("\n".join(f"- {line}" for line in examples)),
        },
    )
