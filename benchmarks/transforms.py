"""Benchmark of the transform assets on a generated warehouse (1,000,000 issues, 10,000,000
changelog items by default).

The raw world is generated in DuckDB SQL (in a child process, not timed): two sites of one tenant,
40 projects, 16 issue types (the seed's and some no keyword matches), 9 statuses in every
category, 15,000 users (bots, customers, hidden emails), 60 groups and 40 Atlassian teams, issues
created over five years with 0-9 status changes each (reopens included), and other field changes
up to the changelog size. Then every transform asset is materialized through Dagster (the real
code path: `dagster.materialize` of the jira, analytics and publish assets and their checks) with a
DuckDB memory limit. With `--engine postgres` (or `both`), the same raw tables are copied into a
scratch PostgreSQL database (`--postgres-url`, a role that may create databases; not timed) and
the same assets run there, through the same SQL translated (assets/warehouse). Prints a final JSON
line with the figures (per engine, and PostgreSQL's time as a multiple of DuckDB's).

    .venv/bin/python benchmarks/transforms.py [--issues N] [--changelog N] [--memory-limit 4GB]
        [--engine duckdb|postgres|both] [--postgres-url URL] [--postgres-work-mem 256MB]
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from postgres_cpu import postgres_server_cpu

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

GENERATE_SQL = """
CREATE SCHEMA IF NOT EXISTS jira_raw;
SET VARIABLE issues = {issues};
SET VARIABLE changelog = {changelog};

INSERT INTO jira_raw.sites VALUES
    ('bench-alpha', 'bench', 'alpha', 'https://alpha.example.net'),
    ('bench-beta', 'bench', 'beta', 'https://beta.example.net');

INSERT INTO jira_raw.projects (cloud_id, id, key, name)
SELECT CASE WHEN p % 2 = 0 THEN 'bench-alpha' ELSE 'bench-beta' END, CAST(1000 + p AS VARCHAR), 'P' || p, 'Project ' || p
FROM range(40) AS t(p);

INSERT INTO jira_raw.issue_types (cloud_id, id, name)
SELECT site, CAST(10000 + n AS VARCHAR), name
FROM (VALUES ('bench-alpha'), ('bench-beta')) AS s(site),
     unnest(['Story', 'Bug', 'Task', 'Sub-task', 'Epic', 'Spike', 'Incident', 'Improvement', 'Technical Task',
             'Defect', 'Research', 'New Feature', 'Production Issue', 'Change Request', 'Support', 'Outage'])
         WITH ORDINALITY AS t(name, n);

INSERT INTO jira_raw.statuses (cloud_id, id, name, status_category_key)
SELECT site, id, name, category
FROM (VALUES ('bench-alpha'), ('bench-beta')) AS s(site),
     (VALUES ('1', 'To Do', 'new'), ('2', 'Backlog', 'new'), ('3', 'In Progress', 'indeterminate'),
             ('4', 'In Review', 'indeterminate'), ('5', 'QA', 'indeterminate'), ('6', 'Done', 'done'),
             ('7', 'Closed', 'done'), ('8', 'Won''t Do', 'done'), ('9', 'Triage', 'undefined')) AS t(id, name, category);

INSERT INTO jira_raw.users (cloud_id, account_id, account_type, display_name, email_address, active)
SELECT site, 'acct-' || u,
    CASE WHEN u % 50 = 0 THEN 'app' WHEN u % 20 = 1 THEN 'customer' ELSE 'atlassian' END,
    'User ' || u,
    CASE WHEN u % 50 = 0 OR hash(u, 'email') % 100 < 15 THEN NULL ELSE 'User' || u || '@Example.com' END,
    u % 30 <> 0
FROM range(15000) AS t(u), (VALUES ('bench-alpha'), ('bench-beta')) AS s(site)
WHERE site = 'bench-alpha' OR u % 3 <> 0;

INSERT INTO jira_raw.groups SELECT 'bench-alpha', 'g' || g, 'group ' || g FROM range(60) AS t(g);
INSERT INTO jira_raw.group_members
SELECT DISTINCT 'bench-alpha', 'g' || (hash(u, k) % 60), 'acct-' || u FROM range(15000) AS t(u), range(2) AS r(k);

INSERT INTO jira_raw.teams (organization_id, team_id, cloud_id, display_name, state)
SELECT 'bench-org', 't' || t, 'bench-beta', 'Team ' || t, 'ACTIVE' FROM range(40) AS r(t);
INSERT INTO jira_raw.team_members
SELECT DISTINCT 'bench-org', 't' || (hash(u, k) % 40), 'acct-' || u FROM range(15000) AS t(u), range(2) AS r(k)
WHERE u % 3 <> 0;

-- Issues created over five years (ending a month ago), 0-9 status changes each.
CREATE TEMP TABLE issue_base AS
SELECT
    i,
    CAST(100000 + i AS VARCHAR) AS id,
    hash(i, 'project') % 40 AS p,
    CAST(10001 + hash(i, 'type') % 16 AS VARCHAR) AS issue_type_id,
    CASE WHEN hash(i, 'assignee') % 10 = 0 THEN NULL ELSE 'acct-' || (hash(i, 'who') % 15000) END AS assignee,
    TIMESTAMPTZ '2021-10-01 00:00:00+00' + to_seconds(CAST(i * (5 * 365 * 86400.0 / getvariable('issues')) AS BIGINT))
        AS created,
    CAST(CASE hash(i, 'changes') % 20 WHEN 0 THEN 0 WHEN 1 THEN 0 WHEN 2 THEN 1 WHEN 3 THEN 9 WHEN 4 THEN 8
        ELSE 2 + hash(i, 'changes') % 5 END AS INTEGER) AS changes
FROM range(getvariable('issues')) AS t(i);

CREATE TEMP TABLE status_steps AS
SELECT
    b.i, b.id, j,
    b.created + to_seconds(CAST(j * 36 * 3600 + hash(b.i, j) % (30 * 3600) AS BIGINT)) AS changed_at,
    CASE
        WHEN j = b.changes THEN CASE WHEN hash(b.i, 'end') % 10 < 6 THEN '6' WHEN hash(b.i, 'end') % 10 < 7 THEN '7'
            WHEN hash(b.i, 'end') % 10 < 8 THEN '8' WHEN hash(b.i, 'end') % 10 < 9 THEN '3' ELSE '4' END
        ELSE ['3', '3', '3', '3', '3', '4', '4', '5', '6', '2'][CAST(1 + hash(b.i, j, 'to') % 10 AS INTEGER)]
    END AS to_id
FROM issue_base AS b, range(1, b.changes + 1) AS r(j);

CREATE TEMP TABLE status_items AS
SELECT i, id, j, changed_at, to_id,
    coalesce(lag(to_id) OVER (PARTITION BY i ORDER BY j), CASE WHEN hash(i, 'start') % 4 = 0 THEN '2' ELSE '1' END)
        AS from_id
FROM status_steps;

INSERT INTO jira_raw.issues (cloud_id, id, key, project_id, project_key, issue_type_id, issue_type_name,
    status_id, status_name, status_category_key, summary, assignee_account_id, reporter_account_id,
    created, updated, resolved, synced_at)
SELECT
    p.cloud_id, b.id, p.key || '-' || b.i, p.id, p.key, b.issue_type_id, t.name,
    s.id, s.name, s.status_category_key, 'Generated issue ' || b.i, b.assignee, 'acct-' || (hash(b.i, 'rep') % 15000),
    b.created, coalesce(last.changed_at, b.created),
    CASE WHEN s.status_category_key = 'done' THEN last.changed_at END, now()
FROM issue_base AS b
JOIN jira_raw.projects AS p ON p.id = CAST(1000 + b.p AS VARCHAR)
JOIN jira_raw.issue_types AS t ON t.cloud_id = p.cloud_id AND t.id = b.issue_type_id
LEFT JOIN (SELECT i, arg_max(to_id, j) AS to_id, max(changed_at) AS changed_at FROM status_items GROUP BY i) AS last
    ON last.i = b.i
JOIN jira_raw.statuses AS s
    ON s.cloud_id = p.cloud_id
    AND s.id = coalesce(last.to_id, CASE WHEN hash(b.i, 'start') % 4 = 0 THEN '2' ELSE '1' END);

INSERT INTO jira_raw.issue_changelog (cloud_id, issue_id, history_id, item_index, author_account_id, created,
    field, field_id, from_id, from_string, to_id, to_string)
SELECT p.cloud_id, s.id, CAST(s.i * 100 + s.j AS VARCHAR), 0, 'acct-' || (hash(s.i, s.j) % 15000), s.changed_at,
    'status', 'status', s.from_id, f.name, s.to_id, t.name
FROM status_items AS s
JOIN issue_base AS b USING (i)
JOIN jira_raw.projects AS p ON p.id = CAST(1000 + b.p AS VARCHAR)
JOIN jira_raw.statuses AS f ON f.cloud_id = p.cloud_id AND f.id = s.from_id
JOIN jira_raw.statuses AS t ON t.cloud_id = p.cloud_id AND t.id = s.to_id;

-- The rest of the changelog: other fields (assignee, priority, labels, ...), spread over the issues.
INSERT INTO jira_raw.issue_changelog (cloud_id, issue_id, history_id, item_index, author_account_id, created,
    field, field_id, from_id, from_string, to_id, to_string)
SELECT p.cloud_id, b.id, CAST(1000000000 + n AS VARCHAR), 0, 'acct-' || (hash(n) % 15000),
    b.created + to_seconds(CAST(hash(n, 'at') % (20 * 86400) AS BIGINT)),
    f.field, f.field, NULL, 'old', NULL, 'new'
FROM range(greatest(getvariable('changelog') - (SELECT count(*) FROM status_items), 0)) AS r(n)
JOIN issue_base AS b ON b.i = n % getvariable('issues')
JOIN jira_raw.projects AS p ON p.id = CAST(1000 + b.p AS VARCHAR)
JOIN (SELECT * FROM unnest(['assignee', 'priority', 'labels', 'summary', 'description', 'Sprint', 'Fix Version'])
      WITH ORDINALITY AS t(field, k)) AS f ON f.k = 1 + hash(n, 'field') % 7;
"""

SYNC_FILE = """
version: 1
warehouse:
  path: {warehouse}
  publish_path: {published}
mappings:
  other_share_warn: 0.2
tenants:
  - id: bench
    sites:
      - name: alpha
        url: https://alpha.example.net
        team_sync: {{method: groups_api}}
        mappings:
          projects:
            P0:
              types: {{"Change Request": feature}}
              statuses: {{"QA": in_progress, "Won't Do": closed}}
      - name: beta
        cloud_id: bench-beta
        team_sync: {{method: teams_api, organization_id: bench-org, email_env: BENCH_EMAIL, api_token_env: BENCH_TOKEN}}
"""


def generate(warehouse: Path, issues: int, changelog: int) -> None:
    import duckdb

    from assets.core.raw_views import create_contract_tables

    with duckdb.connect(str(warehouse)) as con:
        create_contract_tables(con)
        con.execute("SET TimeZone = 'UTC'")
        con.execute(GENERATE_SQL.format(issues=issues, changelog=changelog))


def copy_raw_to_postgres(warehouse: Path, url: str, workdir: Path) -> dict[str, int]:
    """Every jira_raw table into PostgreSQL through CSV and COPY (types as the transforms' DDL)."""
    import duckdb
    import psycopg2

    from assets.warehouse.postgres_sql import to_postgres

    counts: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as source, psycopg2.connect(url) as target:
        cursor = target.cursor()
        cursor.execute("CREATE SCHEMA IF NOT EXISTS jira_raw")
        tables = source.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'jira_raw' ORDER BY 1"
        ).fetchall()
        for (table,) in tables:
            columns = source.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'jira_raw' AND table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
            ddl = ", ".join(f'"{name}" {kind}' for name, kind in columns)
            for statement in to_postgres(f'CREATE TABLE jira_raw."{table}" ({ddl})'):
                cursor.execute(statement.text)
            dump = workdir / f"{table}.csv"
            source.execute(f"COPY jira_raw.\"{table}\" TO '{dump}' (FORMAT csv, HEADER false)")
            with dump.open("rb") as data:
                cursor.copy_expert(f'COPY jira_raw."{table}" FROM STDIN WITH (FORMAT csv)', data)
            counts[table] = cursor.rowcount
            dump.unlink()
        cursor.execute("ANALYZE")
    target.close()
    return counts


def run_transforms(
    workdir: Path, memory_limit: str, threads: int, postgres_url: str | None = None, work_mem: str = "256MB"
) -> dict:
    import dagster as dg

    from assets.analytics.assets import ANALYTICS_ASSETS
    from assets.analytics.checks import ANALYTICS_CHECKS
    from assets.core import CORE_ASSETS
    from assets.core.checks import CORE_CHECKS
    from assets.publish.checks import analyst_snapshot_opens
    from assets.publish.snapshot import analyst_snapshot
    from assets.resources import SyncConfigResource, WarehouseResource

    class BoundedWarehouse(WarehouseResource):
        """The warehouse with DuckDB's memory limit and thread count set on every connection."""

        memory_limit: str
        threads: int

        @contextmanager
        def connect(self) -> Iterator:
            with super().connect() as con:
                con.execute(f"SET memory_limit = '{self.memory_limit}'")
                con.execute(f"SET threads = {self.threads}")
                yield con

    sync_file = workdir / "jira_sync.yaml"
    sync_file.write_text(
        SYNC_FILE.format(warehouse=workdir / "warehouse.duckdb", published=workdir / "jira_analytics.duckdb")
    )
    warehouse = BoundedWarehouse(
        path=str(workdir / "warehouse.duckdb"), memory_limit=memory_limit, threads=threads
    )
    if postgres_url:
        warehouse = WarehouseResource(
            path=str(workdir / "warehouse.duckdb"),
            engine="postgres",
            postgres_url=postgres_url,
            postgres_work_mem=work_mem,
        )
    server_cpu = postgres_server_cpu() if postgres_url else 0.0
    started = time.monotonic()
    result = dg.materialize(
        [
            *CORE_ASSETS,
            *ANALYTICS_ASSETS,
            analyst_snapshot,
            *CORE_CHECKS,
            *ANALYTICS_CHECKS,
            analyst_snapshot_opens,
        ],
        resources={"warehouse": warehouse, "sync_config": SyncConfigResource(path=str(sync_file))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    total = time.monotonic() - started
    steps = {
        event.step_key: round(event.event_specific_data.duration_ms / 1000, 2)
        for event in result.get_step_success_events()
    }
    asset_steps = {e.step_key for e in result.get_asset_materialization_events()}
    rows = {
        e.asset_key.to_user_string(): e.materialization.metadata["dagster/row_count"].value
        for e in result.get_asset_materialization_events()
        if "dagster/row_count" in e.materialization.metadata
    }
    return {
        "engine": "postgres" if postgres_url else "duckdb",
        "success": result.success,
        "failed_steps": sorted(result.get_failed_step_keys()),
        "postgres_server_cpu_seconds": round(postgres_server_cpu() - server_cpu, 1) if postgres_url else None,
        "total_seconds": round(total, 2),
        "asset_seconds": round(sum(steps[k] for k in asset_steps if k in steps), 2),
        "check_seconds": round(sum(v for k, v in steps.items() if k not in asset_steps), 2),
        "steps": steps,
        "rows": rows,
        "checks": {e.check_name: e.passed for e in result.get_asset_check_evaluations()},
    }


def run_engine(args: argparse.Namespace, workdir: Path) -> dict:
    """One engine's run (in a process of its own, so that its peak RSS is its own)."""
    postgres_url = None
    database = None
    copy_seconds = None
    if args.engine == "postgres":
        from jira_sync.deploy_postgres import create_database

        database = f"bench_transforms_{os.getpid()}"
        postgres_url = create_database(args.postgres_url, database)
        started = time.monotonic()
        copy_raw_to_postgres(workdir / "warehouse.duckdb", postgres_url, workdir)
        copy_seconds = round(time.monotonic() - started, 1)
    try:
        figures = run_transforms(
            workdir, args.memory_limit, args.threads, postgres_url, args.postgres_work_mem
        )
    finally:
        if database is not None:
            from jira_sync.deploy_postgres import drop_database

            drop_database(args.postgres_url, database)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if copy_seconds is not None:
        figures["copy_raw_seconds"] = copy_seconds
        figures["postgres_work_mem"] = args.postgres_work_mem
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--issues", type=int, default=1_000_000)
    parser.add_argument("--changelog", type=int, default=10_000_000)
    parser.add_argument(
        "--memory-limit", default="4GB", help="DuckDB memory_limit of every transform connection"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--engine", choices=["duckdb", "postgres", "both"], default="duckdb")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("JIRA_SYNC_TEST_POSTGRES_URL"),
        help="a role that may create databases (default $JIRA_SYNC_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--postgres-work-mem", default="256MB", help="warehouse.postgres_work_mem")
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir, removed)")
    parser.add_argument("--generate-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--run-engine", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        generate(args.generate_only, args.issues, args.changelog)
        return
    if args.run_engine:
        print(json.dumps(run_engine(args, args.run_engine)))
        return
    if args.engine != "duckdb" and not args.postgres_url:
        raise SystemExit("--engine postgres needs --postgres-url (or JIRA_SYNC_TEST_POSTGRES_URL)")

    with tempfile.TemporaryDirectory(prefix="transforms-bench-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        warehouse = workdir / "warehouse.duckdb"
        warehouse.unlink(missing_ok=True)
        load_before = os.getloadavg()
        started = time.monotonic()
        common = ["--issues", str(args.issues), "--changelog", str(args.changelog)]
        subprocess.run([sys.executable, __file__, "--generate-only", str(warehouse), *common], check=True)
        generate_seconds = time.monotonic() - started
        engines = ["duckdb", "postgres"] if args.engine == "both" else [args.engine]
        runs = {}
        for engine in engines:
            child = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--run-engine",
                    str(workdir),
                    "--engine",
                    engine,
                    "--memory-limit",
                    args.memory_limit,
                    "--threads",
                    str(args.threads),
                    "--postgres-work-mem",
                    args.postgres_work_mem,
                    *common,
                    *(["--postgres-url", args.postgres_url] if args.postgres_url else []),
                ],  # fmt: skip
                capture_output=True,
                text=True,
            )
            if child.returncode != 0:
                raise SystemExit(f"the {engine} run failed:\n{child.stderr[-4000:]}")
            runs[engine] = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"{engine}: {runs[engine]['total_seconds']} s", file=sys.stderr)
        result = {
            "issues": args.issues,
            "changelog_items": args.changelog,
            "generate_seconds": round(generate_seconds, 2),
            "memory_limit": args.memory_limit,
            "threads": args.threads,
            "warehouse_mb": round(warehouse.stat().st_size / 2**20),
            "target_seconds": 60,
            **(runs[engines[0]] if len(engines) == 1 else {"engines": runs}),
            "load_average": {
                "before": [round(x, 2) for x in load_before],
                "after": [round(x, 2) for x in os.getloadavg()],
            },
        }
        if {"duckdb", "postgres"} <= set(runs):
            result["postgres_over_duckdb"] = round(
                runs["postgres"]["total_seconds"] / runs["duckdb"]["total_seconds"], 2
            )
        print(json.dumps(result))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
