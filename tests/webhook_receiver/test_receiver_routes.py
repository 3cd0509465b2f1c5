"""`POST /webhooks/jira/{tenant}` and `/healthz` through Starlette's TestClient (lifespan running).

Every validation rule answers with its status and a message naming the problem, and nothing is
stored for a rejected delivery; accepted ones are in the inbox before the 200.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient

from pipelines.auth.oauth import AccessibleSite, TokenSet
from pipelines.auth.token_store import TokenStore
from pipelines.inbox.events import EventKey
from pipelines.inbox.registrations import WebhookRegistry
from pipelines.inbox.sqlite_inbox import SQLiteInbox
from tests.webhook_receiver.receiver_testkit import (
    ALPHA_URL,
    BETA_URL,
    bearer,
    delivery_headers,
    issue_payload,
    make_settings,
)
from webhook_receiver.app import create_app
from webhook_receiver.settings import ReceiverSettings

URL = "/webhooks/jira/acme"


@pytest.fixture
def settings(tmp_path: Path) -> ReceiverSettings:
    return make_settings(tmp_path, lookup_reload_seconds=0)


@pytest.fixture
def client(settings: ReceiverSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def stored_events(settings: ReceiverSettings) -> list:
    inbox = SQLiteInbox(settings.inbox_path)
    try:
        return inbox.pending(limit=10_000)
    finally:
        inbox.close()


def post(
    client: TestClient, payload: dict | bytes, identifier: str = "wh-1", url: str = URL, **header_options
):
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return client.post(url, content=body, headers=delivery_headers(identifier, **header_options))


def connect_sites(settings: ReceiverSettings, tenant_id: str, sites: list[AccessibleSite]) -> None:
    """What the connect callback saves: tokens plus the accessible sites (url -> cloud id)."""
    tokens = TokenSet("access", "refresh", datetime.now(UTC) + timedelta(hours=1), ["read:me"])
    TokenStore(settings.token_dir).save(tenant_id, tokens, sites)


def test_accepted_delivery_is_stored_with_every_column(
    client: TestClient, settings: ReceiverSettings
) -> None:
    payload = issue_payload(event="jira:issue_created", issue_id="10040", key="ACME-41")
    body = orjson.dumps(payload)
    response = client.post(URL, content=body, headers=delivery_headers("wh-created", retry=2))
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "stored", "identifier": "wh-created"}
    [event] = stored_events(settings)
    assert event.key == EventKey("acme", "cloud-alpha", "wh-created")
    assert (event.event, event.issue_id, event.issue_key) == ("jira:issue_created", "10040", "ACME-41")
    assert event.jira_timestamp_ms == payload["timestamp"]
    assert event.retry_count == 2
    assert event.payload_json == body.decode()  # the raw body, as Jira sent it
    assert datetime.now(UTC) - event.received_at < timedelta(seconds=30)
    assert event.drained_at is None


def test_retried_delivery_is_stored_once_and_answered_200(
    client: TestClient, settings: ReceiverSettings
) -> None:
    first = post(client, issue_payload(), "wh-dup")
    retried = post(client, issue_payload(), "wh-dup", retry=1)
    assert (first.status_code, first.json()["status"]) == (200, "stored")
    assert (retried.status_code, retried.json()["status"]) == (200, "duplicate")
    [event] = stored_events(settings)
    assert event.retry_count == 0  # the first delivery is the one kept


def test_deleted_event_is_accepted(client: TestClient, settings: ReceiverSettings) -> None:
    assert post(client, issue_payload(event="jira:issue_deleted"), "wh-del").status_code == 200
    assert [event.event for event in stored_events(settings)] == ["jira:issue_deleted"]


def test_unknown_tenant_is_404(client: TestClient, settings: ReceiverSettings) -> None:
    response = post(client, issue_payload(), url="/webhooks/jira/initech")
    assert response.status_code == 404
    assert response.json() == {
        "error": "unknown_tenant",
        "message": "tenant 'initech' is not in this receiver's sync file",
    }
    assert stored_events(settings) == []


@pytest.mark.parametrize(
    ("site_url", "tenant_path", "message"),
    [
        (
            "https://evil.atlassian.net",
            URL,
            "deliveries from https://evil.atlassian.net are not registered for tenant acme",
        ),
        # a site of another tenant is not registered for this one
        ("https://g.atlassian.net", URL, "not registered for tenant acme"),
        ("https://quiet.atlassian.net", URL, "webhooks are disabled for site quiet"),
        (BETA_URL, URL, "declared by URL only and its cloud id is unknown: connect the tenant"),
    ],
)
def test_site_not_registered_for_tenant_is_403(
    client: TestClient, settings: ReceiverSettings, site_url: str, tenant_path: str, message: str
) -> None:
    response = post(client, issue_payload(site_url=site_url), url=tenant_path)
    assert response.status_code == 403
    assert response.json()["error"] == "site_not_registered"
    assert message in response.json()["message"]
    assert stored_events(settings) == []


def test_site_url_is_compared_normalised(client: TestClient, settings: ReceiverSettings) -> None:
    response = post(client, issue_payload(site_url="HTTPS://Alpha.Atlassian.net:443/"), "wh-norm")
    assert response.status_code == 200, response.text
    assert stored_events(settings)[0].cloud_id == "cloud-alpha"


def test_cloud_ids_come_from_the_sites_saved_at_connect_time(
    client: TestClient, settings: ReceiverSettings
) -> None:
    connect_sites(
        settings,
        "acme",
        [
            AccessibleSite(id="cloud-beta", url=BETA_URL, name="beta"),
            AccessibleSite(id="cloud-gamma", url="https://gamma.atlassian.net", name="gamma"),
        ],
    )
    # beta is declared by URL only; gamma by cloud id only: the connect-time sites map both
    assert post(client, issue_payload(site_url=BETA_URL), "wh-beta").status_code == 200
    assert post(client, issue_payload(site_url="https://gamma.atlassian.net"), "wh-gamma").status_code == 200
    assert {event.identifier: event.cloud_id for event in stored_events(settings)} == {
        "wh-beta": "cloud-beta",
        "wh-gamma": "cloud-gamma",
    }


def test_connected_cloud_id_contradicting_the_sync_file_is_403(
    client: TestClient, settings: ReceiverSettings
) -> None:
    connect_sites(settings, "acme", [AccessibleSite(id="cloud-other", url=ALPHA_URL, name="alpha")])
    response = post(client, issue_payload(site_url=ALPHA_URL))
    assert response.status_code == 403
    assert "sync file says cloud id cloud-alpha" in response.json()["message"]
    assert stored_events(settings) == []


def test_matched_webhook_ids_must_include_a_registered_webhook(
    client: TestClient, settings: ReceiverSettings
) -> None:
    # nothing recorded yet: other tooling registered the webhooks; site + JWT checks suffice
    assert post(client, issue_payload(matched=[7]), "wh-unrecorded").status_code == 200
    registry = WebhookRegistry(settings.inbox_path)
    registry.record("acme", "cloud-alpha", [1000, 1001])
    rejected = post(client, issue_payload(matched=[7]), "wh-foreign")
    assert rejected.status_code == 403
    assert "matchedWebhookIds [7] are not webhooks registered for site alpha" in rejected.json()["message"]
    assert post(client, issue_payload(matched=[7, 1001]), "wh-ours").status_code == 200
    # a webhook registered later (e.g. re-created after it vanished) is picked up without a restart
    registry.record("acme", "cloud-alpha", [2000])
    assert post(client, issue_payload(matched=[2000]), "wh-new").status_code == 200
    registry.close()
    assert [event.identifier for event in stored_events(settings)] == ["wh-unrecorded", "wh-ours", "wh-new"]


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (lambda: None, "missing Authorization header"),
        (lambda: "Basic dXNlcjpwYXNz", "Authorization header must be 'Bearer <JWT>'"),
        (lambda: "Bearer not-a-jwt", "not a valid JWT"),
        (lambda: bearer("another-apps-secret-0123456789abcdef"), "signature does not verify"),
        (lambda: bearer(expires_in=-120), "expired"),
        (lambda: bearer(issuer="someone-else"), "issuer 'someone-else' is not this app's client id"),
    ],
)
def test_bad_bearer_token_is_401(
    client: TestClient, settings: ReceiverSettings, authorization, message: str
) -> None:
    # tokens are signed when the test runs: made at collection, they could expire before it
    response = post(client, issue_payload(), authorization=authorization())
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert message in response.json()["message"]
    assert stored_events(settings) == []


def test_token_expired_within_the_leeway_or_without_issuer_verifies(
    client: TestClient, settings: ReceiverSettings
) -> None:
    assert post(client, issue_payload(), "wh-skew", authorization=bearer(expires_in=-10)).status_code == 200
    assert post(client, issue_payload(), "wh-no-iss", authorization=bearer(issuer=None)).status_code == 200
    assert len(stored_events(settings)) == 2


def test_without_an_app_secret_deliveries_need_no_token(tmp_path: Path) -> None:
    base = make_settings(tmp_path)
    settings = make_settings(tmp_path, oauth=base.oauth.model_copy(update={"client_secret": None}))
    with TestClient(create_app(settings)) as client:
        response = post(client, issue_payload(), authorization=None)
        assert response.status_code == 200
        assert client.get("/healthz").json()["jwt_verification"] is False


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(
    client: TestClient, settings: ReceiverSettings, content_type: str | None
) -> None:
    headers = delivery_headers("wh-ct")
    if content_type is None:
        del headers["Content-Type"]
    else:
        headers["Content-Type"] = content_type
    response = client.post(URL, content=orjson.dumps(issue_payload()), headers=headers)
    assert response.status_code == 415
    assert "Content-Type must be application/json" in response.json()["message"]
    assert stored_events(settings) == []


def test_content_type_with_charset_is_accepted(client: TestClient) -> None:
    headers = delivery_headers("wh-charset") | {"Content-Type": "application/json; charset=utf-8"}
    assert client.post(URL, content=orjson.dumps(issue_payload()), headers=headers).status_code == 200


def _without(path: tuple[str, ...]) -> dict:
    payload = issue_payload()
    target = payload
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return payload


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b'{"timestamp": 1, "webhookEvent": ', 400, "body is not valid JSON"),
        (b'{"summary": "\xff\xfe"}', 400, "body is not valid JSON"),
        (b"[]", 422, "not a Jira issue webhook"),
        (
            orjson.dumps(issue_payload(event="comment_created")),
            422,
            "webhookEvent: unsupported event 'comment_created'; this endpoint accepts jira:issue_created, "
            "jira:issue_updated, jira:issue_deleted",
        ),
        (orjson.dumps(_without(("issue", "key"))), 422, "issue.key: required field is missing"),
        (orjson.dumps(_without(("issue", "self"))), 422, "issue.self: required field is missing"),
        (orjson.dumps(_without(("timestamp",))), 422, "timestamp: required field is missing"),
        (orjson.dumps(_without(("matchedWebhookIds",))), 422, "matchedWebhookIds: required field is missing"),
        (orjson.dumps(issue_payload(matched=[])), 422, "matchedWebhookIds"),
        # would overflow SQLite's INTEGER and fail the whole group commit
        (orjson.dumps(issue_payload(timestamp=2**62)), 422, "timestamp: Input should be less than"),
        (
            orjson.dumps(
                issue_payload()
                | {"issue": {"id": "1", "key": "A-1", "self": "https://x.atlassian.net/browse/A-1"}}
            ),
            422,
            "is not a Jira REST URL",
        ),
    ],
)
def test_bad_payload_is_rejected_with_what_is_wrong(
    client: TestClient, settings: ReceiverSettings, body: bytes, status: int, message: str
) -> None:
    response = post(client, body)
    assert response.status_code == status, response.text
    assert message in response.json()["message"]
    assert stored_events(settings) == []


def test_missing_identifier_or_bad_retry_header_is_400(
    client: TestClient, settings: ReceiverSettings
) -> None:
    headers = delivery_headers("x")
    del headers["X-Atlassian-Webhook-Identifier"]
    missing = client.post(URL, content=orjson.dumps(issue_payload()), headers=headers)
    assert missing.status_code == 400
    assert "X-Atlassian-Webhook-Identifier is required" in missing.json()["message"]
    for retry in ("two", "-1", "\u00b2".encode("latin-1"), "9" * 5000):
        bad_retry = client.post(
            URL,
            content=orjson.dumps(issue_payload()),
            headers=delivery_headers("x") | {"X-Atlassian-Webhook-Retry": retry},
        )
        assert bad_retry.status_code == 400
        assert "X-Atlassian-Webhook-Retry must be a non-negative integer" in bad_retry.json()["message"]
    assert stored_events(settings) == []


def test_body_over_the_limit_is_413(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_body_bytes=4096)
    payload = issue_payload()
    payload["issue"]["fields"]["description"] = "x" * 5000
    with TestClient(create_app(settings)) as client:
        response = post(client, payload)
        assert response.status_code == 413
        assert response.json() == {
            "error": "body_too_large",
            "message": "the body is larger than the receiver's limit of 4096 bytes (--max-body-bytes)",
        }
        # a declared length over the limit is refused before any other check
        assert post(client, payload, url="/webhooks/jira/initech").status_code == 413
        # also when the client does not announce the length (chunked upload), in one or many chunks
        body = orjson.dumps(payload)
        for chunks in ([body], [body[:3000], body[3000:]]):
            chunked = client.post(URL, content=iter(chunks), headers=delivery_headers("wh-chunked"))
            assert chunked.status_code == 413
            assert chunked.json()["error"] == "body_too_large"
        small = orjson.dumps(issue_payload())
        assert post(client, small, "wh-small").status_code == 200
        pieces = iter([small[:100], small[100:]])
        assert client.post(URL, content=pieces, headers=delivery_headers("wh-pieces")).status_code == 200
    assert [event.identifier for event in stored_events(settings)] == ["wh-small", "wh-pieces"]


def test_other_methods_on_the_webhook_path_are_405(client: TestClient) -> None:
    response = client.get(URL)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_unwritable_inbox_answers_503_then_recovers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, busy_timeout_ms=50)
    with TestClient(create_app(settings)) as client:
        blocker = sqlite3.connect(settings.inbox_path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock past busy_timeout
        try:
            response = post(client, issue_payload(), "wh-blocked")
            assert response.status_code == 503
            assert response.headers["retry-after"] == "30"
            assert response.json()["error"] == "inbox_unavailable"
            health = client.get("/healthz")
            assert health.status_code == 503
            assert health.json()["inbox"]["writable"] is False
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert stored_events(settings) == []
        # Jira retries the same delivery: now it is stored
        assert post(client, issue_payload(), "wh-blocked", retry=1).json()["status"] == "stored"
    assert [event.retry_count for event in stored_events(settings)] == [1]


def test_healthz_reports_a_writable_inbox_and_counts(client: TestClient, settings: ReceiverSettings) -> None:
    post(client, issue_payload(), "wh-h1")
    post(client, issue_payload(), "wh-h2")
    health = client.get("/healthz")
    assert health.status_code == 200
    document = health.json()
    assert document["status"] == "ok"
    assert document["inbox"]["writable"] is True
    assert (document["inbox"]["total"], document["inbox"]["pending"]) == (2, 2)
    assert document["writer"]["events"] == 2
    assert document["jwt_verification"] is True
    assert document["tenants"] == ["acme", "globex"]


def test_first_of_repeated_delivery_headers_wins_and_an_empty_retry_header_is_400(
    client: TestClient, settings: ReceiverSettings
) -> None:
    body = orjson.dumps(issue_payload())
    headers = [
        ("Content-Type", "application/json"),
        ("Authorization", bearer()),
        ("X-Atlassian-Webhook-Identifier", "wh-first"),
        ("X-Atlassian-Webhook-Identifier", "wh-second"),
    ]
    assert client.post(URL, content=body, headers=headers).json() == {
        "status": "stored",
        "identifier": "wh-first",
    }
    empty_retry = client.post(
        URL, content=body, headers=delivery_headers("wh-empty-retry") | {"X-Atlassian-Webhook-Retry": ""}
    )
    assert empty_retry.status_code == 400
    assert empty_retry.json()["error"] == "bad_retry_header"
    assert [event.identifier for event in stored_events(settings)] == ["wh-first"]


def test_a_client_gone_before_its_body_arrived_gets_no_answer_and_nothing_is_stored(
    settings: ReceiverSettings,
) -> None:
    app = create_app(settings)
    sent: list[dict] = []

    async def scenario() -> None:
        async with app.router.lifespan_context(app) as state:
            headers = [
                (name.lower().encode(), value.encode()) for name, value in delivery_headers("wh-gone").items()
            ]
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "POST",
                "scheme": "http",
                "path": URL,
                "raw_path": URL.encode(),
                "root_path": "",
                "query_string": b"",
                "headers": headers,
                "client": ("127.0.0.1", 40000),
                "server": ("127.0.0.1", 8000),
                "state": dict(state),
            }

            async def receive() -> dict:
                return {"type": "http.disconnect"}

            async def send(message: dict) -> None:
                sent.append(message)

            await app(scope, receive, send)

    asyncio.run(scenario())
    assert sent == []
    assert stored_events(settings) == []
