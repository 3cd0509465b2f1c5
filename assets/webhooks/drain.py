"""Draining one batch of inbox deliveries: screen, apply, and set aside what cannot be applied.

A delivery that cannot be applied must never hold the others back (peers' webhook pipelines stop
at the first bad event and stay stopped until someone edits the queue by hand). So:

1. **Screen**: every delivery is parsed with the receiver's own check
   (`pipelines.webhooks.payload.parse_delivery`); one that fails - stored by an older receiver,
   edited by hand - is quarantined with the reason, before any SQL.
2. **Apply** the rest in one DuckDB transaction (`apply.apply_events`). If that fails because of
   the data (a conversion, a constraint, a value Python or Arrow refuses), the transaction is
   rolled back and the batch is split in halves, each applied on its own, down to the single
   delivery that fails, which is quarantined with the error. Every apply step is idempotent, so
   halves re-applied after a failed whole are correct.
3. Failures that are not about one delivery (the warehouse is locked, out of disk or memory, a
   table has the wrong shape) are raised: nothing is marked, the run fails and the inbox sensor
   retries it. If more than `max(10, 10%)` of a batch would be quarantined by step 2, the cause is
   taken to be systemic and the error is raised instead of quarantining the batch.

The caller marks the applied deliveries drained and the rest quarantined only after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import msgspec
import pyarrow as pa

from assets.core.sql import transaction
from assets.warehouse import Warehouse, postgres_data_errors
from assets.webhooks.apply import ApplySummary, apply_events
from pipelines.config import SyncConfig
from pipelines.inbox.events import InboxEvent
from pipelines.webhooks.payload import DeliveryError, parse_delivery

# Errors caused by the values of a delivery, not by the warehouse or the code path.
DATA_ERRORS: tuple[type[BaseException], ...] = (
    duckdb.DataError,
    duckdb.IntegrityError,
    duckdb.ConversionException,
    duckdb.InvalidInputException,
    ValueError,
    TypeError,
    KeyError,
    pa.ArrowException,
    msgspec.ValidationError,
    *postgres_data_errors(),
)
REASON_LIMIT = 2000  # characters of an error kept as the quarantine reason


@dataclass
class DrainedBatch:
    """What one batch did: its apply summary, and which deliveries to mark how."""

    summary: ApplySummary = field(default_factory=ApplySummary)
    applied: list[InboxEvent] = field(default_factory=list)
    quarantined: list[tuple[InboxEvent, str]] = field(default_factory=list)


def screen(events: Sequence[InboxEvent]) -> tuple[list[InboxEvent], list[tuple[InboxEvent, str]]]:
    """Split deliveries into those the receiver's check accepts and those it refuses (with why)."""
    valid: list[InboxEvent] = []
    refused: list[tuple[InboxEvent, str]] = []
    for event in events:
        try:
            parse_delivery(event.payload_json)
        except DeliveryError as exc:
            refused.append((event, f"refused by the delivery check: {exc}"[:REASON_LIMIT]))
        else:
            valid.append(event)
    return valid, refused


def drain_batch(con: Warehouse, events: Sequence[InboxEvent], config: SyncConfig) -> DrainedBatch:
    """Screen and apply `events`, committing each applied part; nothing is marked in the inbox."""
    batch = DrainedBatch()
    valid, batch.quarantined = screen(events)
    limit = max(10, len(events) // 10)
    _apply_isolating(con, valid, config, batch, limit)
    return batch


def _apply_isolating(
    con: Warehouse,
    events: list[InboxEvent],
    config: SyncConfig,
    batch: DrainedBatch,
    limit: int,
) -> None:
    if not events:
        return
    try:
        with transaction(con):
            summary = apply_events(con, events, config)
    except DATA_ERRORS as exc:
        if len(events) == 1:
            reason = f"could not be applied: {type(exc).__name__}: {exc}"[:REASON_LIMIT]
            batch.quarantined.append((events[0], reason))
            if sum(1 for _, r in batch.quarantined if r.startswith("could not be applied")) > limit:
                raise RuntimeError(
                    f"more than {limit} deliveries of one batch fail to apply ({reason}): "
                    "this looks like a warehouse problem, not bad deliveries; nothing was quarantined "
                    "for it, fix the cause and the next run retries"
                ) from exc
            return
        middle = len(events) // 2
        _apply_isolating(con, events[:middle], config, batch, limit)
        _apply_isolating(con, events[middle:], config, batch, limit)
        return
    batch.summary.add(summary)
    batch.applied.extend(events)
