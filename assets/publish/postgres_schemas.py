"""The published schemas analysts read on a PostgreSQL warehouse: `jira` and `analytics`.

The transforms write the working schemas (`jira_work`, `analytics_work`, see assets/warehouse).
After each transform run this builds complete copies in `<schema>__publishing`, then swaps them in
with schema renames in the same transaction: a reader sees the previous publish or the new one,
never a half-written one, and the same two-part names as in the DuckDB snapshot
(`jira.issues`, `analytics.issue_cycle_times`; `jira.snapshot_info` says which run), each table
and column described (`COMMENT ON`) from pipelines/published_tables.py.

Lock levels decide who waits. A reader holds ACCESS SHARE on the tables it reads until its
transaction ends. Renaming a schema takes no lock on the tables in it, so the swap never waits for
readers (and a query already running finishes on the tables it started with). Dropping the
previous tables needs ACCESS EXCLUSIVE on each, which a reader's open transaction would make wait:
so the old schemas are renamed `<schema>__retired_<run>` and dropped after the swap committed,
each with a short `lock_timeout`; one still read is left and dropped by a later publish.

A reader in a REPEATABLE READ (or SERIALIZABLE) transaction that began before a swap still resolves
names to the new tables but cannot see their rows (they were committed after its snapshot): it
reads them as empty. READ COMMITTED, the default, sees the newest publish at every statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assets.warehouse.postgres import PostgresWarehouse
from pipelines import published_tables

PUBLISHED_SCHEMAS = ("jira", "analytics")
INFO_TABLE = "snapshot_info"  # in the published `jira` schema
_STAGING = "{schema}__publishing"
_RETIRED = "{schema}__retired_"
_PUBLISH_LOCK = "jira_sync.publish"


@dataclass
class PublishedSchemas:
    row_counts: dict[str, int] = field(default_factory=dict)
    retired_dropped: list[str] = field(default_factory=list)
    retired_kept: list[str] = field(default_factory=list)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def publish_schemas(
    con: PostgresWarehouse,
    run_id: str,
    *,
    readers: Sequence[str] = (),
    lock_timeout: str = "2s",
) -> PublishedSchemas:
    """Copy the working schemas to new ones and swap them in atomically; then drop retired ones."""
    result = PublishedSchemas()
    retired = _RETIRED.format(schema="{schema}") + run_id.replace("-", "")[:12]
    con.native("BEGIN")
    try:
        con.native("SELECT pg_advisory_xact_lock(hashtext(%s))", [_PUBLISH_LOCK])
        for schema in PUBLISHED_SCHEMAS:
            staging = _quote(_STAGING.format(schema=schema))
            con.native(f"DROP SCHEMA IF EXISTS {staging} CASCADE")
            con.native(f"CREATE SCHEMA {staging}")
            for table in _base_tables(con, con.schema_name(schema)):
                source = f"{_quote(con.schema_name(schema))}.{_quote(table)}"
                target = f"{staging}.{_quote(table)}"
                con.native(f"CREATE TABLE {target} AS SELECT * FROM {source}")
                result.row_counts[f"{schema}.{table}"] = con.rowcount
                _describe(con, target, published_tables.find(f"{schema}.{table}"))
        info = f"{_quote(_STAGING.format(schema='jira'))}.{INFO_TABLE}"
        con.native(
            f"CREATE TABLE {info} (published_at TIMESTAMPTZ, run_id TEXT, table_name TEXT, row_count BIGINT)"
        )
        for name, rows in result.row_counts.items():
            con.native(f"INSERT INTO {info} VALUES (now(), %s, %s, %s)", [run_id, name, rows])
        _describe(con, info, published_tables.find(f"main.{INFO_TABLE}"))
        for schema in PUBLISHED_SCHEMAS:
            _grant(con, _quote(_STAGING.format(schema=schema)), readers)
        for schema in PUBLISHED_SCHEMAS:
            if _schema_exists(con, schema):
                con.native(f"ALTER SCHEMA {_quote(schema)} RENAME TO {_quote(retired.format(schema=schema))}")
            con.native(f"ALTER SCHEMA {_quote(_STAGING.format(schema=schema))} RENAME TO {_quote(schema)}")
        con.native("COMMIT")
    except BaseException:
        con.native("ROLLBACK")
        raise
    result.retired_dropped, result.retired_kept = drop_retired(con, lock_timeout=lock_timeout)
    return result


def drop_retired(con: PostgresWarehouse, *, lock_timeout: str = "2s") -> tuple[list[str], list[str]]:
    """Drop retired published schemas no reader holds; (dropped, still in use)."""
    dropped, kept = [], []
    for schema in PUBLISHED_SCHEMAS:
        pattern = _RETIRED.format(schema=schema).replace("_", r"\_") + "%"
        names = [
            name
            for (name,) in con.native(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY nspname", [pattern]
            ).fetchall()
        ]
        for name in names:
            con.native("BEGIN")
            try:
                con.native("SET LOCAL lock_timeout = %s", [lock_timeout])
                con.native(f"DROP SCHEMA {_quote(name)} CASCADE")
                con.native("COMMIT")
                dropped.append(name)
            except Exception as exc:
                con.native("ROLLBACK")
                if getattr(exc, "pgcode", None) != "55P03":  # lock_not_available: a reader still has it
                    raise
                kept.append(name)
    return dropped, kept


def _base_tables(con: PostgresWarehouse, schema: str) -> list[str]:
    rows = con.native(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
        [schema],
    ).fetchall()
    return [name for (name,) in rows]


def _schema_exists(con: PostgresWarehouse, schema: str) -> bool:
    return bool(con.native("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchall())


def _describe(
    con: PostgresWarehouse, target: str, registered: published_tables.PublishedTable | None
) -> None:
    """COMMENT ON the published table and its columns, from pipelines/published_tables.py."""
    if registered is None:
        return
    con.native(f"COMMENT ON TABLE {target} IS %s", [registered.description])
    present = {
        name
        for (name,) in con.native(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [target],
        ).fetchall()
    }
    for column in registered.columns:
        if column.name in present:
            con.native(f"COMMENT ON COLUMN {target}.{_quote(column.name)} IS %s", [column.description])


def _grant(con: PostgresWarehouse, schema: str, readers: Sequence[str]) -> None:
    for role in readers:
        con.native(f"GRANT USAGE ON SCHEMA {schema} TO {_quote(role)}")
        con.native(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {_quote(role)}")
