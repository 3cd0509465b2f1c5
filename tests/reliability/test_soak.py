"""Soak: the deployment runs alone over many simulated days and the analysts' snapshot keeps up.

The real Dagster daemon, the webhook receiver and the simulator run together (soak_world.py).
Jira's clock jumps days ahead each period, people change issues, webhooks are delivered with
losses, delays and duplicates; nothing is run by hand after `make run`. After each quiet period:
the analyst snapshot equals the simulator's truth for every issue's status, type category and
state; no webhook expired; no run failed. Over the soak: memory of the long-lived processes stays
flat. Printed: changes made, change-to-snapshot latency (p50/p95, with and without a webhook),
runs launched by trigger.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.soak_world import SoakPlan, assert_memory_flat, deployment, run_soak

pytestmark = pytest.mark.chaos


def test_a_short_soak_keeps_the_snapshot_equal_to_jira(tmp_path: Path) -> None:
    """Two periods, 24 simulated days (the webhooks' refresh falls in the second), then a jump past
    their first expiry date; only late and duplicated deliveries, so webhooks and automation do it all."""
    plan = SoakPlan(issues=150, periods=2, jump_days=12, active_seconds=12, loss_rate=0.0, late_seconds=8)
    with deployment(tmp_path, plan) as soak:
        figures = run_soak(soak, "soak (short)")
    assert figures["refreshes"] >= 2 and figures["expiries"] == 0  # both sites refreshed in time
    assert sum(figures["changes"].values()) >= 15
    assert figures["runs"].get("automation", 0) >= 1
    assert figures["runs"].get("sensor jira_webhook_inbox", 0) >= 1
    assert_memory_flat(soak, share=0.5, slack_mb=60)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_a_long_soak_keeps_the_snapshot_equal_to_jira(tmp_path: Path) -> None:
    """Ten periods, 60 simulated days (two refreshes of each site's webhook), a tenth of the
    deliveries lost (only the sweep and the census find those changes)."""
    plan = SoakPlan(issues=400, periods=10, jump_days=6, active_seconds=30, loss_rate=0.1, quiet_timeout=300)
    with deployment(tmp_path, plan) as soak:
        figures = run_soak(soak, "soak (long)")
    assert figures["refreshes"] >= 4 and figures["expiries"] == 0
    assert figures["no_webhook_changes"] > 0  # lost deliveries happened, and were caught up
    runs = figures["runs"]
    drains, transforms = runs.get("sensor jira_webhook_inbox", 0), runs.get("automation", 0)
    assert transforms < drains  # drains coalesce into fewer transform runs
    assert_memory_flat(soak, share=0.2, slack_mb=40)
