"""The published schemas analysts read on a PostgreSQL warehouse: `jira` and `analytics`.

The transforms write the working schemas (`jira_work`, `analytics_work`, see assets/warehouse).
After each transform run one transaction replaces the content of every published table with the
working table's (`DELETE` + `INSERT ... SELECT`), with the same two-part names as the DuckDB
snapshot (`jira.issues`, `analytics.issue_cycle_times`; `jira.snapshot_info` says which run), each
table and column described (`COMMENT ON`) from pipelines/published_tables.py.

Why rows and not schema renames. A reader's statement reads with one MVCC snapshot, so replacing
rows in one transaction is atomic for every reader: each statement sees the whole previous publish
or the whole new one, across all tables, and a REPEATABLE READ transaction keeps seeing the one it
started with. The locks do not meet: readers hold ACCESS SHARE, DELETE and INSERT take ROW
EXCLUSIVE, so a reader (even one holding a transaction open for hours) never makes a publish wait,
and a publish never makes a reader wait. Renaming staged schemas over the published ones also never
waits for readers, but it is not atomic for them: a statement resolves its tables' names one by one
while the rename commits, and was measured reading `jira.issues` of one run beside
`analytics.flow_daily` of the next (tests/assets/publish/test_postgres_schemas.py); and new tables
are empty to a REPEATABLE READ snapshot taken before them.

What rows cannot do - a table whose columns changed (an upgrade), or one no longer built - needs
ACCESS EXCLUSIVE on that table. It is tried under a short `lock_timeout`; when a reader holds the
table, this publish falls back to building complete copies in `<schema>__publishing` and renaming
them over the published schemas in one transaction (renames wait for no reader; the old schemas are
renamed `<schema>__retired_<run>` and dropped later, each under the same short `lock_timeout`).

The cost of rows is MVCC's: each publish leaves the previous rows dead until autovacuum reclaims
them, which it can only do once no transaction older than the publish is open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assets.warehouse.postgres import PostgresWarehouse
from pipelines import published_tables

PUBLISHED_SCHEMAS = ("jira", "analytics")
INFO_TABLE = "snapshot_info"  # in the published `jira` schema
INFO_DDL = "(published_at TIMESTAMPTZ, run_id TEXT, table_name TEXT, row_count BIGINT)"
_STAGING = "{schema}__publishing"
_RETIRED = "{schema}__retired_"
_PUBLISH_LOCK = "jira_sync.publish"
_LOCK_NOT_AVAILABLE = "55P03"


@dataclass
class PublishedSchemas:
    row_counts: dict[str, int] = field(default_factory=dict)
    method: str = "rows"  # rows: replaced in place; renamed: staged schemas renamed over (shape change)
    reshaped: list[str] = field(default_factory=list)  # tables created, changed or dropped
    retired_dropped: list[str] = field(default_factory=list)
    retired_kept: list[str] = field(default_factory=list)


class _ReaderHoldsTable(Exception):
    """A reader holds a published table whose shape must change: fall back to the rename."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _name(schema: str, table: str) -> str:
    return f"{_quote(schema)}.{_quote(table)}"


def publish_schemas(
    con: PostgresWarehouse,
    run_id: str,
    *,
    readers: Sequence[str] = (),
    lock_timeout: str = "2s",
) -> PublishedSchemas:
    """Publish the working schemas in one transaction (see the module); then drop retired schemas."""
    try:
        result = _replace_rows(con, run_id, readers, lock_timeout)
    except _ReaderHoldsTable:
        result = _rename_staged(con, run_id, readers)
    result.retired_dropped, result.retired_kept = drop_retired(con, lock_timeout=lock_timeout)
    return result


def _replace_rows(
    con: PostgresWarehouse, run_id: str, readers: Sequence[str], lock_timeout: str
) -> PublishedSchemas:
    result = PublishedSchemas()
    con.native("BEGIN")
    try:
        con.native("SELECT pg_advisory_xact_lock(hashtext(%s))", [_PUBLISH_LOCK])
        wanted = _wanted(con)
        created = _reshape(con, wanted, result, lock_timeout)
        for (schema, table), source in wanted.items():
            target = _name(schema, table)
            if (schema, table) in created:
                con.native(f"CREATE TABLE {target} AS SELECT * FROM {source}")
            else:
                con.native(f"DELETE FROM {target}")
                con.native(f"INSERT INTO {target} SELECT * FROM {source}")
            result.row_counts[f"{schema}.{table}"] = con.rowcount
            _describe(con, target, published_tables.find(f"{schema}.{table}"))
        info = _name("jira", INFO_TABLE)
        con.native(f"DELETE FROM {info}")
        _record(con, info, run_id, result.row_counts)
        _describe(con, info, published_tables.find(f"main.{INFO_TABLE}"))
        for schema in PUBLISHED_SCHEMAS:
            _grant(con, _quote(schema), readers)
        con.native("COMMIT")
    except BaseException:
        con.native("ROLLBACK")
        raise
    return result


def _wanted(con: PostgresWarehouse) -> dict[tuple[str, str], str]:
    """(published schema, table) -> the working table it copies."""
    return {
        (schema, table): _name(con.schema_name(schema), table)
        for schema in PUBLISHED_SCHEMAS
        for table in _base_tables(con, con.schema_name(schema))
    }


def _reshape(
    con: PostgresWarehouse, wanted: dict[tuple[str, str], str], result: PublishedSchemas, lock_timeout: str
) -> set[tuple[str, str]]:
    """Create the published schemas and `snapshot_info` if missing; drop the published tables whose
    columns differ from their working table's, or that nothing builds any more. Dropping needs
    ACCESS EXCLUSIVE: a reader holding one raises `_ReaderHoldsTable`. Returns the tables to create."""
    for schema in PUBLISHED_SCHEMAS:
        con.native(f"CREATE SCHEMA IF NOT EXISTS {_quote(schema)}")
    if not _base_tables(con, "jira", INFO_TABLE):
        con.native(f"CREATE TABLE {_name('jira', INFO_TABLE)} {INFO_DDL}")
    stale = []
    for schema in PUBLISHED_SCHEMAS:
        for table in _base_tables(con, schema):
            if schema == "jira" and table == INFO_TABLE:
                continue
            source = wanted.get((schema, table))
            if source is None or _columns(con, _name(schema, table)) != _columns(con, source):
                stale.append((schema, table))
    created = {key for key in wanted if key in stale or not _base_tables(con, *key)}
    if stale:
        con.native("SAVEPOINT reshape")
        con.native("SET LOCAL lock_timeout = %s", [lock_timeout])
        try:
            con.native(f"LOCK TABLE {', '.join(_name(*key) for key in stale)} IN ACCESS EXCLUSIVE MODE")
        except Exception as exc:
            if getattr(exc, "pgcode", None) != _LOCK_NOT_AVAILABLE:
                raise
            raise _ReaderHoldsTable(", ".join(".".join(key) for key in stale)) from None
        for key in stale:
            con.native(f"DROP TABLE {_name(*key)}")
        con.native("RESET lock_timeout")
    result.reshaped = sorted(".".join(key) for key in created | set(stale))
    return created


def _rename_staged(con: PostgresWarehouse, run_id: str, readers: Sequence[str]) -> PublishedSchemas:
    """Complete copies in `<schema>__publishing`, renamed over the published schemas (no reader waits)."""
    result = PublishedSchemas(method="renamed")
    retired = _RETIRED + run_id.replace("-", "")[:12]
    con.native("BEGIN")
    try:
        con.native("SELECT pg_advisory_xact_lock(hashtext(%s))", [_PUBLISH_LOCK])
        for schema in PUBLISHED_SCHEMAS:
            staging = _quote(_STAGING.format(schema=schema))
            con.native(f"DROP SCHEMA IF EXISTS {staging} CASCADE")
            con.native(f"CREATE SCHEMA {staging}")
            for table in _base_tables(con, con.schema_name(schema)):
                target = f"{staging}.{_quote(table)}"
                con.native(f"CREATE TABLE {target} AS SELECT * FROM {_name(con.schema_name(schema), table)}")
                result.row_counts[f"{schema}.{table}"] = con.rowcount
                _describe(con, target, published_tables.find(f"{schema}.{table}"))
        info = f"{_quote(_STAGING.format(schema='jira'))}.{INFO_TABLE}"
        con.native(f"CREATE TABLE {info} {INFO_DDL}")
        _describe(con, info, published_tables.find(f"main.{INFO_TABLE}"))
        _record(con, info, run_id, result.row_counts)
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
    result.reshaped = sorted(result.row_counts)
    return result


def drop_retired(con: PostgresWarehouse, *, lock_timeout: str = "2s") -> tuple[list[str], list[str]]:
    """Drop the schemas a fallback publish retired, unless a reader still holds them: (dropped, kept)."""
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
                if getattr(exc, "pgcode", None) != _LOCK_NOT_AVAILABLE:
                    raise
                kept.append(name)
    return dropped, kept


def _record(con: PostgresWarehouse, info: str, run_id: str, row_counts: dict[str, int]) -> None:
    for name, rows in row_counts.items():
        con.native(f"INSERT INTO {info} VALUES (now(), %s, %s, %s)", [run_id, name, rows])


def _base_tables(con: PostgresWarehouse, schema: str, table: str | None = None) -> list[str]:
    rows = con.native(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
        "AND table_type = 'BASE TABLE' AND (%s::text IS NULL OR table_name = %s) ORDER BY table_name",
        [schema, table, table],
    ).fetchall()
    return [name for (name,) in rows]


def _columns(con: PostgresWarehouse, table: str) -> list[tuple[str, str]]:
    return con.native(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [table],
    ).fetchall()


def _schema_exists(con: PostgresWarehouse, schema: str) -> bool:
    return bool(con.native("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchall())


def _describe(
    con: PostgresWarehouse, target: str, registered: published_tables.PublishedTable | None
) -> None:
    """COMMENT ON the published table and its columns, from pipelines/published_tables.py."""
    if registered is None:
        return
    con.native(f"COMMENT ON TABLE {target} IS %s", [registered.description])
    present = {name for name, _ in _columns(con, target)}
    for column in registered.columns:
        if column.name in present:
            con.native(f"COMMENT ON COLUMN {target}.{_quote(column.name)} IS %s", [column.description])


def _grant(con: PostgresWarehouse, schema: str, readers: Sequence[str]) -> None:
    """The reader roles may use the schema and read its tables (a GRANT waits for no reader)."""
    for role in readers:
        con.native(f"GRANT USAGE ON SCHEMA {schema} TO {_quote(role)}")
        con.native(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {_quote(role)}")
