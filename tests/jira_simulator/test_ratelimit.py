"""Atlassian's points quota and burst buckets as the simulator serves them (ratelimit.py, clock.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from jira_simulator.clock import Clock
from jira_simulator.generator import generate_world
from jira_simulator.options import OptionError, RateLimit, SimulatorOptions, parse_rate_limit
from jira_simulator.ratelimit import burst_rate
from tests.jira_simulator.served import Served, serve_world

SCOPES = ["read:jira-work", "read:jira-user"]


@pytest.fixture
def sim() -> Iterator[Served]:
    with serve_world(generate_world(60, seed=3)) as served:
        yield served


def _faults(sim: Served, **settings: object) -> dict:
    response = httpx.put(f"{sim.base_url}/_sim/faults", json=settings, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _issue_key(sim: Served, site: str = "acme") -> str:
    return next(iter(sim.site(site).issue_ids_by_key))


def _get_issue(sim: Served, token: str, site: str = "acme") -> httpx.Response:
    """GET issue through the OAuth gateway: 1 + 1 issue = 2 points."""
    return httpx.get(
        f"{sim.gateway(site)}/issue/{_issue_key(sim, site)}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def test_every_charged_answer_states_the_policy_and_seconds_to_reset(sim: Served) -> None:
    _faults(sim, points_per_hour=1000)
    answer = _get_issue(sim, sim.access_token(SCOPES))
    assert answer.status_code == 200
    assert answer.headers["RateLimit-Policy"] == '"global-app-quota";q=1000;w=3600'
    policy, seconds = answer.headers["RateLimit"].split(";t=")
    assert policy == '"global-app-quota"'  # no r: well within the quota
    assert 1 <= int(seconds) <= 3600
    assert answer.headers["X-RateLimit-Remaining"] == "998"


def test_structured_style_shows_the_points_left_only_near_the_limit(sim: Served) -> None:
    _faults(sim, points_per_hour=20, quota_headers="structured")
    token = sim.access_token(SCOPES)
    far = _get_issue(sim, token)
    assert "X-RateLimit-Limit" not in far.headers and "X-RateLimit-Remaining" not in far.headers
    assert ";r=" not in far.headers["RateLimit"]
    for _ in range(8):  # 18 points used, 2 left (< 20 %)
        near = _get_issue(sim, token)
    assert near.headers["RateLimit"].startswith('"global-app-quota";r=2;t=')
    assert near.headers["X-RateLimit-NearLimit"] == "true"
    while (refused := _get_issue(sim, token)).status_code == 200:
        pass
    assert refused.status_code == 429
    assert refused.headers["RateLimit-Reason"] == "jira-quota-global-based"
    assert refused.headers["RateLimit"].startswith('"global-app-quota";r=0;t=')


def test_tenant_pools_are_per_site_and_refuse_as_tenant_based(sim: Served) -> None:
    acme, globex = sim.site("acme").cloud_id, sim.site("globex").cloud_id
    _faults(sim, points_per_hour=10, quota_pool="tenant", tenant_points_per_hour={"globex": 50})
    token = sim.access_token(SCOPES)
    while (refused := _get_issue(sim, token, "acme")).status_code == 200:
        pass
    assert refused.headers["RateLimit-Reason"] == "jira-quota-tenant-based"
    assert refused.headers["RateLimit-Policy"] == '"tenant-app-quota";q=10;w=3600'
    other = _get_issue(sim, token, "globex")
    assert other.status_code == 200  # another tenant, another pool
    assert other.headers["RateLimit-Policy"] == '"tenant-app-quota";q=50;w=3600'
    pools = httpx.get(f"{sim.base_url}/_sim/faults", timeout=10).json()["points"]["pools"]
    assert pools[acme]["left"] == 0 and pools[globex] == {"quota": 50, "used": 2, "left": 48}


def test_beta_headers_before_enforcement_never_refuse(sim: Served) -> None:
    _faults(sim, points_per_hour=6, quota_headers="beta", burst_per_second=100)
    token = sim.access_token(SCOPES)
    answers = [_get_issue(sim, token) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    first, over = answers[0], answers[-1]
    assert first.headers["Beta-RateLimit-Policy"] == '"global-app-quota";q=6;w=3600'
    # the enforced burst limit keeps unprefixed headers beside the beta quota (Atlassian's "mixed" case)
    assert first.headers["RateLimit-Policy"] == '"jira-burst-based";q=150;w=1'
    assert "Retry-After" not in over.headers and "RateLimit-Reason" not in over.headers
    assert over.headers["X-Beta-RateLimit-Reason"] == "jira-quota-global-based"
    assert 1 <= int(over.headers["Beta-Retry-After"]) <= 3600
    assert over.headers["X-Beta-RateLimit-NearLimit"] == "true"
    assert over.headers["Beta-RateLimit"].startswith('"global-app-quota";r=0;t=')


def test_a_fast_clock_makes_the_quota_hour_pass_in_wall_seconds(serve_world) -> None:
    options = SimulatorOptions(rate_limit=RateLimit(points_per_hour=6), clock_speed=900)  # an hour = 4 s
    with serve_world(generate_world(60, seed=3), options) as sim:
        token = sim.access_token(SCOPES)
        first = _get_issue(sim, token)
        assert first.headers["RateLimit-Policy"] == '"global-app-quota";q=6;w=4'
        while (refused := _get_issue(sim, token)).status_code == 200:
            pass
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 4
        time.sleep(wait + 0.1)
        assert _get_issue(sim, sim.access_token(SCOPES)).status_code == 200
        clock = httpx.get(f"{sim.base_url}/_sim/clock", timeout=10).json()
        assert clock["speed"] == 900


def test_the_quota_ledger_keeps_each_hour_per_site_and_every_refusal(sim: Served) -> None:
    httpx.post(f"{sim.base_url}/_sim/quota/reset", timeout=10)
    _faults(sim, points_per_hour=8)
    token = sim.access_token(SCOPES)
    before = httpx.get(f"{sim.base_url}/_sim/quota", timeout=10).json()
    assert before["first_headers_at"] is None
    while _get_issue(sim, token, "globex").status_code == 200:
        pass
    _get_issue(sim, token, "acme")
    sim.world.clock.advance(3_600_000)
    assert _get_issue(sim, sim.access_token(SCOPES), "acme").status_code == 200
    ledger = httpx.get(f"{sim.base_url}/_sim/quota", timeout=10).json()
    assert ledger["first_headers_at"] is not None and ledger["window_seconds"] == 3600
    spent, fresh = ledger["windows"]
    globex = sim.site("globex").cloud_id
    assert spent["used"] == 8 and spent["by_site"] == {globex: 8} and spent["refused"] == 2
    assert fresh["used"] == 2 and fresh["refused"] == 0
    assert [r["reason"] for r in ledger["refusals"]] == ["jira-quota-global-based"] * 2
    assert {r["cloud_id"] for r in ledger["refusals"]} == {globex, sim.site("acme").cloud_id}


def test_unauthenticated_gateway_answers_are_not_charged(sim: Served) -> None:
    _faults(sim, points_per_hour=100)
    refused = httpx.get(
        f"{sim.gateway()}/issue/{_issue_key(sim)}", headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert refused.status_code == 401
    assert httpx.get(f"{sim.base_url}/_sim/faults", timeout=10).json()["points"]["used"] == 0


def test_burst_buckets_follow_atlassians_table_scaled() -> None:
    prefix = "/site/{site_name}/rest/api/{version}"
    assert burst_rate(100, "GET", f"{prefix}/search/jql") == 100
    assert burst_rate(100, "PUT", f"{prefix}/webhook/refresh") == 50
    assert burst_rate(100, "GET", f"{prefix}/issue/{{issue}}") == 150
    assert burst_rate(100, "GET", f"{prefix}/issue/{{issue}}/changelog") == 200
    assert burst_rate(100, "GET", f"{prefix}/issue/{{issue}}/comment") == 100
    assert burst_rate(10, "POST", f"{prefix}/search/approximate-count") == 15
    assert burst_rate(10, "GET", f"{prefix}/user") == 15


def test_api_token_answers_carry_the_burst_bucket(sim: Served) -> None:
    _faults(sim, burst_per_second=10)
    with sim.client() as client:
        answer = client.get(f"{sim.rest()}/search/jql", params={"jql": "project = PLAT"})
    assert answer.headers["RateLimit-Policy"] == '"jira-burst-based";q=10;w=1'
    assert answer.headers["RateLimit"] == '"jira-burst-based";r=9;t=1'
    assert answer.headers["X-RateLimit-Limit"] == "10"


def test_clock_speed_changes_the_pace_without_a_jump(sim: Served) -> None:
    clock = Clock(speed=1)
    before = clock.now_ms()
    clock.set_speed(1000)
    assert abs(clock.now_ms() - before) < 200
    time.sleep(0.05)
    assert clock.now_ms() - before >= 40_000
    assert clock.wall_seconds(3_600_000) == pytest.approx(3.6)
    bad = httpx.put(f"{sim.base_url}/_sim/clock/speed", json={"speed": 0}, timeout=10)
    assert bad.status_code == 400 and "speed" in bad.json()["error"]
    ok = httpx.put(f"{sim.base_url}/_sim/clock/speed", json={"speed": 2}, timeout=10)
    assert ok.json()["speed"] == 2


def test_rate_limit_option_reads_pools_styles_and_per_site_points() -> None:
    limit = parse_rate_limit("points=65000,pool=tenant,points[acme]=120000,headers=beta,burst=100")
    assert limit == RateLimit(
        burst_per_second=100,
        points_per_hour=65000,
        quota_pool="tenant",
        tenant_points={"acme": 120000},
        quota_headers="beta",
    )
    for spec, fragment in [
        ("pool=shared", "pool='shared'"),
        ("headers=x", "headers='x'"),
        ("points[acme]=5", "add pool=tenant"),
        ("quota=5", "cannot read"),
    ]:
        with pytest.raises(OptionError, match=fragment.replace("[", r"\[")):
            parse_rate_limit(spec)
    with pytest.raises(OptionError, match="clock-speed"):
        SimulatorOptions(clock_speed=0)
