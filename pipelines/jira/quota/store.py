"""Where the shared points budget lives: one row per quota pool that every run and process reads.

A decision (may this request go now?) reads and writes a pool in one transaction that holds the
pool's lock, so two processes never both spend the last points. Two implementations of the same
SQL: a SQLite file (the default, `data/quota.sqlite`; one machine) and PostgreSQL (a deployment
whose processes run on several machines). Never the warehouse: a warehouse run must not wait on
the budget's locks, and rebuilding the warehouse must not reset what the app spent this hour.

Tables (created on first use):
- `quota_pools`: per pool its quota, window (length and end), points spent by our accounting
  (`used`), the most Jira reported spent (`server_used`), and a refusal deadline
  (`exhausted_until`, set by a quota 429), and `unmetered_until` (Jira's answers carried no quota
  headers: nothing to pace);
- `quota_reservations`: points reserved by requests in flight (they expire, so a killed process
  cannot hold points forever);
- `quota_usage`: points per pool, window, tenant and purpose (fair shares, and the figures runs
  and the planner report);
- `quota_waiting`: tenants whose backfill is waiting for points now (fair shares).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pipelines.inbox.sqlite_db import SQLiteDatabase, StorageUnavailable

SCHEMA = "jira_sync_quota"  # PostgreSQL schema of the tables
# A waiting mark older than this is stale (its process stopped asking).
WAITING_FRESH_SECONDS = 5.0
# Usage rows older than this are pruned when a window closes.
KEEP_USAGE_SECONDS = 14 * 86_400

_TABLES = (
    """CREATE TABLE IF NOT EXISTS {p}quota_pools (
        pool TEXT PRIMARY KEY,
        quota DOUBLE PRECISION NOT NULL,
        window_seconds DOUBLE PRECISION NOT NULL,
        window_end DOUBLE PRECISION NOT NULL,
        used DOUBLE PRECISION NOT NULL,
        tail_used DOUBLE PRECISION NOT NULL,
        server_used DOUBLE PRECISION NOT NULL,
        exhausted_until DOUBLE PRECISION NOT NULL,
        unmetered_until DOUBLE PRECISION NOT NULL,
        learned_at DOUBLE PRECISION,
        policy TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS {p}quota_reservations (
        ticket TEXT PRIMARY KEY,
        pool TEXT NOT NULL,
        points DOUBLE PRECISION NOT NULL,
        tenant TEXT NOT NULL,
        purpose TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS {p}quota_usage (
        pool TEXT NOT NULL,
        window_end DOUBLE PRECISION NOT NULL,
        tenant TEXT NOT NULL,
        purpose TEXT NOT NULL,
        points DOUBLE PRECISION NOT NULL,
        requests INTEGER NOT NULL,
        PRIMARY KEY (pool, window_end, tenant, purpose)
    )""",
    """CREATE TABLE IF NOT EXISTS {p}quota_waiting (
        pool TEXT NOT NULL,
        tenant TEXT NOT NULL,
        purpose TEXT NOT NULL,
        seen_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (pool, tenant, purpose)
    )""",
)


class QuotaStoreError(RuntimeError):
    """The budget store cannot be opened or written; the message names it and what to check."""


@dataclass
class PoolRow:
    """One pool's state. Times are epoch seconds on this machine's clock."""

    pool: str
    quota: float
    window_seconds: float
    window_end: float
    used: float = 0.0
    # spent in the window's last seconds, which Jira may already count in the next window
    tail_used: float = 0.0
    server_used: float = 0.0
    exhausted_until: float = 0.0
    # Jira answered without any quota header (a site or era without points): no pacing until then.
    unmetered_until: float = 0.0
    learned_at: float | None = None  # when Jira's headers last described the pool
    policy: str = "global-app-quota"


@dataclass(frozen=True)
class Usage:
    """Points and requests of one tenant and purpose in one window."""

    tenant: str
    purpose: str
    points: float
    requests: int


_COLUMNS = tuple(f.name for f in fields(PoolRow))


class PoolTransaction:
    """A pool locked for one decision: its row (write it back by changing `row`) and its tables."""

    def __init__(self, store: BudgetStore, cursor: Any, row: PoolRow) -> None:
        self._store = store
        self._cursor = cursor
        self.row = row

    def _run(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self._store.execute(self._cursor, sql, params)

    def in_flight(self, now: float) -> float:
        rows = self._run(
            "SELECT COALESCE(SUM(points), 0) FROM {p}quota_reservations WHERE pool = ? AND expires_at > ?",
            (self.row.pool, now),
        )
        return float(rows[0][0])

    def usage(self) -> list[Usage]:
        """Per tenant and purpose, this window."""
        rows = self._run(
            "SELECT tenant, purpose, points, requests FROM {p}quota_usage WHERE pool = ? AND window_end = ?",
            (self.row.pool, self.row.window_end),
        )
        return [Usage(str(t), str(p), float(points), int(n)) for t, p, points, n in rows]

    def waiting_tenants(self, purpose: str, now: float) -> set[str]:
        rows = self._run(
            "SELECT tenant FROM {p}quota_waiting WHERE pool = ? AND purpose = ? AND seen_at > ?",
            (self.row.pool, purpose, now - WAITING_FRESH_SECONDS),
        )
        return {str(r[0]) for r in rows}

    def reserve(self, ticket: str, points: float, tenant: str, purpose: str, expires_at: float) -> None:
        self._run(
            "INSERT INTO {p}quota_reservations (ticket, pool, points, tenant, purpose, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (ticket, self.row.pool, points, tenant, purpose, expires_at),
        )

    def release(self, ticket: str) -> None:
        self._run("DELETE FROM {p}quota_reservations WHERE ticket = ?", (ticket,))

    def add_usage(self, tenant: str, purpose: str, points: float) -> None:
        self._run(
            "INSERT INTO {p}quota_usage (pool, window_end, tenant, purpose, points, requests) "
            "VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (pool, window_end, tenant, purpose) DO UPDATE "
            "SET points = {p}quota_usage.points + excluded.points, requests = {p}quota_usage.requests + 1",
            (self.row.pool, self.row.window_end, tenant, purpose, points),
        )

    def mark_waiting(self, tenant: str, purpose: str, now: float) -> None:
        self._run(
            "INSERT INTO {p}quota_waiting (pool, tenant, purpose, seen_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (pool, tenant, purpose) DO UPDATE SET seen_at = excluded.seen_at",
            (self.row.pool, tenant, purpose, now),
        )

    def clear_waiting(self, tenant: str, purpose: str) -> None:
        self._run(
            "DELETE FROM {p}quota_waiting WHERE pool = ? AND tenant = ? AND purpose = ?",
            (self.row.pool, tenant, purpose),
        )

    def prune(self, now: float) -> None:
        """Forget expired reservations and old usage (when a window closes)."""
        self._run("DELETE FROM {p}quota_reservations WHERE expires_at <= ?", (now,))
        self._run("DELETE FROM {p}quota_usage WHERE window_end < ?", (now - KEEP_USAGE_SECONDS,))


class BudgetStore(ABC):
    """The SQL both stores share; a subclass supplies connections, locking and the placeholder."""

    prefix = ""
    placeholder = "?"

    @abstractmethod
    @contextmanager
    def _locked(self, pool: str) -> Iterator[Any]:
        """A cursor inside a transaction that holds `pool`'s lock."""

    @abstractmethod
    def describe(self) -> str:
        """Where the store is (no credentials)."""

    def execute(self, cursor: Any, sql: str, params: tuple = ()) -> list[tuple]:
        text = sql.replace("{p}", self.prefix)
        if self.placeholder != "?":
            text = text.replace("?", self.placeholder)
        cursor.execute(text, params)
        return list(cursor.fetchall()) if cursor.description is not None else []

    def _ensure_pool(self, cursor: Any, defaults: PoolRow) -> None:
        names = ", ".join(_COLUMNS)
        marks = ", ".join("?" for _ in _COLUMNS)
        self.execute(
            cursor,
            f"INSERT INTO {{p}}quota_pools ({names}) VALUES ({marks}) ON CONFLICT (pool) DO NOTHING",
            tuple(getattr(defaults, c) for c in _COLUMNS),
        )

    def _read_pool(self, cursor: Any, pool: str, lock: str = "") -> PoolRow:
        rows = self.execute(
            cursor, f"SELECT {', '.join(_COLUMNS)} FROM {{p}}quota_pools WHERE pool = ?{lock}", (pool,)
        )
        return PoolRow(*rows[0])

    def _write_pool(self, cursor: Any, row: PoolRow) -> None:
        sets = ", ".join(f"{c} = ?" for c in _COLUMNS[1:])
        self.execute(
            cursor,
            f"UPDATE {{p}}quota_pools SET {sets} WHERE pool = ?",
            (*(getattr(row, c) for c in _COLUMNS[1:]), row.pool),
        )

    @contextmanager
    def transaction(self, defaults: PoolRow) -> Iterator[PoolTransaction]:
        """The pool (created from `defaults` if new) locked; changes to `.row` are written back."""
        with self._locked(defaults.pool) as cursor:
            transaction = PoolTransaction(self, cursor, self._read_pool_locked(cursor, defaults))
            yield transaction
            self._write_pool(cursor, transaction.row)

    def _read_pool_locked(self, cursor: Any, defaults: PoolRow) -> PoolRow:
        self._ensure_pool(cursor, defaults)
        return self._read_pool(cursor, defaults.pool)

    def pools(self) -> list[PoolRow]:
        """Every pool's row (for reports; no lock)."""
        with self._locked("") as cursor:
            rows = self.execute(cursor, f"SELECT {', '.join(_COLUMNS)} FROM {{p}}quota_pools ORDER BY pool")
        return [PoolRow(*r) for r in rows]

    def usage_history(self, pool: str, since: float) -> list[tuple[float, Usage]]:
        """(window end, usage) of every window of `pool` that ended after `since`."""
        with self._locked("") as cursor:
            rows = self.execute(
                cursor,
                "SELECT window_end, tenant, purpose, points, requests FROM {p}quota_usage "
                "WHERE pool = ? AND window_end > ? ORDER BY window_end",
                (pool, since),
            )
        return [(float(end), Usage(str(t), str(p), float(pts), int(n))) for end, t, p, pts, n in rows]

    def close(self) -> None:  # noqa: B027 - optional for subclasses
        """Release connections."""


class SqliteBudgetStore(BudgetStore):
    """The budget in a SQLite file (WAL): every process on this machine shares it."""

    def __init__(self, path: Path | str) -> None:
        # Absolute: each thread opens its own connection, and a relative path would name another
        # (empty) file once something changed the working directory.
        self.path = Path(path).absolute()
        self._tuned = threading.local()
        try:
            self.db = SQLiteDatabase(self.path, busy_timeout_ms=30_000)
            self.db.ensure_schema(
                "; ".join(t.replace("{p}", "").replace("DOUBLE PRECISION", "REAL") for t in _TABLES) + ";"
            )
        except StorageUnavailable as exc:
            raise QuotaStoreError(
                f"the quota budget store {self.path} cannot be used ({exc}); check quota.store in the sync file"
            ) from None

    def describe(self) -> str:
        return f"SQLite {self.path}"

    @contextmanager
    def _locked(self, pool: str) -> Iterator[Any]:
        if not getattr(self._tuned, "done", False):
            # A budget row lost to a power cut costs nothing worth an fsync per request: the WAL is
            # synced at checkpoints only, so a decision holds the file's lock for microseconds.
            self.db.connection().execute("PRAGMA synchronous = NORMAL")
            self._tuned.done = True
        try:
            with self.db.write() as connection:  # BEGIN IMMEDIATE: the file's write lock
                yield connection.cursor()
        except StorageUnavailable as exc:
            raise QuotaStoreError(f"the quota budget store failed: {exc}") from None

    def close(self) -> None:
        self.db.close()


class PostgresBudgetStore(BudgetStore):
    """The budget in PostgreSQL (schema `jira_sync_quota`): processes on any machine share it.

    One connection per thread; a decision locks its pool's row (`SELECT ... FOR UPDATE`).
    """

    prefix = f"{SCHEMA}."
    placeholder = "%s"

    def __init__(self, url: str, env_name: str) -> None:
        try:
            import psycopg2
        except ImportError:
            raise QuotaStoreError(
                "quota.store_url_env names a PostgreSQL store, but psycopg2 is not installed; "
                "run pip install -e '.[postgres]'"
            ) from None
        self._psycopg2 = psycopg2
        self.url = url
        self.env_name = env_name
        self._local = threading.local()
        self._all: list[Any] = []
        self._all_lock = threading.Lock()
        with self._connection() as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            for table in _TABLES:
                cursor.execute(table.replace("{p}", self.prefix))

    def describe(self) -> str:
        return f"PostgreSQL (the connection string in {self.env_name}), schema {SCHEMA}"

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        connection = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            try:
                connection = self._psycopg2.connect(self.url, connect_timeout=30)
            except self._psycopg2.Error as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise QuotaStoreError(
                    f"cannot connect to the quota budget store ({self.describe()}): {first}"
                ) from None
            self._local.connection = connection
            with self._all_lock:
                self._all.append(connection)
        try:
            with connection:  # one transaction: commit on success, rollback on error
                yield connection
        except self._psycopg2.Error as exc:
            raise QuotaStoreError(f"the quota budget store failed ({self.describe()}): {exc}") from None

    @contextmanager
    def _locked(self, pool: str) -> Iterator[Any]:
        with self._connection() as connection, connection.cursor() as cursor:
            yield cursor

    def _read_pool_locked(self, cursor: Any, defaults: PoolRow) -> PoolRow:
        self._ensure_pool(cursor, defaults)
        return self._read_pool(cursor, defaults.pool, " FOR UPDATE")

    def close(self) -> None:
        with self._all_lock:
            connections, self._all = self._all, []
        for connection in connections:
            connection.close()
        self._local = threading.local()
