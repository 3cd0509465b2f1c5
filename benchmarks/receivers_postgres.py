"""Receivers scaled out on the PostgreSQL inbox: throughput and latency with 1, 2 and 4 processes.

Each receiver is its own `jira-sync-receiver` process on its own port, all storing into one
PostgreSQL inbox (`webhooks.inbox_url_env`); the load generator of `receiver_load.py` (C keep-alive
connections, one request in flight each, every delivery signed with its own JWT) spreads its
connections over the receivers in turn, as a load balancer does. Every process count gets a fresh
inbox and a warm-up; afterwards every acknowledged delivery must be in the inbox exactly once.

    .venv/bin/python benchmarks/receivers_postgres.py --postgres-url postgresql://u:p@127.0.0.1:5432/db \\
        --events 20000 --concurrency 32 --processes 1 2 4

`--postgres-url`: a role that may create databases (default $JIRA_SYNC_TEST_POSTGRES_URL); the
benchmark creates and drops its own database. The last line printed is JSON: per process count
{"events_per_s", "p50_ms", "p99_ms", "receiver_cpu_us_per_event", "postgres_cpu_us_per_event"},
and the load average before and after. CPU seconds are the fairer figure on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from postgres_cpu import postgres_server_cpu
from receiver_load import CLIENT_ID, CLIENT_SECRET, SYNC_FILE, build_requests, free_port, run_load, serve

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jira_sync.deploy_postgres import create_database, drop_database  # noqa: E402


def measure_processes(count: int, args: argparse.Namespace, admin_url: str, tmp: Path) -> dict:
    database = f"bench_inbox_{uuid.uuid4().hex[:8]}"
    url = create_database(admin_url, database)
    try:
        sync = SYNC_FILE.format(tmp=tmp).replace(
            "webhooks:\n", "webhooks:\n  inbox_url_env: BENCH_INBOX_URL\n"
        )
        (tmp / "sync.yaml").write_text(sync)
        env = os.environ | {
            "JIRA_CLIENT_ID": CLIENT_ID,
            "JIRA_SECRET": CLIENT_SECRET,
            "BENCH_INBOX_URL": url,
            "RUNTIME__DLTHUB_TELEMETRY": "false",
        }
        env.pop("JIRA_REDIRECT_URI", None)
        with ExitStack() as stack:
            servers = []
            for number in range(count):
                port = free_port()
                command = [
                    sys.executable, "-m", "webhook_receiver.cli", "--config", str(tmp / "sync.yaml"),
                    "--port", str(port), "--no-connect",
                ]  # fmt: skip
                servers.append(
                    stack.enter_context(
                        serve(f"receiver-{number}", command, port, env, tmp / f"r{number}.log")
                    )
                )
            ports = [server.port for server in servers]
            run_load(ports, build_requests(args.warmup, ports[0], f"warmup-{count}"), args.concurrency)
            receiver_cpu = sum(server.cpu_seconds() for server in servers)
            postgres_cpu = postgres_server_cpu()
            result, statuses = run_load(
                ports, build_requests(args.events, ports[0], f"measured-{count}"), args.concurrency
            )
            result["receiver_cpu_us_per_event"] = round(
                (sum(server.cpu_seconds() for server in servers) - receiver_cpu) / args.events * 1e6, 1
            )
            result["postgres_cpu_us_per_event"] = round(
                (postgres_server_cpu() - postgres_cpu) / args.events * 1e6, 1
            )
            if set(statuses) != {200}:
                raise SystemExit(f"{count} receivers: unexpected responses {statuses}")
        stored = _stored(url)
        if stored != (args.warmup + args.events, args.warmup + args.events):
            raise SystemExit(f"{count} receivers: acknowledged {args.warmup + args.events}, stored {stored}")
        print(f"{count} receiver process(es): {result}", file=sys.stderr)
        return result
    finally:
        drop_database(admin_url, database)


def _stored(url: str) -> tuple[int, int]:
    import psycopg2

    with psycopg2.connect(url) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT count(*), count(DISTINCT identifier) FROM jira_sync_inbox.inbox_events")
        counts = cursor.fetchone()
    connection.close()
    return counts


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=os.environ.get("JIRA_SYNC_TEST_POSTGRES_URL"))
    parser.add_argument("--events", type=int, default=20_000, help="deliveries measured per process count")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--warmup", type=int, default=2000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args(argv)
    if not args.postgres_url:
        raise SystemExit(
            "pass --postgres-url (a role that may create databases) or set JIRA_SYNC_TEST_POSTGRES_URL"
        )
    load_before = os.getloadavg()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="receivers-postgres-") as tmp_dir:
        results = {
            str(count): measure_processes(count, args, args.postgres_url, Path(tmp_dir))
            for count in args.processes
        }
    result = {
        "processes": results,
        "events": args.events,
        "concurrency": args.concurrency,
        "cpus": os.cpu_count(),
        "seconds": round(time.monotonic() - started, 1),
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        },
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
