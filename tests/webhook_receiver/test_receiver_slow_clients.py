"""Slow clients against the receiver under uvicorn: 500 connections dribbling one byte every 2 s.

They are not all held: a request must arrive whole within `--body-timeout`, at most
`--max-slow-connections` may be arriving at once (the oldest goes first), and a real delivery
made in the middle of the attack is stored.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import orjson

from tests.webhook_receiver.receiver_servers import ReceiverProcess, write_alpha_sync_file
from tests.webhook_receiver.receiver_testkit import CLIENT_ID, CLIENT_SECRET, delivery_headers, issue_payload

SLOW_CLIENTS = 500
BODY_TIMEOUT = 3.0
MAX_SLOW = 50


class Dribbler:
    """One slow client: the headers of a 10 KB delivery, then one body byte every 2 s until cut off."""

    def __init__(self, port: int, headers_complete: bool) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.headers_complete = headers_complete
        self.closed_after: float | None = None
        self.started = time.monotonic()

    def open(self) -> None:
        head = (
            "POST /webhooks/jira/acme HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "X-Atlassian-Webhook-Identifier: slow\r\nContent-Length: 10000\r\n"
        )
        self.sock.sendall((head + "\r\n" if self.headers_complete else head[:30]).encode())

    def drip(self) -> bool:
        """Send one more byte; False once the server has closed the connection."""
        if self.closed_after is not None:
            return False
        try:
            self.sock.sendall(b"{")
            self.sock.setblocking(False)
            try:
                if self.sock.recv(1) == b"":
                    raise ConnectionResetError
            except BlockingIOError:
                pass  # still open, nothing to read
            finally:
                self.sock.setblocking(True)
            return True
        except OSError:
            self.closed_after = time.monotonic() - self.started
            self.sock.close()
            return False


def test_five_hundred_slow_clients_are_not_all_held(tmp_path: Path) -> None:
    env = {"JIRA_CLIENT_ID": CLIENT_ID, "JIRA_SECRET": CLIENT_SECRET}
    with ReceiverProcess(
        write_alpha_sync_file(tmp_path),
        tmp_path / "inbox.sqlite",
        env,
        tmp_path / "receiver.log",
        "--body-timeout",
        str(BODY_TIMEOUT),
        "--max-slow-connections",
        str(MAX_SLOW),
    ) as receiver:
        clients = [Dribbler(receiver.port, headers_complete=n % 2 == 0) for n in range(SLOW_CLIENTS)]
        for client in clients:
            client.open()
        stop = threading.Event()
        most_arriving = 0

        def watch() -> None:
            nonlocal most_arriving
            while not stop.is_set():
                health = httpx.get(f"{receiver.base_url}/healthz", timeout=5).json()
                most_arriving = max(most_arriving, health["slow_clients"]["arriving"])
                time.sleep(0.2)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        # a real delivery in the middle of the attack
        accepted = httpx.post(
            f"{receiver.base_url}/webhooks/jira/acme",
            content=orjson.dumps(issue_payload()),
            headers=delivery_headers("real-during-attack"),
            timeout=10,
        )
        assert accepted.status_code == 200 and accepted.json()["status"] == "stored"
        deadline = time.monotonic() + BODY_TIMEOUT + 6
        while time.monotonic() < deadline and any(c.closed_after is None for c in clients):
            for client in clients:
                client.drip()
            time.sleep(2.0)
        stop.set()
        watcher.join(10)
        still_open = [c for c in clients if c.closed_after is None]
        for client in still_open:
            client.sock.close()
        health = httpx.get(f"{receiver.base_url}/healthz", timeout=5).json()

    assert still_open == [], f"{len(still_open)} slow clients still held after {BODY_TIMEOUT + 6:.0f} s"
    # the watcher's own requests count too; the cap holds with a little slack for them
    assert most_arriving <= MAX_SLOW + 2, most_arriving
    slow = health["slow_clients"]
    assert slow["evicted"] >= SLOW_CLIENTS - MAX_SLOW - 10 and slow["timed_out"] >= 1, slow
    assert health["inbox"]["total"] == 1  # nothing of the slow requests was stored
    assert max(c.closed_after or 0 for c in clients) < BODY_TIMEOUT + 4.5
