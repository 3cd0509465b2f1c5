"""Scale-out: four receiver processes (real uvicorn, one port each) on one PostgreSQL inbox, behind
a loopback round robin. Concurrent clients deliver while one receiver is SIGKILLed; Jira's retries
of what failed go to whichever receiver is next. Every acknowledged delivery is stored exactly
once, and every delivery ends stored exactly once.

Needs `JIRA_SYNC_TEST_POSTGRES_URL` (CI sets it); skips without it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson

from pipelines.inbox import open_inbox
from tests.postgres_server import psycopg2_module, requires_postgres, scratch_database
from tests.webhook_receiver.receiver_servers import ReceiverProcess, write_alpha_sync_file
from tests.webhook_receiver.receiver_testkit import CLIENT_ID, CLIENT_SECRET, bearer, issue_payload
from tests.webhook_receiver.round_robin import RoundRobin

pytestmark = requires_postgres

RECEIVERS = 4
CONCURRENCY = 16
KILL_AFTER_ACKS = 200
TOTAL = 600


def delivery(identifier: str, n: int, *, retry: bool = False) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(issue_payload(issue_id=str(30_000 + n), key=f"ACME-{n}"))
    headers = {
        "Content-Type": "application/json",
        "X-Atlassian-Webhook-Identifier": identifier,
        "Authorization": bearer(CLIENT_SECRET),
    }
    if retry:
        headers["X-Atlassian-Webhook-Retry"] = "1"
    return body, headers


def postgres_sync_file(directory: Path) -> Path:
    path = write_alpha_sync_file(directory)
    path.write_text(path.read_text() + "webhooks:\n  inbox_url_env: JIRA_SYNC_INBOX_URL\n")
    return path


async def deliver(url: str, victim: ReceiverProcess) -> tuple[set[str], set[str]]:
    """TOTAL deliveries from CONCURRENCY clients, each on a new connection (so the round robin spreads
    them); the victim is SIGKILLed after KILL_AFTER_ACKS acknowledgements. (acked, not acked)."""
    acked: set[str] = set()
    unacked: set[str] = set()
    counter = iter(range(TOTAL))

    async def client(http: httpx.AsyncClient) -> None:
        for n in counter:
            identifier = f"scale-{n}"
            body, headers = delivery(identifier, n)
            try:
                response = await http.post(f"{url}/webhooks/jira/acme", content=body, headers=headers)
            except httpx.TransportError:
                unacked.add(identifier)
                continue
            (acked if response.status_code == 200 else unacked).add(identifier)
            if len(acked) == KILL_AFTER_ACKS and victim.process is not None:
                victim.kill()  # while other clients' requests are in flight on it

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=10) as http:
        await asyncio.gather(*(client(http) for _ in range(CONCURRENCY)))
    return acked, unacked


def test_four_receivers_store_every_acknowledged_delivery_once_across_a_kill(tmp_path: Path) -> None:
    with scratch_database() as url:
        sync_file = postgres_sync_file(tmp_path)
        env = {"JIRA_CLIENT_ID": CLIENT_ID, "JIRA_SECRET": CLIENT_SECRET, "JIRA_SYNC_INBOX_URL": url}
        receivers = [
            ReceiverProcess(sync_file, None, env, tmp_path / f"receiver-{n}.log") for n in range(RECEIVERS)
        ]
        try:
            for receiver in receivers:
                receiver.start()
            with RoundRobin([r.port for r in receivers]) as balancer:
                acked, unacked = asyncio.run(deliver(balancer.base_url, receivers[1]))
                assert len(acked) + len(unacked) == TOTAL and len(acked) >= KILL_AFTER_ACKS
                # Jira retries what it did not see acknowledged (and some that it did)
                with httpx.Client(timeout=10) as http:
                    for identifier in sorted(unacked | set(sorted(acked)[:40])):
                        body, headers = delivery(identifier, int(identifier.split("-")[1]), retry=True)
                        response = http.post(
                            f"{balancer.base_url}/webhooks/jira/acme", content=body, headers=headers
                        )
                        assert response.status_code == 200, response.text
                        allowed = {"duplicate"} if identifier in acked else {"stored", "duplicate"}
                        assert response.json()["status"] in allowed
                spread = dict(balancer.connections)
            health = httpx.get(f"{receivers[0].base_url}/healthz").json()
            assert health["inbox"]["writable"] and "jira_sync_ci:***@" in health["inbox"]["path"]
        finally:
            for receiver in receivers:
                receiver.stop()

        assert len(spread) == RECEIVERS and min(spread.values()) >= 20, spread  # every receiver took load
        psycopg2 = psycopg2_module()
        with psycopg2.connect(url) as connection:
            cursor = connection.cursor()
            cursor.execute(
                "SELECT identifier, count(*) FROM jira_sync_inbox.inbox_events GROUP BY identifier"
            )
            counts = dict(cursor.fetchall())
        connection.close()
        missing = acked - counts.keys()
        assert not missing, f"{len(missing)} acknowledged deliveries were lost: {sorted(missing)[:5]}"
        assert set(counts) == acked | unacked and set(counts.values()) == {1}
        inbox = open_inbox(url)
        try:
            assert inbox.stats().pending == TOTAL
        finally:
            inbox.close()
