"""What the reliability scenarios share: per-scenario sync files and Dagster homes over one
running demo (simulator + OAuth consent), the main job in a child process, the warehouse
checks (ground truth, duplicate keys) and the figures each scenario prints."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import duckdb
import httpx
import pytest
import yaml

from assets import raw
from assets.definitions import build_definitions
from assets.resources import JiraSecretsResource, SecretValue, shared_resources
from jira_simulator.process import SimulatorProcess
from jira_sync.demo_world import ConnectedDemo
from jira_sync.main_job import QUIET, RANGE_END_TAG, RANGE_START_TAG, StepOutcome, run_steps
from jira_sync.truth_check import TableCheck, check_warehouse
from pipelines.config import load_sync_config
from pipelines.registry import TABLES

REPO = Path(__file__).resolve().parents[2]


def report(scenario: str, **figures: object) -> str:
    """One line of figures (`make chaos` runs with -s, so they reach the terminal)."""
    text = ", ".join(f"{name}={_fmt(value)}" for name, value in figures.items())
    line = f"[reliability] {scenario}: {text}"
    print(line, flush=True)
    return line


def _fmt(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def scenario_sync_file(demo: ConnectedDemo, directory: Path, **changes: object) -> Path:
    """The demo's sync file with the warehouse, snapshot and inbox under `directory`.

    `changes` are applied to the document's top-level sections (e.g. `http={...}`).
    """
    directory.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_load(demo.sync_file.read_text())
    body["warehouse"]["path"] = str(directory / "warehouse.duckdb")
    body["warehouse"]["publish_path"] = str(directory / "jira_analytics.duckdb")
    body["webhooks"]["inbox"] = str(directory / "inbox.sqlite")
    for section, value in changes.items():
        body[section] = {**body.get(section, {}), **value} if isinstance(value, dict) else value
    path = directory / "jira_sync.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def dagster_home(directory: Path) -> Path:
    """A Dagster home with the repo's dagster.yaml (run queue, pools, sqlite storage), its storage
    created as a deployment's is before runs start: processes that open a fresh home at the same
    moment race to create the sqlite schema ("table ... already exists")."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", directory / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(directory)):
        pass
    return directory


def postgres_dagster_home(directory: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Dagster home with the production instance (deploy/postgres/dagster.yaml: runs, event log
    and pool slots in PostgreSQL at `url`), its storage created before runs start. The connection
    goes into this process's environment (and so into the workers it starts)."""
    parts = urlsplit(url)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "deploy" / "postgres" / "dagster.yaml", directory / "dagster.yaml")
    for name, value in {
        "DAGSTER_PG_USERNAME": parts.username or "",
        "DAGSTER_PG_PASSWORD": parts.password or "",
        "DAGSTER_PG_HOST": parts.hostname or "127.0.0.1",
        "DAGSTER_PG_PORT": str(parts.port or 5432),
        "DAGSTER_PG_DB": parts.path.lstrip("/"),
        "DAGSTER_COMPUTE_LOGS_DIR": str(directory / "compute_logs"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_HOME", str(directory))
    with dg.DagsterInstance.from_config(str(directory)):
        pass
    return directory


def run_environment(demo: ConnectedDemo, sync_file: Path, home: Path) -> dict[str, str]:
    """The environment `jira-sync demo` gives its runs, for this sync file and Dagster home."""
    return {
        **os.environ,
        **demo.environ,
        "JIRA_SYNC_CONFIG": str(sync_file),
        "DAGSTER_HOME": str(home),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DO_NOT_TRACK": "1",
        "PYTHONPATH": str(REPO),
    }


def start_main_job(demo: ConnectedDemo, sync_file: Path, home: Path, log: Path) -> subprocess.Popen[bytes]:
    """`tests.reliability.sync_worker` (the main job's steps) in a child process, output to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.sync_worker"],
            cwd=home,
            env=run_environment(demo, sync_file, home),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def wait_until(predicate: Callable[[], object], *, timeout: float, poll: float = 0.005, what: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)


def truth_mismatches(warehouse: Path, demo: ConnectedDemo) -> list[str]:
    """Every `jira_raw` table check against the simulator's live ground truth that fails."""
    checks = check_warehouse(warehouse, demo.simulator.truth(), {s.id: s.name for s in demo.sites})
    assert len(checks) > 20, [c.line() for c in checks]
    return [c.line() for c in checks if not c.ok]


def duplicate_keys(warehouse: Path) -> dict[str, int]:
    """Rows beyond one per logical key, for every `jira_raw` table that exists (0 everywhere = clean)."""
    keys = {t.name: t.key for t in TABLES}
    found: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'jira_raw'"
            ).fetchall()
        }
        for table in sorted(tables & set(keys)):
            columns = ", ".join(f'"{c}"' for c in keys[table])
            total, distinct = con.execute(
                f'SELECT count(*), count(DISTINCT ({columns})) FROM jira_raw."{table}"'
            ).fetchone()
            found[table] = int(total) - int(distinct)
    return found


def _raw_run(
    sync_file: Path, environ: dict[str, str], partitioned: bool, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    config = load_sync_config(sync_file)
    assets = raw.build_definitions(config).assets
    resources = {
        **shared_resources(config),
        "jira_secrets": JiraSecretsResource(
            secrets=[SecretValue(env=k, value=v) for k, v in environ.items()]
        ),
    }
    chosen = [a for a in assets if (a.partitions_def is not None) == partitioned]
    tags = None
    if partitioned:
        months = chosen[0].partitions_def
        tags = {
            RANGE_START_TAG: months.get_first_partition_key(),
            RANGE_END_TAG: months.get_last_partition_key(),
        }
    return dg.materialize(
        assets,
        resources=resources,
        selection=[key for a in chosen for key in a.keys],
        tags=tags,
        run_config=QUIET,
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def materialize_unpartitioned(sync_file: Path, environ: dict[str, str]) -> dg.ExecuteInProcessResult:
    """One Dagster run of every unpartitioned raw asset the sync file defines (reference, teams,
    and the sweep and census when a site syncs issues). Secrets are given as values; the
    definitions read them from EnvVars when a run starts."""
    return _raw_run(sync_file, environ, partitioned=False)


def materialize_issue_months(
    sync_file: Path, environ: dict[str, str], instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    """`jira_raw/issues` + `issue_changelog` over every month as one range run (the backfill)."""
    return _raw_run(sync_file, environ, partitioned=True, instance=instance)


def issue_table_checks(warehouse: Path, demo: ConnectedDemo) -> list[TableCheck]:
    """The truth checks of `jira_raw.issues` and `issue_changelog` (both sites)."""
    checks = check_warehouse(warehouse, demo.simulator.truth(), {s.id: s.name for s in demo.sites})
    return [c for c in checks if c.table in ("issues", "issue_changelog")]


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    """The errors of a run's failed steps, innermost cause included (for assertion messages)."""
    return "\n".join(
        str(e.step_failure_data.error.to_string()) for e in result.all_events if e.is_step_failure
    )


def issue_delivery(
    sim: SimulatorProcess, site: str, issue_id: str, *, event: str = "jira:issue_updated", matched: int = 1
) -> dict:
    """A Jira-shaped delivery for a real issue: the issue as `GET /rest/api/2/issue` renders it
    (the shape Jira puts in webhook payloads), `self` on the site's URL as the sync file names it."""
    response = httpx.get(
        f"{sim.site_url(site)}/rest/api/2/issue/{issue_id}",
        auth=(sim.admin_email, sim.api_token),
        timeout=30,
    )
    response.raise_for_status()
    payload: dict = {
        "timestamp": int(time.time() * 1000),
        "webhookEvent": event,
        "user": {"accountId": "557058:simulated", "displayName": "Simulated"},
        "issue": response.json(),
        "matchedWebhookIds": [matched],
    }
    if event != "jira:issue_deleted":
        payload["issue_event_type_name"] = "issue_updated"
        payload["changelog"] = {"id": "1", "items": []}
    return payload


def main_job_in_process(
    demo: ConnectedDemo, sync_file: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> list[StepOutcome]:
    """The main job's steps in this process, with the Dagster instance of `home` (as the demo runs them)."""
    monkeypatch.chdir(home)  # dagster.yaml's relative storage paths resolve from here
    for name, value in demo.environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JIRA_SYNC_CONFIG", str(sync_file))
    defs = build_definitions(load_sync_config(sync_file))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return run_steps(defs, instance, out=print)
