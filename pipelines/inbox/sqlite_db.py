"""One SQLite file shared by threads and processes: per-thread connections, WAL, synced commits.

The inbox, the webhook registrations and the OAuth connect states live in the receiver's SQLite
file. Every write takes the write lock up front — a `BEGIN IMMEDIATE` transaction, or a single
write statement in autocommit mode — so two writers never deadlock on a read-to-write upgrade, and
waits up to `busy_timeout_ms` for another writer.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class StorageUnavailable(RuntimeError):
    """The receiver's SQLite file could not be opened or written."""


class SQLiteDatabase:
    """Thread-local connections to one SQLite file in WAL mode with `synchronous=FULL`.

    FULL syncs the WAL on every commit, so a committed row survives a crash of the process and of
    the machine; group commit (see `inbox_writer`) amortises that sync over concurrent requests.
    """

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            mode = self.connection().execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except (OSError, sqlite3.Error) as exc:
            self.close()
            raise StorageUnavailable(
                f"cannot open {self.path}: {exc}; check that its directory exists and is writable"
            ) from exc
        if mode.lower() != "wal":
            self.close()
            raise StorageUnavailable(f"{self.path}: SQLite refused WAL mode (journal_mode is {mode!r})")

    def __repr__(self) -> str:
        return f"SQLiteDatabase({str(self.path)!r})"

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=self.busy_timeout_ms / 1000,
            )
            connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            connection.execute("PRAGMA synchronous = FULL")
            self._local.connection = connection
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One committed write transaction; any SQLite failure becomes `StorageUnavailable`."""
        try:
            connection = self.connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            finally:
                if connection.in_transaction:
                    with suppress(sqlite3.Error):
                        connection.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise StorageUnavailable(f"{self.path}: write failed: {exc}") from exc

    def write_statement(self, statements: Callable[[sqlite3.Connection], T]) -> T:
        """Run `statements` in autocommit mode: the first (a write) is its own synced transaction,
        any later ones read after it committed. Any SQLite failure becomes `StorageUnavailable`."""
        try:
            return statements(self.connection())
        except sqlite3.Error as exc:
            raise StorageUnavailable(f"{self.path}: write failed: {exc}") from exc

    def ensure_schema(self, ddl: str) -> None:
        """Run idempotent DDL (`CREATE ... IF NOT EXISTS`) in one transaction."""
        try:
            self.connection().executescript(f"BEGIN IMMEDIATE; {ddl} COMMIT;")
        except sqlite3.Error as exc:
            with suppress(sqlite3.Error):
                self.connection().execute("ROLLBACK")
            raise StorageUnavailable(f"cannot create tables in {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()
