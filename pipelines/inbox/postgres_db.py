"""One PostgreSQL database shared by receivers and drains on any number of hosts: per-thread
connections, schema `jira_sync_inbox` created once under an advisory lock.

The counterpart of `sqlite_db.SQLiteDatabase` for the receiver's storage when receivers scale out
(`webhooks.inbox_url_env`). Commits are durable before they return (PostgreSQL's default
`synchronous_commit = on`: the WAL is flushed), so an acknowledged delivery survives a crash of
the receiver, of the database server or of its machine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from pipelines.inbox.sqlite_db import StorageUnavailable

T = TypeVar("T")
SCHEMA = "jira_sync_inbox"
_DDL_LOCK = "jira_sync_inbox.ddl"


def psycopg2_module() -> Any:
    try:
        import psycopg2
        import psycopg2.extras
    except ImportError:  # pragma: no cover - the postgres extra is missing
        raise StorageUnavailable(
            "a PostgreSQL inbox needs psycopg2: pip install -e '.[postgres]' (or psycopg2-binary)"
        ) from None
    return psycopg2


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return "the PostgreSQL inbox"
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


class PostgresDatabase:
    """Thread-local autocommit connections to one PostgreSQL database (schema `jira_sync_inbox`)."""

    def __init__(
        self, url: str, *, application_name: str = "jira-sync inbox", connect_timeout: int = 10
    ) -> None:
        self.url = url
        self.application_name = application_name
        self.connect_timeout = connect_timeout
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PostgresDatabase({redact(self.url)!r})"

    def connection(self) -> Any:
        """This thread's connection (opened on first use, reopened after it broke)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None and not connection.closed:
            return connection
        psycopg2 = psycopg2_module()
        try:
            connection = psycopg2.connect(
                self.url, application_name=self.application_name, connect_timeout=self.connect_timeout
            )
        except psycopg2.Error as exc:
            raise StorageUnavailable(f"cannot connect to {redact(self.url)}: {str(exc).strip()}") from None
        connection.autocommit = True
        self._local.connection = connection
        with self._lock:
            self._connections.append(connection)
        return connection

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor in one committed transaction; any database failure becomes `StorageUnavailable`."""
        psycopg2 = psycopg2_module()
        connection = self.connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute("BEGIN")
                try:
                    yield cursor
                    cursor.execute("COMMIT")
                except BaseException:
                    with suppress(psycopg2.Error):
                        cursor.execute("ROLLBACK")
                    raise
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            with suppress(psycopg2.Error):
                connection.close()  # the next call reconnects
            raise StorageUnavailable(f"{redact(self.url)}: {str(exc).strip()}") from None
        except psycopg2.Error as exc:
            raise StorageUnavailable(f"{redact(self.url)}: write failed: {str(exc).strip()}") from None

    def run(self, statements: Callable[[Any], T]) -> T:
        """`statements(cursor)` in autocommit mode (each statement its own transaction)."""
        psycopg2 = psycopg2_module()
        connection = self.connection()
        try:
            with connection.cursor() as cursor:
                return statements(cursor)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            with suppress(psycopg2.Error):
                connection.close()
            raise StorageUnavailable(f"{redact(self.url)}: {str(exc).strip()}") from None
        except psycopg2.Error as exc:
            raise StorageUnavailable(f"{redact(self.url)}: {str(exc).strip()}") from None

    def ensure_schema(self, ddl: str) -> None:
        """Idempotent DDL in one transaction, one process at a time (concurrent CREATE ... IF NOT
        EXISTS can still collide in PostgreSQL's catalogs)."""
        with self.transaction() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_DDL_LOCK])
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            cursor.execute(ddl)

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            with suppress(Exception):
                connection.close()
        self._local = threading.local()
