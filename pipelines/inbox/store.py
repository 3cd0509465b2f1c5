"""The inbox interface the receiver and the Dagster drain depend on, whatever stores it.

`SQLiteInbox` (one WAL file on the receiver's host) implements it; a database-backed store for
receivers on several hosts implements the same methods
(`pipelines.inbox.open_inbox` picks one from the configured location).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from pipelines.inbox.events import EventKey, InboxEvent, InboxStats, QuarantinedEvent, WebhookEvent
from pipelines.inbox.sqlite_db import StorageUnavailable

# Raised when the inbox cannot be written; the receiver answers 503 so Jira retries the delivery.
InboxUnavailable = StorageUnavailable


class InboxClaim(Protocol):
    """A batch of pending events one drain holds until the claim ends; marks made here commit with it."""

    events: list[InboxEvent]

    def mark_drained(self, keys: Iterable[EventKey | InboxEvent]) -> int: ...

    def claim(self, limit: int = 1000, *, after_seq: int = 0) -> AbstractContextManager[InboxClaim]:
        """Pending events for one drain, oldest first. PostgreSQL locks them until the claim ends
        (`FOR UPDATE SKIP LOCKED`: concurrent drains take different events); SQLite drains run one
        at a time (the warehouse pool) and claims lock nothing."""
        ...

    def quarantine(self, items: Sequence[tuple[InboxEvent, str]]) -> int: ...


class InboxStore(Protocol):
    """What the receiver and the Dagster drain need from an inbox, whatever stores it."""

    def store(self, events: Sequence[WebhookEvent]) -> list[bool]:
        """Commit all events in one transaction; True where newly stored, False for a duplicate."""
        ...

    def pending(self, limit: int = 1000, *, after_seq: int = 0) -> list[InboxEvent]: ...

    def mark_drained(self, keys: Iterable[EventKey | InboxEvent]) -> int: ...

    def quarantine(self, items: Sequence[tuple[InboxEvent, str]]) -> int:
        """Set events aside with the reason they cannot be applied (no longer pending); how many."""
        ...

    def quarantined(self, limit: int = 100) -> list[QuarantinedEvent]:
        """Quarantined events, oldest first."""
        ...

    def release_quarantined(self, keys: Iterable[EventKey] | None = None) -> int:
        """Make quarantined events pending again (all when `keys` is None), as the newest arrivals."""
        ...

    def stats(self) -> InboxStats: ...

    def heartbeat(self, receiver: str) -> None:
        """Prove the inbox is writable now (a committed write), recording who checked."""
        ...

    def close(self) -> None: ...
