"""Historical import speed: the issues asset's code path against the simulator, and its floor.

    .venv/bin/python benchmarks/import_issues.py --issues 10000 [--latency-ms 100] [--incremental]
        [--engine duckdb|postgres|both] [--postgres-url URL]

Starts `jira-simulator serve --issues N`, connects over OAuth as an operator would, then runs
each phase in a fresh child process (so peak RSS is the phase's own):

- import: `pipelines.jira.jira_issues` over all of history into DuckDB through
  `pipelines.destination.make_pipeline` (what the `jira_raw/issues` asset runs);
- floor: the same search pages (and changelog/bulkfetch pages) fetched with one plain HTTP
  client, sequentially, the raw JSON loaded into DuckDB with `read_json` (no normalisation);
- incremental (with --incremental): a first sweep sets up its tables and state, then 1% of
  issues change in the simulator and the sweep (`jira_issue_updates`) runs again from the
  warehouse's watermark, as the scheduled asset does (local dlt dir dropped, as dagster-dlt does).

With `--engine postgres` (or `both`: DuckDB first, then PostgreSQL against the same simulator) the
import loads into a scratch PostgreSQL database (`--postgres-url`: a role that may create
databases), as `warehouse.destination: postgres` does; its figures are under "postgres".

--no-floor skips the floor phase. Prints the incremental figures (if any) and, last, one JSON line:
{"issues", "wall_s", "issues_per_s", "floor_wall_s", "ratio_to_floor", "requests", "peak_rss_mb",
 "postgres": {...} (with --engine postgres/both), "load_average"}
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

TENANT = "bench"
REDIRECT_URI = "http://127.0.0.1:9/auth/jira/callback"
ALL_TIME = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- set-up (parent) ------------------------------------------------------------------------------


def connect(sim, workdir: Path, concurrency: int) -> Path:
    """OAuth consent for both sites, tokens in a token store, a sync file for tenant `bench`."""
    from pipelines.auth.oauth import ADMIN_SCOPES, REQUIRED_SCOPES, AtlassianOAuthClient
    from pipelines.auth.token_store import TokenStore

    client = AtlassianOAuthClient(sim.base_url, sim.base_url, sim.client_id, sim.client_secret, REDIRECT_URI)
    grant = sim.admin(
        "POST", "oauth/grant", {"scopes": REQUIRED_SCOPES + ADMIN_SCOPES, "redirect_uri": REDIRECT_URI}
    )
    tokens = client.exchange_code(grant["code"])
    TokenStore(workdir / "tokens").save(TENANT, tokens, client.accessible_resources(tokens.access_token))
    document = {
        "version": 1,
        "warehouse": {"path": str(workdir / "warehouse.duckdb")},
        "atlassian": {"auth_url": sim.base_url, "api_url": sim.base_url},
        "oauth": {"token_dir": str(workdir / "tokens")},
        "http": {"max_requests_per_second": 2000, "concurrency": concurrency},
        "tenants": [
            {
                "id": TENANT,
                "sites": [
                    {
                        "name": name,
                        "cloud_id": cloud_id,
                        "entities": ["issues"],
                        "team_sync": {"method": "none"},
                    }
                    for name, cloud_id in sorted(sim.cloud_ids.items())
                ],
            }
        ],
    }
    path = workdir / "jira_sync.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    os.environ.update(
        {"JIRA_CLIENT_ID": sim.client_id, "JIRA_SECRET": sim.client_secret, "JIRA_REDIRECT_URI": REDIRECT_URI}
    )
    return path


def simulator_cpu(sim) -> float:
    """CPU seconds the simulator process has used so far (its serving cost bounds every client)."""
    import psutil

    times = psutil.Process(sim._process.pid).cpu_times()
    return times.user + times.system


def child(phase: str, config: Path) -> dict:
    """Run one phase in a fresh interpreter; its last stdout line is the phase's JSON."""
    result = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--config", str(config)],
        capture_output=True,
        text=True,
        env=os.environ,
    )
    if result.returncode != 0:
        raise SystemExit(f"phase {phase} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def change_one_percent(sim, warehouse: Path, issues: int) -> int:
    """Edit 1% of the issues through the simulator's admin API (as users editing in Jira)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select s.name, i.key from jira_raw.issues i join (values "
            + ", ".join(f"('{cid}', '{name}')" for name, cid in sim.cloud_ids.items())
            + ") s(cloud_id, name) using (cloud_id) order by hash(i.id) limit ?",
            [max(1, issues // 100)],
        ).fetchall()
    with httpx.Client(timeout=60) as client:
        for name, key in rows:
            url = f"{sim.base_url}/_sim/sites/{name}/issues/{key}"
            client.put(url, json={"summary": f"edited {key}"}).raise_for_status()
        # The simulator re-sorts a site's issue index lazily, on the first search after a change
        # (~0.5-1 s at 100k issues); Jira indexes on write. One search per site here, so the
        # timed sweep does not pay for the simulator's bookkeeping.
        for name in sim.cloud_ids:
            client.post(
                f"{sim.base_url}/site/{name}/rest/api/3/search/jql",
                json={"jql": "updated >= 0 ORDER BY updated ASC", "maxResults": 1},
                auth=(sim.admin_email, sim.api_token),
            ).raise_for_status()
    return len(rows)


# -- phases (children) ----------------------------------------------------------------------------


def warm_imports() -> None:
    """Import what the asset's process has already imported before a run starts.

    dlt imports sqlalchemy lazily (~0.25 s) to print the destination's credentials as a URL; in a
    Dagster run process the instance's SQLite storage imported it long before. Imports are not
    part of a run's wall time here, as `import dlt` was not before.
    """
    import sqlalchemy  # noqa: F401


def step_seconds(pipeline) -> dict[str, float]:
    """Seconds of each step of the pipeline's last run (extract, normalize, load, run)."""
    return {
        step.step: round((step.finished_at - step.started_at).total_seconds(), 3)
        for step in pipeline.last_trace.steps
    }


def phase_import(config_path: Path) -> dict:
    from pipelines.config import load_sync_config
    from pipelines.destination import make_pipeline
    from pipelines.jira import JiraHttp, jira_issues
    from pipelines.jira.runtime import resolve_sites

    warm_imports()
    config = load_sync_config(config_path)
    started = time.perf_counter()
    resolved = resolve_sites(config)
    http = JiraHttp(config.http)
    pipeline = make_pipeline("bench_issues", config, pipelines_dir=config_path.parent / "dlt")
    pipeline.run(jira_issues(resolved.sites, resolved.failures, *ALL_TIME, http=http)).raise_on_failed_jobs()
    resolved.failures.raise_if_any()
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "cpu_s": cpu_seconds(),
        "requests": http.stats.requests,
        "peak_rss_mb": peak_rss_mb(),
        "http": http.stats.as_dict(),
        "steps_s": step_seconds(pipeline),
    }


def phase_sweep(config_path: Path) -> dict:
    import duckdb

    from pipelines.config import load_sync_config
    from pipelines.destination import make_pipeline
    from pipelines.jira import JiraHttp, jira_issue_updates
    from pipelines.jira.runtime import resolve_sites

    warm_imports()
    config = load_sync_config(config_path)
    started = time.perf_counter()
    with duckdb.connect(str(config.warehouse.path), read_only=True) as con:
        seeds = dict(
            con.execute("select cloud_id, max(updated) from jira_raw.issues group by all").fetchall()
        )
    resolved = resolve_sites(config)
    http = JiraHttp(config.http)
    # As dagster-dlt does before every run: drop the local working dir, restore from the warehouse.
    pipeline = make_pipeline("bench_sweep", config, pipelines_dir=config_path.parent / "dlt").drop()
    overlap = timedelta(minutes=config.sync.incremental_overlap_minutes)
    source = jira_issue_updates(resolved.sites, resolved.failures, overlap, seeds, http=http, run_id="bench")
    setup = time.perf_counter() - started
    pipeline.run(source).raise_on_failed_jobs()
    resolved.failures.raise_if_any()
    wall = time.perf_counter() - started  # the run ends here; the count below only checks it
    steps = {"setup": round(setup, 3), **step_seconds(pipeline)}
    with duckdb.connect(str(config.warehouse.path), read_only=True) as con:
        [(found,)] = con.execute(
            "select count(*) from jira_raw.issue_updates where run_id = 'bench'"
        ).fetchall()
    return {
        "wall_s": wall,
        "cpu_s": cpu_seconds(),
        "requests": http.stats.requests,
        "changes_found": found,
        "steps_s": steps,
    }


def phase_floor(config_path: Path) -> dict:
    """One plain client, sequential pages, raw JSON into DuckDB with read_json."""
    import duckdb

    from pipelines.auth.token_store import TokenStore
    from pipelines.config import load_sync_config
    from pipelines.jira.settings import CHANGELOG_BULKFETCH, ISSUE_FIELDS, SEARCH_JQL, SEARCH_PAGE_SIZE

    config = load_sync_config(config_path)
    tokens = TokenStore(config.oauth.token_dir).token_set(TENANT)
    assert tokens is not None
    pages_dir = Path(tempfile.mkdtemp(dir=config_path.parent, prefix="floor-pages-"))
    started = time.perf_counter()
    requests = 0
    with httpx.Client(timeout=120, headers={"Authorization": f"Bearer {tokens.access_token}"}) as client:
        for _tenant, site in config.iter_sites():
            base = f"{config.atlassian.api_url}/ex/jira/{site.cloud_id}"
            body: dict = {
                "jql": f"created >= {int(ALL_TIME[0].timestamp() * 1000)} ORDER BY created ASC",
                "fields": list(ISSUE_FIELDS),
                "expand": "changelog",
                "maxResults": SEARCH_PAGE_SIZE,
            }
            with (pages_dir / f"{site.name}.json").open("wb") as out:
                while True:
                    response = client.post(base + SEARCH_JQL, json=body)
                    response.raise_for_status()
                    requests += 1
                    out.write(response.content.replace(b"\n", b" ") + b"\n")
                    page = response.json()
                    truncated = [
                        i["id"]
                        for i in page["issues"]
                        if i["changelog"]["total"] > len(i["changelog"]["histories"])
                    ]
                    bulk: dict = {"issueIdsOrKeys": truncated, "maxResults": 10000}
                    while truncated:
                        more = client.post(base + CHANGELOG_BULKFETCH, json=bulk)
                        more.raise_for_status()
                        requests += 1
                        out.write(more.content.replace(b"\n", b" ") + b"\n")
                        token = more.json().get("nextPageToken")
                        if not token:
                            break
                        bulk["nextPageToken"] = token
                    if not page.get("nextPageToken") or not page["issues"]:
                        break
                    body["nextPageToken"] = page["nextPageToken"]
    with duckdb.connect(str(pages_dir / "floor.duckdb")) as con:
        con.execute(
            f"create table raw_pages as select * from read_json('{pages_dir}/*.json', "
            "format = 'newline_delimited', union_by_name = true, maximum_object_size = 1000000000)"
        )
    return {"wall_s": time.perf_counter() - started, "requests": requests}


# -- main ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10000)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=8, help="http.concurrency of the import (8)")
    parser.add_argument("--incremental", action="store_true", help="also time a sweep after 1%% changed")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor phase (ratio_to_floor: null)")
    parser.add_argument(
        "--workdir", type=Path, help="keep the warehouse and sync file here (default: a temp dir)"
    )
    parser.add_argument("--engine", choices=["duckdb", "postgres", "both"], default="duckdb")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("JIRA_SYNC_TEST_POSTGRES_URL"),
        help="a role that may create databases (default $JIRA_SYNC_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--phase", choices=["import", "floor", "sweep"], help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        phase = {"import": phase_import, "floor": phase_floor, "sweep": phase_sweep}[args.phase]
        print(json.dumps(phase(args.config)))
        return

    from jira_simulator.process import SimulatorProcess

    if args.engine != "duckdb" and not args.postgres_url:
        raise SystemExit("--engine postgres needs --postgres-url (or JIRA_SYNC_TEST_POSTGRES_URL)")
    load_before = os.getloadavg()
    with (
        tempfile.TemporaryDirectory(prefix="import-bench-") as tmp,
        SimulatorProcess(
            issues=args.issues, seed=args.seed, latency_ms=args.latency_ms, startup_timeout=300
        ) as sim,
    ):
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        config = connect(sim, workdir, args.concurrency)
        print(f"simulator up in {sim.start_seconds:.1f} s with {args.issues} issues", file=sys.stderr)
        on_postgres = None
        if args.engine != "duckdb":
            on_postgres = import_into_postgres(sim, config, args.postgres_url)
            print(f"import into PostgreSQL: {json.dumps(on_postgres)}", file=sys.stderr)
            if args.engine == "postgres":
                print(
                    json.dumps(
                        {
                            "issues": args.issues,
                            "postgres": on_postgres,
                            "load_average": load_average(load_before),
                        }
                    )
                )
                return
        served = simulator_cpu(sim)
        imported = child("import", config)
        imported["simulator_cpu_s"] = round(simulator_cpu(sim) - served, 2)
        print(f"import: {json.dumps(imported)}", file=sys.stderr)
        floor = None
        if not args.no_floor:
            served = simulator_cpu(sim)
            floor = child("floor", config)
            floor["simulator_cpu_s"] = round(simulator_cpu(sim) - served, 2)
            print(f"floor: {json.dumps(floor)}", file=sys.stderr)
        if args.incremental:
            # The first sweep creates the sweep's tables and state (a one-time cost); the measured
            # one is a scheduled run: its local dlt dir dropped, state restored from the warehouse.
            first = child("sweep", config)
            print(f"first sweep (no changes): {json.dumps(first)}", file=sys.stderr)
            changed = change_one_percent(sim, workdir / "warehouse.duckdb", args.issues)
            sweep = child("sweep", config)
            print(
                json.dumps(
                    {
                        "incremental": {
                            "changed": changed,
                            **sweep,
                            "wall_share_of_full": round(sweep["wall_s"] / imported["wall_s"], 4),
                            "request_share_of_full": round(sweep["requests"] / imported["requests"], 4),
                        }
                    }
                )
            )
    print(
        json.dumps(
            {
                "issues": args.issues,
                "wall_s": round(imported["wall_s"], 2),
                "issues_per_s": round(args.issues / imported["wall_s"], 1),
                "floor_wall_s": round(floor["wall_s"], 2) if floor else None,
                "ratio_to_floor": round(imported["wall_s"] / floor["wall_s"], 2) if floor else None,
                "requests": imported["requests"],
                "cpu_s": round(imported["cpu_s"], 1),
                "simulator_cpu_s": imported["simulator_cpu_s"],
                "peak_rss_mb": round(imported["peak_rss_mb"], 1),
                **({"postgres": on_postgres} if on_postgres else {}),
                "load_average": load_average(load_before),
            }
        )
    )


def load_average(before: tuple[float, ...]) -> dict:
    return {"before": [round(x, 2) for x in before], "after": [round(x, 2) for x in os.getloadavg()]}


def import_into_postgres(sim, config: Path, admin_url: str) -> dict:
    """The import phase into a scratch PostgreSQL database (created, then dropped)."""
    from postgres_cpu import postgres_server_cpu

    from jira_sync.deploy_postgres import create_database, drop_database

    database = f"bench_import_{os.getpid()}"
    url = create_database(admin_url, database)
    try:
        document = yaml.safe_load(config.read_text())
        document["warehouse"] = {"destination": "postgres", "credentials_env": "BENCH_WAREHOUSE_URL"}
        pg_config = config.with_name("jira_sync_postgres.yaml")
        pg_config.write_text(yaml.safe_dump(document, sort_keys=False))
        os.environ["BENCH_WAREHOUSE_URL"] = url
        served, server = simulator_cpu(sim), postgres_server_cpu()
        imported = child("import", pg_config)
        imported["simulator_cpu_s"] = round(simulator_cpu(sim) - served, 2)
        imported["postgres_server_cpu_s"] = round(postgres_server_cpu() - server, 1)
        imported["wall_s"] = round(imported["wall_s"], 2)
        imported["cpu_s"] = round(imported["cpu_s"], 1)
        imported["peak_rss_mb"] = round(imported["peak_rss_mb"], 1)
        return imported
    finally:
        drop_database(admin_url, database)


if __name__ == "__main__":
    main()
