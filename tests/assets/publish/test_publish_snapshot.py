"""The analyst scenario: readers hold the published file open while a full transform + publish
run replaces it; the run succeeds and every reader query sees one complete snapshot."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tests.assets.core.transform_world import (
    ALPHA,
    at,
    check_results,
    insert,
    new_warehouse,
    query,
    run_transforms,
    write_sync_file,
)

# One reader process: either holds one read-only connection for its whole life ("hold"), or
# reconnects for every round ("reconnect", what a dashboard refresh does). Every round checks that
# each table has the row count snapshot_info recorded for it, and that the published tables agree
# with each other (one cycle-time row per issue).
READER = r"""
import json, sys, time, pathlib
import duckdb
path, mode, stop, out = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3]), sys.argv[4]
report = {"rounds": 0, "queries": 0, "errors": [], "run_ids": []}

def snapshot_round(con):
    run_ids = {r for (r,) in con.execute("SELECT DISTINCT run_id FROM snapshot_info").fetchall()}
    counts = con.execute("SELECT table_name, row_count FROM snapshot_info").fetchall()
    report["queries"] += 2
    if len(run_ids) != 1:
        report["errors"].append(f"several run ids in one snapshot: {run_ids}")
    for table, expected in counts:
        (actual,) = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0]
        report["queries"] += 1
        if actual != expected:
            report["errors"].append(f"{table}: {actual} rows, snapshot_info says {expected}")
    (issues, clocks) = con.execute(
        "SELECT (SELECT count(*) FROM jira.issues), (SELECT count(*) FROM analytics.issue_cycle_times)"
    ).fetchall()[0]
    report["queries"] += 1
    if issues != clocks:
        report["errors"].append(f"{issues} issues but {clocks} cycle-time rows")
    run_id = run_ids.pop()
    if not report["run_ids"] or report["run_ids"][-1] != run_id:
        report["run_ids"].append(run_id)
    report["rounds"] += 1

held = duckdb.connect(path, read_only=True) if mode == "hold" else None
print("ready", flush=True)
while not stop.exists():
    try:
        if held is not None:
            snapshot_round(held)
        else:
            with duckdb.connect(path, read_only=True) as con:
                snapshot_round(con)
    except Exception as exc:
        report["errors"].append(f"{type(exc).__name__}: {exc}")
    time.sleep(0.01)
pathlib.Path(out).write_text(json.dumps(report))
"""


def issues(first: int, count: int):
    return [
        {
            "cloud_id": ALPHA,
            "id": str(n),
            "key": f"OPS-{n}",
            "project_id": "101",
            "project_key": "OPS",
            "issue_type_id": "10001",
            "issue_type_name": "Bug",
            "status_id": "1",
            "status_name": "To Do",
            "status_category_key": "new",
            "created": at(1),
            "updated": at(1),
            "synced_at": datetime.now(UTC),
        }
        for n in range(first, first + count)
    ]


def published_run_ids(path):
    with duckdb.connect(str(path), read_only=True) as con:
        return [r for (r,) in con.execute("SELECT DISTINCT run_id FROM snapshot_info").fetchall()]


def test_readers_never_fail_a_run_and_always_see_a_whole_snapshot(tmp_path):
    sync_file = write_sync_file(tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    published = tmp_path / "published" / "jira_analytics.duckdb"
    new_warehouse(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        insert(con, "projects", [{"cloud_id": ALPHA, "id": "101", "key": "OPS"}])
        insert(con, "issues", issues(1, 50))
    first = run_transforms(sync_file)
    assert first.success
    (first_run,) = published_run_ids(published)

    stop = tmp_path / "stop"
    readers = {
        mode: subprocess.Popen(
            [sys.executable, "-c", READER, str(published), mode, str(stop), str(tmp_path / f"{mode}.json")],
            stdout=subprocess.PIPE,
            text=True,
        )
        for mode in ("hold", "reconnect")
    }
    try:
        for reader in readers.values():
            assert reader.stdout.readline().strip() == "ready"
        time.sleep(0.3)
        with duckdb.connect(str(warehouse)) as con:  # new data for the second run
            insert(con, "issues", issues(51, 30))
        second = run_transforms(sync_file)
        time.sleep(0.5)  # let the reconnecting reader see the new file
    finally:
        stop.touch()
        for reader in readers.values():
            reader.wait(timeout=30)

    assert second.success  # the readers never blocked or failed the run
    (second_run,) = published_run_ids(published)
    assert second_run != first_run
    held = json.loads((tmp_path / "hold.json").read_text())
    reconnecting = json.loads((tmp_path / "reconnect.json").read_text())
    for report in (held, reconnecting):
        assert report["errors"] == []
        assert report["rounds"] > 5
    assert held["run_ids"] == [first_run]  # an open connection keeps its snapshot
    assert reconnecting["run_ids"] == [first_run, second_run]  # a new connection sees the new one
    assert query(published, "SELECT count(*) FROM jira.issues") == [(80,)]
    assert not list(published.parent.glob(".*building*"))  # no staging file left behind


def test_a_publish_killed_mid_copy_leaves_nothing_behind_after_the_next_run(tmp_path):
    """A killed publish leaves its staging file (named by its run id); the next publish removes it."""
    sync_file = write_sync_file(tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    published = tmp_path / "published" / "jira_analytics.duckdb"
    new_warehouse(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        insert(con, "projects", [{"cloud_id": ALPHA, "id": "101", "key": "OPS"}])
        insert(con, "issues", issues(1, 5))
    published.parent.mkdir(parents=True)
    dead = published.with_name(f".{published.name}.0f1e2d3c-dead-run.building")
    with duckdb.connect(str(dead)) as con:  # a half-written copy with its WAL, as SIGKILL leaves it
        con.execute("CREATE TABLE half AS SELECT range AS n FROM range(1000)")
    dead.with_name(dead.name + ".wal").write_bytes(b"\0" * 64)
    other = published.with_name(".other.duckdb.0f1e2d3c-dead-run.building")  # not this snapshot's
    other.write_bytes(b"")

    assert run_transforms(sync_file).success

    assert sorted(p.name for p in published.parent.iterdir()) == [other.name, published.name]
    assert query(published, "SELECT count(*) FROM jira.issues") == [(5,)]


def test_duckdb_1_readers_open_the_snapshot(tmp_path):
    """The snapshot is written in the v1.0.0 storage format: DuckDB 1.5's own shell reads it."""
    sync_file = write_sync_file(tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    published = tmp_path / "published" / "jira_analytics.duckdb"
    new_warehouse(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        insert(con, "projects", [{"cloud_id": ALPHA, "id": "101", "key": "OPS"}])
        insert(con, "issues", issues(1, 7))
    result = run_transforms(sync_file)
    assert result.success
    assert check_results(result)["analyst_snapshot_opens"].metadata["storage_version"].value == "v1.0.0+"
    shell = subprocess.run(
        [
            str(Path(sys.executable).parent / "jira-sync"),
            "sql",
            "--snapshot",
            str(published),
            "--mode",
            "csv",
            "-c",
            "SELECT version() AS v, count(*) AS n, max(team_name) AS team FROM analytics.issue_cycle_times",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.splitlines() == ["v,n,team", "v1.5.6,7,(no team)"]
