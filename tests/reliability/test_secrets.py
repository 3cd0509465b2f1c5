"""No secret leaves the token store: the whole main job and the receiver run with distinctive
secret values, then every log and every file they wrote is searched for them.

Secrets: the OAuth client secret, the admin's API token (site REST and the Teams API), and the
access and refresh tokens the simulator issued, both at consent and at the refresh the run makes
(the simulated clock is moved two hours, so every access token is refused once and rotated).

Searched: the main job's stdout and stderr, the receiver's log records (DEBUG), the Dagster event
log through the instance's API and every file of DAGSTER_HOME (sqlite storage, compute logs), the
warehouse and the analyst snapshot (every text value by SQL, and their bytes), the inbox (SQL dump
and bytes) and the dlt working dirs (every file; gzip and parquet decoded). The token files are the
one place tokens may be, with mode 0600 in a 0700 directory.
"""

from __future__ import annotations

import gzip
import logging
import sqlite3
import stat
import time
from pathlib import Path

import dagster as dg
import duckdb
import orjson
import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from jira_sync.demo_world import TENANT, DemoOptions, connected_demo
from pipelines.auth.token_store import TokenStore
from pipelines.config import load_sync_config
from tests.reliability.reliability_kit import (
    dagster_home,
    issue_delivery,
    report,
    scenario_sync_file,
    start_main_job,
)
from tests.webhook_receiver.receiver_testkit import bearer, delivery_headers
from webhook_receiver.app import create_app
from webhook_receiver.settings import settings_from_sync_config

# a long scenario: `make chaos` runs it, `make test` (-m "not slow") does not
pytestmark = [pytest.mark.chaos, pytest.mark.slow]

CLIENT_SECRET = "cs-4b1d9e77-do-not-leak-the-client-secret"
API_TOKEN = "at-91c3f0aa-do-not-leak-the-api-token"


class Haystack:
    """Counts what was searched, and where each secret was found."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = secrets
        self.found: list[str] = []
        self.files = 0
        self.bytes = 0
        self.values = 0

    def text(self, where: str, text: str | bytes) -> None:
        data = text.encode("utf-8", "replace") if isinstance(text, str) else text
        self.bytes += len(data)
        self.found += [f"{name} in {where}" for name, value in self.secrets.items() if value.encode() in data]

    def file(self, path: Path, root: Path) -> None:
        self.files += 1
        where = str(path.relative_to(root.parent))
        data = path.read_bytes()
        self.text(where, data)
        if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":
            self.text(f"{where} (gunzipped)", gzip.decompress(data))
        if path.suffix == ".parquet":
            self.text(f"{where} (decoded)", orjson.dumps(pq.read_table(path).to_pylist(), default=str))

    def tree(self, root: Path) -> None:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                self.file(path, root)

    def duckdb_values(self, path: Path) -> None:
        """Every text-like value of every table, by SQL (DuckDB compresses strings on disk)."""
        with duckdb.connect(str(path), read_only=True) as con:
            columns = con.execute(
                "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                "WHERE data_type IN ('VARCHAR', 'JSON') OR data_type LIKE '%[]' OR data_type LIKE 'STRUCT%'"
            ).fetchall()
            for schema, table, column in columns:
                self.values += con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
                for name, value in self.secrets.items():
                    hits = con.execute(
                        f'SELECT count(*) FROM "{schema}"."{table}" WHERE CAST("{column}" AS VARCHAR) LIKE ?',
                        [f"%{value}%"],
                    ).fetchone()[0]
                    if hits:
                        self.found.append(f"{name} in {path.name}:{schema}.{table}.{column}")

    def sqlite_dump(self, path: Path) -> None:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            self.text(f"{path.name} (SQL dump)", "\n".join(con.iterdump()))


def token_values(store: TokenStore) -> dict[str, str]:
    tokens = store.token_set(TENANT)
    assert tokens is not None and tokens.refresh_token
    return {"access token": tokens.access_token, "refresh token": tokens.refresh_token}


def test_no_secret_in_any_log_or_file_of_a_full_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    options = DemoOptions(
        issues=150,
        seed=9,
        warehouse=tmp_path / "unused.duckdb",
        demo_dir=tmp_path / "demo",
        simulator_args=["--client-secret", CLIENT_SECRET, "--api-token", API_TOKEN],
    )
    with connected_demo(options) as demo:
        assert demo.simulator.client_secret == CLIENT_SECRET and demo.simulator.api_token == API_TOKEN
        store = TokenStore(options.demo_dir / "tokens")
        issued = token_values(store)
        scenario = tmp_path / "scenario"
        sync_file = scenario_sync_file(demo, scenario)
        home = dagster_home(tmp_path / "home")
        demo.simulator.admin("POST", "clock/advance", {"seconds": 2 * 3600})  # Jira refuses the tokens once

        # the receiver stores deliveries signed with the client secret (before the ingest drains them)
        config = load_sync_config(sync_file)
        caplog.set_level(logging.DEBUG, logger="webhook_receiver")
        acme_ids = demo.simulator.truth()["sites"][demo.simulator.cloud_ids["acme"]]["issues"]["ids"][:3]
        with TestClient(create_app(settings_from_sync_config(config, demo.environ))) as receiver:
            for number, issue_id in enumerate(acme_ids):
                body = orjson.dumps(issue_delivery(demo.simulator, "acme", issue_id))
                headers = delivery_headers(
                    f"secret-scan-{number}",
                    authorization=bearer(CLIENT_SECRET, issuer=demo.simulator.client_id),
                )
                response = receiver.post(f"/webhooks/jira/{TENANT}", content=body, headers=headers)
                errors = [
                    getattr(r, "receiver_fields", {}) for r in caplog.records if r.levelno >= logging.ERROR
                ]
                assert response.status_code == 200, (response.text, errors)

        started = time.monotonic()
        log = tmp_path / "main_job.log"
        worker = start_main_job(demo, sync_file, home, log)
        assert worker.wait(600) == 0, log.read_text()[-5000:]
        seconds = time.monotonic() - started
        rotated = token_values(store)

    assert rotated["refresh token"] != issued["refresh token"], "the run should have refreshed the grant"
    secrets = {
        "client secret": CLIENT_SECRET,
        "API token": API_TOKEN,
        **{f"issued {k}": v for k, v in issued.items()},
        **{f"rotated {k}": v for k, v in rotated.items()},
    }
    haystack = Haystack(secrets)
    haystack.text("main job output", log.read_text())
    haystack.text("receiver log records", "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records))
    monkeypatch.chdir(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert len(runs) == 5
        for run in runs:
            haystack.text(
                f"run {run.run_id[:8]} config and tags", orjson.dumps([run.run_config, run.tags], default=str)
            )
            for record in instance.all_logs(run.run_id):
                haystack.text(f"event log of run {run.run_id[:8]}", dg.serialize_value(record))
    haystack.tree(home / ".dagster_home")
    for database in (scenario / "warehouse.duckdb", scenario / "jira_analytics.duckdb"):
        haystack.duckdb_values(database)
        haystack.file(database, scenario)
    haystack.sqlite_dump(scenario / "inbox.sqlite")
    for path in scenario.glob("inbox.sqlite*"):
        haystack.file(path, scenario)
    haystack.tree(scenario / "dlt")
    haystack.text("sync file", sync_file.read_text())

    assert haystack.found == []
    with duckdb.connect(str(scenario / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM jira_raw.webhook_events").fetchone() == (3,)  # drained
    token_dir = options.demo_dir / "tokens"
    control = Haystack(secrets)  # the search does find tokens where they belong
    control.tree(token_dir)
    assert {"rotated access token", "rotated refresh token"} <= {
        hit.split(" in ")[0] for hit in control.found
    }
    assert stat.S_IMODE(token_dir.stat().st_mode) == 0o700
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in token_dir.iterdir()}
    assert modes == {f"{TENANT}.json": 0o600, f"{TENANT}.lock": 0o600}
    report(
        "secrets",
        secrets=len(secrets),
        files=haystack.files,
        mb_searched=round(haystack.bytes / 1e6, 1),
        table_rows_x_columns=haystack.values,
        found=len(haystack.found),
        run_s=seconds,
    )
