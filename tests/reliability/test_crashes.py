"""SIGKILL the main job mid-import, run it again: equal to the truth, no duplicates, nothing orphaned.

The main job runs in a child process against a Dagster home with the repo's dagster.yaml (sqlite
storage, warehouse pool limit 1). A watcher polls every few milliseconds for the kill point:

- fetch: the simulator's request log shows the issues backfill paging (`search/jql`), nothing
  of it loaded yet (latency per request widens this window);
- load: dlt's load package of `jira_issues` has load jobs started (parquet files being copied);
- merge: the package has its merge jobs started (`.sql` follow-up jobs: delete-insert in DuckDB);
- publish: the analyst snapshot's staging file exists (the copy of the jira/analytics tables).

Then the process is killed with SIGKILL: no handler runs, the Dagster run stays STARTED with the
warehouse pool slot claimed, dlt's package stays half-loaded, DuckDB's WAL stays on disk. The
rerun (the main job again, as `jira-sync demo` runs it) must fail the dead run, free its slot and
end equal to the simulator's ground truth with one row per key, leaving no pending package, no
stuck run and no staging file behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from jira_simulator.process import SimulatorProcess
from jira_sync.demo_world import ConnectedDemo, DemoOptions, connected_demo
from tests.postgres_server import requires_postgres, scratch_database
from tests.reliability.reliability_kit import (
    dagster_home,
    duplicate_keys,
    postgres_dagster_home,
    report,
    scenario_sync_file,
    start_main_job,
    truth_mismatches,
    wait_until,
)

# a long scenario: `make chaos` runs it, `make test` (-m "not slow") does not
pytestmark = [pytest.mark.chaos, pytest.mark.slow]

ISSUES, SEED, LATENCY_MS = 1500, 21, 10
RUN_TIMEOUT = 600


@dataclass(frozen=True)
class KillPoint:
    name: str
    reached: Callable[[Path, SimulatorProcess], bool]


def _search_pages(_: Path, sim: SimulatorProcess) -> bool:
    rows = sim.admin("GET", "requests")["requests"]
    return sum(r["count"] for r in rows if r["endpoint"].endswith("/search/jql")) >= 4


def _started_jobs(scenario: Path, suffix: str) -> bool:
    return any((scenario / "dlt" / "jira_issues" / "load" / "normalized").glob(f"*/started_jobs/*{suffix}"))


def _snapshot_building(scenario: Path, _: SimulatorProcess) -> bool:
    return any(scenario.glob(".jira_analytics.duckdb.*.building"))


KILL_POINTS = [
    KillPoint("fetch", _search_pages),
    KillPoint("load", lambda scenario, _: _started_jobs(scenario, ".parquet")),
    KillPoint("merge", lambda scenario, _: _started_jobs(scenario, ".sql")),
    KillPoint("publish", _snapshot_building),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectedDemo]:
    base = tmp_path_factory.mktemp("crash-demo")
    options = DemoOptions(
        issues=ISSUES,
        seed=SEED,
        latency_ms=LATENCY_MS,
        warehouse=base / "unused.duckdb",
        demo_dir=base / "demo",
    )
    with connected_demo(options) as connected:
        yield connected


def pending_packages(scenario: Path) -> list[str]:
    """dlt packages extracted or normalized but not loaded: what a crash leaves in the working dirs."""
    dlt_dir = scenario / "dlt"
    stages = ("normalize/extracted", "load/new", "load/normalized")
    return sorted(
        str(package.relative_to(dlt_dir))
        for stage in stages
        for package in dlt_dir.glob(f"*/{stage}/*")
        if package.is_dir()
    )


def unfinished_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    statuses = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
    return list(instance.get_runs(filters=dg.RunsFilter(statuses=statuses)))


def slot_holders(instance: dg.DagsterInstance) -> set[str]:
    storage = instance.event_log_storage
    return {
        run_id
        for pool in storage.get_concurrency_keys()
        for run_id in storage.get_concurrency_info(pool).active_run_ids
    }


@pytest.mark.parametrize(
    ("point", "instance"),
    [
        *((point, "sqlite") for point in KILL_POINTS),
        # the production instance: the dead run's pool slot lives in PostgreSQL
        pytest.param(KILL_POINTS[2], "postgres", marks=requires_postgres),
    ],
    ids=lambda value: value.name if isinstance(value, KillPoint) else value,
)
def test_sigkill_mid_import_then_rerun_equals_truth(
    demo: ConnectedDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: KillPoint, instance: str
) -> None:
    with contextlib.ExitStack() as stack:
        if instance == "postgres":
            url = stack.enter_context(scratch_database("jira_sync_dagster"))
            home = postgres_dagster_home(tmp_path / "home", url, monkeypatch)
        else:
            home = dagster_home(tmp_path / "home")
        crash_and_rerun(demo, tmp_path, monkeypatch, point, home)


def crash_and_rerun(
    demo: ConnectedDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: KillPoint, home: Path
) -> None:
    sim = demo.simulator
    scenario = tmp_path / "scenario"
    sync_file = scenario_sync_file(demo, scenario)
    monkeypatch.chdir(home)  # dagster.yaml's relative storage paths resolve from here
    sim.admin("POST", "requests/reset")

    started = time.monotonic()
    first = start_main_job(demo, sync_file, home, tmp_path / "killed.log")
    try:
        wait_until(
            lambda: first.poll() is not None or point.reached(scenario, sim),
            timeout=RUN_TIMEOUT,
            what=f"kill point {point.name}",
        )
        assert first.poll() is None, (
            f"the run ended before {point.name}:\n{(tmp_path / 'killed.log').read_text()}"
        )
        os.kill(first.pid, signal.SIGKILL)
    finally:
        if first.poll() is None:
            first.kill()
        first.wait(30)
    killed_at = time.monotonic() - started
    wal = scenario / "warehouse.duckdb.wal"
    left = {
        "packages": pending_packages(scenario),
        "wal_bytes": wal.stat().st_size if wal.exists() else 0,
        "staging": sorted(p.name for p in scenario.glob(".jira_analytics.duckdb.*")),
    }

    with dg.DagsterInstance.from_config(str(home)) as instance:
        [dead] = unfinished_runs(instance)
        assert dead.status == dg.DagsterRunStatus.STARTED
        assert dead.run_id in slot_holders(instance), "the killed run should hold the warehouse slot"

    rerun_started = time.monotonic()
    sim.admin("POST", "requests/reset")
    rerun = start_main_job(demo, sync_file, home, tmp_path / "rerun.log")
    try:
        code = rerun.wait(RUN_TIMEOUT)
    finally:
        if rerun.poll() is None:
            rerun.kill()
            rerun.wait(30)
    log = (tmp_path / "rerun.log").read_text()
    assert code == 0, log
    rerun_seconds = time.monotonic() - rerun_started
    assert f"released the warehouse pool slot of the dead run {dead.run_id}" in log

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert unfinished_runs(instance) == []
        assert slot_holders(instance) == set()
    warehouse = scenario / "warehouse.duckdb"
    assert truth_mismatches(warehouse, demo) == []
    duplicates = duplicate_keys(warehouse)
    assert set(duplicates) >= {"issues", "issue_changelog", "issue_updates", "sites"}
    assert {table: n for table, n in duplicates.items() if n} == {}
    assert pending_packages(scenario) == []
    assert not wal.exists(), "the rerun closed the warehouse cleanly (WAL checkpointed)"
    assert sorted(p.name for p in scenario.glob(".jira_analytics.duckdb.*")) == []
    assert (scenario / "jira_analytics.duckdb").exists()
    served = sim.admin("GET", "requests")["total"]
    report(
        f"crash at {point.name}",
        killed_after_s=killed_at,
        pending_packages=len(left["packages"]),
        wal_bytes=left["wal_bytes"],
        staging_files=len(left["staging"]),
        rerun_s=rerun_seconds,
        rerun_requests=served,
        tables_checked=len(duplicates),
    )
