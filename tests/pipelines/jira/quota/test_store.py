"""The budget stores (SQLite file, PostgreSQL): one pool shared by processes, never over-granted."""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from requests.structures import CaseInsensitiveDict

from pipelines.jira.quota.budget import QuotaBudget, QuotaSettings, WaitAnnouncer
from pipelines.jira.quota.headers import parse_rate_limit_headers
from pipelines.jira.quota.store import (
    BudgetStore,
    PoolRow,
    PostgresBudgetStore,
    QuotaStoreError,
    SqliteBudgetStore,
    Usage,
)

POSTGRES_URL = os.environ.get("JIRA_SYNC_TEST_POSTGRES_URL")
URL = "https://api.example.test/ex/jira/cloud-1/rest/api/3/search/jql"
PAGE = orjson.dumps({"issues": [{"id": str(i)} for i in range(100)]})
ASK = orjson.dumps({"jql": "created >= 0", "maxResults": 100})


def open_store(kind: str, where: str) -> BudgetStore:
    return (
        SqliteBudgetStore(where)
        if kind == "sqlite"
        else PostgresBudgetStore(where, "JIRA_SYNC_TEST_POSTGRES_URL")
    )


@pytest.fixture(params=["sqlite", "postgres"])
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.skip("JIRA_SYNC_TEST_POSTGRES_URL is not set")
        return "postgres", POSTGRES_URL
    return "sqlite", str(tmp_path / "quota.sqlite")


@pytest.fixture
def store(store_spec: tuple[str, str]) -> Iterator[BudgetStore]:
    opened = open_store(*store_spec)
    yield opened
    opened.close()


def test_a_pool_row_and_its_tables_round_trip(store: BudgetStore) -> None:
    pool = f"test/{uuid.uuid4().hex}"
    defaults = PoolRow(pool=pool, quota=500, window_seconds=60, window_end=1000.0)
    with store.transaction(defaults) as tx:
        assert tx.row == defaults
        tx.row.used = 42
        tx.reserve("t1", 101, "acme", "backfill", expires_at=2000.0)
        tx.reserve("t2", 5, "acme", "sweep", expires_at=10.0)  # already expired at 500
        tx.add_usage("acme", "backfill", 40)
        tx.add_usage("acme", "backfill", 2)
        tx.mark_waiting("acme", "backfill", now=500.0)
    with store.transaction(defaults) as tx:
        assert tx.row.used == 42
        assert tx.in_flight(now=500.0) == 101
        assert tx.usage() == [Usage("acme", "backfill", 42, 2)]
        assert tx.waiting_tenants("backfill", now=502.0) == {"acme"}
        assert tx.waiting_tenants("backfill", now=600.0) == set()  # a stale mark
        tx.release("t1")
        tx.clear_waiting("acme", "backfill")
        tx.prune(now=500.0)
    with store.transaction(defaults) as tx:
        assert tx.in_flight(now=0.0) == 0 and tx.waiting_tenants("backfill", now=500.0) == set()
    assert any(row.pool == pool for row in store.pools())
    assert store.usage_history(pool, since=0) == [(1000.0, Usage("acme", "backfill", 42, 2))]


class _Stop(Exception):
    pass


class _LastKind(WaitAnnouncer):
    def __init__(self) -> None:
        super().__init__()
        self.kind: str | None = None

    def waiting(self, key, seconds, until, message, facts) -> None:  # type: ignore[override]
        self.kind = facts.get("kind")


def _spend_until_spent(
    kind: str, where: str, app: str, quota: int, go: multiprocessing.Event, results: multiprocessing.Queue
) -> None:
    """A process asking for 101-point pages until the pool is spent; reports what it was granted."""
    store = open_store(kind, where)
    results.put("ready")
    go.wait(60)
    announcer = _LastKind()

    def stop(_: float) -> None:
        raise _Stop

    settings = QuotaSettings(points_per_hour=quota, reserve_share=0)
    budget = QuotaBudget(store, settings, app=app, purpose="sweep", sleep=stop, announcer=announcer)
    policy = parse_rate_limit_headers(
        CaseInsensitiveDict({"RateLimit-Policy": f'"global-app-quota";q={quota};w=3600'})
    )
    granted = 0
    while True:
        try:
            ticket = budget.acquire("POST", URL, {}, ASK)
        except _Stop:
            if announcer.kind == "spent":
                break
            continue
        assert ticket is not None
        granted += int(ticket.points)
        budget.settle(ticket, "POST", URL, 200, PAGE, policy)
    store.close()
    results.put(granted)


def test_processes_sharing_a_pool_never_spend_more_than_it_holds(store_spec: tuple[str, str]) -> None:
    app, quota = f"test-{uuid.uuid4().hex[:8]}", 101 * 150 + 50
    context = multiprocessing.get_context("spawn")
    results, go = context.Queue(), context.Event()
    workers = [
        context.Process(target=_spend_until_spent, args=(*store_spec, app, quota, go, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    assert [results.get(timeout=60) for _ in workers] == ["ready"] * len(workers)
    go.set()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    granted = [results.get(timeout=5) for _ in workers]
    assert sum(granted) == 101 * 150  # every page that fits, and not one more
    print(f"[quota store {store_spec[0]}] points granted per process: {granted}")


def test_an_unusable_store_names_itself(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(QuotaStoreError, match=r"quota budget store .*file/quota.sqlite"):
        SqliteBudgetStore(blocker / "quota.sqlite")
    with pytest.raises(QuotaStoreError, match="JIRA_QUOTA_URL") as refused:
        PostgresBudgetStore("postgresql://nobody:secret-pw@127.0.0.1:1/none", "JIRA_QUOTA_URL")
    assert "secret-pw" not in str(refused.value)
