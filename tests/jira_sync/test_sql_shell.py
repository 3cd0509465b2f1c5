"""`jira-sync sql`: DuckDB's shell (the duckdb-cli package, DuckDB 1.x) on a snapshot file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

BIN = Path(sys.executable).parent


def write_snapshot(path: Path, storage_version: str = "v1.0.0") -> Path:
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{path}' AS snap (STORAGE_VERSION '{storage_version}')")
        con.execute("CREATE SCHEMA snap.analytics")
        con.execute(
            "CREATE TABLE snap.analytics.flow AS SELECT * FROM (VALUES "
            "(TIMESTAMPTZ '2026-03-01 23:30:00+00', 'core', 3), (TIMESTAMPTZ '2026-03-02 00:30:00+00', NULL, 4)) "
            "AS t(happened_at, team, wip)"
        )
        con.execute("DETACH snap")
    return path


def sql(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "JIRA_SYNC_CONFIG"}
    env["TZ"] = "America/Los_Angeles"  # the shell must not count days in the machine's zone
    return subprocess.run(
        [str(BIN / "jira-sync"), "sql", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_query_runs_read_only_in_utc(tmp_path: Path) -> None:
    snapshot = write_snapshot(tmp_path / "snap.duckdb")
    done = sql(
        "--snapshot",
        str(snapshot),
        "--mode",
        "csv",
        "-c",
        "SELECT CAST(happened_at AS DATE) AS day, coalesce(team, '(no team)') AS team, wip FROM analytics.flow ORDER BY 1",
        "-c",
        "SELECT version() AS version",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == ["day,team,wip", "2026-03-01,core,3", "2026-03-02,(no team),4"]
    assert lines[3:5] == ["version", "v1.5.6"]  # a real DuckDB 1.x reads the snapshot
    refused = sql("--snapshot", str(snapshot), "-c", "DELETE FROM analytics.flow", cwd=tmp_path)
    assert refused.returncode != 0 and "read-only" in refused.stdout + refused.stderr


def test_a_file_and_a_pipe(tmp_path: Path) -> None:
    snapshot = write_snapshot(tmp_path / "snap.duckdb")
    query = tmp_path / "q.sql"
    query.write_text("SELECT sum(wip) AS total FROM analytics.flow;\n")
    from_file = sql("--snapshot", str(snapshot), "--mode", "csv", "-f", str(query), cwd=tmp_path)
    assert from_file.returncode == 0 and from_file.stdout.splitlines() == ["total", "7"]
    piped = sql(
        "--snapshot",
        str(snapshot),
        "--mode",
        "csv",
        cwd=tmp_path,
        stdin="SELECT max(wip) AS m FROM analytics.flow;\n",
    )
    assert piped.returncode == 0 and piped.stdout.splitlines() == ["m", "4"]
    failing = sql("--snapshot", str(snapshot), "-c", "SELECT * FROM nope", cwd=tmp_path)
    assert failing.returncode == 1 and "nope" in failing.stdout + failing.stderr


def test_the_snapshot_comes_from_the_sync_file(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "published.duckdb")
    (tmp_path / "jira_sync.yaml").write_text(
        "version: 1\nwarehouse: {publish_path: published.duckdb}\n"
        "tenants: [{id: acme, sites: [{name: acme, url: 'https://acme.atlassian.net'}]}]\n"
    )
    done = sql("--mode", "csv", "-c", "SELECT count(*) AS n FROM analytics.flow", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.splitlines() == ["n", "2"]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("missing", "no analyst snapshot at"),
        ("newer_format", "v2.0.0+ storage format and the shell is DuckDB 1.5.6"),
        ("not_duckdb", "does not open as a DuckDB database"),
        ("bad_sync_file", "jira_sync.yaml"),
    ],
)
def test_what_cannot_work_says_why_and_what_to_do(tmp_path: Path, setup: str, expected: str) -> None:
    args = ["--snapshot", str(tmp_path / "snap.duckdb")]
    if setup == "newer_format":
        write_snapshot(tmp_path / "snap.duckdb", storage_version="v2.0.0")
    elif setup == "not_duckdb":
        (tmp_path / "snap.duckdb").write_text("not a database")
    elif setup == "bad_sync_file":
        (tmp_path / "jira_sync.yaml").write_text("version: 1\nwarehouse: {publish_pth: x.duckdb}\n")
        args = []
    done = sql(*args, "-c", "SELECT 1", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and expected in done.stderr
