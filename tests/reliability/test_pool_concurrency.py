"""Two runs of the same asset started together: the warehouse pool makes one wait, none corrupts.

Every step that opens the warehouse is in the pool `warehouse`, limited to 1 by the repo's
dagster.yaml. The limit is kept in the instance's storage (the `concurrency_slots` tables of the
sqlite event log), and each step claims a slot there before it starts. So it holds for every run
made with that instance: the main job (`jira-sync demo`), `dagster asset materialize`, and the runs
`dagster dev`'s daemon launches. `dagster.materialize(..., instance=DagsterInstance.ephemeral())`,
as unit tests use it, has an in-memory event log without those tables and claims nothing: two such
runs overlap and meet DuckDB's one-writer lock instead. Both cases are run here, in two processes
each, on the reference assets of a simulated site.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jira_sync.demo_world import ConnectedDemo, DemoOptions, connected_demo
from jira_sync.truth_check import check_warehouse
from tests.postgres_server import requires_postgres, scratch_database
from tests.reliability.reliability_kit import (
    dagster_home,
    duplicate_keys,
    postgres_dagster_home,
    report,
    run_environment,
    scenario_sync_file,
)

# a long scenario: `make chaos` runs it, `make test` (-m "not slow") does not
pytestmark = [pytest.mark.chaos, pytest.mark.slow]

REFERENCE = [
    "jira_raw/sites",
    "jira_raw/projects",
    "jira_raw/issue_types",
    "jira_raw/statuses",
    "jira_raw/users",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectedDemo]:
    base = tmp_path_factory.mktemp("pool-demo")
    options = DemoOptions(
        issues=60, seed=6, latency_ms=20, warehouse=base / "unused.duckdb", demo_dir=base / "demo"
    )
    with connected_demo(options) as connected:
        yield connected


def runs_at_once(sync_file: Path, home: Path, demo: ConnectedDemo, mode: str, count: int) -> list[dict]:
    """Start `count` workers materializing the same assets into one warehouse; their timelines."""
    env = run_environment(demo, sync_file, home)
    command = [sys.executable, "-m", "tests.reliability.materialize_worker", mode, *REFERENCE]
    workers = [
        subprocess.Popen(
            command, cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    outputs = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-3000:]
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    return sorted(outputs, key=lambda o: o.get("step_start", 0.0))


def scenario(demo: ConnectedDemo, workdir: Path) -> tuple[Path, Path]:
    """Sync file and warehouse of one scenario."""
    return scenario_sync_file(demo, workdir / "scenario"), workdir / "scenario" / "warehouse.duckdb"


def reference_checks(warehouse: Path, demo: ConnectedDemo) -> list[str]:
    tables = {key.split("/")[1] for key in REFERENCE}
    checks = check_warehouse(warehouse, demo.simulator.truth(), {s.id: s.name for s in demo.sites})
    return [c.line() for c in checks if c.table in tables and not c.ok]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=requires_postgres)])
def instance_home(request, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """The repo's instance (sqlite storage), or the production one (deploy/postgres/dagster.yaml)."""
    if request.param == "sqlite":
        yield "repo", dagster_home(tmp_path / "home")
        return
    with scratch_database("jira_sync_dagster") as url:
        yield "PostgreSQL", postgres_dagster_home(tmp_path / "home", url, monkeypatch)


def test_with_the_repo_instance_the_second_run_waits_for_the_pool(
    demo: ConnectedDemo, tmp_path: Path, instance_home: tuple[str, Path]
) -> None:
    kind, home = instance_home
    sync_file, warehouse = scenario(demo, tmp_path)
    first, second = runs_at_once(sync_file, home, demo, "instance", 2)

    assert first["success"] and second["success"], (first["failure"], second["failure"])
    assert second["step_start"] >= first["step_end"], "the steps overlapped: the pool did not hold"
    assert second["blocked"] >= 1 and first["blocked"] == 0
    assert reference_checks(warehouse, demo) == []
    assert {t: n for t, n in duplicate_keys(warehouse).items() if n} == {}
    report(
        f"pool, two runs with the {kind} instance",
        first_step_s=first["step_end"] - first["step_start"],
        second_waited_s=second["step_start"] - first["step_start"],
        second_step_s=second["step_end"] - second["step_start"],
        blocked_events=second["blocked"],
        both_succeeded=True,
    )


def test_an_ephemeral_instance_claims_no_pool_slot(demo: ConnectedDemo, tmp_path: Path) -> None:
    sync_file, warehouse = scenario(demo, tmp_path)
    home = dagster_home(tmp_path / "home")
    first, second = runs_at_once(sync_file, home, demo, "ephemeral", 2)

    assert first["blocked"] == second["blocked"] == 0  # nothing waited for the pool
    overlapped = second["step_start"] < first["step_end"]
    failures = [run["failure"] for run in (first, second) if not run["success"]]
    for failure in failures:
        # what unserialised runs meet: DuckDB's one-writer lock, or the other run's dagster-dlt
        # `pipeline.drop()` deleting the shared dlt working dir under this run's extract
        assert "Conflicting lock" in failure or ("FileNotFoundError" in failure and "/dlt/" in failure), (
            failure
        )
    assert overlapped or not failures
    # nothing half-written is left: one pooled run on the same warehouse ends equal to truth
    [rerun] = runs_at_once(sync_file, home, demo, "instance", 1)
    assert rerun["success"], rerun["failure"]
    assert reference_checks(warehouse, demo) == []
    assert {t: n for t, n in duplicate_keys(warehouse).items() if n} == {}
    report(
        "pool, two runs with an ephemeral instance",
        overlapped=overlapped,
        overlap_s=max(0.0, first["step_end"] - second["step_start"]),
        failed_runs=len(failures),
        failure=("duckdb lock" if any("Conflicting lock" in f for f in failures) else "dlt working dir")
        if failures
        else "none",
    )
