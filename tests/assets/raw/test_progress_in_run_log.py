"""A backfill's run log says how far it got and every wait for Jira's limits (issue 18).

The raw issues asset is materialized over every month as one range run against the simulator
while it answers slowly and refuses one request in five with 429 (Retry-After 2 s), on an instance
with the repo's `python_logs` setting. The run's own event log, what the UI shows, must hold:
throttled progress lines with the approximate total, rate and time left, and a line for each
wait that says until when.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from jira_sync.demo_world import ConnectedDemo, DemoOptions, connected_demo
from pipelines import progress
from tests.reliability.reliability_kit import failure_message, materialize_issue_months, scenario_sync_file

REPO = Path(__file__).resolve().parents[3]
SLOW_AND_REFUSING = {"latency_ms": 150, "rate_429": 0.2, "retry_after_seconds": 2, "seed": 16}


@pytest.fixture
def slow_demo(tmp_path: Path) -> Iterator[ConnectedDemo]:
    options = DemoOptions(
        issues=1200, seed=5, warehouse=tmp_path / "unused.duckdb", demo_dir=tmp_path / "demo"
    )
    with connected_demo(options) as demo:
        demo.simulator.admin("PUT", "faults", SLOW_AND_REFUSING)
        yield demo


def test_the_run_log_shows_progress_and_waits(
    slow_demo: ConnectedDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "PROGRESS_INTERVAL_SECONDS", 0.5)
    repo_instance = yaml.safe_load((REPO / "dagster.yaml").read_text())
    sync_file = scenario_sync_file(slow_demo, tmp_path / "scenario", http={"concurrency": 2})
    with dg.instance_for_test(overrides={"python_logs": repo_instance["python_logs"]}) as instance:
        result = materialize_issue_months(sync_file, slow_demo.environ, instance=instance)
        assert result.success, failure_message(result)
        messages = [entry.user_message for entry in instance.all_logs(result.run_id)]

    fetches = [m for m in messages if m.startswith("issues of site ")]
    started = [m for m in fetches if " started: " in m]
    assert len(started) == 2, fetches  # both sites
    assert all(
        re.search(r"started: about [\d,]+ issues to fetch \(Jira's approximate count\)", m) for m in started
    )
    running = [m for m in fetches if " of about " in m]
    assert len(running) >= 2, fetches
    assert all("changelog items" in m and "pages" in m and "issues/s" in m for m in running), running
    unfinished = [m for m in running if "(100%)" not in m]
    assert unfinished, running
    assert all(re.search(r"; about .+ left \(done near \d\d:\d\d:\d\d UTC\)", m) for m in unfinished), (
        unfinished
    )
    finished = [m for m in fetches if " finished: " in m]
    assert len(finished) == 2 and all(
        re.search(r"finished: [\d,]+ issues, [\d,]+ changelog items", m) for m in finished
    )
    # Throttled: fewer lines than pages (each site's fetch took dozens of pages).
    pages = sum(int(re.search(r"([\d,]+) pages", m).group(1).replace(",", "")) for m in finished)
    assert len(running) < pages, (len(running), pages)
    waits = [m for m in messages if "429" in m and " waits " in m]
    assert waits, [m for m in messages if "429" in m]
    assert all(re.search(r"until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", m) for m in waits), waits
