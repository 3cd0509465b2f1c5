"""Helpers shared by the receiver's tests: Jira-shaped deliveries and stored events."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from webhook_receiver.inbox import WebhookEvent


def make_event(
    identifier: str, *, cloud_id: str = "cloud-a", tenant_id: str = "acme", issue_id: str = "10001"
) -> WebhookEvent:
    return WebhookEvent(
        tenant_id=tenant_id,
        cloud_id=cloud_id,
        identifier=identifier,
        event="jira:issue_updated",
        issue_id=issue_id,
        issue_key="ACME-1",
        jira_timestamp_ms=1_700_000_000_123,
        received_at=datetime(2026, 11, 28, 12, 0, 0, 500_000, tzinfo=UTC),
        retry_count=0,
        payload_json=orjson.dumps({"webhookEvent": "jira:issue_updated", "issue": {"id": issue_id}}).decode(),
    )
