"""`POST /webhooks/jira/{tenant}/admin/{site}`: admin-webhook deliveries, verified by X-Hub-Signature."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient

from pipelines.auth.webhook_secrets import AdminWebhookSecret, WebhookSecretStore
from pipelines.inbox.sqlite_inbox import SQLiteInbox
from tests.webhook_receiver.receiver_testkit import delivery_headers, issue_payload, make_settings
from webhook_receiver.app import create_app
from webhook_receiver.settings import DeclaredSite, ReceiverSettings, TenantSites

SITE_URL = "https://ops.atlassian.net"
URL = "/webhooks/jira/acme/admin/ops"
SECRET = "ops-admin-webhook-secret"


@pytest.fixture
def settings(tmp_path: Path) -> ReceiverSettings:
    tenants = (
        TenantSites(
            tenant_id="acme",
            sites=(
                DeclaredSite(
                    name="ops", url=SITE_URL, webhook_mode="admin"
                ),  # an API-token site: no cloud_id
                DeclaredSite(name="alpha", url="https://alpha.atlassian.net", cloud_id="cloud-alpha"),
            ),
        ),
    )
    return make_settings(tmp_path, tenants=tenants, lookup_reload_seconds=0)


@pytest.fixture
def secrets(settings: ReceiverSettings) -> WebhookSecretStore:
    store = WebhookSecretStore(settings.token_dir)
    store.put("acme", "ops", AdminWebhookSecret(secret=SECRET, cloud_id="cloud-ops", webhook_id=3))
    return store


@pytest.fixture
def client(settings: ReceiverSettings, secrets: WebhookSecretStore) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def admin_body(**changes) -> bytes:
    """An admin delivery: no matchedWebhookIds, `issue.self` without `issue/` (2024 Cloud captures)."""
    payload = issue_payload(site_url=SITE_URL)
    del payload["matchedWebhookIds"]
    payload["issue"]["self"] = f"{SITE_URL}/rest/api/2/10040"
    payload.update(changes)
    return orjson.dumps(payload)


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(client: TestClient, body: bytes, identifier: str, signature: str | None, url: str = URL):
    headers = delivery_headers(identifier, authorization=None)
    if signature is not None:
        headers["X-Hub-Signature"] = signature
    return client.post(url, content=body, headers=headers)


def stored(settings: ReceiverSettings) -> list:
    inbox = SQLiteInbox(settings.inbox_path)
    try:
        return inbox.pending(1000)
    finally:
        inbox.close()


def test_signed_delivery_without_matched_ids_is_stored_with_the_sites_cloud_id(client, settings) -> None:
    body = admin_body()
    response = post(client, body, "adm-1", signed(body))
    assert (response.status_code, response.json()["status"]) == (200, "stored")
    [event] = stored(settings)
    assert (event.tenant_id, event.cloud_id, event.identifier, event.issue_key) == (
        "acme",
        "cloud-ops",
        "adm-1",
        "ACME-41",
    )
    assert event.payload_json == body.decode()


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (None, "missing X-Hub-Signature"),
        ("sha256=" + "0" * 64, "does not verify"),
        (lambda body: signed(body, "someone-elses-secret"), "does not verify"),
        (lambda body: signed(body).replace("sha256=", "sha1="), "must be 'sha256=<hex digest>'"),
    ],
)
def test_wrong_or_missing_signature_is_401_and_stores_nothing(client, settings, signature, message) -> None:
    body = admin_body()
    value = signature(body) if callable(signature) else signature
    response = post(client, body, "adm-bad", value)
    assert response.status_code == 401 and message in response.json()["message"]
    assert stored(settings) == []


def test_the_signature_covers_the_raw_bytes(client, settings) -> None:
    body = admin_body()
    reformatted = orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2)  # same JSON, other bytes
    assert post(client, reformatted, "adm-fmt", signed(body)).status_code == 401
    assert stored(settings) == []


def test_unknown_site_secretless_site_and_foreign_issue_self(client, settings, secrets) -> None:
    body = admin_body()
    assert post(client, body, "a", signed(body), url="/webhooks/jira/acme/admin/nope").status_code == 404
    assert post(client, body, "b", signed(body), url="/webhooks/jira/acme/admin/alpha").status_code == 404
    assert post(client, body, "c", signed(body), url="/webhooks/jira/globex/admin/ops").status_code == 404
    foreign = issue_payload(site_url="https://alpha.atlassian.net")
    del foreign["matchedWebhookIds"]
    foreign_body = orjson.dumps(foreign)
    refused = post(client, foreign_body, "d", signed(foreign_body))
    assert refused.status_code == 403 and "not site ops" in refused.json()["message"]
    secrets.put("acme", "ops", None)
    missing = post(client, body, "e", signed(body))
    assert missing.status_code == 401 and "jira-sync webhooks create" in missing.json()["message"]
    assert stored(settings) == []


def test_rotation_is_picked_up_at_once_and_the_old_secret_verifies_for_the_grace_period(
    client, settings, secrets
) -> None:
    rotated = secrets.rotate("acme", "ops", "cloud-ops")
    first = admin_body()
    assert post(client, first, "new-secret", signed(first, rotated.secret)).status_code == 200
    assert post(client, first, "old-secret", signed(first, SECRET)).status_code == 200  # in flight before
    long_ago = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    secrets.put("acme", "ops", AdminWebhookSecret(rotated.secret, "cloud-ops", 3, long_ago, SECRET))
    late = post(client, first, "old-secret-late", signed(first, SECRET))
    assert late.status_code == 401
    assert [e.identifier for e in stored(settings)] == ["new-secret", "old-secret"]


def test_admin_deliveries_are_checked_like_dynamic_ones(client, settings) -> None:
    body = admin_body(timestamp=1.5)
    response = post(client, body, "adm-float", signed(body))
    assert response.status_code == 422 and "timestamp" in response.json()["message"]
    duplicated = admin_body()[:-1] + b',"webhookEvent":"jira:issue_deleted"}'
    assert post(client, duplicated, "adm-dup", signed(duplicated)).status_code == 400
    assert stored(settings) == []
