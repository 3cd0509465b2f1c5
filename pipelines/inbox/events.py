"""What the webhook inbox holds: a delivery as the receiver stores it and as the drain reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import orjson


class EventKey(NamedTuple):
    """Identifies one delivery: Jira's identifier is unique within a site, not globally."""

    tenant_id: str
    cloud_id: str
    identifier: str


class WebhookEvent(NamedTuple):
    """A validated delivery, as the receiver stores it (immutable; a tuple is built on every
    request three times faster than a frozen dataclass)."""

    tenant_id: str
    cloud_id: str
    identifier: str
    event: str
    issue_id: str
    issue_key: str | None
    jira_timestamp_ms: int
    received_at: datetime
    retry_count: int
    payload_json: str

    @property
    def key(self) -> EventKey:
        return EventKey(self.tenant_id, self.cloud_id, self.identifier)


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """A stored delivery, as the drain reads it (`seq` orders arrivals within one inbox)."""

    seq: int
    tenant_id: str
    cloud_id: str
    identifier: str
    event: str
    issue_id: str
    issue_key: str | None
    jira_timestamp_ms: int
    received_at: datetime
    retry_count: int
    payload_json: str
    drained_at: datetime | None

    @property
    def key(self) -> EventKey:
        return EventKey(self.tenant_id, self.cloud_id, self.identifier)

    @property
    def jira_timestamp(self) -> datetime:
        return datetime.fromtimestamp(self.jira_timestamp_ms / 1000, tz=UTC)

    def payload(self) -> dict:
        """The delivery's JSON body, parsed."""
        return orjson.loads(self.payload_json)


@dataclass(frozen=True, slots=True)
class QuarantinedEvent:
    """A stored delivery the drain could not apply, with why; it waits for a fix and a retry."""

    event: InboxEvent
    reason: str
    quarantined_at: datetime

    @property
    def key(self) -> EventKey:
        return self.event.key


@dataclass(frozen=True, slots=True)
class InboxStats:
    total: int
    pending: int
    drained: int  # includes the quarantined ones (handled, not applied)
    last_seq: int  # highest seq stored so far (0 when empty): a cheap cursor for sensors
    oldest_pending_received_at: datetime | None
    last_received_at: datetime | None
    quarantined: int = 0
