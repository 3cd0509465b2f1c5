"""Benchmark of the flow report: how long `publish/flow_report` takes and how big its files are.

By default it makes its own world the way `make run` does (`jira-sync demo --issues N` into a
temporary folder: the bundled simulator, the full sync, the transforms and the snapshot; not
timed), then builds the report from the snapshot N times with a cold and then a warm Vega-bundle
cache, timing the phases (reading the data, building the charts, the page, the images). Or give
`--snapshot` to measure an existing analyst snapshot. Prints a final JSON line with the figures.

    .venv/bin/python benchmarks/flow_report.py [--issues 3000] [--snapshot PATH] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

REPO = Path(__file__).resolve().parents[1]


def make_world(folder: Path, issues: int) -> Path:
    """The demo's snapshot of `issues` issues, made by `jira-sync demo` in `folder` (not timed)."""
    shutil.copy(REPO / "dagster.yaml", folder / "dagster.yaml")
    started = time.monotonic()
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "jira-sync"),
            "demo",
            "--issues",
            str(issues),
            "--warehouse",
            "data/w.duckdb",
        ],
        cwd=folder,
        env={**os.environ, "DAGSTER_HOME": str(folder)},
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise SystemExit(f"jira-sync demo failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    print(f"world: {issues} issues by jira-sync demo in {time.monotonic() - started:.0f} s", flush=True)
    return folder / "data" / "jira_analytics.duckdb"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(snapshot: Path, out: Path, weeks: int, months: int) -> dict:
    import duckdb

    from assets.publish.report import build_report
    from assets.publish.report.charts import build_charts
    from assets.publish.report.data import read_report_data

    with duckdb.connect(str(snapshot), read_only=True) as con:
        started, cpu = time.monotonic(), cpu_seconds()
        data = read_report_data(con, weeks=weeks, months=months)
        read_seconds = time.monotonic() - started
        build_charts(data)
        charts_seconds = time.monotonic() - started - read_seconds
        report = build_report(con, out, weeks=weeks, months=months)
        total_cpu = cpu_seconds() - cpu
    images = sum(p.stat().st_size for p in report.images)
    return {
        "read_data_s": round(read_seconds, 2),
        "charts_s": round(charts_seconds, 2),
        "build_report_s": round(report.seconds, 2),
        "cpu_s_all_phases": round(total_cpu, 1),
        "html_bytes": report.page.stat().st_size,
        "images_bytes": images,
        "rows": {name: report.data.rows(name) for name in report.data.datasets},
        "groups": len(report.data.groups),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=3000)
    parser.add_argument("--snapshot", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--months", type=int, default=24)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flow-report-bench-") as tmp:
        folder = Path(tmp)
        snapshot = args.snapshot or make_world(folder, args.issues)
        runs = []
        for attempt in range(args.repeat):
            figures = measure(snapshot, folder / "report", args.weeks, args.months)
            figures["bundle_cache"] = "cold" if attempt == 0 else "warm"
            print(json.dumps(figures), flush=True)
            runs.append(figures)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            json.dumps(
                {
                    "snapshot_bytes": snapshot.stat().st_size,
                    "issues": None if args.snapshot else args.issues,
                    "runs": runs,
                    "peak_rss_mb": round(peak_mb),
                    "load_average": os.getloadavg(),
                }
            )
        )


if __name__ == "__main__":
    main()
