"""The durable webhook inbox, shared by the receiver (it stores deliveries) and Dagster (it drains them).

Storage only (sqlite3, no dagster, no starlette): the events (`events.py`), the interface both
sides use (`store.py`), its SQLite implementation (`sqlite_inbox.py`), and the registered webhook
ids the receiver checks deliveries against (`registrations.py`).
"""

from __future__ import annotations

from pathlib import Path

from pipelines.inbox.sqlite_inbox import SQLiteInbox
from pipelines.inbox.store import InboxStore


def open_inbox(location: Path | str, *, busy_timeout_ms: int = 5000) -> InboxStore:
    """The inbox at `location` (the sync file's `webhooks.inbox`): a SQLite file path."""
    return SQLiteInbox(location, busy_timeout_ms=busy_timeout_ms)
