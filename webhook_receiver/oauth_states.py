"""Server-side OAuth `state` values: random, single-use, expiring, bound to the tenant connecting.

Stored beside the inbox (the receiver's SQLite file, or the PostgreSQL inbox) so that any receiver
process - on the host, or on any host with PostgreSQL - can finish a connect flow another one started.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from pipelines.inbox import is_postgres
from pipelines.inbox.postgres_db import SCHEMA, PostgresDatabase
from pipelines.inbox.sqlite_db import SQLiteDatabase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS oauth_states (
    state      TEXT    PRIMARY KEY,
    tenant_id  TEXT    NOT NULL,
    admin      INTEGER NOT NULL,
    expires_at REAL    NOT NULL  -- epoch seconds
);
"""


@dataclass(frozen=True)
class ConnectState:
    tenant_id: str
    admin: bool


class OAuthStateStore:
    def __init__(self, path: Path | str, *, ttl_seconds: int = 600, busy_timeout_ms: int = 5000) -> None:
        self.ttl_seconds = ttl_seconds
        self._db = SQLiteDatabase(path, busy_timeout_ms=busy_timeout_ms)
        self._db.ensure_schema(_SCHEMA)

    def issue(self, tenant_id: str, *, admin: bool) -> str:
        """A fresh state for one connect attempt (expired ones are swept at the same time)."""
        state = secrets.token_urlsafe(32)
        now = time.time()
        with self._db.write() as connection:
            connection.execute("DELETE FROM oauth_states WHERE expires_at < ?", (now,))
            connection.execute(
                "INSERT INTO oauth_states (state, tenant_id, admin, expires_at) VALUES (?, ?, ?, ?)",
                (state, tenant_id, int(admin), now + self.ttl_seconds),
            )
        return state

    def consume(self, state: str) -> ConnectState | None:
        """The connect attempt a state belongs to, once: None when unknown, used or expired."""
        with self._db.write() as connection:
            rows = connection.execute(
                "DELETE FROM oauth_states WHERE state = ? RETURNING tenant_id, admin, expires_at", (state,)
            ).fetchall()
        if not rows or rows[0][2] < time.time():
            return None
        row = rows[0]
        return ConnectState(tenant_id=row[0], admin=bool(row[1]))

    def close(self) -> None:
        self._db.close()


_POSTGRES_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.oauth_states (
    state      TEXT             PRIMARY KEY,
    tenant_id  TEXT             NOT NULL,
    admin      BOOLEAN          NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL  -- epoch seconds
);
"""


class PostgresOAuthStateStore:
    """The connect states in the PostgreSQL inbox: a flow started on one receiver host finishes on
    whichever receiver the callback reaches."""

    def __init__(self, url: str, *, ttl_seconds: int = 600) -> None:
        self.ttl_seconds = ttl_seconds
        self._db = PostgresDatabase(url, application_name="jira-sync connect states")
        self._db.ensure_schema(_POSTGRES_SCHEMA)

    def issue(self, tenant_id: str, *, admin: bool) -> str:
        state = secrets.token_urlsafe(32)
        now = time.time()
        with self._db.transaction() as cursor:
            cursor.execute(f"DELETE FROM {SCHEMA}.oauth_states WHERE expires_at < %s", [now])
            cursor.execute(
                f"INSERT INTO {SCHEMA}.oauth_states VALUES (%s, %s, %s, %s)",
                [state, tenant_id, admin, now + self.ttl_seconds],
            )
        return state

    def consume(self, state: str) -> ConnectState | None:
        with self._db.transaction() as cursor:
            cursor.execute(
                f"DELETE FROM {SCHEMA}.oauth_states WHERE state = %s RETURNING tenant_id, admin, expires_at",
                [state],
            )
            row = cursor.fetchone()
        if row is None or row[2] < time.time():
            return None
        return ConnectState(tenant_id=row[0], admin=bool(row[1]))

    def close(self) -> None:
        self._db.close()


def open_oauth_states(
    location: Path | str, *, ttl_seconds: int = 600, busy_timeout_ms: int = 5000
) -> OAuthStateStore | PostgresOAuthStateStore:
    """The connect states beside the inbox at `location` (PostgreSQL or the SQLite file)."""
    if is_postgres(location):
        return PostgresOAuthStateStore(str(location), ttl_seconds=ttl_seconds)
    return OAuthStateStore(location, ttl_seconds=ttl_seconds, busy_timeout_ms=busy_timeout_ms)
