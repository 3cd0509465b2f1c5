"""A 429 storm, 5xx answers and dropped connections still end equal to truth, without duplicates."""

from __future__ import annotations

from pathlib import Path

from jira_simulator.process import SimulatorProcess
from tests.pipelines.jira.simkit import connect
from tests.pipelines.jira.test_jira_sync_sim import assert_equals_truth, full_sync

FAULTS = ["--rate-429", "0.2", "--fault-rate-5xx", "0.05", "--drop-rate", "0.02", "--retry-after", "1"]


def test_faults_end_equal_to_truth(tmp_path: Path) -> None:
    with SimulatorProcess(issues=90, seed=13, extra_args=FAULTS) as sim:
        connected = connect(sim, tmp_path, http={"max_attempts": 12})
        http = full_sync(connected)
        assert_equals_truth(connected)
        stats = http.stats.as_dict()
        # ~60 requests at a 20% 429 rate: a storm is certain; 5xx and drops are likely, not certain.
        assert stats["throttled"] > 0, stats
        failed = stats["throttled"] + stats["connection_errors"]
        failed += sum(count for status, count in stats["by_status"].items() if int(status) >= 500)
        assert stats["retries"] == failed, stats
