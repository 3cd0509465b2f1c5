"""A run's view of the shared budget: reserve, settle, wait aloud (real SQLite store, a fake clock)."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import pytest
from requests.structures import CaseInsensitiveDict

from pipelines.jira.quota.budget import QuotaBudget, QuotaSettings, app_key, gateway_cloud_id
from pipelines.jira.quota.headers import RateLimitHeaders, parse_rate_limit_headers
from pipelines.jira.quota.store import SqliteBudgetStore

T0 = 1_800_000_000.0  # the start of a UTC hour
URL = "https://api.atlassian.com/ex/jira/{cloud}/rest/api/3/search/jql"
ASK = orjson.dumps({"jql": "created >= 0", "maxResults": 100})
PAGE = orjson.dumps({"issues": [{"id": str(i)} for i in range(100)]})


class FakeTime:
    def __init__(self) -> None:
        self.now = T0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def policy(quota: int, **more: str) -> RateLimitHeaders:
    return parse_rate_limit_headers(
        CaseInsensitiveDict({"RateLimit-Policy": f'"global-app-quota";q={quota};w=3600', **more})
    )


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture
def store(tmp_path: Path) -> SqliteBudgetStore:
    return SqliteBudgetStore(tmp_path / "quota.sqlite")


def budget(
    store: SqliteBudgetStore, time_: FakeTime, purpose: str, quota: int = 1000, **settings
) -> QuotaBudget:
    return QuotaBudget(
        store,
        QuotaSettings(points_per_hour=quota, **settings),
        app=app_key("client-id"),
        purpose=purpose,
        tenants={"c-acme": "acme", "c-globex": "globex"},
        clock=time_.clock,
        sleep=time_.sleep,
    )


def page(b: QuotaBudget, cloud: str, quota: int = 1000) -> float:
    """One search page: reserve, 'send', settle; returns when it was granted."""
    url = URL.format(cloud=cloud)
    ticket = b.acquire("POST", url, {}, ASK)
    assert ticket is not None and ticket.points == 101
    granted = b.clock()
    b.settle(ticket, "POST", url, 200, PAGE, policy(quota))
    return granted


def test_api_token_requests_are_not_charged(store, time_) -> None:
    assert (
        budget(store, time_, "backfill").acquire(
            "GET", "https://acme.atlassian.net/rest/api/3/myself", {}, None
        )
        is None
    )
    assert gateway_cloud_id("https://api.atlassian.com/ex/jira/abc-1/rest/api/3/x") == "abc-1"


def test_a_backfill_paces_through_the_windows_and_uses_them_up(store, time_) -> None:
    backfill = budget(store, time_, "backfill")
    granted = [page(backfill, "c-acme") for _ in range(30)]  # 3,030 points: three windows and more
    windows = [sum(1 for g in granted if T0 + h * 3600 <= g < T0 + (h + 1) * 3600) for h in range(4)]
    assert windows[:3] == [9, 9, 9]  # 909 of 1,000 points in every full window, never more
    assert backfill.stats.as_dict()["points"] == 30 * 101
    assert backfill.stats.wait_seconds > 2 * 3600 - 600


def test_a_sweep_is_served_at_once_while_a_backfill_saturates_the_pool(store, time_) -> None:
    backfill, sweep = budget(store, time_, "backfill"), budget(store, time_, "sweep")
    for _ in range(8):
        page(backfill, "c-acme")  # 808 points: at the backfill's ceiling (900 at the window's start)
    time_.now = T0 + 600
    assert page(sweep, "c-globex") == T0 + 600  # no wait: the reserve is the sweep's
    assert page(backfill, "c-acme") == T0 + 3600  # 909 spent: the backfill's next page waits the hour out


def test_a_quota_429_pauses_every_purpose_until_the_reset_and_says_so(store, time_, caplog) -> None:
    sweep, backfill = budget(store, time_, "sweep"), budget(store, time_, "backfill")
    url = URL.format(cloud="c-acme")
    ticket = sweep.acquire("POST", url, {}, ASK)
    refusal = policy(1000, **{"Retry-After": "1200", "RateLimit-Reason": "jira-quota-global-based"})
    with caplog.at_level(logging.INFO, logger="pipelines.jira.quota"):
        sweep.settle(ticket, "POST", url, 429, b"{}", refusal)  # type: ignore[arg-type]
        assert page(backfill, "c-globex") == T0 + 1200
    lines = [r.getMessage() for r in caplog.records]
    assert any(
        line.startswith("quota: every request on the global-app-quota pool waits 1200 s, until ")
        and "UTC: Jira answered 429 jira-quota-global-based (Retry-After 1200.0 s)" in line
        for line in lines
    ), lines
    assert any(line.startswith("quota: backfill of tenant globex resumed after") for line in lines), lines
    facts = [r.jira_quota for r in caplog.records if hasattr(r, "jira_quota")]
    assert {f["event"] for f in facts} >= {"wait", "resumed"}
    assert sweep.stats.as_dict()["quota_refusals"] == 1


def test_a_backfill_wait_says_what_until_when_and_why(store, time_, caplog) -> None:
    backfill = budget(store, time_, "backfill")
    with caplog.at_level(logging.INFO, logger="pipelines.jira.quota"):
        for _ in range(10):
            page(backfill, "c-acme")
    wait = next(r for r in caplog.records if "waits" in r.getMessage())
    text = wait.getMessage()
    assert (
        text.startswith("quota: backfill of tenant acme waits ")
        and " UTC: the global-app-quota pool (" in text
    )
    assert "backfills leave" in text and "sweeps, censuses and webhook-driven refreshes" in text
    assert wait.jira_quota["kind"] == "reserve" and wait.jira_quota["until"].endswith("Z")  # type: ignore[attr-defined]


def test_two_tenants_backfills_share_the_pool_evenly(store, time_) -> None:
    acme, globex = budget(store, time_, "backfill"), budget(store, time_, "backfill")
    # alternate like two concurrent runs: each asks, the fair rule decides who is served
    order = []
    for _ in range(12):
        for name, b in (("acme", acme), ("globex", globex)):
            order.append((name, page(b, f"c-{name}")))
    per_window = {
        name: sum(1 for n, at in order if n == name and at < T0 + 3600) for name in ("acme", "globex")
    }
    assert per_window == {"acme": 5, "globex": 4} or per_window == {"acme": 4, "globex": 5}


def test_answers_without_quota_headers_turn_pacing_off(store, time_) -> None:
    backfill = budget(store, time_, "backfill", quota=300)
    url = URL.format(cloud="c-acme")
    for _ in range(10):  # 1,010 points against a configured 300: Jira meters nothing here
        ticket = backfill.acquire("POST", url, {}, ASK)
        backfill.settle(ticket, "POST", url, 200, PAGE, RateLimitHeaders())  # type: ignore[arg-type]
    assert time_.now == T0


def test_tenant_pools_are_separate_until_jira_says_the_pool_is_global(store, time_, caplog) -> None:
    acme = budget(store, time_, "backfill", quota=300, pool="tenant")
    globex = budget(store, time_, "backfill", quota=300, pool="tenant")
    assert acme.pool_name("c-acme") != acme.pool_name("c-globex")
    for b, cloud in ((acme, "c-acme"), (globex, "c-globex")):
        url = URL.format(cloud=cloud)
        ticket = b.acquire("POST", url, {}, ASK)
        headers = parse_rate_limit_headers(
            CaseInsensitiveDict({"RateLimit-Policy": '"tenant-app-quota";q=300;w=3600'})
        )
        b.settle(ticket, "POST", url, 200, PAGE, headers)  # type: ignore[arg-type]
    assert time_.now == T0  # each tenant spent 101 of its own 300
    with caplog.at_level(logging.WARNING, logger="pipelines.jira.quota"):
        url = URL.format(cloud="c-acme")
        ticket = acme.acquire("POST", url, {}, ASK)
        acme.settle(ticket, "POST", url, 200, PAGE, policy(300))  # type: ignore[arg-type]
    assert acme.pool_name("c-acme") == acme.pool_name("c-globex")
    assert "Set quota.pool: global" in caplog.text
