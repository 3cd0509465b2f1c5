"""A backfill under a small accelerated quota while another tenant's sweep keeps running (issue 15).

    .venv/bin/python benchmarks/quota_backfill.py [--issues 100000] [--points 20000] [--speed 240]

One simulator (clock `--speed` times real time, one global points pool of `--points` an hour for
the OAuth app) serves two tenants of the same app: tenant `acme` backfills its whole history,
tenant `globex` runs its incremental sweep every 5 simulated minutes, before (unloaded) and during
the backfill. Both draw on one shared budget (SQLite), as two runs of a deployment do. Printed:

- the planner's estimate of the backfill's points against what the simulator's ledger charged,
- the share of each whole quota hour the backfill period used (target >= 90 %),
- quota 429s Jira answered (target: none after the first rate-limit headers),
- the sweep's wall time unloaded and during the backfill (target: within 2x).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from jira_simulator.process import SimulatorProcess  # noqa: E402
from pipelines.auth.oauth import ADMIN_SCOPES, REQUIRED_SCOPES, AtlassianOAuthClient  # noqa: E402
from pipelines.auth.token_store import TokenStore  # noqa: E402
from pipelines.config import load_sync_config  # noqa: E402
from pipelines.destination import make_pipeline  # noqa: E402
from pipelines.jira import JiraHttp, jira_issue_updates, jira_issues  # noqa: E402
from pipelines.jira.plan import plan_backfill  # noqa: E402
from pipelines.jira.quota import open_budget  # noqa: E402
from pipelines.jira.runtime import resolve_sites  # noqa: E402
from pipelines.jira.windows import Window, epoch_ms  # noqa: E402
from tests.pipelines.jira.simkit import REDIRECT_URI  # noqa: E402
from tests.pipelines.jira.test_jira_sync_sim import ALL_TIME  # noqa: E402


def grant(sim: SimulatorProcess, store: TokenStore, tenant: str) -> None:
    """One consent per tenant (each its own refresh-token chain), as each tenant's admin gives it."""
    client = AtlassianOAuthClient(sim.base_url, sim.base_url, sim.client_id, sim.client_secret, REDIRECT_URI)
    code = sim.admin(
        "POST", "oauth/grant", {"scopes": REQUIRED_SCOPES + ADMIN_SCOPES, "redirect_uri": REDIRECT_URI}
    )
    tokens = client.exchange_code(code["code"])
    store.save(tenant, tokens, client.accessible_resources(tokens.access_token))


def sync_file(sim: SimulatorProcess, work: Path, points: int) -> Path:
    tenants = [
        {
            "id": name,
            "sites": [
                {
                    "name": name,
                    "url": sim.site_url(name),
                    "cloud_id": sim.cloud_ids[name],
                    "team_sync": {"method": "none"},
                }
            ],
        }  # fmt: skip
        for name in ("acme", "globex")
    ]
    document = {
        "version": 1,
        "warehouse": {"path": str(work / "warehouse.duckdb")},
        "atlassian": {"auth_url": sim.base_url, "api_url": sim.base_url},
        "oauth": {"token_dir": str(work / "tokens")},
        "http": {"max_requests_per_second": 500, "concurrency": 4, "max_attempts": 10},
        "quota": {"points_per_hour": points, "store": str(work / "quota.sqlite")},
        "tenants": tenants,
    }
    path = work / "jira_sync.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=20_000, help="the app's points per (simulated) hour")
    parser.add_argument("--speed", type=float, default=240, help="simulated seconds per real second")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="quota-backfill-"))
    sweep_every = 300 / args.speed  # 5 simulated minutes
    extra = ("--clock-speed", str(args.speed), "--rate-limit", f"points={args.points}")
    with SimulatorProcess(issues=args.issues, seed=args.seed, extra_args=extra) as sim:
        store = TokenStore(work / "tokens")
        environ = {
            "JIRA_CLIENT_ID": sim.client_id,
            "JIRA_SECRET": sim.client_secret,
            "JIRA_REDIRECT_URI": REDIRECT_URI,
        }
        for tenant in ("acme", "globex"):
            grant(sim, store, tenant)
        config = load_sync_config(sync_file(sim, work, args.points), environ=environ)
        resolved = resolve_sites(config, environ)
        acme = [s for s in resolved.sites if s.tenant_id == "acme"]
        globex = [s for s in resolved.sites if s.tenant_id == "globex"]
        window = Window("created", epoch_ms(ALL_TIME[0]), epoch_ms(ALL_TIME[1]))

        def sweep() -> float:
            budget = open_budget(config, environ, "sweep", [(s.cloud_id, s.tenant_id) for s in globex])
            pipeline = make_pipeline("issue_updates", config, pipelines_dir=work / "dlt-sweep")
            started = time.monotonic()
            source = jira_issue_updates(
                globex,
                resolved.failures,
                overlap=timedelta(minutes=10),
                http=JiraHttp(config.http, budget=budget),
            )
            pipeline.run(source).raise_on_failed_jobs()
            return time.monotonic() - started

        sweep()  # the first sweep imports globex's history; the benchmark measures the routine ones
        unloaded = [sweep() for _ in range(3)]
        sim.admin("POST", "quota/reset")
        plan = plan_backfill(JiraHttp(config.http), acme, window, config)
        sim.admin("POST", "quota/reset")

        loaded: list[float] = []
        done = threading.Event()

        def backfill() -> None:
            budget = open_budget(config, environ, "backfill", [(s.cloud_id, s.tenant_id) for s in acme])
            pipeline = make_pipeline("issues", config, pipelines_dir=work / "dlt-backfill")
            pipeline.run(
                jira_issues(acme, resolved.failures, *ALL_TIME, http=JiraHttp(config.http, budget=budget))
            )
            done.set()

        started = time.monotonic()
        worker = threading.Thread(target=backfill)
        worker.start()
        while not done.is_set():
            loaded.append(sweep())
            done.wait(max(0.0, sweep_every - loaded[-1]))
        worker.join()
        wall = time.monotonic() - started
        ledger = sim.admin("GET", "quota")
    windows = sorted((w for w in ledger["windows"] if w["used"]), key=lambda w: w.get("start", ""))
    whole = windows[1:-1]  # the first and last hour of the backfill are partial
    acme_id, globex_id = sim.cloud_ids["acme"], sim.cloud_ids["globex"]
    charged = sum(w["by_site"].get(acme_id, 0) for w in ledger["windows"])
    usage = [w["used"] / w["quota"] for w in whole] if whole else []
    figures = {
        "issues": args.issues,
        "points_per_hour": args.points,
        "clock_speed": args.speed,
        "backfill_wall_s": round(wall, 1),
        "quota_hours": len(windows),
        "estimate_points": plan.oauth_points,
        "charged_points": charged,
        "estimate_error": round((plan.oauth_points - charged) / charged, 3) if charged else None,
        "budget_use_whole_hours": [round(u, 3) for u in usage],
        "budget_use_median": round(statistics.median(usage), 3) if usage else None,
        "quota_429": len(ledger["refusals"]),
        "sweep_unloaded_s": round(statistics.median(unloaded), 2),
        "sweep_loaded_p50_s": round(statistics.median(loaded), 2),
        "sweep_loaded_max_s": round(max(loaded), 2),
        "sweeps_during_backfill": len(loaded),
        "globex_points": sum(w["by_site"].get(globex_id, 0) for w in ledger["windows"]),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(
        f"estimate {figures['estimate_points']} points, charged {charged} ({figures['estimate_error']:+.1%}); "
        f"budget used per whole hour {figures['budget_use_whole_hours']}; quota 429s {figures['quota_429']}; "
        f"sweep {figures['sweep_unloaded_s']} s unloaded, {figures['sweep_loaded_p50_s']} s p50 "
        f"(max {figures['sweep_loaded_max_s']} s) during the backfill"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
