"""The SQLite webhook inbox: accepted deliveries wait here until Dagster drains them into DuckDB.

The receiver never opens the warehouse (DuckDB allows one writing process per file); it commits
each accepted event here before it answers 2xx, and the Dagster drain reads `pending()` and calls
`mark_drained()` after its warehouse commit.

`SQLiteInbox` implements `InboxStore` (pipelines/inbox/store.py) with one embedded file (WAL,
`synchronous=FULL`, `busy_timeout`, `BEGIN IMMEDIATE`). Several receiver processes on one host
share one inbox file; across hosts, a database-backed `InboxStore` slots in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import chain
from pathlib import Path

from pipelines.inbox.events import EventKey, InboxEvent, InboxStats, QuarantinedEvent, WebhookEvent
from pipelines.inbox.sqlite_db import SQLiteDatabase, StorageUnavailable
from pipelines.inbox.store import InboxUnavailable

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox_events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      TEXT    NOT NULL,
    cloud_id       TEXT    NOT NULL,
    identifier     TEXT    NOT NULL,  -- X-Atlassian-Webhook-Identifier: stable across retries
    event          TEXT    NOT NULL,  -- jira:issue_created | jira:issue_updated | jira:issue_deleted
    issue_id       TEXT    NOT NULL,
    issue_key      TEXT,
    jira_timestamp INTEGER NOT NULL,  -- the payload's `timestamp`, epoch milliseconds
    received_at    TEXT    NOT NULL,  -- ISO 8601 UTC, when this receiver accepted it
    retry_count    INTEGER NOT NULL,  -- X-Atlassian-Webhook-Retry of the stored delivery (0 = first)
    payload        TEXT    NOT NULL,  -- the raw JSON body as Jira sent it
    drained_at     TEXT,              -- ISO 8601 UTC, set by the drain after its warehouse commit
    UNIQUE (tenant_id, cloud_id, identifier)
);
CREATE INDEX IF NOT EXISTS inbox_events_pending ON inbox_events (seq) WHERE drained_at IS NULL;
CREATE TABLE IF NOT EXISTS quarantined_events (
    tenant_id      TEXT    NOT NULL,
    cloud_id       TEXT    NOT NULL,
    identifier     TEXT    NOT NULL,
    seq            INTEGER NOT NULL,  -- the inbox_events row it was drained from
    event          TEXT    NOT NULL,
    issue_id       TEXT    NOT NULL,
    issue_key      TEXT,
    jira_timestamp INTEGER NOT NULL,
    received_at    TEXT    NOT NULL,
    retry_count    INTEGER NOT NULL,
    payload        TEXT    NOT NULL,  -- the raw JSON body, as stored
    reason         TEXT    NOT NULL,  -- why the drain could not apply it
    quarantined_at TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, cloud_id, identifier)
);
CREATE TABLE IF NOT EXISTS receiver_heartbeats (
    receiver   TEXT PRIMARY KEY,  -- host:pid of a receiver process
    beat_at    TEXT NOT NULL
);
"""

_COLUMNS = (
    "seq, tenant_id, cloud_id, identifier, event, issue_id, issue_key, jira_timestamp, "
    "received_at, retry_count, payload, drained_at"
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _event_from_row(row: tuple) -> InboxEvent:
    return InboxEvent(
        seq=row[0],
        tenant_id=row[1],
        cloud_id=row[2],
        identifier=row[3],
        event=row[4],
        issue_id=row[5],
        issue_key=row[6],
        jira_timestamp_ms=row[7],
        received_at=datetime.fromisoformat(row[8]),
        retry_count=row[9],
        payload_json=row[10],
        drained_at=_parse_iso(row[11]),
    )


# A delivery's columns: an inbox row without seq and drained_at, in `_row`'s order.
_DELIVERY_COLUMNS = (
    "tenant_id, cloud_id, identifier, event, issue_id, issue_key, jira_timestamp, received_at, "
    "retry_count, payload"
)


_INSERT_CHUNK = 400  # 10 bound values per row; SQLite allows 32766 per statement


@lru_cache(maxsize=64)
def _insert_sql(count: int) -> str:
    values = ",".join(["(?,?,?,?,?,?,?,?,?,?)"] * count)
    return (
        f"INSERT INTO inbox_events ({_DELIVERY_COLUMNS}) VALUES {values} "
        "ON CONFLICT (tenant_id, cloud_id, identifier) DO NOTHING"
    )


@lru_cache(maxsize=64)
def _newest_keys_sql(count: int) -> str:
    values = ",".join(["(?,?,?)"] * count)
    return (
        f"WITH batch (tenant_id, cloud_id, identifier) AS (VALUES {values}) "
        "SELECT e.tenant_id, e.cloud_id, e.identifier FROM batch CROSS JOIN inbox_events e "
        "ON e.tenant_id = batch.tenant_id AND e.cloud_id = batch.cloud_id AND e.identifier = batch.identifier "
        "WHERE e.seq <= ? ORDER BY e.seq DESC LIMIT ?"
    )


def _insert_chunk(connection: sqlite3.Connection, chunk: list[tuple]) -> set[tuple[str, str, str]]:
    """Insert rows (ON CONFLICT DO NOTHING); the keys this statement stored.

    Usually all of them (the statement's row count says so). Otherwise each key is in the table
    once, and the rows stored by this statement are the newest `rowcount` of the chunk's keys up
    to its last rowid (rows stored later by others have higher seqs).
    """
    cursor = connection.execute(_insert_sql(len(chunk)), list(chain.from_iterable(chunk)))
    count, last_seq = cursor.rowcount, cursor.lastrowid
    if count == len(chunk):
        return {row[:3] for row in chunk}
    if count == 0:
        return set()
    keys = list(dict.fromkeys(row[:3] for row in chunk))
    newest = connection.execute(_newest_keys_sql(len(keys)), [*chain.from_iterable(keys), last_seq, count])
    return set(newest.fetchall())


def _row(item: WebhookEvent | InboxEvent) -> tuple:
    return (
        item.tenant_id,
        item.cloud_id,
        item.identifier,
        item.event,
        item.issue_id,
        item.issue_key,
        item.jira_timestamp_ms,
        _iso(item.received_at),
        item.retry_count,
        item.payload_json,
    )


def _event_key(item: EventKey | InboxEvent | WebhookEvent) -> EventKey:
    if isinstance(item, EventKey):
        return item
    if isinstance(item, InboxEvent | WebhookEvent):
        return item.key
    raise TypeError(
        f"mark_drained() takes InboxEvent or EventKey(tenant_id, cloud_id, identifier) items, got "
        f"{type(item).__name__}: a webhook identifier is unique within one site only"
    )


@dataclass
class SQLiteClaim:
    """Pending events handed to one drain; marks go straight to the inbox."""

    events: list[InboxEvent]
    inbox: SQLiteInbox

    def mark_drained(self, keys: Iterable[EventKey | InboxEvent]) -> int:
        return self.inbox.mark_drained(keys)

    def quarantine(self, items: Sequence[tuple[InboxEvent, str]]) -> int:
        return self.inbox.quarantine(items)


class SQLiteInbox:
    """The SQLite inbox (one WAL file): safe for many threads and processes at once.

    Every commit is synced (`synchronous=FULL`), so an event acknowledged by the receiver survives
    a crash of the process or of the machine.
    """

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        try:
            self._db = SQLiteDatabase(self.path, busy_timeout_ms=busy_timeout_ms)
            self._db.ensure_schema(f"{_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION};")
        except StorageUnavailable as exc:
            raise InboxUnavailable(
                f"webhook inbox unavailable: {exc} (set webhooks.inbox in the sync file or --inbox)"
            ) from exc

    def __repr__(self) -> str:
        return f"SQLiteInbox({str(self.path)!r})"

    def store(self, events: Sequence[WebhookEvent]) -> list[bool]:
        """Commit a batch; True where newly stored, False for an identifier already stored.

        Python's sqlite3 releases the GIL around every statement step, and a writer thread that
        gives the GIL up waits for the busy event loop to hand it back. So a batch of up to 400
        events is one multi-row `INSERT ... ON CONFLICT DO NOTHING` in autocommit mode: a single
        step takes the write lock (waiting up to busy_timeout, like BEGIN IMMEDIATE), inserts,
        commits and syncs. Larger batches are one BEGIN IMMEDIATE transaction of such chunks.
        Rows are inserted in order, so of two deliveries with one identifier in a batch the
        first is stored and the second is a duplicate, as if they had come one after the other.
        """
        if not events:
            return []
        rows = [_row(item) for item in events]
        if len(rows) <= _INSERT_CHUNK:
            inserted = self._db.write_statement(lambda connection: _insert_chunk(connection, rows))
        else:
            inserted = set()
            with self._db.write() as connection:
                for start in range(0, len(rows), _INSERT_CHUNK):
                    inserted |= _insert_chunk(connection, rows[start : start + _INSERT_CHUNK])
        stored: list[bool] = []
        for row in rows:
            key = row[:3]
            is_new = key in inserted
            if is_new:
                inserted.discard(key)  # a second delivery with this key in the batch is a duplicate
            stored.append(is_new)
        return stored

    def pending(self, limit: int = 1000, *, after_seq: int = 0) -> list[InboxEvent]:
        """Undrained events in arrival order (oldest first), at most `limit`."""
        rows = (
            self._db.connection()
            .execute(
                f"SELECT {_COLUMNS} FROM inbox_events WHERE drained_at IS NULL AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (after_seq, limit),
            )
            .fetchall()
        )
        return [_event_from_row(row) for row in rows]

    def get(self, key: EventKey) -> InboxEvent | None:
        row = (
            self._db.connection()
            .execute(
                f"SELECT {_COLUMNS} FROM inbox_events WHERE tenant_id = ? AND cloud_id = ? AND identifier = ?",
                tuple(key),
            )
            .fetchone()
        )
        return None if row is None else _event_from_row(row)

    @contextmanager
    def claim(self, limit: int = 1000, *, after_seq: int = 0) -> Iterator[SQLiteClaim]:
        """Pending events for the drain (nothing is locked: SQLite drains run one at a time, in the
        warehouse pool; holding the write lock would stop the receivers)."""
        yield SQLiteClaim(self.pending(limit, after_seq=after_seq), self)

    def mark_drained(self, keys: Iterable[EventKey | InboxEvent]) -> int:
        """Mark events drained (call after the warehouse commit); returns how many changed."""
        params = [(_iso(datetime.now(UTC)), *_event_key(item)) for item in keys]
        if not params:
            return 0
        with self._db.write() as connection:
            before = connection.total_changes
            connection.executemany(
                "UPDATE inbox_events SET drained_at = ? "
                "WHERE tenant_id = ? AND cloud_id = ? AND identifier = ? AND drained_at IS NULL",
                params,
            )
            return connection.total_changes - before

    def quarantine(self, items: Sequence[tuple[InboxEvent, str]]) -> int:
        """Copy events with their reason into `quarantined_events` and take them off the pending
        list, in one transaction. Quarantining again (a replayed batch) only updates the reason."""
        now = _iso(datetime.now(UTC))
        rows = [(*_row(event), event.seq, reason, now) for event, reason in items]
        if not rows:
            return 0
        with self._db.write() as connection:
            connection.executemany(
                f"INSERT INTO quarantined_events ({_DELIVERY_COLUMNS}, seq, reason, quarantined_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (tenant_id, cloud_id, identifier) "
                "DO UPDATE SET reason = excluded.reason, quarantined_at = excluded.quarantined_at, "
                "seq = excluded.seq, payload = excluded.payload",
                rows,
            )
            connection.executemany(
                "UPDATE inbox_events SET drained_at = ? "
                "WHERE tenant_id = ? AND cloud_id = ? AND identifier = ? AND drained_at IS NULL",
                [(now, *event.key) for event, _ in items],
            )
        return len(rows)

    def quarantined(self, limit: int = 100) -> list[QuarantinedEvent]:
        rows = (
            self._db.connection()
            .execute(
                f"SELECT seq, {_DELIVERY_COLUMNS}, reason, quarantined_at FROM quarantined_events "
                "ORDER BY quarantined_at, seq LIMIT ?",
                (limit,),
            )
            .fetchall()
        )
        return [
            QuarantinedEvent(
                event=_event_from_row((*row[:11], None)),
                reason=row[11],
                quarantined_at=datetime.fromisoformat(row[12]),
            )
            for row in rows
        ]

    def release_quarantined(self, keys: Iterable[EventKey] | None = None) -> int:
        """Back to pending as new arrivals (a new seq: sensors that follow the highest seq see
        them), each in its original form; the quarantine row goes."""
        chosen = None if keys is None else [tuple(_event_key(k)) for k in keys]
        if chosen == []:
            return 0
        where = (
            ""
            if chosen is None
            else (
                "WHERE (tenant_id, cloud_id, identifier) IN (VALUES "
                + ",".join(["(?,?,?)"] * len(chosen))
                + ")"
            )
        )
        params = [] if chosen is None else list(chain.from_iterable(chosen))
        with self._db.write() as connection:
            connection.execute(
                "DELETE FROM inbox_events WHERE (tenant_id, cloud_id, identifier) IN "
                f"(SELECT tenant_id, cloud_id, identifier FROM quarantined_events {where})",
                params,
            )
            connection.execute(
                f"INSERT INTO inbox_events ({_DELIVERY_COLUMNS}) "
                f"SELECT {_DELIVERY_COLUMNS} FROM quarantined_events {where} ORDER BY seq",
                params,
            )
            return connection.execute(f"DELETE FROM quarantined_events {where}", params).rowcount

    def purge_drained(self, older_than: timedelta) -> int:
        """Delete events drained more than `older_than` ago (retention); returns how many."""
        cutoff = _iso(datetime.now(UTC) - older_than)
        with self._db.write() as connection:
            cursor = connection.execute(
                "DELETE FROM inbox_events WHERE drained_at IS NOT NULL AND drained_at < ?", (cutoff,)
            )
            return cursor.rowcount

    def stats(self) -> InboxStats:
        connection = self._db.connection()
        total, last_seq, last_received = connection.execute(
            "SELECT count(*), coalesce(max(seq), 0), max(received_at) FROM inbox_events"
        ).fetchone()
        pending, oldest_pending = connection.execute(
            "SELECT count(*), min(received_at) FROM inbox_events WHERE drained_at IS NULL"
        ).fetchone()
        (quarantined,) = connection.execute("SELECT count(*) FROM quarantined_events").fetchone()
        return InboxStats(
            total=total,
            pending=pending,
            drained=total - pending,
            last_seq=last_seq,
            oldest_pending_received_at=_parse_iso(oldest_pending),
            last_received_at=_parse_iso(last_received),
            quarantined=quarantined,
        )

    def heartbeat(self, receiver: str) -> None:
        with self._db.write() as connection:
            connection.execute(
                "INSERT INTO receiver_heartbeats (receiver, beat_at) VALUES (?, ?) "
                "ON CONFLICT (receiver) DO UPDATE SET beat_at = excluded.beat_at",
                (receiver, _iso(datetime.now(UTC))),
            )

    def close(self) -> None:
        self._db.close()
