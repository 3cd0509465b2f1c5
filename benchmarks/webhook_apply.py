"""Benchmark of applying a drained webhook batch: inbox events -> the drain's raw tables -> `jira.issues`.

The warehouse is `transforms.py`'s generated world (`--issues`, ten changelog items per issue by
default), built once with every transform asset through Dagster (not timed). Then `--rounds`
batches of `--batch` deliveries are applied with the drain's own code (`drain_batch`, one
transaction each, exactly what the ingest asset does per inbox claim): `jira:issue_updated`
deliveries that move random issues to another status (with the changelog item) and rename them,
and 1 % `jira:issue_deleted`. Then `jira.issues` is rebuilt from the current state as its asset
does (the run the automation starts after a drain). Each round's wall and CPU seconds of both are
timed; afterwards every renamed issue is checked in `jira.issues` (the figures of a run that did
not apply count for nothing).
Prints one JSON line.

    .venv/bin/python benchmarks/webhook_apply.py [--issues 3000] [--batch 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from transforms import generate, run_transforms

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

STATUSES = [("1", "To Do", "new"), ("3", "In Progress", "indeterminate"), ("6", "Done", "done")]


def _jira_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def deliveries(issues: list[tuple], count: int, round_no: int, moment: datetime, rng: random.Random) -> list:
    """`count` inbox events about random issues of `issues` (cloud_id, id, key, project_id, ...)."""
    from pipelines.inbox.events import InboxEvent

    events = []
    for n, (cloud_id, issue_id, key, project_id, project_key, type_id, type_name, status_id) in enumerate(
        rng.sample(issues, count)
    ):
        at = moment + timedelta(milliseconds=n)
        millis = int(at.timestamp() * 1000)
        target = rng.choice([s for s in STATUSES if s[0] != status_id])
        deleted = n % 100 == 99
        body = {
            "timestamp": millis,
            "webhookEvent": "jira:issue_deleted" if deleted else "jira:issue_updated",
            "matchedWebhookIds": [1],
            "user": {"accountId": "acct-7"},
            "issue": {
                "id": issue_id,
                "key": key,
                "self": f"https://bench.example.net/rest/api/2/issue/{issue_id}",
                "fields": {
                    "summary": f"renamed in round {round_no}",
                    "project": {"id": project_id, "key": project_key},
                    "issuetype": {"id": type_id, "name": type_name},
                    "status": {"id": target[0], "name": target[1], "statusCategory": {"key": target[2]}},
                    "created": "2022-01-01T00:00:00.000+0000",
                    "updated": _jira_time(at),
                    "labels": [],
                },
            },
        }
        if not deleted:
            body["changelog"] = {
                "id": f"9{round_no:03d}{n:06d}",
                "items": [
                    {
                        "field": "status",
                        "fieldtype": "jira",
                        "fieldId": "status",
                        "from": status_id,
                        "fromString": "",
                        "to": target[0],
                        "toString": target[1],
                    }
                ],
            }
        events.append(
            InboxEvent(
                seq=round_no * count + n + 1,
                tenant_id="bench",
                cloud_id=cloud_id,
                identifier=f"bench-{round_no}-{n}",
                event=body["webhookEvent"],
                issue_id=issue_id,
                issue_key=key,
                jira_timestamp_ms=millis,
                received_at=at,
                retry_count=0,
                payload_json=json.dumps(body),
                drained_at=None,
            )
        )
    return events


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--issues", type=int, default=3000)
    parser.add_argument("--changelog", type=int, help="changelog items (default: ten per issue)")
    parser.add_argument(
        "--batch", type=int, default=2000, help="deliveries per batch (the drain claims 2000)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir, removed)")
    args = parser.parse_args()

    from assets.core.issues import build_issues
    from assets.core.raw_views import create_raw_views
    from assets.core.sql import transaction, transform_connection
    from assets.resources import WarehouseResource
    from assets.webhooks.drain import drain_batch
    from pipelines.config import load_sync_config

    with tempfile.TemporaryDirectory(prefix="bench-webhook-apply-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        generate(workdir / "warehouse.duckdb", args.issues, args.changelog or 10 * args.issues)
        built = run_transforms(workdir, "4GB", 2)
        if not built["success"]:
            raise SystemExit(f"the transforms failed: {built['failed_steps']}")
        config = load_sync_config(workdir / "jira_sync.yaml")
        warehouse = WarehouseResource(path=str(workdir / "warehouse.duckdb"))
        with warehouse.connect() as con:
            issues = [
                tuple(row)
                for row in con.execute(
                    "SELECT cloud_id, id, key, project_id, project_key, issue_type_id, issue_type_name, status_id "
                    "FROM jira_raw.issues ORDER BY cloud_id, id"
                ).fetchall()
            ]
        rng = random.Random(13)
        wall, cpu, rebuild, renamed = [], [], [], {}
        moment = datetime.now(UTC).replace(microsecond=0)
        for round_no in range(args.rounds):
            events = deliveries(issues, min(args.batch, len(issues)), round_no, moment, rng)
            moment += timedelta(minutes=1)
            with transform_connection(warehouse) as con:
                started, started_cpu = time.perf_counter(), time.process_time()
                drained = drain_batch(con, events, config)
                wall.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
                started = time.perf_counter()
                with transaction(con):
                    create_raw_views(con, ["issues", "sites"])
                    build_issues(con)
                rebuild.append(time.perf_counter() - started)
            if drained.quarantined:
                raise SystemExit(f"quarantined: {drained.quarantined[0][1]}")
            for event in events:
                renamed[(event.cloud_id, event.issue_id)] = (event.event, round_no)
            issues = [i for i in issues if renamed.get((i[0], i[1]), ("",))[0] != "jira:issue_deleted"]
        with warehouse.connect() as con:
            current = {
                (cloud_id, issue_id): summary
                for cloud_id, issue_id, summary in con.execute(
                    "SELECT cloud_id, issue_id, summary FROM jira.issues"
                ).fetchall()
            }
        wrong = [
            key
            for key, (event, round_no) in renamed.items()
            if (current.get(key) != f"renamed in round {round_no}")
            if event == "jira:issue_updated"
        ] + [key for key, (event, _) in renamed.items() if event == "jira:issue_deleted" and key in current]
        if wrong:
            raise SystemExit(
                f"{len(wrong)} issues not as the deliveries left them in jira.issues, e.g. {wrong[:3]}"
            )
    print(
        json.dumps(
            {
                "issues": args.issues,
                "batch": args.batch,
                "rounds": args.rounds,
                "batch_seconds": [round(w, 3) for w in wall],
                "median_batch_seconds": round(statistics.median(wall), 3),
                "median_batch_cpu_seconds": round(statistics.median(cpu), 3),
                "median_us_per_delivery": round(statistics.median(wall) / args.batch * 1e6),
                "jira_issues_rebuild_seconds": [round(r, 3) for r in rebuild],
                "median_batch_to_jira_issues_seconds": round(
                    statistics.median(w + r for w, r in zip(wall, rebuild, strict=True)), 3
                ),
                "load_average": os.getloadavg(),
            }
        )
    )


if __name__ == "__main__":
    main()
