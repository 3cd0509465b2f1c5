"""The warehouse the transforms run on: DuckDB (the embedded default) or PostgreSQL, one SQL source.

A connection is either DuckDB's own (`duckdb.DuckDBPyConnection`) or a `PostgresWarehouse`, which
speaks the same DuckDB SQL (translated by `postgres_sql`) and the same small Python API. Code that
needs to know the engine asks `is_postgres(con)`; names of working schemas go through
`working_schema(con, ...)` where they are data (catalog queries do this by themselves).
"""

from __future__ import annotations

from typing import Any

import duckdb

from assets.warehouse.postgres import PostgresWarehouse

Warehouse = duckdb.DuckDBPyConnection | PostgresWarehouse
ENGINES = ("duckdb", "postgres")


def postgres_data_errors() -> tuple[type[BaseException], ...]:
    """PostgreSQL's errors caused by a value (a conversion, a constraint), when psycopg2 is installed."""
    try:
        import psycopg2
    except ImportError:
        return ()
    return (psycopg2.DataError, psycopg2.IntegrityError)


def is_postgres(con: Any) -> bool:
    return isinstance(con, PostgresWarehouse)


def working_schema(con: Any, schema: str) -> str:
    """The name a schema of the SQL (`jira`, `analytics`) has in this warehouse."""
    return con.schema_name(schema) if is_postgres(con) else schema


def relation_columns(con: Any, relation: str) -> list[str]:
    """Column names of a table, view or registered relation, in order (DuckDB's DESCRIBE, on both engines)."""
    con.execute(f"SELECT * FROM {relation} LIMIT 0")
    return [column[0] for column in con.description]


def table_exists(con: Any, schema: str, table: str) -> bool:
    """Whether `schema.table` exists (a schema of the SQL: `jira` is `jira_work` on PostgreSQL)."""
    (count,) = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchall()[0]
    return bool(count)
