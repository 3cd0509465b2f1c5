"""A child process that writes deliveries to a shared inbox (imports only the inbox: fast to spawn)."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.inbox import open_inbox
from pipelines.inbox.events import WebhookEvent


def write_many(location: str, identifiers: list[str]) -> int:
    """Store each identifier in its own transaction; returns how many this process stored first.
    `location`: a SQLite file or a PostgreSQL connection string."""
    store = open_inbox(location)
    try:
        stored = 0
        for identifier in identifiers:
            event = WebhookEvent(
                tenant_id="acme",
                cloud_id="cloud-a",
                identifier=identifier,
                event="jira:issue_updated",
                issue_id="10001",
                issue_key="ACME-1",
                jira_timestamp_ms=1_700_000_000_000,
                received_at=datetime.now(UTC),
                retry_count=0,
                payload_json="{}",
            )
            stored += sum(store.store([event]))
        return stored
    finally:
        store.close()
