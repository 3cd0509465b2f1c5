"""The raw assets load into PostgreSQL by configuration (`warehouse.destination: postgres`).

Needs a PostgreSQL server: `JIRA_SYNC_TEST_POSTGRES_URL` (a connection string of a database the
test may write `jira_raw` in). CI starts one (`.ci/run`); elsewhere the test skips and says why.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from jira_sync.demo_world import DemoOptions, connected_demo
from jira_sync.truth_check import check_ids
from pipelines.config import load_sync_config
from tests.assets.raw.test_raw_assets import (
    CENSUS,
    ISSUE_KEYS,
    REFERENCE,
    SWEEP,
    WORKLOGS,
    all_months,
    failure_message,
    materialize,
)

POSTGRES_URL = os.environ.get("JIRA_SYNC_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="no PostgreSQL server: set JIRA_SYNC_TEST_POSTGRES_URL (CI starts one)"
)


@pytest.fixture
def postgres() -> Iterator:
    psycopg2 = pytest.importorskip(
        "psycopg2", reason="dlt[postgres] is not installed (pip install -e '.[postgres]')"
    )
    con = psycopg2.connect(POSTGRES_URL)
    con.autocommit = True
    for schema in ("jira_raw", "jira_raw_staging"):
        con.cursor().execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    yield con
    con.close()


def test_raw_assets_load_into_postgres_equal_to_truth_and_reruns_change_nothing(
    postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    options = DemoOptions(
        issues=120, seed=5, warehouse=tmp_path / "unused.duckdb", demo_dir=tmp_path / "demo"
    )
    with connected_demo(options) as demo:
        for name, value in demo.environ.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("WAREHOUSE_URL", POSTGRES_URL)
        body = yaml.safe_load(demo.sync_file.read_text())
        body["warehouse"] = {"destination": "postgres", "credentials_env": "WAREHOUSE_URL"}
        path = tmp_path / "jira_sync.yaml"
        path.write_text(yaml.safe_dump(body))
        assert load_sync_config(path).warehouse.destination == "postgres"
        for _ in range(2):  # the second pass must change nothing
            for selection, months in (
                (REFERENCE, None),
                (ISSUE_KEYS, all_months(path)),
                (SWEEP, None),
                (CENSUS, None),
                (WORKLOGS, None),
            ):
                result = materialize(path, selection, months=months)
                assert result.success, failure_message(result)
                if months:  # each month counts its own rows, on PostgreSQL too
                    counts = [
                        e.materialization.metadata["dagster/partition_row_count"].value
                        for e in result.get_asset_materialization_events()
                        if e.asset_key == ISSUE_KEYS[0]
                    ]
                    assert len(counts) > 1 and max(counts) < sum(counts) == options.issues
        truth = demo.simulator.truth()
        sites = {s.id: s.name for s in demo.sites}

    def read_ids(table: str, expr: str, owner_column: str | None, owner: str | None) -> list[str] | None:
        if "." in table:
            return None  # derived by the DuckDB transforms, not loaded here
        cursor = postgres.cursor()
        where, params = (f"WHERE {owner_column} = %s", [owner]) if owner_column else ("", [])
        cursor.execute(f"SELECT {expr} FROM jira_raw.{table} {where}", params)
        return [str(row[0]) for row in cursor.fetchall()]

    checks = check_ids(read_ids, truth, sites)
    assert [c.line() for c in checks if not c.ok] == []
    assert all(c.warehouse > 0 for c in checks if c.table not in ("issue_deletions",))
