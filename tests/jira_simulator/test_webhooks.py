"""Dynamic webhooks over loopback HTTP: registration rules, and deliveries to a real receiver."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from openapi_schema_validator import OAS30ReadValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from jira_simulator import webhooks
from jira_simulator.app import create_app
from jira_simulator.generator import generate_world
from jira_simulator.model import World
from jira_simulator.options import SimulatorOptions
from jira_simulator.webhooks.dynamic import ONLY_OAUTH
from tests.jira_simulator.hook_receiver import Receiver
from tests.jira_simulator.served import serve_app

SECRET = "sim-secret"
ALL_SCOPES = ["read:jira-work", "manage:jira-webhook", "read:jira-user", "offline_access"]


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(issues=30, seed=9)


@pytest.fixture(scope="module")
def service(world: World) -> webhooks.WebhookService:
    return webhooks.WebhookService(
        world, SimulatorOptions(webhook_retry_backoff_seconds=0.05), timeout_seconds=0.4
    )


@pytest.fixture(scope="module")
def jira(world: World, service: webhooks.WebhookService) -> Iterator[str]:
    """The whole simulator app; `create_app` picks up the service made above (short timeout)."""
    app = create_app(world, options=service.options)
    with serve_app(app) as url:
        yield url


def _token(jira: str, scopes: list[str]) -> str:
    code = httpx.post(f"{jira}/_sim/oauth/grant", json={"scopes": scopes}).json()["code"]
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "jira-sync-sim",
        "client_secret": SECRET,
    }
    return httpx.post(f"{jira}/oauth/token", json=body).json()["access_token"]


class FreshToken(httpx.Auth):
    """A new 3LO access token per request: tests advance the simulated clock past token expiry."""

    def __init__(self, jira: str) -> None:
        self.jira = jira

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {_token(self.jira, ALL_SCOPES)}"
        yield request


@pytest.fixture(scope="module")
def gateway(jira: str, world: World) -> Iterator[httpx.Client]:
    cloud_id = world.site_by_name("acme").cloud_id  # type: ignore[union-attr]
    base_url = f"{jira}/ex/jira/{cloud_id}/rest/api/3"
    with httpx.Client(base_url=base_url, auth=FreshToken(jira), timeout=10) as client:
        yield client


@pytest.fixture
def clean(
    gateway: httpx.Client, receiver: tuple[Receiver, str], service: webhooks.WebhookService
) -> Iterator[None]:
    yield
    ids = [w["id"] for w in gateway.get("/webhook").json()["values"]]
    if ids:
        gateway.request("DELETE", "/webhook", json={"webhookIds": ids})
    assert service.wait_idle(10)
    receiver[0].received.clear()
    receiver[0].script.clear()


def _register(gateway: httpx.Client, url: str, *items: dict) -> list[dict]:
    response = gateway.post("/webhook", json={"url": url, "webhooks": list(items)})
    assert response.status_code == 200, response.text
    return response.json()["webhookRegistrationResult"]


EVENTS = ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]


@pytest.mark.usefixtures("clean")
def test_register_list_refresh_delete(
    gateway: httpx.Client, world: World, receiver: tuple[Receiver, str]
) -> None:
    (result,) = _register(gateway, receiver[1], {"events": EVENTS, "jqlFilter": "project = PLAT"})
    webhook_id = result["createdWebhookId"]
    listed = gateway.get("/webhook").json()
    assert listed["total"] == 1 and listed["isLast"] is True
    (entry,) = listed["values"]
    assert (
        entry["url"] == receiver[1] and entry["jqlFilter"] == "project = PLAT" and entry["events"] == EVENTS
    )
    day = 86_400_000
    assert abs(entry["expirationDate"] - (world.clock.now_ms() + 30 * day)) < 5000
    world.clock.advance(10 * day)
    refreshed = gateway.put("/webhook/refresh", json={"webhookIds": [webhook_id, 424242]}).json()
    assert abs(refreshed["expirationDate"] - (world.clock.now_ms() + 30 * day)) < 5000
    assert gateway.get("/webhook").json()["values"][0]["expirationDate"] == refreshed["expirationDate"]
    assert gateway.request("DELETE", "/webhook", json={"webhookIds": [webhook_id]}).status_code == 202
    assert gateway.get("/webhook").json()["values"] == []
    assert gateway.put("/webhook/refresh", json={}).status_code == 400


@pytest.mark.usefixtures("clean")
def test_one_url_per_app_and_five_per_user(gateway: httpx.Client, receiver: tuple[Receiver, str]) -> None:
    item = {"events": ["jira:issue_created"], "jqlFilter": "project = PLAT"}
    results = _register(gateway, receiver[1], *[item] * 6)
    assert [("createdWebhookId" in r) for r in results] == [True] * 5 + [False]
    assert "maximum number of 5" in results[5]["errors"][0]
    other = gateway.post("/webhook", json={"url": "http://127.0.0.1:9/other", "webhooks": [item]})
    assert other.status_code == 400
    assert other.json()["errorMessages"] == ["Only a single URL per app is allowed to be registered."]


@pytest.mark.usefixtures("clean")
def test_filters_outside_the_webhook_subset_get_per_item_errors(
    gateway: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    results = _register(
        gateway,
        receiver[1],
        {"events": EVENTS, "jqlFilter": "project = PLAT AND issuetype IN (Bug, Story) AND status != Done"},
        {"events": EVENTS, "jqlFilter": "watchCount > 3"},
        {"events": EVENTS, "jqlFilter": "project = NOPE"},
        {"events": EVENTS, "jqlFilter": "updated >= -1d"},
        {"events": ["jira:issue_exploded"], "jqlFilter": "project != null"},
        {"events": EVENTS, "jqlFilter": ""},
    )
    assert "createdWebhookId" in results[0]
    assert results[1] == {"errors": ["The clause watchCount is unsupported"]}  # Jira's own example
    assert "NOPE" in results[2]["errors"][0]
    assert "The clause updated is unsupported" in results[3]["errors"]
    assert results[4] == {"errors": ["The event jira:issue_exploded is not supported"]}
    assert results[5] == {"errors": ["Empty JQL search not supported"]}


def test_scopes_and_oauth_only(jira: str, world: World, receiver: tuple[Receiver, str]) -> None:
    cloud_id = world.site_by_name("acme").cloud_id  # type: ignore[union-attr]
    body = {"url": receiver[1], "webhooks": [{"events": EVENTS, "jqlFilter": "project = PLAT"}]}
    weak = _token(jira, ["read:jira-work", "read:jira-user"])
    refused = httpx.post(
        f"{jira}/ex/jira/{cloud_id}/rest/api/3/webhook",
        json=body,
        headers={"Authorization": f"Bearer {weak}"},
    )
    assert refused.status_code == 401
    assert refused.json() == {"code": 401, "message": "Unauthorized; scope does not match"}
    basic = httpx.post(
        f"{jira}/site/acme/rest/api/3/webhook", json=body, auth=(world.admin.email, world.admin.api_token)
    )
    assert basic.status_code == 403 and basic.json()["errorMessages"] == [ONLY_OAUTH]


def _wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.mark.usefixtures("clean")
def test_delivery_payload_headers_and_jwt(
    jira: str, gateway: httpx.Client, receiver: tuple[Receiver, str], service: webhooks.WebhookService
) -> None:
    hooks, url = receiver
    ids = [
        r["createdWebhookId"]
        for r in _register(
            gateway,
            url,
            {"events": EVENTS, "jqlFilter": "project = PLAT"},
            {"events": ["jira:issue_deleted"], "jqlFilter": "project IN (PLAT, MOB)"},
        )
    ]
    created = httpx.post(
        f"{jira}/_sim/sites/acme/issues", json={"project": "PLAT", "issue_type": "Story", "summary": "Hooked"}
    )
    key = created.json()["key"]
    httpx.post(
        f"{jira}/_sim/sites/acme/issues",
        json={"project": "MOB", "issue_type": "Story", "summary": "Not hooked"},
    )
    httpx.post(f"{jira}/_sim/sites/acme/issues/{key}/transition", json={"status": "In Progress"})
    httpx.delete(f"{jira}/_sim/sites/acme/issues/{key}")
    assert service.wait_idle(10)
    assert [body["webhookEvent"] for _, body in hooks.received] == EVENTS
    headers, body = hooks.received[0]
    assert body["issue_event_type_name"] == "issue_created"
    assert body["matchedWebhookIds"] == [ids[0]]
    assert body["issue"]["key"] == key
    assert body["issue"]["self"] == f"{jira}/site/acme/rest/api/2/issue/{body['issue']['id']}"
    assert body["issue"]["fields"]["summary"] == "Hooked"
    assert body["changelog"]["items"][0]["field"] == "status"
    assert "accountId" in body["user"] and isinstance(body["timestamp"], int)
    assert headers["x-atlassian-webhook-flow"] == "Primary"
    assert "x-atlassian-webhook-retry" not in headers
    scheme, token = headers["authorization"].split(" ")
    with pytest.warns(jwt.InsecureKeyLengthWarning):
        claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert scheme == "Bearer" and claims["iss"] == "jira-sync-sim" and claims["exp"] > claims["iat"]
    updated = hooks.received[1][1]
    assert updated["issue_event_type_name"] == "issue_generic"
    assert updated["issue"]["fields"]["status"]["name"] == "In Progress"
    deleted = hooks.received[2][1]
    assert "issue_event_type_name" not in deleted and "changelog" not in deleted
    assert deleted["matchedWebhookIds"] == ids  # both registrations matched, one POST
    assert len({h["x-atlassian-webhook-identifier"] for h, _ in hooks.received}) == 3
    listed = httpx.get(f"{jira}/_sim/webhooks/deliveries").json()
    assert listed["pending"] == 0
    assert [d["state"] for d in listed["deliveries"][-3:]] == ["delivered"] * 3


@pytest.mark.usefixtures("clean")
def test_retries_keep_the_identifier_after_500_and_timeout(
    jira: str, gateway: httpx.Client, receiver: tuple[Receiver, str], service: webhooks.WebhookService
) -> None:
    hooks, url = receiver
    _register(gateway, url, {"events": ["jira:issue_created"], "jqlFilter": "project = PLAT"})
    hooks.script[:] = ["500", "slow", "503", "200"]
    httpx.post(
        f"{jira}/_sim/sites/acme/issues",
        json={"project": "PLAT", "issue_type": "Task", "summary": "Retry me"},
    )
    _wait_for(lambda: len(hooks.received) == 4)
    assert service.wait_idle(10)
    identifiers = {h["x-atlassian-webhook-identifier"] for h, _ in hooks.received}
    assert len(identifiers) == 1
    assert [h.get("x-atlassian-webhook-retry") for h, _ in hooks.received] == [None, "1", "2", "3"]
    delivery = next(d for d in service.deliveries if d.identifier in identifiers)
    assert [a.status for a in delivery.attempts] == [500, None, 503, 200]
    assert delivery.attempts[1].error.startswith("timeout") and delivery.state == "delivered"


@pytest.mark.usefixtures("clean")
def test_gives_up_after_five_retries_and_never_retries_a_400(
    jira: str, gateway: httpx.Client, receiver: tuple[Receiver, str], service: webhooks.WebhookService
) -> None:
    hooks, url = receiver
    _register(gateway, url, {"events": ["jira:issue_created"], "jqlFilter": "project = PLAT"})
    hooks.script[:] = ["500"] * 6 + ["400"]
    for summary in ("Doomed", "Refused"):
        httpx.post(
            f"{jira}/_sim/sites/acme/issues",
            json={"project": "PLAT", "issue_type": "Task", "summary": summary},
        )
        assert service.wait_idle(10)
    doomed, refused = service.deliveries[-2:]
    assert len(doomed.attempts) == 6 and doomed.state == "failed"
    assert [a.status for a in refused.attempts] == [400] and refused.state == "failed"


@pytest.mark.usefixtures("clean")
def test_expired_webhooks_deliver_nothing_until_refreshed(
    jira: str,
    gateway: httpx.Client,
    world: World,
    receiver: tuple[Receiver, str],
    service: webhooks.WebhookService,
) -> None:
    hooks, url = receiver
    (result,) = _register(gateway, url, {"events": ["jira:issue_created"], "jqlFilter": "project = PLAT"})
    world.clock.advance(31 * 86_400_000)
    httpx.post(
        f"{jira}/_sim/sites/acme/issues", json={"project": "PLAT", "issue_type": "Task", "summary": "Unheard"}
    )
    assert service.wait_idle(10)
    assert hooks.received == []
    (listed,) = gateway.get("/webhook").json()["values"]
    assert listed["expirationDate"] < world.clock.now_ms()  # still listed, visibly expired
    gateway.put("/webhook/refresh", json={"webhookIds": [result["createdWebhookId"]]})
    httpx.post(
        f"{jira}/_sim/sites/acme/issues", json={"project": "PLAT", "issue_type": "Task", "summary": "Heard"}
    )
    assert service.wait_idle(10)
    assert [b["issue"]["fields"]["summary"] for _, b in hooks.received] == ["Heard"]


@pytest.mark.usefixtures("clean")
def test_field_ids_filter_limits_updates(
    jira: str, gateway: httpx.Client, receiver: tuple[Receiver, str], service: webhooks.WebhookService
) -> None:
    hooks, url = receiver
    key = httpx.post(
        f"{jira}/_sim/sites/acme/issues", json={"project": "PLAT", "issue_type": "Task", "summary": "F"}
    ).json()["key"]
    _register(
        gateway,
        url,
        {"events": ["jira:issue_updated"], "jqlFilter": "project = PLAT", "fieldIdsFilter": ["summary"]},
    )
    httpx.put(f"{jira}/_sim/sites/acme/issues/{key}", json={"priority": "Highest"})
    httpx.put(f"{jira}/_sim/sites/acme/issues/{key}", json={"summary": "F2"})
    assert service.wait_idle(10)
    assert [b["changelog"]["items"][0]["field"] for _, b in hooks.received] == ["summary"]


SPEC_PATH = Path(__file__).resolve().parents[3] / "shared" / "reference" / "jira-openapi-v3.json"


@pytest.mark.skipif(
    not SPEC_PATH.exists(), reason=f"Atlassian's OpenAPI spec is not at {SPEC_PATH} (CI has it)"
)
@pytest.mark.usefixtures("clean")
def test_webhook_responses_follow_atlassians_openapi_spec(
    gateway: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    spec = json.loads(SPEC_PATH.read_text())
    registry = Registry().with_resource(
        "urn:spec", Resource.from_contents(spec, default_specification=DRAFT4)
    )

    def violations(path: str, method: str, body: object) -> list[str]:
        schema = spec["paths"][f"/rest/api/3{path}"][method]["responses"]["200"]["content"][
            "application/json"
        ]
        text = json.dumps(schema["schema"]).replace('"#/components', '"urn:spec#/components')
        validator = OAS30ReadValidator(json.loads(text), registry=registry)
        return [f"{method} {path}: {e.message}" for e in validator.iter_errors(body)]

    item = {"events": EVENTS, "jqlFilter": "project = PLAT", "fieldIdsFilter": ["summary"]}
    created = gateway.post(
        "/webhook", json={"url": receiver[1], "webhooks": [item, {**item, "jqlFilter": "x ~ y"}]}
    )
    listed = gateway.get("/webhook")
    refreshed = gateway.put("/webhook/refresh", json={"webhookIds": [listed.json()["values"][0]["id"]]})
    problems = [
        *violations("/webhook", "post", created.json()),
        *violations("/webhook", "get", listed.json()),
        *violations("/webhook/refresh", "put", refreshed.json()),
    ]
    assert problems == []
