"""Admin webhooks over loopback HTTP: `/rest/webhooks/1.0/webhook` by a Jira admin, signed deliveries."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import httpx
import pytest

from jira_simulator.app import create_app
from jira_simulator.generator import generate_world
from jira_simulator.model import World
from jira_simulator.options import SimulatorOptions
from jira_simulator.webhooks import WebhookService
from jira_simulator.webhooks.signing import hub_signature
from tests.jira_simulator.hook_receiver import Receiver
from tests.jira_simulator.served import serve_app

EVENTS = ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(issues=20, seed=11)


@pytest.fixture(scope="module")
def service(world: World) -> WebhookService:
    return WebhookService(world, SimulatorOptions(webhook_retry_backoff_seconds=0.05), timeout_seconds=0.4)


@pytest.fixture(scope="module")
def jira(world: World, service: WebhookService) -> Iterator[str]:
    with serve_app(create_app(world, options=service.options)) as url:
        yield url


@pytest.fixture
def admin(
    jira: str, world: World, service: WebhookService, receiver: tuple[Receiver, str]
) -> Iterator[httpx.Client]:
    """The site's admin webhook API as the Jira admin (email + API token); cleans up after the test."""
    with httpx.Client(
        base_url=f"{jira}/site/acme/rest/webhooks/1.0", auth=(world.admin.email, world.admin.api_token)
    ) as client:
        yield client
        for webhook in client.get("/webhook").json():
            assert client.delete(f"/webhook/{webhook['self'].rsplit('/', 1)[1]}").status_code == 204
        assert service.wait_idle(10)
        receiver[0].received.clear()
        receiver[0].raw.clear()


def _create(admin: httpx.Client, url: str, **fields: object) -> dict:
    body = {
        "name": "jira-sync",
        "url": url,
        "events": EVENTS,
        "filters": {"issue-related-events-section": "project = PLAT"},
        "excludeBody": False,
        **fields,
    }
    response = admin.post("/webhook", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_documented_hmac_test_vector() -> None:
    # Atlassian's example for secure admin webhooks (reference/jira-cloud-api.md §6.3)
    assert hub_signature("It's a Secret to Everybody", b"Hello World!") == (
        "sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9"
    )


def test_register_list_update_delete(admin: httpx.Client, jira: str, world: World) -> None:
    created = _create(admin, "https://sync.example.com/hook", secret="s3cret-value")
    assert created["isSigned"] is True and "secret" not in created
    assert created["filters"] == {"issue-related-events-section": "project = PLAT"}
    assert created["enabled"] is True and created["lastUpdatedUser"] == world.admin.account_id
    webhook_id = created["self"].rsplit("/", 1)[1]
    assert created["self"] == f"{jira}/site/acme/rest/webhooks/1.0/webhook/{webhook_id}"
    listed = admin.get("/webhook").json()
    assert isinstance(listed, list) and [w["self"] for w in listed] == [created["self"]]
    # PUT without a secret keeps it; an empty secret removes it
    kept = admin.put(f"/webhook/{webhook_id}", json={**_body(created), "events": ["jira:issue_deleted"]})
    assert (
        kept.status_code == 200
        and kept.json()["isSigned"] is True
        and kept.json()["events"] == ["jira:issue_deleted"]
    )
    cleared = admin.put(f"/webhook/{webhook_id}", json={**_body(created), "secret": ""})
    assert cleared.json()["isSigned"] is False
    assert admin.delete(f"/webhook/{webhook_id}").status_code == 204
    assert admin.get(f"/webhook/{webhook_id}").status_code == 404
    assert admin.get("/webhook").json() == []


def _body(rendered: dict) -> dict:
    return {k: rendered[k] for k in ("name", "url", "events", "filters", "excludeBody")}


def test_refusals(admin: httpx.Client, jira: str, world: World) -> None:
    bad = admin.post(
        "/webhook",
        json={
            "name": "",
            "url": "ftp://x",
            "events": ["jira:issue_exploded"],
            "filters": {"issue-related-events-section": "project = NOPE"},
        },
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"name", "url", "events", "filters"}
    staff = next(
        u
        for u in world.users.values()
        if u.api_token
        and u.account_id != world.admin_account_id
        and all(
            u.account_id not in g.member_ids
            for g in world.site_by_name("acme").groups.values()
            if g.name == "jira-administrators"
        )  # type: ignore[union-attr]
        and u.account_id in world.site_by_name("acme").user_ids  # type: ignore[union-attr]
    )
    assert (
        httpx.get(
            f"{jira}/site/acme/rest/webhooks/1.0/webhook", auth=(staff.email, staff.api_token)
        ).status_code
        == 403
    )
    assert httpx.get(f"{jira}/site/acme/rest/webhooks/1.0/webhook").status_code == 401
    cloud_id = world.site_by_name("acme").cloud_id  # type: ignore[union-attr]
    assert httpx.get(f"{jira}/ex/jira/{cloud_id}/rest/webhooks/1.0/webhook").status_code == 404


def test_signed_delivery_without_matched_ids(
    admin: httpx.Client, jira: str, receiver: tuple[Receiver, str], service: WebhookService
) -> None:
    hooks, url = receiver
    _create(admin, url, secret="admin-hook-secret")
    _create(admin, url, name="unsigned", filters={"issue-related-events-section": ""})  # every issue
    _create(admin, url, name="off", enabled=False)
    key = httpx.post(
        f"{jira}/_sim/sites/acme/issues",
        json={"project": "PLAT", "issue_type": "Story", "summary": "Admin hooked"},
    ).json()["key"]
    httpx.post(
        f"{jira}/_sim/sites/acme/issues",
        json={"project": "MOB", "issue_type": "Story", "summary": "Only unsigned"},
    )
    assert service.wait_idle(10)
    signed = [
        (h, body, raw)
        for (h, body), raw in zip(hooks.received, hooks.raw, strict=True)
        if "x-hub-signature" in h
    ]
    unsigned = [body for h, body in hooks.received if "x-hub-signature" not in h]
    assert [b["issue"]["key"] for _, b, _ in signed] == [key]
    assert sorted(b["issue"]["fields"]["summary"] for b in unsigned) == ["Admin hooked", "Only unsigned"]
    headers, body, raw = signed[0]
    expected = "sha256=" + hmac.new(b"admin-hook-secret", raw, hashlib.sha256).hexdigest()
    assert headers["x-hub-signature"] == expected
    assert "authorization" not in headers and headers["x-atlassian-webhook-flow"] == "Primary"
    assert "matchedWebhookIds" not in body
    assert body["webhookEvent"] == "jira:issue_created" and body["issue_event_type_name"] == "issue_created"
    # the 2024 Cloud captures' issue.self: /rest/api/2/<id>, without "issue/"
    assert body["issue"]["self"] == f"{jira}/site/acme/rest/api/2/{body['issue']['id']}"
    deliveries = httpx.get(f"{jira}/_sim/webhooks/deliveries").json()["deliveries"]
    assert {d["kind"] for d in deliveries[-3:]} == {"admin"}


def test_exclude_body_posts_an_empty_signed_body(
    admin: httpx.Client, jira: str, receiver: tuple[Receiver, str], service: WebhookService
) -> None:
    hooks, url = receiver
    _create(admin, url, secret="x-secret", excludeBody=True)
    httpx.post(
        f"{jira}/_sim/sites/acme/issues", json={"project": "PLAT", "issue_type": "Task", "summary": "Quiet"}
    )
    assert service.wait_idle(10)
    assert hooks.raw == [b""]
    assert hooks.received[0][0]["x-hub-signature"] == hub_signature("x-secret", b"")
