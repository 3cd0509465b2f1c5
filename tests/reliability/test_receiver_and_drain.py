"""The receiver at full speed while the ingest drains its inbox at full speed, at the same time.

Eight client threads post 8000 Jira-shaped deliveries (real issue renders of both sites, each
with a new summary and a later `updated`; 5% sent a second time as Jira's retries) to the
receiver under uvicorn, as fast as it answers; meanwhile the ingest asset runs back to back,
draining what is pending into the warehouse (a run keeps taking batches while new deliveries
arrive, so under this load one run drains alongside the whole burst). Then: every answer was 200 (stored, or duplicate for
the retries), every ingest run succeeded, every delivery is in `jira_raw.webhook_events` exactly
once, the inbox is empty, and each touched issue in `jira.issues` has the summary of its latest
delivery.
"""

from __future__ import annotations

import copy
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import orjson
import pytest

from jira_sync.demo_world import TENANT
from pipelines.inbox.sqlite_inbox import SQLiteInbox
from tests.reliability.reliability_kit import failure_message, issue_delivery, report
from tests.reliability.webhook_world import webhook_world

# a long scenario: `make chaos` runs it, `make test` (-m "not slow") does not
pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(900)]

DELIVERIES, RETRIED_SHARE, CLIENTS = 8000, 0.05, 8


def jira_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def test_receiver_and_drain_at_full_speed_at_once(tmp_path: Path) -> None:
    with webhook_world(tmp_path, issues=60, seed=41) as world:
        sim = world.demo.simulator
        truth = sim.truth()["sites"]
        registered = world.registered()
        templates = []
        for site, count in (("acme", 20), ("globex", 10)):
            cloud_id = sim.cloud_ids[site]
            matched = min(registered[(TENANT, cloud_id)])
            templates += [
                (cloud_id, issue_delivery(sim, site, issue_id, matched=matched))
                for issue_id in truth[cloud_id]["issues"]["ids"][:count]
            ]
        start = datetime.now(UTC)
        bodies: list[tuple[str, bytes]] = []
        latest: dict[tuple[str, str], str] = {}
        for number in range(DELIVERIES):
            cloud_id, template = templates[number % len(templates)]
            payload = copy.deepcopy(template)
            summary = f"load {number}"
            payload["issue"]["fields"]["summary"] = summary
            payload["issue"]["fields"]["updated"] = jira_time(start + timedelta(milliseconds=number))
            payload["timestamp"] = int(start.timestamp() * 1000) + number
            payload["changelog"] = {
                "id": str(900_000_000 + number),
                "items": [
                    {"field": "summary", "fieldtype": "jira", "fieldId": "summary", "toString": summary}
                ],
            }
            bodies.append((f"load-{number}", orjson.dumps(payload)))
            latest[(cloud_id, payload["issue"]["id"])] = summary
        retried = bodies[:: int(1 / RETRIED_SHARE)]
        sends = [(identifier, body, None) for identifier, body in bodies] + [(i, b, 1) for i, b in retried]
        random.Random(5).shuffle(sends)  # a retry may even arrive first: then the original is the duplicate

        answers: dict[str, int] = {}
        latencies: list[float] = []
        lock = threading.Lock()
        local = threading.local()

        def post(send: tuple[str, bytes, int | None]) -> None:
            identifier, body, retry = send
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(base_url=world.url, timeout=30)
            began = time.perf_counter()
            response = client.post(
                f"/webhooks/jira/{TENANT}", content=body, headers=world.headers(identifier, retry)
            )
            elapsed = time.perf_counter() - began
            outcome = (
                response.json().get("status", str(response.status_code))
                if response.status_code == 200
                else str(response.status_code)
            )
            with lock:
                answers[outcome] = answers.get(outcome, 0) + 1
                latencies.append(elapsed)

        drains: list[dict] = []
        with world.receiver():
            posting_done = threading.Event()

            def post_all() -> None:
                with ThreadPoolExecutor(CLIENTS) as pool:
                    list(pool.map(post, sends))
                posting_done.set()

            began = time.monotonic()
            poster = threading.Thread(target=post_all)
            poster.start()
            while not posting_done.is_set():
                result = world.ingest()
                assert result.success, failure_message(result)
                drains.append(dict(result.get_asset_materialization_events()[0].materialization.metadata))
            post_seconds = time.monotonic() - began
            poster.join()
            during_load = len(drains)
            inbox = SQLiteInbox(world.inbox)
            try:
                while inbox.stats().pending:
                    result = world.ingest()
                    assert result.success, failure_message(result)
                    drains.append(dict(result.get_asset_materialization_events()[0].materialization.metadata))
                pending = inbox.stats().pending
                assert world.ingest(follow=True).success  # the jira assets the automation runs next
            finally:
                inbox.close()

    assert answers == {"stored": DELIVERIES, "duplicate": len(retried)}
    assert pending == 0
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        events, distinct = con.execute(
            "SELECT count(*), count(DISTINCT (cloud_id, webhook_identifier)) FROM jira_raw.webhook_events "
            "WHERE webhook_identifier LIKE 'load-%'"
        ).fetchone()
        summaries = dict(
            ((cloud_id, issue_id), summary)
            for cloud_id, issue_id, summary in con.execute(
                "SELECT cloud_id, issue_id, summary FROM jira.issues WHERE summary LIKE 'load %'"
            ).fetchall()
        )
    assert (events, distinct) == (DELIVERIES, DELIVERIES)
    assert summaries == latest
    drained = [int(d["events"].value) for d in drains]
    lags = [float(d["max_receive_to_commit_seconds"].value) for d in drains if int(d["events"].value)]
    latencies.sort()
    report(
        "receiver and drain at once",
        deliveries=len(sends),
        post_s=post_seconds,
        deliveries_per_s=round(len(sends) / post_seconds),
        p50_ms=round(statistics.median(latencies) * 1000, 1),
        p99_ms=round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
        drains_during_load=during_load,
        drains=len(drains),
        drain_batches=sum(int(d["batches"].value) for d in drains),
        max_events_per_drain=max(drained),
        max_receive_to_commit_s=max(lags),
    )
