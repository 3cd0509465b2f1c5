"""The backfill planner against the simulator: its estimate of points and requests, then the real
backfill, charged by the simulator's quota ledger as Jira charges it (issue 15's target: 10 %)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from jira_simulator.process import SimulatorProcess
from jira_sync.cli import main as jira_sync
from pipelines.destination import make_pipeline
from pipelines.jira import JiraHttp, jira_issues
from pipelines.jira.plan import plan_backfill
from pipelines.jira.quota import open_budget
from pipelines.jira.runtime import resolve_sites
from pipelines.jira.windows import Window, epoch_ms
from tests.pipelines.jira.simkit import connect
from tests.pipelines.jira.test_jira_sync_sim import ALL_TIME


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    with SimulatorProcess(issues=2000, seed=8, extra_args=("--rate-limit", "points=10000000")) as running:
        yield running


def budgeted_backfill(sim, connected, sites, failures, tmp_path: Path) -> JiraHttp:
    """The backfill of `sites` on the shared budget, after the simulator's ledger was cleared."""
    sim.admin("POST", "quota/reset")
    budget = open_budget(
        connected.config, connected.environ, "backfill", [(s.cloud_id, s.tenant_id) for s in sites]
    )
    http = JiraHttp(connected.config.http, budget=budget)
    pipeline = make_pipeline("issues", connected.config, pipelines_dir=tmp_path / "dlt")
    pipeline.run(jira_issues(sites, failures, *ALL_TIME, http=http)).raise_on_failed_jobs()
    failures.raise_if_any()
    return http


@pytest.mark.parametrize("concurrency", [1, 4])
def test_the_estimate_is_within_ten_percent_of_what_jira_charges(
    sim: SimulatorProcess, tmp_path: Path, concurrency: int
) -> None:
    connected = connect(sim, tmp_path, http={"concurrency": concurrency})
    resolved = connected.resolve()
    acme = [s for s in resolved.sites if s.name == "acme"]
    window = Window("created", epoch_ms(ALL_TIME[0]), epoch_ms(ALL_TIME[1]))
    sim.admin("POST", "quota/reset")
    plan = plan_backfill(JiraHttp(connected.config.http), acme, window, connected.config)
    truth = sim.truth()["sites"][sim.cloud_ids["acme"]]
    assert plan.sites[0].issues == len(truth["issues"]["ids"])
    assert 0 < plan.sites[0].truncated_share < 1  # the world has issues with long histories

    http = budgeted_backfill(sim, connected, acme, resolved.failures, tmp_path)
    charged = sum(w["by_site"].get(sim.cloud_ids["acme"], 0) for w in sim.admin("GET", "quota")["windows"])
    requests = http.stats.as_dict()["requests"]
    print(
        f"concurrency {concurrency}: estimate {plan.oauth_points} points / {plan.sites[0].requests} requests, "
        f"actual {charged} points / {requests} requests"
    )
    assert abs(plan.oauth_points - charged) <= 0.10 * charged, (plan.sites[0], charged)
    # Requests: the scheduler opens more windows to keep `concurrency` workers busy, and each can end
    # on a partial page; at 1,200 issues (12 full pages) that is up to twice the plan, and how many
    # it opens depends on timing. Points, what the quota charges, are the tight check above.
    slack = 0.25 * requests + 3 + (5 * concurrency if concurrency > 1 else 0)
    assert abs(plan.sites[0].requests - requests) <= slack, (plan.sites[0], requests)


def test_the_command_prints_the_plan_and_names_bad_months(
    sim: SimulatorProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    connected = connect(sim, tmp_path)
    for name, value in connected.environ.items():
        monkeypatch.setitem(os.environ, name, value)
    path = str(connected.config.source_path)
    assert jira_sync(["plan", "backfill", "--config", path, "--site", "acme", "--from", "2021-01"]) == 0
    out = capsys.readouterr().out
    assert "backfill of issues created 2021-01-01 00:00 .. " in out
    assert "site acme (tenant acme) (oauth): about " in out and "points if charged" in out
    assert "OAuth: " in out and " h at 90% of 65,000 points/h" in out
    assert "API token (auth.backfill_method: api_token): 0 points;" in out
    with pytest.raises(SystemExit):
        jira_sync(["plan", "backfill", "--config", path, "--from", "2021-13"])
    assert "'2021-13' is not a month: write YYYY-MM" in capsys.readouterr().err


def test_with_backfill_method_api_token_the_history_costs_no_points(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    """OAuth for everything else, the API token for the backfill: planned at 0 points, loaded equal
    to truth, and the simulator's quota ledger charged the OAuth app nothing for it."""
    token_auth = {"auth": {"method": "oauth", "backfill_method": "api_token", "email_env": "JIRA_TEAMS_EMAIL",
                           "api_token_env": "JIRA_TEAMS_API_TOKEN"}}  # fmt: skip
    connected = connect(sim, tmp_path, sites={"acme": token_auth})
    backfill = resolve_sites(connected.config, connected.environ, purpose="backfill")
    acme = [s for s in backfill.sites if s.name == "acme"]
    assert type(acme[0].auth).__name__ == "ApiTokenBasicAuth"
    assert type(connected.resolve().sites[0].auth).__name__ == "TokenStoreBearerAuth"  # the rest stays OAuth
    window = Window("created", epoch_ms(ALL_TIME[0]), epoch_ms(ALL_TIME[1]))
    plan = plan_backfill(JiraHttp(connected.config.http), acme, window, connected.config)
    assert plan.sites[0].auth_method == "api_token" and plan.oauth_points == 0 and plan.sites[0].issues > 0

    http = budgeted_backfill(sim, connected, acme, backfill.failures, tmp_path)
    truth = sim.truth()["sites"][sim.cloud_ids["acme"]]
    assert {r[0] for r in connected.query("SELECT id FROM jira_raw.issues")} == set(truth["issues"]["ids"])
    charged = sum(w["by_site"].get(sim.cloud_ids["acme"], 0) for w in sim.admin("GET", "quota")["windows"])
    assert charged == 0 and http.stats.as_dict()["quota"]["points"] == 0
