"""Both warehouse engines over the same data: a simulated Jira loaded into `jira_raw` by the real raw
assets (DuckDB), the same raw tables copied into PostgreSQL, the transforms run on each, and the
tables compared row for row.

Every asset of the SQL areas (groups `jira`, `analytics`, `publish`) and every check on them runs,
so a transform or check added later is compared without touching this kit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import yaml

from assets.definitions import build_definitions
from assets.warehouse.postgres import WORKING_SCHEMAS
from assets.warehouse.postgres_sql import to_postgres
from jira_simulator.process import SimulatorProcess
from pipelines.config import load_sync_config

RANGE = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")
SQL_GROUPS = ("jira", "analytics", "publish")
# Columns that hold the moment of the run (now()): equal up to the time between the runs.
CLOCK_COLUMNS = frozenset(
    {
        "as_of",
        "age_hours",
        "in_progress_hours",
        "linked_at",
        "created_at",
        "updated_at",
        "synced_at",
        "detected_at",
        "checked_at",
    }
)
# Ids of the run or load that wrote a row (dlt's row and load ids, Dagster's run id).
IGNORED_COLUMNS = frozenset({"_dlt_id", "_dlt_load_id", "run_id"})
CLOCK_TOLERANCE = timedelta(minutes=30)


def simulated_sync_file(sim: SimulatorProcess, workdir: Path, warehouse: Mapping[str, Any]) -> Path:
    """A sync file for the simulator's sites: the first on the Teams API, the others on groups."""
    truth = sim.truth()
    sites = []
    for number, (name, cloud_id) in enumerate(sorted(sim.cloud_ids.items())):
        team_sync = (
            {
                "method": "teams_api",
                "organization_id": truth["sites"][cloud_id]["organization_id"],
                "email_env": "SIM_EMAIL",
                "api_token_env": "SIM_API_TOKEN",
            }
            if number == 0
            else {"method": "groups_api"}
        )
        sites.append(
            {
                "name": name,
                "url": sim.site_url(name),
                "cloud_id": cloud_id,
                "auth": {"method": "api_token", "email_env": "SIM_EMAIL", "api_token_env": "SIM_API_TOKEN"},
                "team_sync": team_sync,
            }
        )
    path = workdir / "jira_sync.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "warehouse": dict(warehouse),
                "report": {"path": str(workdir / "report")},
                "atlassian": {"auth_url": sim.base_url, "api_url": sim.base_url},
                "http": {"max_requests_per_second": 500, "concurrency": 4},
                "tenants": [{"id": "acme", "sites": sites}],
            },
            sort_keys=False,
        )
    )
    return path


def load_raw(sync_file: Path) -> list[dg.ExecuteInProcessResult]:
    """The raw assets as the main job runs them: reference data, every month as one run, the sweep."""
    defs = build_definitions(load_sync_config(sync_file))
    graph = defs.resolve_asset_graph()
    job = defs.resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.ephemeral()
    reference = dg.AssetSelection.tag("jira_sync/kind", "reference").resolve(graph)
    issues = [dg.AssetKey(["jira_raw", "issues"]), dg.AssetKey(["jira_raw", "issue_changelog"])]
    months = graph.get(issues[0]).partitions_def
    first_last = (months.get_first_partition_key(), months.get_last_partition_key())
    return [
        job.execute_in_process(instance=instance, asset_selection=sorted(reference)),
        job.execute_in_process(
            instance=instance, asset_selection=issues, tags=dict(zip(RANGE, first_last, strict=True))
        ),
        job.execute_in_process(
            instance=instance, asset_selection=[dg.AssetKey(["jira_raw", "issue_updates"])]
        ),
    ]


def run_sql_areas(sync_file: Path) -> dg.ExecuteInProcessResult:
    """Every asset of the jira, analytics and publish groups, with their checks, in one run."""
    defs = build_definitions(load_sync_config(sync_file))
    graph = defs.resolve_asset_graph()
    job = defs.resolve_implicit_global_asset_job_def()
    selection = dg.AssetSelection.groups(*SQL_GROUPS).resolve(graph)
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=sorted(selection), raise_on_error=False
    )


def copy_schema_to_postgres(warehouse: Path, url: str, schema: str = "jira_raw") -> list[str]:
    """Copy every table of a DuckDB schema into PostgreSQL (types translated as the transforms' DDL is)."""
    import psycopg2
    import psycopg2.extras

    copied = []
    with duckdb.connect(str(warehouse), read_only=True) as source, psycopg2.connect(url) as target:
        cursor = target.cursor()
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        tables = source.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1", [schema]
        ).fetchall()
        for (table,) in tables:
            columns = source.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [schema, table],
            ).fetchall()
            ddl = ", ".join(f'"{name}" {kind}' for name, kind in columns)
            for statement in to_postgres(f'CREATE TABLE "{schema}"."{table}" ({ddl})'):
                cursor.execute(statement.text)
            rows = source.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
            if rows:
                names = ", ".join(f'"{name}"' for name, _ in columns)
                psycopg2.extras.execute_values(
                    cursor, f'INSERT INTO "{schema}"."{table}" ({names}) VALUES %s', rows, page_size=1000
                )
            copied.append(table)
    target.close()
    return copied


Table = tuple[list[str], list[tuple]]


def duckdb_tables(warehouse: Path, schemas: Iterable[str] = ("jira", "analytics")) -> dict[str, Table]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return _tables(lambda sql, params=None: con.execute(sql, params or []).fetchall(), schemas, "?", con)


def postgres_tables(
    url: str, schemas: Iterable[str] = ("jira", "analytics"), *, published: bool = False
) -> dict[str, Table]:
    """The tables of the SQL's schemas as the transforms wrote them (`jira` is `jira_work` there),
    or with `published` the copies analysts read (`jira`, `analytics`)."""
    import psycopg2
    import psycopg2.extras

    working = {} if published else dict(WORKING_SCHEMAS)
    with psycopg2.connect(url) as connection:
        psycopg2.extras.register_default_json(connection, loads=str)  # JSON as text, as DuckDB gives it
        psycopg2.extras.register_default_jsonb(connection, loads=str)
        cursor = connection.cursor()
        cursor.execute("SET TimeZone = 'UTC'")

        def run(sql: str, params: list | None = None) -> list[tuple]:
            cursor.execute(sql, params)
            return cursor.fetchall()

        tables = _tables(run, [working.get(s, s) for s in schemas], "%s", cursor)
    connection.close()
    reverse = {v: k for k, v in working.items()}
    return {
        f"{reverse.get(k.split('.')[0], k.split('.')[0])}.{k.split('.')[1]}": v for k, v in tables.items()
    }


def _tables(run, schemas: Iterable[str], mark: str, handle: Any) -> dict[str, Table]:
    found: dict[str, Table] = {}
    for schema in schemas:
        names = run(
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_schema = {mark} AND table_type = 'BASE TABLE' ORDER BY 1",
            [schema],
        )
        for (table,) in names:
            rows = run(f'SELECT * FROM "{schema}"."{table}"')
            columns = [c[0] for c in handle.description]
            found[f"{schema}.{table}"] = (columns, rows)
    return found


def _normal(value: Any) -> Any:
    """One representation for both drivers: numbers as float, lists as tuples, times in UTC."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, list | tuple):
        return tuple(_normal(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _normal(v)) for k, v in value.items()))
    return value


def _sort_key(row: tuple) -> tuple:
    return tuple((v is None, "" if v is None else repr(type(v)), v if v is not None else 0) for v in row)


def _close(left: Any, right: Any, clock: bool) -> bool:
    if left == right:
        return True
    if isinstance(left, datetime) and isinstance(right, datetime) and clock:
        return abs(left - right) <= CLOCK_TOLERANCE
    if isinstance(left, float) and isinstance(right, float):
        if clock:  # hours counted up to now()
            return abs(left - right) <= CLOCK_TOLERANCE.total_seconds() / 3600
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
    return False


def _differing(columns: list[str], left: tuple, right: tuple, clock: list[bool]) -> dict[str, tuple]:
    return {
        column: (x, y)
        for column, x, y, c in zip(columns, left, right, clock, strict=True)
        if column not in IGNORED_COLUMNS and not _close(x, y, c)
    }


def table_differences(left: dict[str, Table], right: dict[str, Table], *, limit: int = 5) -> list[str]:
    """Every difference between two warehouses' tables: missing tables, columns, rows (sorted)."""
    problems = []
    for name in sorted(set(left) | set(right)):
        if name not in left or name not in right:
            problems.append(f"{name}: only in {'DuckDB' if name in left else 'PostgreSQL'}")
            continue
        (left_columns, left_rows), (right_columns, right_rows) = left[name], right[name]
        if left_columns != right_columns:
            problems.append(f"{name}: columns differ: {left_columns} vs {right_columns}")
            continue
        if len(left_rows) != len(right_rows):
            problems.append(f"{name}: {len(left_rows)} rows vs {len(right_rows)}")
            continue
        clock = [column in CLOCK_COLUMNS for column in left_columns]
        exact = [i for i, c in enumerate(left_columns) if c not in CLOCK_COLUMNS | IGNORED_COLUMNS]

        def key(row: tuple, exact: list[int] = exact) -> tuple:
            return _sort_key(tuple(row[i] for i in exact))

        ordered_left = sorted((tuple(map(_normal, r)) for r in left_rows), key=key)
        ordered_right = sorted((tuple(map(_normal, r)) for r in right_rows), key=key)

        bad = [
            (a, b)
            for a, b in zip(ordered_left, ordered_right, strict=True)
            if _differing(left_columns, a, b, clock)
        ]
        for a, b in bad[:limit]:
            diff = _differing(left_columns, a, b, clock)
            problems.append(f"{name}: row differs {diff}")
        if len(bad) > limit:
            problems.append(f"{name}: ... {len(bad) - limit} more differing rows")
    return problems
