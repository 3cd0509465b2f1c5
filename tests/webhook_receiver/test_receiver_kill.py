"""Crash durability: SIGKILL the receiver (uvicorn, real process) under concurrent load; after a
restart every acknowledged delivery is in the inbox exactly once, and Jira's retries of the rest
are stored once too. On the SQLite inbox, and on the PostgreSQL one (when a server is configured)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
import orjson
import pytest

from pipelines.inbox import open_inbox
from tests.postgres_server import requires_postgres, scratch_database
from tests.webhook_receiver.receiver_servers import ReceiverProcess, write_alpha_sync_file
from tests.webhook_receiver.receiver_testkit import CLIENT_ID, CLIENT_SECRET, bearer, issue_payload

CONCURRENCY = 16
KILL_AFTER_ACKS = 250


def delivery(identifier: str, n: int) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(issue_payload(issue_id=str(20_000 + n), key=f"ACME-{n}"))
    headers = {
        "Content-Type": "application/json",
        "X-Atlassian-Webhook-Identifier": identifier,
        "Authorization": bearer(CLIENT_SECRET),
    }
    return body, headers


async def load_until_killed(receiver: ReceiverProcess) -> tuple[set[str], set[str]]:
    """Send deliveries from CONCURRENCY clients; SIGKILL the receiver mid-stream.

    Returns (acknowledged identifiers, identifiers sent but not acknowledged).
    """
    acked: set[str] = set()
    unacked: set[str] = set()
    counter = iter(range(1_000_000))
    killed = asyncio.Event()

    async def client(http: httpx.AsyncClient) -> None:
        while not killed.is_set():
            n = next(counter)
            identifier = f"kill-{n}"
            body, headers = delivery(identifier, n)
            try:
                response = await http.post(
                    f"{receiver.base_url}/webhooks/jira/acme", content=body, headers=headers
                )
            except httpx.TransportError:
                unacked.add(identifier)
                return
            if response.status_code == 200:
                acked.add(identifier)
                if len(acked) >= KILL_AFTER_ACKS and not killed.is_set():
                    killed.set()
                    receiver.kill()  # in the middle of other clients' requests
            else:
                unacked.add(identifier)

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=10) as http:
        await asyncio.gather(*(client(http) for _ in range(CONCURRENCY)))
    return acked, unacked


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=requires_postgres)])
def storage(request, tmp_path: Path):
    """(sync file, the receiver's --inbox or None, extra environment, inbox location)."""
    sync_file = write_alpha_sync_file(tmp_path)
    if request.param == "sqlite":
        yield sync_file, tmp_path / "inbox.sqlite", {}, tmp_path / "inbox.sqlite"
        return
    with scratch_database() as url:
        sync_file.write_text(sync_file.read_text() + "webhooks:\n  inbox_url_env: JIRA_SYNC_INBOX_URL\n")
        yield sync_file, None, {"JIRA_SYNC_INBOX_URL": url}, url


def stored_counts(location: Path | str) -> dict[str, int]:
    """Identifier -> rows stored (SQLite: after an integrity check of the file)."""
    if isinstance(location, Path):
        connection = sqlite3.connect(location)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            return dict(
                connection.execute("SELECT identifier, count(*) FROM inbox_events GROUP BY identifier")
            )
        finally:
            connection.close()
    import psycopg2

    with psycopg2.connect(location) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT identifier, count(*) FROM jira_sync_inbox.inbox_events GROUP BY identifier")
        counts = dict(cursor.fetchall())
    connection.close()
    return counts


def test_every_acknowledged_delivery_survives_sigkill_exactly_once(storage, tmp_path: Path) -> None:
    sync_file, inbox_option, extra_env, location = storage
    env = {"JIRA_CLIENT_ID": CLIENT_ID, "JIRA_SECRET": CLIENT_SECRET, **extra_env}
    receiver = ReceiverProcess(sync_file, inbox_option, env, tmp_path / "receiver.log")
    receiver.start()
    acked, unacked = asyncio.run(load_until_killed(receiver))
    assert len(acked) >= KILL_AFTER_ACKS
    assert unacked, "the kill should have interrupted requests in flight"

    with receiver:  # restart on the same inbox
        health = httpx.get(f"{receiver.base_url}/healthz").json()
        assert health["status"] == "ok"
        counts = stored_counts(location)
        missing = acked - counts.keys()
        assert not missing, f"{len(missing)} acknowledged deliveries were lost: {sorted(missing)[:5]}"
        assert all(counts[identifier] == 1 for identifier in acked)

        # Jira retries what it saw fail; every delivery ends stored exactly once
        with httpx.Client(timeout=10) as http:
            for identifier in sorted(unacked | set(list(acked)[:50])):
                body, headers = delivery(identifier, int(identifier.split("-")[1]))
                headers["X-Atlassian-Webhook-Retry"] = "1"
                response = http.post(f"{receiver.base_url}/webhooks/jira/acme", content=body, headers=headers)
                assert response.status_code == 200
                # acknowledged: stored already; not acknowledged: maybe committed before the kill
                allowed = {"duplicate"} if identifier in acked else {"stored", "duplicate"}
                assert response.json()["status"] in allowed

    inbox = open_inbox(location)
    try:
        stored = inbox.pending(limit=100_000)
    finally:
        inbox.close()
    identifiers = [event.identifier for event in stored]
    assert len(identifiers) == len(set(identifiers)) == len(acked | unacked)
