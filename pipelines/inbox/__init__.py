"""The durable webhook inbox, shared by the receiver (it stores deliveries) and Dagster (it drains them).

Storage only (no dagster, no starlette): the events (`events.py`), the interface both sides use
(`store.py`), its SQLite implementation (`sqlite_inbox.py`, one file on the receiver's host) and
its PostgreSQL one (`postgres_inbox.py`, receivers on any number of hosts, concurrent drains), and
the registered webhook ids the receiver checks deliveries against (`registrations.py`).

Where it lives (`inbox_location`): the connection string in the variable `webhooks.inbox_url_env`
names, else the SQLite file `webhooks.inbox`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pipelines.config import SyncConfig, SyncConfigError
from pipelines.inbox.postgres_db import redact
from pipelines.inbox.registrations import PostgresWebhookRegistry, WebhookRegistry
from pipelines.inbox.store import InboxStore

InboxLocation = Path | str
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def inbox_location(config: SyncConfig, environ: Mapping[str, str] | None = None) -> InboxLocation:
    """The inbox of a sync file: a PostgreSQL connection string (`webhooks.inbox_url_env`), else the
    SQLite file `webhooks.inbox`."""
    name = config.webhooks.inbox_url_env
    if not name:
        return config.webhooks.inbox
    url = (os.environ if environ is None else environ).get(name)
    if not url:
        raise SyncConfigError(
            config.source_path,
            [
                (
                    "webhooks.inbox_url_env",
                    f"environment variable {name} is not set; export it with the PostgreSQL connection "
                    "string of the inbox (postgresql://user:password@host:5432/database)",
                )
            ],
        )
    if not url.startswith(_POSTGRES_SCHEMES):
        raise SyncConfigError(
            config.source_path,
            [("webhooks.inbox_url_env", f"{name} must hold a postgresql:// connection string")],
        )
    return url


def is_postgres(location: InboxLocation) -> bool:
    return isinstance(location, str) and location.startswith(_POSTGRES_SCHEMES)


def describe(location: InboxLocation) -> str:
    """The location for logs and metadata (no password)."""
    return redact(location) if is_postgres(location) else str(location)


def inbox_exists(location: InboxLocation) -> bool:
    """Whether a receiver created the inbox yet (PostgreSQL's is created by whoever opens it first)."""
    return is_postgres(location) or Path(location).exists()


def open_inbox(location: InboxLocation, *, busy_timeout_ms: int = 5000) -> InboxStore:
    """The inbox at `location`: a PostgreSQL connection string, or a SQLite file path."""
    if is_postgres(location):
        from pipelines.inbox.postgres_inbox import PostgresInbox

        return PostgresInbox(str(location))
    from pipelines.inbox.sqlite_inbox import SQLiteInbox

    return SQLiteInbox(location, busy_timeout_ms=busy_timeout_ms)


def open_registry(
    location: InboxLocation, *, busy_timeout_ms: int = 5000
) -> WebhookRegistry | PostgresWebhookRegistry:
    """The registered webhook ids beside the inbox at `location`."""
    if is_postgres(location):
        return PostgresWebhookRegistry(str(location))
    return WebhookRegistry(location, busy_timeout_ms=busy_timeout_ms)
