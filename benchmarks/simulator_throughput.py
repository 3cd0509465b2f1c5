"""How fast the simulator serves a full sync's search pages (one client, sequential cursor pages).

Starts `jira-simulator serve --issues N` as a subprocess, then pages `search/jql` through every
issue of every site with the fields a sync reads and `expand=changelog` (100 per page, the cap),
the way the pipelines read issues (parsing with orjson, so the client costs little). Prints progress on stderr and a final JSON line on stdout:
`{"issues": N, "seconds": s, "issues_per_s": x, "mb_per_s": y, "start_seconds": z, ...}`.

    .venv/bin/python benchmarks/simulator_throughput.py --issues 100000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import httpx
import orjson
import psutil

from jira_simulator.process import SimulatorProcess

SYNC_FIELDS = [
    "summary",
    "status",
    "issuetype",
    "project",
    "assignee",
    "reporter",
    "creator",
    "created",
    "updated",
    "resolutiondate",
    "resolution",
    "priority",
    "labels",
    "parent",
    "duedate",
    "statuscategorychangedate",
]


def page_site(client: httpx.Client, rest: str, max_results: int) -> tuple[int, int, int]:
    """Issues, response bytes and pages of one site's full `created >= 0` search."""
    body: dict = {"jql": "created >= 0 ORDER BY created ASC", "fields": SYNC_FIELDS, "expand": "changelog"}
    body["maxResults"] = max_results
    issues = size = pages = 0
    while True:
        response = client.post(f"{rest}/search/jql", json=body)
        response.raise_for_status()
        size += len(response.content)
        page = orjson.loads(response.content)
        issues += len(page["issues"])
        pages += 1
        token = page.get("nextPageToken")
        if not token:
            return issues, size, pages
        body["nextPageToken"] = token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-results", type=int, default=100)
    args = parser.parse_args()
    with SimulatorProcess(issues=args.issues, seed=args.seed, startup_timeout=120) as sim:
        server = psutil.Process(sim.pid)
        start_cpu = sum(server.cpu_times()[:2])
        print(
            f"simulator with {args.issues} issues ready in {sim.start_seconds:.2f} s ({start_cpu:.2f} s CPU)",
            file=sys.stderr,
        )
        total_issues = total_bytes = total_pages = 0
        started = time.perf_counter()
        with httpx.Client(auth=(sim.admin_email, sim.api_token), timeout=120) as client:
            for site in sim.cloud_ids:
                issues, size, pages = page_site(client, f"{sim.site_url(site)}/rest/api/3", args.max_results)
                print(f"  {site}: {issues} issues in {pages} pages, {size / 1e6:.1f} MB", file=sys.stderr)
                total_issues, total_bytes, total_pages = (
                    total_issues + issues,
                    total_bytes + size,
                    total_pages + pages,
                )
        seconds = time.perf_counter() - started
        serving_cpu = sum(server.cpu_times()[:2]) - start_cpu
    result = {
        "issues": total_issues,
        "pages": total_pages,
        "seconds": round(seconds, 2),
        "issues_per_s": round(total_issues / seconds, 1),
        "mb_per_s": round(total_bytes / 1e6 / seconds, 2),
        "mb": round(total_bytes / 1e6, 1),
        "start_seconds": round(sim.start_seconds, 2),
        # CPU seconds of the simulator process: what the figures above would be on an idle machine.
        "start_cpu_seconds": round(start_cpu, 2),
        "server_cpu_seconds": round(serving_cpu, 2),
        "issues_per_server_cpu_s": round(total_issues / serving_cpu, 1) if serving_cpu else None,
        "load_average": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))
    return 0 if total_issues == args.issues else 1


if __name__ == "__main__":
    raise SystemExit(main())
