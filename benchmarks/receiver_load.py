"""Load test: the webhook receiver (durable acks) against a bare Starlette endpoint, same run.

Both servers run under uvicorn with the same options (`webhook_receiver.cli.uvicorn_options`),
each in its own process, and are measured alternately (never at the same time) for `--rounds`
rounds; this process is only the load generator: C keep-alive HTTP/1.1 connections driven by
`asyncio.Protocol`s on uvloop, each sending its share of N pre-built Jira-shaped deliveries back to
back (one request in flight per connection), after a warm-up of each server.

    .venv/bin/python benchmarks/receiver_load.py --events 20000 --concurrency 32 --rounds 3

The last line printed is JSON (medians over the rounds; `runs` has every round):
{"receiver": {"events_per_s", "p50_ms", "p99_ms", "server_cpu_us_per_event"}, "bare": {same},
 "ratio", "concurrency", "events", "rounds", "runs", "load_average"}
Targets (issue 6): ratio >= 0.5 and receiver p99 <= 50 ms at 32 concurrent clients.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt
import orjson
import psutil
import uvloop

ROOT = Path(__file__).resolve().parents[1]
CLIENT_ID = "bench-app"
CLIENT_SECRET = "bench-client-secret-0123456789abcdef0123456789"
SITE_URL = "https://bench.atlassian.net"
CLOUD_ID = "2f1c6a9e-4b8d-4c1e-9a57-0c3b2d1e4f60"

# The baseline: a Starlette endpoint that reads the body and answers 200, served exactly as the
# receiver is (same uvicorn options, same process set-up).
BARE_SERVER = """
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from webhook_receiver.cli import prepare_process, uvicorn_options


async def ok(request):
    await request.body()
    return Response(b'{"status":"ok"}', media_type="application/json")


async def healthz(request):
    return Response(b"ok")


app = Starlette(routes=[Route("/webhooks/jira/{tenant_id}", ok, methods=["POST"]), Route("/healthz", healthz)])
prepare_process()
uvicorn.run(app, **uvicorn_options("127.0.0.1", int(sys.argv[1])))
"""

SYNC_FILE = f"""
version: 1
oauth:
  token_dir: {{tmp}}/tokens
webhooks:
  inbox: {{tmp}}/inbox.sqlite
tenants:
  - id: bench
    sites:
      - name: bench
        url: {SITE_URL}
        cloud_id: {CLOUD_ID}
        team_sync: {{{{method: none}}}}
        webhook: {{{{enabled: true}}}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def delivery_body(n: int) -> bytes:
    """A Jira-shaped `jira:issue_updated` delivery of about 1.6 KB."""
    issue_id = str(10_000 + n)
    user = {"accountId": "5c5f880629be9642ba529340", "displayName": "Ada Lovelace", "active": True}
    return orjson.dumps(
        {
            "timestamp": 1_764_331_200_000 + n,
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "user": user,
            "issue": {
                "id": issue_id,
                "self": f"{SITE_URL}/rest/api/2/issue/{issue_id}",
                "key": f"BENCH-{n}",
                "fields": {
                    "summary": f"Checkout fails for basket {n} when the coupon is applied twice",
                    "description": "Steps to reproduce: add two items, apply coupon, pay. " * 8,
                    "issuetype": {"id": "10001", "name": "Bug", "subtask": False, "hierarchyLevel": 0},
                    "status": {
                        "id": "3",
                        "name": "In Progress",
                        "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress"},
                    },
                    "project": {"id": "10000", "key": "BENCH", "name": "Bench"},
                    "priority": {"id": "2", "name": "High"},
                    "assignee": user,
                    "reporter": user,
                    "labels": ["checkout", "payments"],
                    "created": "2026-11-01T10:00:00.000+0000",
                    "updated": "2026-11-28T10:00:00.000+0000",
                },
            },
            "changelog": {
                "id": str(500_000 + n),
                "items": [
                    {
                        "field": "status",
                        "fieldtype": "jira",
                        "fieldId": "status",
                        "from": "10001",
                        "fromString": "To Do",
                        "to": "3",
                        "toString": "In Progress",
                    }
                ],
            },
            "matchedWebhookIds": [1000],
        }
    )


def build_requests(count: int, port: int, prefix: str) -> list[bytes]:
    """Complete HTTP requests; every delivery carries its own JWT (Jira signs each one)."""
    requests = []
    issued = int(time.time())
    for n in range(count):
        body = delivery_body(n)
        # a distinct token each (no verification can be cached), alive for the run and, as the
        # receiver demands, expiring within its --max-token-lifetime (3600 s)
        token = jwt.encode({"iss": CLIENT_ID, "iat": issued, "exp": issued + 1800 + n % 1500}, CLIENT_SECRET)
        head = (
            f"POST /webhooks/jira/bench HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Authorization: Bearer {token}\r\nX-Atlassian-Webhook-Identifier: {prefix}-{n}\r\n"
            "X-Atlassian-Webhook-Flow: Primary\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


class _Client(asyncio.Protocol):
    """One keep-alive connection: sends the next request as soon as the previous answer is complete."""

    def __init__(self, requests: Iterator[bytes], result: LoadResult, done: asyncio.Future[None]) -> None:
        self.requests = requests
        self.result = result
        self.done = done
        self.buffer = b""
        self.started = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's TCPTransport
        self._send_next()

    def _send_next(self) -> None:
        assert self.transport is not None
        request = next(self.requests, None)
        if request is None:
            self.transport.close()
            return
        self.started = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        try:
            self._on_data(data)
        except Exception as exc:  # a malformed answer ends the run instead of hanging it
            if not self.done.done():
                self.done.set_exception(exc)
            raise

    def _on_data(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        start = self.buffer.find(b"content-length:", 0, end)
        if start < 0:
            start = self.buffer.lower().find(b"content-length:", 0, end)
        length = int(self.buffer[start + 15 : self.buffer.index(b"\r\n", start)]) if start >= 0 else 0
        if len(self.buffer) < end + 4 + length:
            return
        self.result.latencies.append(time.perf_counter() - self.started)
        status = int(self.buffer[9:12])
        self.result.statuses[status] = self.result.statuses.get(status, 0) + 1
        self.buffer = self.buffer[end + 4 + length :]
        self._send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _drive(ports: list[int], requests: list[bytes], concurrency: int) -> tuple[float, LoadResult]:
    loop = asyncio.get_running_loop()
    result = LoadResult()
    queue = iter(requests)  # shared: each connection takes the next request when it is free
    finished = [loop.create_future() for _ in range(concurrency)]
    started = time.perf_counter()
    for number, done in enumerate(finished):
        # several servers: the connections are spread over them in turn, as a load balancer would
        port = ports[number % len(ports)]
        await loop.create_connection(lambda done=done: _Client(queue, result, done), "127.0.0.1", port)
    await asyncio.gather(*finished)
    return time.perf_counter() - started, result


def run_load(port: int | list[int], requests: list[bytes], concurrency: int) -> tuple[dict, dict[int, int]]:
    ports = port if isinstance(port, list) else [port]
    gc.disable()  # the generator allocates little; a collection would only add noise to latencies
    try:
        elapsed, result = uvloop.run(_drive(ports, requests, concurrency))
    finally:
        gc.enable()
    latencies = sorted(result.latencies)
    if len(latencies) != len(requests):
        raise SystemExit(f"{len(requests) - len(latencies)} requests got no answer")
    return (
        {
            "events_per_s": round(len(requests) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        },
        result.statuses,
    )


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def cpu_seconds(self) -> float:
        """CPU seconds of the server and its worker processes (all threads)."""
        server = psutil.Process(self.process.pid)
        return sum(sum(p.cpu_times()[:2]) for p in [server, *server.children(recursive=True)])


@contextmanager
def serve(name: str, command: list[str], port: int, env: dict[str, str], log_path: Path) -> Iterator[Server]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} server did not start; see {log_path}") from None
                time.sleep(0.05)
        yield Server(name, port, process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(server: Server, requests: list[bytes], concurrency: int) -> dict:
    cpu_before = server.cpu_seconds()
    result, statuses = run_load(server.port, requests, concurrency)
    result["server_cpu_us_per_event"] = round((server.cpu_seconds() - cpu_before) / len(requests) * 1e6, 1)
    if set(statuses) != {200}:
        raise SystemExit(f"{server.name}: unexpected responses {statuses}; see {server.log_path}")
    print(f"{server.name}: {result}", file=sys.stderr)
    return result


def _median(runs: list[dict]) -> dict:
    return {key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="deliveries measured per server and round")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument(
        "--warmup", type=int, default=2000, help="deliveries sent to each server before measuring"
    )
    parser.add_argument("--rounds", type=int, default=1, help="measurements per server, alternating servers")
    parser.add_argument(
        "--receiver-workers", type=int, default=1, help="receiver processes (jira-sync-receiver --workers)"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="receiver-load-") as tmp_dir, ExitStack() as servers:
        tmp = Path(tmp_dir)
        (tmp / "sync.yaml").write_text(SYNC_FILE.format(tmp=tmp))
        env = os.environ | {
            "JIRA_CLIENT_ID": CLIENT_ID,
            "JIRA_SECRET": CLIENT_SECRET,
            "RUNTIME__DLTHUB_TELEMETRY": "false",
        }
        env.pop("JIRA_REDIRECT_URI", None)
        bare_port, receiver_port = free_port(), free_port()
        bare = servers.enter_context(
            serve(
                "bare", [sys.executable, "-c", BARE_SERVER, str(bare_port)], bare_port, env, tmp / "bare.log"
            )
        )
        receiver = servers.enter_context(
            serve(
                "receiver",
                [
                    sys.executable,
                    "-m",
                    "webhook_receiver.cli",
                    "--config",
                    str(tmp / "sync.yaml"),
                    "--port",
                    str(receiver_port),
                    "--inbox",
                    str(tmp / "inbox.sqlite"),
                    "--workers",
                    str(args.receiver_workers),
                ],
                receiver_port,
                env,
                tmp / "receiver.log",
            )
        )
        load_before = os.getloadavg()
        for server in (bare, receiver):
            run_load(
                server.port,
                build_requests(args.warmup, server.port, f"warmup-{server.name}"),
                args.concurrency,
            )
        runs = []
        for round_number in range(args.rounds):
            # alternate which server goes first, so that a drift of the machine's load hits both
            order = (bare, receiver) if round_number % 2 == 0 else (receiver, bare)
            measured = {
                server.name: measure(
                    server,
                    build_requests(args.events, server.port, f"{server.name}-{round_number}"),
                    args.concurrency,
                )
                for server in order
            }
            measured["ratio"] = round(
                measured["receiver"]["events_per_s"] / measured["bare"]["events_per_s"], 3
            )
            runs.append(measured)
        load_after = os.getloadavg()
        stored = _count_stored(tmp / "inbox.sqlite")
        acknowledged = args.warmup + args.events * args.rounds
        if stored != acknowledged:
            raise SystemExit(f"receiver acknowledged {acknowledged} events but stored {stored}")
    result = {
        "receiver": _median([run["receiver"] for run in runs]),
        "bare": _median([run["bare"] for run in runs]),
        "ratio": round(statistics.median(run["ratio"] for run in runs), 3),
        "concurrency": args.concurrency,
        "events": args.events,
        "rounds": args.rounds,
        "runs": runs,
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
    }
    print(json.dumps(result))
    return result


def _count_stored(path: Path) -> int:
    from pipelines.inbox.sqlite_inbox import SQLiteInbox

    inbox = SQLiteInbox(path)
    try:
        return inbox.stats().total
    finally:
        inbox.close()


if __name__ == "__main__":
    main()
