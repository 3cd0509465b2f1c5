"""Load test: the webhook receiver (durable acks) against a bare Starlette endpoint, same run.

Both servers run under uvicorn in their own process (one at a time, so they never compete for
CPU); this process is the load generator: C keep-alive HTTP/1.1 connections written with raw
asyncio streams, each sending its share of N Jira-shaped deliveries back to back.

    .venv/bin/python benchmarks/receiver_load.py --events 20000 --concurrency 32

The last line printed is JSON:
{"receiver": {"events_per_s", "p50_ms", "p99_ms"}, "bare": {same}, "ratio", "concurrency", "events"}
Targets (issue 6): ratio >= 0.5 and receiver p99 <= 50 ms at 32 concurrent clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import jwt
import orjson
import psutil

ROOT = Path(__file__).resolve().parents[1]
CLIENT_ID = "bench-app"
CLIENT_SECRET = "bench-client-secret-0123456789abcdef0123456789"
SITE_URL = "https://bench.atlassian.net"
CLOUD_ID = "2f1c6a9e-4b8d-4c1e-9a57-0c3b2d1e4f60"

BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

async def ok(request):
    await request.body()
    return Response(b'{"status":"ok"}', media_type="application/json")

async def healthz(request):
    return Response(b"ok")

app = Starlette(routes=[Route("/webhooks/jira/{tenant_id}", ok, methods=["POST"]), Route("/healthz", healthz)])
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
    """A Jira-shaped `jira:issue_updated` delivery of about 2 KB."""
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
        token = jwt.encode({"iss": CLIENT_ID, "iat": issued, "exp": issued + 3600 + n}, CLIENT_SECRET)
        head = (
            f"POST /webhooks/jira/bench HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Authorization: Bearer {token}\r\nX-Atlassian-Webhook-Identifier: {prefix}-{n}\r\n"
            "X-Atlassian-Webhook-Flow: Primary\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


async def _client(
    port: int, queue: Iterator[bytes], latencies: list[float], statuses: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in queue:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _drive(
    port: int, requests: list[bytes], concurrency: int
) -> tuple[float, list[float], dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = iter(requests)  # shared: each connection takes the next request when it is free
    started = time.perf_counter()
    await asyncio.gather(*(_client(port, queue, latencies, statuses) for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, statuses


def run_load(port: int, requests: list[bytes], concurrency: int) -> tuple[dict, dict[int, int]]:
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        runner = asyncio.run
    elapsed, latencies, statuses = runner(_drive(port, requests, concurrency))
    latencies.sort()
    return (
        {
            "events_per_s": round(len(requests) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        },
        statuses,
    )


@contextmanager
def serve(command: list[str], port: int, env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"server did not start; see {log_path}") from None
                    time.sleep(0.05)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _server_cpu(pid: int) -> float:
    """CPU seconds of the server and its worker processes."""
    server = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [server, *server.children(recursive=True)])


def measure(name: str, command: list[str], port: int, env: dict, tmp: Path, args: argparse.Namespace) -> dict:
    warmup = build_requests(args.warmup, port, f"{name}-warmup")
    requests = build_requests(args.events, port, name)
    with serve(command, port, env, tmp / f"{name}.log") as process:
        run_load(port, warmup, args.concurrency)
        cpu_before = _server_cpu(process.pid)
        result, statuses = run_load(port, requests, args.concurrency)
        cpu_us = (_server_cpu(process.pid) - cpu_before) / len(requests) * 1e6
    if set(statuses) != {200}:
        raise SystemExit(f"{name}: unexpected responses {statuses}; see {tmp / (name + '.log')}")
    # the server's CPU per event (all its threads) is steadier than throughput on a shared machine
    print(f"{name}: {result}, server CPU {cpu_us:.0f} us/event", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="deliveries measured per server")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--warmup", type=int, default=1000, help="deliveries sent before measuring")
    parser.add_argument(
        "--receiver-workers", type=int, default=1, help="receiver processes (jira-sync-receiver --workers)"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="receiver-load-") as tmp_dir:
        tmp = Path(tmp_dir)
        (tmp / "sync.yaml").write_text(SYNC_FILE.format(tmp=tmp))
        env = os.environ | {
            "JIRA_CLIENT_ID": CLIENT_ID,
            "JIRA_SECRET": CLIENT_SECRET,
            "RUNTIME__DLTHUB_TELEMETRY": "false",
        }
        env.pop("JIRA_REDIRECT_URI", None)
        (tmp / "bare_app.py").write_text(BARE_APP)
        bare_port = free_port()
        bare = measure(
            "bare",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bare_app:app",
                "--app-dir",
                str(tmp),
                "--port",
                str(bare_port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            bare_port,
            env,
            tmp,
            args,
        )
        receiver_port = free_port()
        receiver = measure(
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
            tmp,
            args,
        )
        stored = _count_stored(tmp / "inbox.sqlite")
        if stored != args.events + args.warmup:
            raise SystemExit(f"receiver acknowledged {args.events + args.warmup} events but stored {stored}")
    result = {
        "receiver": receiver,
        "bare": bare,
        "ratio": round(receiver["events_per_s"] / bare["events_per_s"], 3),
        "concurrency": args.concurrency,
        "events": args.events,
    }
    print(json.dumps(result))
    return result


def _count_stored(path: Path) -> int:
    from webhook_receiver.inbox import Inbox

    inbox = Inbox(path)
    try:
        return inbox.stats().total
    finally:
        inbox.close()


if __name__ == "__main__":
    main()
