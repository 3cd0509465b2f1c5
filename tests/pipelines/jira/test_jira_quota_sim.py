"""The shared points budget against the simulator's quota, over HTTP, with a fast clock.

The simulator's quota hour lasts 5 wall seconds (clock speed 720) and holds 150 points, so a
backfill of one site needs more than one hour of quota: it must pause at the budget, resume after each
reset, end equal to Jira's truth, never be refused once Jira's headers were seen, and count the
same points as Jira.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from jira_simulator.process import SimulatorProcess
from pipelines.destination import make_pipeline
from pipelines.jira import JiraHttp, jira_issues
from pipelines.jira.quota import open_budget
from tests.pipelines.jira.simkit import connect
from tests.pipelines.jira.test_jira_sync_sim import ALL_TIME

SPEED, POINTS = 720, 150


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    args = ("--clock-speed", str(SPEED), "--rate-limit", f"points={POINTS}")
    with SimulatorProcess(issues=300, seed=4, extra_args=args) as running:
        yield running


def test_a_backfill_paces_through_quota_hours_and_ends_equal_to_truth(
    sim: SimulatorProcess, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    connected = connect(sim, tmp_path, http={"concurrency": 2})
    resolved = connected.resolve()
    acme = [s for s in resolved.sites if s.name == "acme"]
    budget = open_budget(
        connected.config, connected.environ, "backfill", [(s.cloud_id, s.tenant_id) for s in acme]
    )
    assert budget is not None
    http = JiraHttp(connected.config.http, budget=budget)
    sim.admin("POST", "quota/reset")
    with caplog.at_level(logging.INFO, logger="pipelines.jira.quota"):
        pipeline = make_pipeline("issues", connected.config, pipelines_dir=tmp_path / "dlt")
        pipeline.run(jira_issues(acme, resolved.failures, *ALL_TIME, http=http)).raise_on_failed_jobs()
    resolved.failures.raise_if_any()

    truth = sim.truth()["sites"][sim.cloud_ids["acme"]]
    loaded = {r[0] for r in connected.query("SELECT id FROM jira_raw.issues")}
    assert loaded == set(truth["issues"]["ids"])
    ledger = sim.admin("GET", "quota")
    counts = http.stats.as_dict()
    # never a quota 429: the budget knew the pool from the first answer
    assert ledger["refusals"] == [], (ledger, counts)
    charged = sum(w["by_site"].get(sim.cloud_ids["acme"], 0) for w in ledger["windows"])
    assert budget.stats.points == charged, (ledger, counts)  # our accounting is Jira's
    assert len([w for w in ledger["windows"] if w["used"]]) >= 2 and charged > POINTS
    assert all(w["used"] <= POINTS for w in ledger["windows"])
    waits = [r for r in caplog.records if "quota: backfill of tenant acme waits" in r.getMessage()]
    assert waits and " UTC: the global-app-quota pool (" in waits[0].getMessage()
    assert counts["quota"]["points"] == charged and counts["quota"]["quota_refusals"] == 0
