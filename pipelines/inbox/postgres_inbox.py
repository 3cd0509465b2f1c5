"""The PostgreSQL webhook inbox: receivers on any number of hosts store into one inbox, and drains
can run at the same time.

`PostgresInbox` implements `InboxStore` (pipelines/inbox/store.py) on schema `jira_sync_inbox`:

- Each delivery is stored once by (tenant, site, identifier): a multi-row `INSERT ... ON CONFLICT
  DO NOTHING RETURNING` per batch. Two receivers storing one identifier at the same moment are
  ordered by PostgreSQL's unique index (the second waits for the first's commit, then does
  nothing), so exactly one stores it whichever commits first.
- A commit returns after the WAL is flushed (`synchronous_commit` on, the default): the receiver
  acknowledges only durable deliveries.
- `claim(limit)` locks a batch of pending rows `FOR UPDATE SKIP LOCKED` in a transaction held until
  the drain marked them: a second drain running meanwhile claims the next rows instead of waiting
  or taking the same ones. A drain that dies releases its rows (the transaction rolls back) and
  the next claim replays them.

`seq` orders arrivals (an identity column). Under concurrent receivers a smaller seq can commit
after a larger one is visible, so drains page by `seq` within one run and start over at 0 in the
next, and the inbox sensor's seq cursor only decides when to ask for a run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.inbox.events import EventKey, InboxEvent, InboxStats, QuarantinedEvent, WebhookEvent
from pipelines.inbox.postgres_db import SCHEMA, PostgresDatabase, psycopg2_module, redact
from pipelines.inbox.sqlite_db import StorageUnavailable
from pipelines.inbox.store import InboxUnavailable

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.inbox_events (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      TEXT        NOT NULL,
    cloud_id       TEXT        NOT NULL,
    identifier     TEXT        NOT NULL,  -- X-Atlassian-Webhook-Identifier: stable across retries
    event          TEXT        NOT NULL,
    issue_id       TEXT        NOT NULL,
    issue_key      TEXT,
    jira_timestamp BIGINT      NOT NULL,  -- the payload's `timestamp`, epoch milliseconds
    received_at    TIMESTAMPTZ NOT NULL,  -- when a receiver accepted it
    retry_count    INTEGER     NOT NULL,  -- X-Atlassian-Webhook-Retry of the stored delivery
    payload        TEXT        NOT NULL,  -- the raw JSON body as Jira sent it
    drained_at     TIMESTAMPTZ,           -- set by the drain after its warehouse commit
    UNIQUE (tenant_id, cloud_id, identifier)
);
CREATE INDEX IF NOT EXISTS inbox_events_pending ON {SCHEMA}.inbox_events (seq) WHERE drained_at IS NULL;
CREATE TABLE IF NOT EXISTS {SCHEMA}.quarantined_events (
    tenant_id      TEXT        NOT NULL,
    cloud_id       TEXT        NOT NULL,
    identifier     TEXT        NOT NULL,
    seq            BIGINT      NOT NULL,  -- the inbox_events row it was drained from
    event          TEXT        NOT NULL,
    issue_id       TEXT        NOT NULL,
    issue_key      TEXT,
    jira_timestamp BIGINT      NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL,
    retry_count    INTEGER     NOT NULL,
    payload        TEXT        NOT NULL,
    reason         TEXT        NOT NULL,  -- why the drain could not apply it
    quarantined_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, cloud_id, identifier)
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.receiver_heartbeats (
    receiver TEXT PRIMARY KEY,  -- host:pid of a receiver process
    beat_at  TIMESTAMPTZ NOT NULL
);
"""

_DELIVERY = "tenant_id, cloud_id, identifier, event, issue_id, issue_key, jira_timestamp, received_at, retry_count, payload"
_COLUMNS = f"seq, {_DELIVERY}, drained_at"
_PAGE = 1000


def _row(item: WebhookEvent | InboxEvent) -> tuple:
    return (
        item.tenant_id,
        item.cloud_id,
        item.identifier,
        item.event,
        item.issue_id,
        item.issue_key,
        item.jira_timestamp_ms,
        item.received_at,
        item.retry_count,
        item.payload_json,
    )


def _event(row: Sequence[Any]) -> InboxEvent:
    return InboxEvent(
        seq=row[0],
        tenant_id=row[1],
        cloud_id=row[2],
        identifier=row[3],
        event=row[4],
        issue_id=row[5],
        issue_key=row[6],
        jira_timestamp_ms=row[7],
        received_at=row[8],
        retry_count=row[9],
        payload_json=row[10],
        drained_at=row[11],
    )


def _key(item: EventKey | InboxEvent | WebhookEvent) -> EventKey:
    if isinstance(item, EventKey):
        return item
    if isinstance(item, InboxEvent | WebhookEvent):
        return item.key
    raise TypeError(
        f"mark_drained() takes InboxEvent or EventKey(tenant_id, cloud_id, identifier) items, got "
        f"{type(item).__name__}: a webhook identifier is unique within one site only"
    )


def _mark_drained(cursor: Any, keys: Iterable[EventKey | InboxEvent]) -> int:
    rows = [tuple(_key(item)) for item in keys]
    if not rows:
        return 0
    psycopg2_module().extras.execute_values(
        cursor,
        f"UPDATE {SCHEMA}.inbox_events AS e SET drained_at = now() FROM (VALUES %s) AS k (t, c, i) "
        "WHERE e.tenant_id = k.t AND e.cloud_id = k.c AND e.identifier = k.i AND e.drained_at IS NULL",
        rows,
        page_size=_PAGE,
    )
    return cursor.rowcount


def _quarantine(cursor: Any, items: Sequence[tuple[InboxEvent, str]]) -> int:
    if not items:
        return 0
    extras = psycopg2_module().extras
    extras.execute_values(
        cursor,
        f"INSERT INTO {SCHEMA}.quarantined_events ({_DELIVERY}, seq, reason, quarantined_at) VALUES %s "
        "ON CONFLICT (tenant_id, cloud_id, identifier) DO UPDATE SET reason = excluded.reason, "
        "quarantined_at = excluded.quarantined_at, seq = excluded.seq, payload = excluded.payload",
        [(*_row(event), event.seq, reason, datetime.now(UTC)) for event, reason in items],
        page_size=_PAGE,
    )
    _mark_drained(cursor, [event for event, _ in items])
    return len(items)


@dataclass
class PostgresClaim:
    """Pending events one drain holds until the claim ends; marks made here commit with it."""

    events: list[InboxEvent]
    _cursor: Any = field(repr=False, default=None)

    def mark_drained(self, keys: Iterable[EventKey | InboxEvent]) -> int:
        return _mark_drained(self._cursor, keys)

    def quarantine(self, items: Sequence[tuple[InboxEvent, str]]) -> int:
        return _quarantine(self._cursor, items)


class PostgresInbox:
    """The inbox in PostgreSQL (schema `jira_sync_inbox`): many receivers, concurrent drains."""

    def __init__(self, url: str, *, application_name: str = "jira-sync inbox") -> None:
        self.url = url
        self.path = redact(url)  # where it is, for health answers and logs (no password)
        self._db = PostgresDatabase(url, application_name=application_name)
        try:
            self._db.ensure_schema(_SCHEMA)
        except StorageUnavailable as exc:
            self._db.close()
            raise InboxUnavailable(
                f"webhook inbox unavailable: {exc} (the connection string in webhooks.inbox_url_env)"
            ) from None

    def __repr__(self) -> str:
        return f"PostgresInbox({redact(self.url)!r})"

    def store(self, events: Sequence[WebhookEvent]) -> list[bool]:
        """Commit a batch in one transaction; True where newly stored, False for a duplicate (stored
        before, by any receiver, or earlier in this batch)."""
        if not events:
            return []
        rows = [_row(event) for event in events]
        with self._db.transaction() as cursor:
            inserted = psycopg2_module().extras.execute_values(
                cursor,
                f"INSERT INTO {SCHEMA}.inbox_events ({_DELIVERY}) VALUES %s "
                "ON CONFLICT (tenant_id, cloud_id, identifier) DO NOTHING "
                "RETURNING tenant_id, cloud_id, identifier",
                rows,
                page_size=len(rows),
                fetch=True,
            )
        new = {tuple(row) for row in inserted}
        stored = []
        for row in rows:
            key = row[:3]
            stored.append(key in new)
            new.discard(key)  # a second delivery with this key in the batch is a duplicate
        return stored

    def pending(self, limit: int = 1000, *, after_seq: int = 0) -> list[InboxEvent]:
        """Undrained events in arrival order (oldest first), at most `limit`."""

        def read(cursor: Any) -> list[InboxEvent]:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM {SCHEMA}.inbox_events WHERE drained_at IS NULL AND seq > %s "
                "ORDER BY seq LIMIT %s",
                [after_seq, limit],
            )
            return [_event(row) for row in cursor.fetchall()]

        return self._db.run(read)

    @contextmanager
    def claim(self, limit: int = 1000, *, after_seq: int = 0) -> Iterator[PostgresClaim]:
        """Lock up to `limit` pending events for this drain (`FOR UPDATE SKIP LOCKED`) until the
        block ends: marks made through the claim commit with it; an error releases every event."""
        psycopg2 = psycopg2_module()
        try:
            connection = psycopg2.connect(self.url, application_name="jira-sync drain")
        except psycopg2.Error as exc:
            raise InboxUnavailable(f"cannot connect to {redact(self.url)}: {str(exc).strip()}") from None
        try:
            with connection:  # one transaction: commit on success, roll back on error
                cursor = connection.cursor()
                cursor.execute(
                    f"SELECT {_COLUMNS} FROM {SCHEMA}.inbox_events WHERE drained_at IS NULL AND seq > %s "
                    "ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED",
                    [after_seq, limit],
                )
                yield PostgresClaim([_event(row) for row in cursor.fetchall()], cursor)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            raise InboxUnavailable(f"{redact(self.url)}: {str(exc).strip()}") from None
        finally:
            with suppress(Exception):
                connection.close()

    def get(self, key: EventKey) -> InboxEvent | None:
        def read(cursor: Any) -> InboxEvent | None:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM {SCHEMA}.inbox_events "
                "WHERE tenant_id = %s AND cloud_id = %s AND identifier = %s",
                list(key),
            )
            row = cursor.fetchone()
            return None if row is None else _event(row)

        return self._db.run(read)

    def mark_drained(self, keys: Iterable[EventKey | InboxEvent]) -> int:
        """Mark events drained (call after the warehouse commit); returns how many changed."""
        keys = list(keys)
        if not keys:
            return 0
        for item in keys:
            _key(item)
        with self._db.transaction() as cursor:
            return _mark_drained(cursor, keys)

    def quarantine(self, items: Sequence[tuple[InboxEvent, str]]) -> int:
        """Copy events with their reason into `quarantined_events` and take them off the pending
        list, in one transaction. Quarantining again (a replayed batch) only updates the reason."""
        if not items:
            return 0
        with self._db.transaction() as cursor:
            return _quarantine(cursor, items)

    def quarantined(self, limit: int = 100) -> list[QuarantinedEvent]:
        def read(cursor: Any) -> list[QuarantinedEvent]:
            cursor.execute(
                f"SELECT seq, {_DELIVERY}, reason, quarantined_at FROM {SCHEMA}.quarantined_events "
                "ORDER BY quarantined_at, seq LIMIT %s",
                [limit],
            )
            return [
                QuarantinedEvent(event=_event((*row[:11], None)), reason=row[11], quarantined_at=row[12])
                for row in cursor.fetchall()
            ]

        return self._db.run(read)

    def release_quarantined(self, keys: Iterable[EventKey] | None = None) -> int:
        """Back to pending as new arrivals (a new seq), each in its original form."""
        chosen = None if keys is None else [list(_key(k)) for k in keys]
        if chosen == []:
            return 0
        where = (
            ""
            if chosen is None
            else "WHERE (tenant_id, cloud_id, identifier) IN (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))"
        )
        params = [] if chosen is None else [list(column) for column in zip(*chosen, strict=True)]
        with self._db.transaction() as cursor:
            cursor.execute(
                f"DELETE FROM {SCHEMA}.inbox_events WHERE (tenant_id, cloud_id, identifier) IN "
                f"(SELECT tenant_id, cloud_id, identifier FROM {SCHEMA}.quarantined_events {where})",
                params,
            )
            cursor.execute(
                f"INSERT INTO {SCHEMA}.inbox_events ({_DELIVERY}) "
                f"SELECT {_DELIVERY} FROM {SCHEMA}.quarantined_events {where} ORDER BY seq",
                params,
            )
            cursor.execute(f"DELETE FROM {SCHEMA}.quarantined_events {where}", params)
            return cursor.rowcount

    def purge_drained(self, older_than: timedelta) -> int:
        """Delete events drained more than `older_than` ago (retention); returns how many."""
        with self._db.transaction() as cursor:
            cursor.execute(
                f"DELETE FROM {SCHEMA}.inbox_events WHERE drained_at < %s",
                [datetime.now(UTC) - older_than],
            )
            return cursor.rowcount

    def stats(self) -> InboxStats:
        def read(cursor: Any) -> InboxStats:
            cursor.execute(
                f"SELECT count(*), coalesce(max(seq), 0), max(received_at), "
                "count(*) FILTER (WHERE drained_at IS NULL), min(received_at) FILTER (WHERE drained_at IS NULL), "
                f"(SELECT count(*) FROM {SCHEMA}.quarantined_events) FROM {SCHEMA}.inbox_events"
            )
            total, last_seq, last_received, pending, oldest_pending, quarantined = cursor.fetchone()
            return InboxStats(
                total=total,
                pending=pending,
                drained=total - pending,
                last_seq=last_seq,
                oldest_pending_received_at=oldest_pending,
                last_received_at=last_received,
                quarantined=quarantined,
            )

        return self._db.run(read)

    def heartbeat(self, receiver: str) -> None:
        with self._db.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {SCHEMA}.receiver_heartbeats (receiver, beat_at) VALUES (%s, now()) "
                "ON CONFLICT (receiver) DO UPDATE SET beat_at = excluded.beat_at",
                [receiver],
            )

    def close(self) -> None:
        self._db.close()
