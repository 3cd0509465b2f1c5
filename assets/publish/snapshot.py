"""The analyst snapshot: a separate DuckDB file with the `jira` and `analytics` tables (on a
PostgreSQL warehouse: the published schemas of `postgres_schemas.py`).

Analysts never open the warehouse (DuckDB admits one writing process per file, and a writer
blocks even read-only openers). After each transform run this asset copies the tables into a new
file beside `warehouse.publish_path` and renames it over the old one (`os.replace`, atomic on
POSIX): a reader that has the old file open keeps reading that complete, consistent snapshot (the
old inode lives until it closes), a new connection opens the new one, and nothing a reader does
can lock the warehouse or fail a run.
"""

import glob
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster import AssetExecutionContext

from assets.analytics import AREA_ASSETS as ANALYTICS_ASSETS
from assets.automation import FOLLOWS_UPSTREAM
from assets.core import CORE_ASSETS
from assets.core.common import KINDS, PUBLISH_GROUP
from assets.publish.postgres_schemas import publish_schemas
from assets.resources import WAREHOUSE_POOL, SyncConfigResource, WarehouseResource
from assets.warehouse import Warehouse, is_postgres
from assets.warehouse.postgres import PostgresWarehouse
from pipelines import published_tables

PUBLISHED_SCHEMAS = ("jira", "analytics")
SNAPSHOT_KEY = dg.AssetKey(["publish", "analyst_snapshot"])


@contextmanager
def read_published(warehouse: WarehouseResource, publish_path: Path) -> Iterator[Warehouse]:
    """A read-only view of what analysts read, with the snapshot's names: the DuckDB file, or on
    PostgreSQL the published schemas (`main.snapshot_info` is `jira.snapshot_info` there)."""
    if warehouse.engine == "postgres":
        with PostgresWarehouse(warehouse.postgres_url or "", schemas=(("main", "jira"),)) as con:
            yield con
        return
    with duckdb.connect(str(publish_path), read_only=True) as con:
        yield con


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(path: Path) -> str:
    return _literal(str(path))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_staging_leftovers(publish_path: Path) -> None:
    """Delete staging files (and their WALs) of earlier publishes that never finished.

    A publish killed mid-copy leaves `.<name>.<run id>.building`, as large as the snapshot, and no
    later run has that run id. Only the caller may be publishing now: it holds the warehouse's
    read-write connection, which DuckDB grants one process at a time.
    """
    for leftover in publish_path.parent.glob(f".{glob.escape(publish_path.name)}.*.building*"):
        leftover.unlink(missing_ok=True)


def publish_snapshot(
    con: duckdb.DuckDBPyConnection, publish_path: Path, run_id: str, *, storage_version: str
) -> dict[str, int]:
    """Write the published schemas to a new file and atomically replace `publish_path` with it.

    The file is written in DuckDB's `storage_version` format (v1.0.0: every DuckDB >= 1.0 opens
    it). Every registered table and column carries its description (`COMMENT ON`, from
    pipelines/published_tables.py). Returns the row count of every published table.
    `snapshot_info` in the file says when and by which run it was published, and how many rows
    each table had.
    """
    publish_path = Path(publish_path)
    publish_path.parent.mkdir(parents=True, exist_ok=True)
    staging = publish_path.with_name(f".{publish_path.name}.{run_id}.building")
    _remove_staging_leftovers(publish_path)
    tables = con.execute(
        """
        SELECT table_schema, table_name FROM information_schema.tables
        WHERE table_catalog = current_database() AND table_type = 'BASE TABLE'
            AND table_schema IN (SELECT unnest(?))
        ORDER BY 1, 2
        """,
        [list(PUBLISHED_SCHEMAS)],
    ).fetchall()
    counts: dict[str, int] = {}
    con.execute(f"ATTACH {_quote(staging)} AS analyst_snapshot (STORAGE_VERSION {_literal(storage_version)})")
    try:
        con.execute("BEGIN TRANSACTION")
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f'CREATE SCHEMA analyst_snapshot."{schema}"')
        for schema, table in tables:
            con.execute(
                f'CREATE TABLE analyst_snapshot."{schema}"."{table}" AS SELECT * FROM "{schema}"."{table}"'
            )
            counts[f"{schema}.{table}"] = con.execute(
                f'SELECT count(*) FROM analyst_snapshot."{schema}"."{table}"'
            ).fetchall()[0][0]
        con.execute(
            "CREATE TABLE analyst_snapshot.main.snapshot_info "
            "(published_at TIMESTAMPTZ, run_id VARCHAR, table_name VARCHAR, row_count BIGINT)"
        )
        if counts:
            con.executemany(
                "INSERT INTO analyst_snapshot.main.snapshot_info VALUES (now(), ?, ?, ?)",
                [(run_id, name, rows) for name, rows in counts.items()],
            )
        for statement in published_tables.comment_statements(
            "analyst_snapshot", {*counts, "main.snapshot_info"}
        ):
            con.execute(statement)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        con.execute("DETACH analyst_snapshot")
        staging.unlink(missing_ok=True)
        raise
    con.execute("DETACH analyst_snapshot")  # checkpoints: the file is complete, no WAL beside it
    _fsync(staging)
    os.replace(staging, publish_path)
    _fsync(publish_path.parent)
    return counts


@dg.asset(
    key=SNAPSHOT_KEY,
    group_name=PUBLISH_GROUP,
    pool=WAREHOUSE_POOL,
    kinds=KINDS,
    automation_condition=FOLLOWS_UPSTREAM,
    deps=[key for a in (*CORE_ASSETS, *ANALYTICS_ASSETS) for key in a.keys],
    description=(
        "What analysts read, rebuilt after each transform run: the DuckDB file warehouse.publish_path "
        "(every jira and analytics table, built beside it and atomically renamed over it), or on "
        "PostgreSQL the schemas jira and analytics (every table's rows replaced in one transaction). "
        "Readers never block a run and never see a half-written state; reconnect (DuckDB) or start a new "
        "transaction (PostgreSQL) to see the newest."
    ),
)
def analyst_snapshot(
    context: AssetExecutionContext, warehouse: WarehouseResource, sync_config: SyncConfigResource
) -> dg.MaterializeResult:
    settings = sync_config.load().warehouse
    started = time.monotonic()
    with warehouse.connect() as con:
        if is_postgres(con):
            published = publish_schemas(con, context.run.run_id, readers=settings.publish_readers)
            if published.retired_kept:
                context.log.info(
                    f"previous published schemas still read by a session, dropped by a later publish: "
                    f"{', '.join(published.retired_kept)}"
                )
            return dg.MaterializeResult(
                metadata={
                    "schemas": "jira, analytics",
                    "tables": len(published.row_counts),
                    "row_counts": published.row_counts,
                    "method": published.method,
                    "tables_created_or_reshaped": ", ".join(published.reshaped) or "none",
                    "retired_schemas_dropped": len(published.retired_dropped),
                    "retired_schemas_in_use": ", ".join(published.retired_kept) or "none",
                    "seconds": round(time.monotonic() - started, 2),
                }
            )
        publish_path = Path(settings.publish_path)
        counts = publish_snapshot(
            con, publish_path, context.run.run_id, storage_version=settings.publish_storage_version
        )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(publish_path)),
            "tables": len(counts),
            "row_counts": counts,
            "bytes": publish_path.stat().st_size,
            "storage_version": settings.publish_storage_version,
            "seconds": round(time.monotonic() - started, 2),
        }
    )
