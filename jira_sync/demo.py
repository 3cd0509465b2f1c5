"""`jira-sync demo` (`make run`): the main job on embedded defaults.

Starts the bundled simulator, connects to it as an operator connects to Jira Cloud, materializes
every asset with the repo's Dagster instance, prints a summary, checks every `jira_raw` table
against the simulator's ground truth (exit 1 on a mismatch) and stops the simulator, also on
Ctrl-C or failure.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import duckdb

from jira_sync.demo_world import ConnectedDemo, DemoOptions, connected_demo
from jira_sync.main_job import CheckOutcome, StepOutcome
from jira_sync.signals import stop_on_signals
from jira_sync.truth_check import TableCheck, check_warehouse

SUMMARY_SCHEMAS = ("jira_raw", "jira", "analytics")
DAGSTER_UI = "http://127.0.0.1:3000"  # where `make dev` serves the UI


def register(subparsers) -> None:
    command = subparsers.add_parser(
        "demo",
        help="the main job: simulator + OAuth connect + every asset + summary + truth check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_world_arguments(command)
    command.set_defaults(handler=run)


def add_world_arguments(command: argparse.ArgumentParser) -> None:
    """Options of the simulated Jira (shared with `jira-sync dev`)."""
    command.add_argument("--scenario", type=Path, help="simulator scenario file (default: generated data)")
    command.add_argument("--issues", type=int, help="issues to generate (default: the simulator's default)")
    command.add_argument("--seed", type=int, help="seed of the generated data (default: the simulator's)")
    command.add_argument("--latency-ms", type=int, default=0, help="simulated latency per Jira request")
    command.add_argument(
        "--warehouse", type=Path, default=Path("data/warehouse.duckdb"), help="DuckDB warehouse file"
    )
    command.add_argument(
        "--demo-dir", type=Path, default=Path("data/demo"), help="where the demo's sync file and tokens go"
    )


def demo_options(args: argparse.Namespace) -> DemoOptions:
    return DemoOptions(
        scenario=args.scenario,
        issues=args.issues,
        seed=args.seed,
        latency_ms=args.latency_ms,
        warehouse=args.warehouse,
        demo_dir=args.demo_dir,
    )


def prepare_process_environment() -> str:
    """Telemetry off, and the repo's Dagster instance (DAGSTER_HOME with dagster.yaml)."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    home = os.environ.get("DAGSTER_HOME") or os.getcwd()
    if not (Path(home) / "dagster.yaml").exists():
        raise SystemExit(
            f"error: {home} has no dagster.yaml; run from the repository root (or `make run`), "
            "or set DAGSTER_HOME to the directory that holds it"
        )
    os.environ["DAGSTER_HOME"] = str(Path(home).resolve())
    return os.environ["DAGSTER_HOME"]


def run(args: argparse.Namespace) -> int:
    stop_on_signals()
    dagster_home = prepare_process_environment()
    started = time.monotonic()
    print("starting the Jira Cloud simulator ...", flush=True)
    try:
        with connected_demo(demo_options(args)) as demo:
            print_connection(demo, dagster_home)
            return sync_and_check(demo, args.warehouse, started)
    except KeyboardInterrupt:
        print("\ninterrupted: the simulator is stopped")
        return 130


def print_connection(demo: ConnectedDemo, dagster_home: str) -> None:
    sim = demo.simulator
    print(f"simulator {sim.base_url} (started in {sim.start_seconds:.1f} s)")
    for site in demo.sites:
        print(f"  site {site.name:<8} {site.url}  cloud id {site.id}")
    print(f"  organization {demo.organization_id}")
    print(f"  OAuth app: client id {sim.client_id}, client secret {sim.client_secret} (simulator defaults)")
    print(f"  Teams API: {sim.admin_email} with API token {sim.api_token} (simulator default)")
    print(f"connected tenant demo by OAuth consent: {', '.join(s.name for s in demo.sites)}")
    print(f"sync file {demo.sync_file}; Dagster instance {dagster_home}", flush=True)


def sync_and_check(demo: ConnectedDemo, warehouse: Path, started: float) -> int:
    os.environ.update(demo.environ)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dagster's beta/preview notices are not for operators
        import dagster as dg

        from assets.definitions import build_definitions
        from jira_sync.main_job import release_stale_pool_slots, run_steps
        from pipelines.config import load_sync_config

        config = load_sync_config(demo.sync_file)
        config.check_environment()
        defs = build_definitions(config)
        instance = dg.DagsterInstance.get()
        for run_id in release_stale_pool_slots(instance):
            print(f"released the warehouse pool slot of the dead run {run_id}")
        demo.simulator.admin("POST", "requests/reset")
        outcomes = run_steps(defs, instance)
    served = demo.simulator.admin("GET", "requests")
    print_summary(outcomes, warehouse, served, time.monotonic() - started)
    failed_checks = print_check_outcomes([check for outcome in outcomes for check in outcome.checks])
    if not all(o.success for o in outcomes):
        print("FAILED: a step failed (above); the simulator is stopped")
        return 1
    print_analyst_entry_points(config.warehouse.publish_path, config.report.path)
    checks = check_warehouse(warehouse, demo.simulator.truth(), {s.id: s.name for s in demo.sites})
    mismatch = print_checks(checks)
    if failed_checks:
        print(f"FAILED: {failed_checks} asset check(s) of severity ERROR failed (listed under asset checks)")
    return 1 if mismatch or failed_checks else 0


def print_analyst_entry_points(snapshot: Path, report_folder: Path) -> None:
    from assets.publish.report import PAGE_NAME

    print("\nfor analysts")
    print(
        f"  flow report  {report_folder / PAGE_NAME}  (opens from disk; PNG/SVG in {report_folder / 'images'})"
    )
    print(f"  SQL shell    .venv/bin/jira-sync sql --snapshot {snapshot}")


def table_counts(warehouse: Path) -> list[tuple[str, int]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ? AND table_name NOT LIKE '\\_dlt%' ESCAPE '\\' "
            "ORDER BY table_schema, table_name",
            [list(SUMMARY_SCHEMAS)],
        ).fetchall()
        return [
            (f"{schema}.{name}", int(con.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()[0]))
            for schema, name in tables
        ]
    finally:
        con.close()


def print_summary(outcomes: list[StepOutcome], warehouse: Path, served: dict, seconds: float) -> None:
    print("\nsummary")
    for outcome in outcomes:
        status = "ok" if outcome.success else "FAILED"
        print(f"  {outcome.step.title:<66} {outcome.seconds:7.1f} s  {status}")
    print(
        f"  the runs, in the Dagster UI (`make dev`, or `dg dev` with DAGSTER_HOME={os.environ['DAGSTER_HOME']}):"
    )
    for outcome in outcomes:
        print(f"    {DAGSTER_UI}/runs/{outcome.run_id}  {outcome.step.job_name}")
    requests = sum(o.http["requests"] for o in outcomes)
    retries = sum(o.http["retries"] for o in outcomes)
    by_status: dict[str, int] = {}
    for row in served.get("requests", []):
        by_status[row["status"]] = by_status.get(row["status"], 0) + int(row["count"])
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(by_status.items()))
    print(f"  sync HTTP: {requests} requests, {retries} retries (pipelines' HttpStats)")
    print(f"  simulator served {served.get('total', 0)} requests ({statuses})")
    print(f"  total {seconds:.1f} s")
    print(f"\nrows per table in {warehouse}")
    for table, count in table_counts(warehouse):
        print(f"  {table:<40} {count:>9}")


def print_check_outcomes(checks: list[CheckOutcome]) -> int:
    """Every asset check the steps evaluated; returns how many failed with severity ERROR.

    A WARN is a finding to look at (unlinked users, a project full of `other` types), not a failure.
    """
    print(f"\nasset checks ({len(checks)} evaluated)")
    for check in sorted(checks, key=lambda c: (c.passed, c.severity != "ERROR", c.target)):
        print(f"  {check.label:<7} {check.target}: {check.description}")
    failed = sum(check.real_failure for check in checks)
    warned = sum(not check.passed and not check.real_failure for check in checks)
    if not failed:
        print(f"OK: no check failed with severity ERROR ({warned} warning(s) above)")
    return failed


def print_checks(checks: list[TableCheck]) -> int:
    print("\nwarehouse vs simulator ground truth")
    for check in checks:
        print(f"  {check.line()}")
    bad = [c for c in checks if not c.ok]
    if bad:
        print(f"MISMATCH: {len(bad)} of {len(checks)} table checks differ from the ground truth")
        return 1
    print(f"OK: all {len(checks)} table checks equal the ground truth")
    return 0
