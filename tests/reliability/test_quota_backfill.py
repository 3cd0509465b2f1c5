"""The app's points quota runs out in the middle of a backfill, run as Dagster runs it.

The simulator's clock runs 720x (a quota hour lasts 5 s) and the OAuth app gets 150 points an
hour, so the demo's history (about 430 points) needs at least three hours of quota. The range run of
`jira_raw/issues` must pause at the budget, resume after the reset, never be refused by Jira once
its headers were seen, end equal to the simulator's truth, and report the points Jira charged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jira_sync.demo_world import ConnectedDemo, DemoOptions, connected_demo
from tests.reliability.reliability_kit import (
    failure_message,
    issue_table_checks,
    materialize_issue_months,
    report,
    scenario_sync_file,
)

SPEED, POINTS = 720, 150
pytestmark = pytest.mark.chaos


@pytest.fixture
def quota_demo(tmp_path: Path) -> Iterator[ConnectedDemo]:
    options = DemoOptions(
        issues=300, seed=9, warehouse=tmp_path / "unused.duckdb", demo_dir=tmp_path / "demo"
    )
    with connected_demo(options) as demo:  # consent at normal speed, then the fast hour and the quota
        demo.simulator.admin("PUT", "clock/speed", {"speed": SPEED})
        demo.simulator.admin("PUT", "faults", {"points_per_hour": POINTS})
        demo.simulator.admin("POST", "quota/reset")
        yield demo


def test_a_backfill_pauses_at_the_quota_and_resumes_after_the_reset(
    quota_demo: ConnectedDemo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    demo = quota_demo
    sync_file = scenario_sync_file(demo, tmp_path / "scenario")
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="pipelines.jira.quota"):
        result = materialize_issue_months(sync_file, demo.environ)
    seconds = time.monotonic() - started
    assert result.success, failure_message(result)
    ledger = demo.simulator.admin("GET", "quota")
    demo.simulator.admin("PUT", "faults", {"points_per_hour": None})  # the truth is read over HTTP too
    checks = issue_table_checks(tmp_path / "scenario" / "warehouse.duckdb", demo)
    assert [c.line() for c in checks if not c.ok] == [] and len(checks) == 4
    assert ledger["refusals"] == [], ledger["refusals"]  # never a quota 429
    used = [w for w in ledger["windows"] if w["used"]]
    assert len(used) >= 3  # it crossed a reset
    # At 720x a 50 ms scheduling delay is 36 simulated seconds: on a loaded machine a request the
    # pacer counted in the next window can land at the end of the previous one. One request's worth
    # (a search page, ~101 points here) over a window is that; more would be the pacer's fault. The
    # simulator refusing nothing (above) is what the app's real quota would see.
    assert all(w["used"] <= POINTS + 110 for w in used), [w["used"] for w in used]
    charged = sum(w["used"] for w in used)
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["run_http_quota_points"].value == charged
    waits = [
        r.getMessage() for r in caplog.records if "quota: backfill of tenant demo waits" in r.getMessage()
    ]
    resumed = [r.getMessage() for r in caplog.records if "resumed after" in r.getMessage()]
    assert waits and resumed and " UTC: the global-app-quota pool (" in waits[0], waits
    report(
        "quota runs out mid-backfill", wall_s=seconds, points=charged, quota_hours=len(used), waits=len(waits)
    )
