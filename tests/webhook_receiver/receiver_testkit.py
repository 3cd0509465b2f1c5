"""Helpers shared by the receiver's tests: Jira-shaped deliveries and stored events."""

from __future__ import annotations

import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import jwt
import orjson
from pydantic import SecretStr

from pipelines.inbox.events import WebhookEvent
from webhook_receiver.settings import DeclaredSite, OAuthApp, ReceiverSettings, TenantSites


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


CLIENT_ID = "jira-sync-test-app"
CLIENT_SECRET = "test-client-secret-0123456789abcdef-long-enough"
ALPHA_URL = "https://alpha.atlassian.net"
BETA_URL = "https://beta.atlassian.net"


def make_settings(tmp_path: Path, **overrides: object) -> ReceiverSettings:
    """Tenant `acme` with four sites: declared with url+cloud id, url only, cloud id only, webhooks off."""
    values: dict[str, object] = {
        "inbox_path": tmp_path / "inbox.sqlite",
        "token_dir": tmp_path / "tokens",
        "tenants": (
            TenantSites(
                tenant_id="acme",
                sites=(
                    DeclaredSite(name="alpha", url=ALPHA_URL, cloud_id="cloud-alpha"),
                    DeclaredSite(name="beta", url=BETA_URL),
                    DeclaredSite(name="gamma", cloud_id="cloud-gamma"),
                    DeclaredSite(
                        name="quiet",
                        url="https://quiet.atlassian.net",
                        cloud_id="cloud-quiet",
                        webhooks_enabled=False,
                    ),
                ),
            ),
            TenantSites(
                tenant_id="globex",
                sites=(DeclaredSite(name="g", url="https://g.atlassian.net", cloud_id="cloud-g"),),
            ),
        ),
        "oauth": OAuthApp(
            auth_url="https://auth.invalid",
            api_url="https://api.invalid",
            client_id=CLIENT_ID,
            client_secret=SecretStr(CLIENT_SECRET),
            redirect_uri="http://testserver/auth/jira/callback",
        ),
    }
    values.update(overrides)
    return ReceiverSettings(**values)


def issue_payload(
    *,
    event: str = "jira:issue_updated",
    site_url: str = ALPHA_URL,
    issue_id: str = "10040",
    key: str = "ACME-41",
    matched: list[int] | None = None,
    timestamp: int = 1_764_331_200_000,
) -> dict:
    """A Jira-shaped issue delivery (trimmed from Atlassian's documented payload)."""
    payload: dict = {
        "timestamp": timestamp,
        "webhookEvent": event,
        "user": {"accountId": "5c5f880629be9642ba529340", "displayName": "Ada"},
        "issue": {
            "id": issue_id,
            "self": f"{site_url}/rest/api/2/issue/{issue_id}",
            "key": key,
            "fields": {"summary": "Checkout fails", "status": {"id": "3", "name": "In Progress"}},
        },
        "matchedWebhookIds": matched if matched is not None else [1000],
    }
    if event != "jira:issue_deleted":
        payload["issue_event_type_name"] = "issue_updated"
        payload["changelog"] = {"id": "10227", "items": [{"field": "status", "fieldId": "status", "to": "3"}]}
    return payload


def bearer(
    secret: str = CLIENT_SECRET,
    *,
    issuer: str | None = CLIENT_ID,
    expires_in: int = 300,
    now: float | None = None,
) -> str:
    """The Authorization header Jira puts on dynamic-webhook deliveries (HS256, client secret)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {"iat": issued, "exp": issued + expires_in}
    if issuer is not None:
        claims["iss"] = issuer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        return "Bearer " + jwt.encode(claims, secret, algorithm="HS256")


def delivery_headers(
    identifier: str, *, retry: int | None = None, authorization: str | None = "default"
) -> dict:
    headers = {
        "Content-Type": "application/json",
        "X-Atlassian-Webhook-Identifier": identifier,
        "X-Atlassian-Webhook-Flow": "Primary",
    }
    if retry is not None:
        headers["X-Atlassian-Webhook-Retry"] = str(retry)
    if authorization == "default":
        headers["Authorization"] = bearer()
    elif authorization is not None:
        headers["Authorization"] = authorization
    return headers
