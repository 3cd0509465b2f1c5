"""Checks that the analyst snapshot opens and answers the way docs/analytics.md tells analysts."""

import dagster as dg
import duckdb

from assets.automation import CHECK_FOLLOWS_ASSET
from assets.publish.postgres_schemas import INFO_TABLE
from assets.publish.snapshot import PUBLISHED_SCHEMAS, SNAPSHOT_KEY
from assets.resources import SyncConfigResource, WarehouseResource


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.strip("v+").split("."))


@dg.asset_check(
    asset=SNAPSHOT_KEY,
    automation_condition=CHECK_FOLLOWS_ASSET,
    description=(
        "Opens the published file read-only, as an analyst does, and queries one table of every published "
        "schema with a two-part name (jira.issues, analytics.issue_cycle_times), and reads its storage "
        "version (warehouse.publish_storage_version, so DuckDB 1.x readers can open it). (The sync file "
        "refuses a snapshot named like a schema, which DuckDB would make ambiguous.) On PostgreSQL: "
        "connects as an analyst does and queries one table of each published schema and jira.snapshot_info."
    ),
)
def analyst_snapshot_opens(
    sync_config: SyncConfigResource, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    settings = sync_config.load().warehouse
    if warehouse.engine == "postgres":
        return _published_schemas_answer(warehouse.postgres_url or "")
    path = settings.publish_path
    problems: list[str] = []
    with duckdb.connect(str(path), read_only=True) as con:
        (storage_version,) = con.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()[0]
        # DuckDB reports the oldest release that reads the file, e.g. v1.0.0+ for v1.1.0
        if storage_version is None or _version(storage_version) > _version(settings.publish_storage_version):
            problems.append(
                f"storage version {storage_version} needs a newer DuckDB than "
                f"warehouse.publish_storage_version {settings.publish_storage_version}"
            )
        for schema in PUBLISHED_SCHEMAS:
            tables = con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1 LIMIT 1",
                [schema],
            ).fetchall()
            if not tables:
                problems.append(f"schema {schema} has no table")
                continue
            try:
                con.execute(f'SELECT count(*) FROM {schema}."{tables[0][0]}"').fetchall()
            except duckdb.Error as exc:
                problems.append(f"{schema}.{tables[0][0]}: {exc}")
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems) or f"{path} opens read-only and answers two-part table names",
        metadata={"path": dg.MetadataValue.path(str(path)), "storage_version": str(storage_version)},
    )


def _published_schemas_answer(url: str) -> dg.AssetCheckResult:
    """The PostgreSQL published schemas, read by a fresh session with the names analysts use."""
    import psycopg2

    problems: list[str] = []
    run_id = None
    with psycopg2.connect(url, application_name="jira-sync analyst check") as connection:
        cursor = connection.cursor()
        for schema in PUBLISHED_SCHEMAS:
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "AND table_name <> %s ORDER BY 1 LIMIT 1",
                [schema, INFO_TABLE],
            )
            tables = cursor.fetchall()
            if not tables:
                problems.append(f"schema {schema} has no table")
                continue
            try:
                cursor.execute(f'SELECT count(*) FROM {schema}."{tables[0][0]}"')
            except psycopg2.Error as exc:
                problems.append(f"{schema}.{tables[0][0]}: {exc}".strip())
                connection.rollback()
        try:
            cursor.execute(f"SELECT max(run_id) FROM jira.{INFO_TABLE}")
            (run_id,) = cursor.fetchone()
        except psycopg2.Error as exc:
            problems.append(f"jira.{INFO_TABLE}: {exc}".strip())
    connection.close()
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems)
        or "the published schemas jira and analytics answer two-part table names",
        metadata={"published_run_id": str(run_id)},
    )
