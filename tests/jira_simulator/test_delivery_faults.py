"""Lost, late and duplicated webhook deliveries: decided once per delivery, sent as decided."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator import mutations, webhooks
from jira_simulator.delivery_faults import DeliveryFaults, DeliveryFaultSettings
from jira_simulator.generator import generate_world
from jira_simulator.model import Webhook, World
from jira_simulator.options import SimulatorOptions
from tests.jira_simulator.served import serve_app, serve_world


class _Delivery:
    def __init__(self, n: int) -> None:
        self.identifier = f"id-{n}"
        self.cloud_id = "c"
        self.event = "jira:issue_updated"
        self.issue_key = f"X-{n}"
        self.body = orjson.dumps({"timestamp": 1000 + n})
        self.state = "pending"


def test_fates_follow_the_rates_and_the_seed() -> None:
    settings = DeliveryFaultSettings(loss_rate=0.2, late_rate=0.2, duplicate_rate=0.2, late_seconds=7, seed=3)
    first, second = DeliveryFaults(settings), DeliveryFaults(settings)
    plans = [first.schedule(_Delivery(n)) for n in range(1000)]
    assert plans == [second.schedule(_Delivery(n)) for n in range(1000)]  # same seed, same fates
    fates = Counter(d["fate"] for d in first.decisions)
    assert all(150 < fates[f] < 250 for f in ("lost", "late", "duplicated")), fates
    for plan, decision in zip(plans, first.decisions, strict=True):
        assert (
            plan == {"lost": [], "late": [7.0], "duplicated": [0.0, 2.0], "normal": [0.0]}[decision["fate"]]
        )
    assert first.decisions[0]["timestamp_ms"] == 1000
    lost = _Delivery(0)
    always = DeliveryFaults(DeliveryFaultSettings(loss_rate=1))
    assert always.schedule(lost) == [] and lost.state == "lost"
    assert DeliveryFaults().schedule(_Delivery(1)) == [0.0] and DeliveryFaults().decisions == []


@pytest.fixture
def receiver() -> Iterator[tuple[dict[str, list[float]], str]]:
    arrivals: dict[str, list[float]] = defaultdict(list)

    async def hook(request: Request) -> Response:
        arrivals[request.headers["X-Atlassian-Webhook-Identifier"]].append(time.monotonic())
        return Response(status_code=200)

    with serve_app(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        yield arrivals, f"{url}/hook"


def _register(world: World, url: str) -> None:
    site = world.site_by_name("acme")
    assert site is not None
    site.webhooks[1] = Webhook(
        id=1,
        client_id=world.app.client_id,
        owner_account_id=world.admin_account_id,
        url=url,
        events=["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"],
        jql_filter="project = PLAT",
        field_ids_filter=None,
        expiration_ms=world.clock.now_ms() + 86_400_000,
    )


def test_deliveries_are_lost_late_or_sent_twice_as_decided(
    receiver: tuple[dict[str, list[float]], str],
) -> None:
    arrivals, url = receiver
    world = generate_world(issues=30, seed=6)
    webhooks.service(world, SimulatorOptions())
    with serve_world(world) as sim, httpx.Client(base_url=sim.base_url, timeout=10) as http:
        world.public_base_url = sim.base_url
        bad = http.put("/_sim/webhooks/delivery-faults", json={"loss_rate": 2})
        assert bad.status_code == 400 and "loss_rate" in bad.json()["error"]
        changed = http.put(
            "/_sim/webhooks/delivery-faults",
            json={
                "loss_rate": 0.25,
                "late_rate": 0.25,
                "late_seconds": 0.6,
                "duplicate_rate": 0.25,
                "duplicate_after_seconds": 0.2,
                "seed": 4,
            },
        )
        assert changed.json()["settings"]["late_seconds"] == 0.6
        _register(world, url)
        site = world.site_by_name("acme")
        assert site is not None
        started = time.monotonic()
        for n in range(40):
            mutations.create_issue(world, site, project="PLAT", issue_type="Task", summary=f"n{n}")
        service = webhooks.service(world)
        assert service.wait_idle(20)
        report = http.get("/_sim/webhooks/delivery-faults").json()
        states = {
            d["identifier"]: d["state"] for d in http.get("/_sim/webhooks/deliveries").json()["deliveries"]
        }
    decisions = report["decisions"]
    assert len(decisions) == 40 and sum(report["counts"].values()) == 40
    assert all(report["counts"][fate] > 0 for fate in ("lost", "late", "duplicated", "normal"))
    for decision in decisions:
        got = arrivals.get(decision["identifier"], [])
        fate = decision["fate"]
        assert len(got) == {"lost": 0, "late": 1, "duplicated": 2, "normal": 1}[fate], decision
        assert states[decision["identifier"]] == ("lost" if fate == "lost" else "delivered")
        if fate == "late":
            assert got[0] - started >= 0.6
        assert decision["event"] == "jira:issue_created" and decision["timestamp_ms"] is not None
