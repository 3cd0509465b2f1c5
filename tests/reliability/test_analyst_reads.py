"""Analysts read the published snapshot while the main job runs again and again: no run fails
because of them, and no reader ever sees a half-written state.

Two reader processes (the reader of tests/assets/publish: one keeps its connection, one
reconnects every round like a dashboard refresh) query `data/jira_analytics.duckdb` every 10 ms
and check each round against the snapshot's own `snapshot_info` (every table has the row count
recorded for it, one run id per snapshot, one cycle-time row per issue). Meanwhile Jira changes
and the whole main job runs three times, each publishing a new snapshot.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from jira_sync.demo_world import DemoOptions, connected_demo
from tests.assets.publish.test_publish_snapshot import READER
from tests.reliability.reliability_kit import dagster_home, main_job_in_process, report, scenario_sync_file

# a long scenario: `make chaos` runs it, `make test` (-m "not slow") does not
pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(900)]

RUNS = 3


def test_readers_of_the_snapshot_never_fail_a_run_nor_see_a_half_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = DemoOptions(
        issues=400, seed=12, warehouse=tmp_path / "unused.duckdb", demo_dir=tmp_path / "demo"
    )
    with connected_demo(options) as demo:
        sync_file = scenario_sync_file(demo, tmp_path / "scenario")
        home = dagster_home(tmp_path / "home")
        snapshot = tmp_path / "scenario" / "jira_analytics.duckdb"
        first = main_job_in_process(demo, sync_file, home, monkeypatch)
        assert all(o.success for o in first), [o.error for o in first]

        stop = tmp_path / "stop"
        readers = {
            mode: subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    READER,
                    str(snapshot),
                    mode,
                    str(stop),
                    str(tmp_path / f"{mode}.json"),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for mode in ("hold", "reconnect")
        }
        seconds: list[float] = []
        try:
            for reader in readers.values():
                assert reader.stdout.readline().strip() == "ready"
            acme = demo.simulator.truth()["sites"][demo.simulator.cloud_ids["acme"]]
            for run in range(RUNS):
                issue_id = acme["issues"]["ids"][run]
                demo.simulator.admin(
                    "PUT", f"sites/acme/issues/{issue_id}", {"summary": f"changed before run {run}"}
                )
                started = time.monotonic()
                outcomes = main_job_in_process(demo, sync_file, home, monkeypatch)
                seconds.append(time.monotonic() - started)
                assert all(o.success for o in outcomes), [o.error for o in outcomes if not o.success]
            time.sleep(0.5)  # the reconnecting reader opens the newest snapshot
        finally:
            stop.touch()
            for reader in readers.values():
                reader.wait(timeout=60)
        truth_issues = sum(site["issues"]["count"] for site in demo.simulator.truth()["sites"].values())

    held = json.loads((tmp_path / "hold.json").read_text())
    reconnecting = json.loads((tmp_path / "reconnect.json").read_text())
    for reading in (held, reconnecting):
        assert reading["errors"] == []
        assert reading["rounds"] > 20
    assert len(held["run_ids"]) == 1  # a held connection keeps its snapshot
    assert len(reconnecting["run_ids"]) == RUNS + 1  # each new connection sees the newest one
    with duckdb.connect(str(snapshot), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM jira.issues").fetchone() == (truth_issues,)
        assert con.execute(
            "SELECT count(*) FROM jira.issues WHERE summary LIKE 'changed before run %'"
        ).fetchone() == (RUNS,)
    assert not list(snapshot.parent.glob(".*building*"))
    report(
        "analyst reads during runs",
        main_job_runs=RUNS,
        run_s=round(sum(seconds) / len(seconds), 1),
        held_rounds=held["rounds"],
        reconnect_rounds=reconnecting["rounds"],
        reader_queries=held["queries"] + reconnecting["queries"],
        snapshots_seen=len(reconnecting["run_ids"]),
        reader_errors=0,
    )
