"""A PostgreSQL warehouse connection that runs the transforms' DuckDB SQL and the part of DuckDB's
Python API they use (`execute(sql, params).fetchall()`, `executemany`, `register` of Arrow tables).

Every statement is translated by `assets.warehouse.postgres_sql` (cached per text). The working
schemas `jira` and `analytics` of the SQL are `jira_work` and `analytics_work` here: the names
`jira` and `analytics` belong to the published copies analysts read (assets/publish/postgres_schemas.py),
so the one SQL source reads and writes the working tables on both engines. Queries on
`information_schema` get the schema names renamed in their literals and parameters too.

The session runs in UTC (flow metrics count UTC days), autocommit unless the SQL says
`BEGIN TRANSACTION`, with `work_mem` for the transforms' sorts and without JIT compilation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from assets.warehouse.postgres_sql import TRY_CAST_FUNCTIONS, PostgresStatement, to_postgres

WORKING_SCHEMAS: tuple[tuple[str, str], ...] = (("jira", "jira_work"), ("analytics", "analytics_work"))
_CATALOG = re.compile(r"\binformation_schema\b", re.IGNORECASE)
_INSERT_PAGE = 1000


def _psycopg2():
    try:
        import psycopg2
        import psycopg2.extras
    except ImportError:  # pragma: no cover - the postgres extra is missing
        raise RuntimeError(
            "warehouse.destination is postgres but psycopg2 is not installed: pip install -e '.[postgres]'"
        ) from None
    return psycopg2


def _arrow_type(kind: pa.DataType) -> str:
    if pa.types.is_timestamp(kind):
        return "TIMESTAMPTZ" if kind.tz else "TIMESTAMP"
    if pa.types.is_date(kind):
        return "DATE"
    if pa.types.is_boolean(kind):
        return "BOOLEAN"
    if pa.types.is_integer(kind):
        return "BIGINT"
    if pa.types.is_floating(kind):
        return "DOUBLE PRECISION"
    if pa.types.is_decimal(kind):
        return "NUMERIC"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return f"{_arrow_type(kind.value_type)}[]"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return "TEXT"
    raise TypeError(f"no PostgreSQL column type for the Arrow type {kind}")


class PostgresWarehouse:
    """One session on the PostgreSQL warehouse (psycopg2), speaking the transforms' DuckDB SQL."""

    engine = "postgres"

    def __init__(
        self,
        url: str,
        *,
        schemas: tuple[tuple[str, str], ...] = WORKING_SCHEMAS,
        work_mem: str = "256MB",
        application_name: str = "jira-sync",
    ) -> None:
        psycopg2 = _psycopg2()
        self.schemas = schemas
        self._rename = dict(schemas)
        self._connection = psycopg2.connect(url, application_name=application_name)
        self._connection.autocommit = True
        # JSON columns come back as text, as DuckDB returns them
        psycopg2.extras.register_default_json(self._connection, loads=str)
        psycopg2.extras.register_default_jsonb(self._connection, loads=str)
        self._cursor = None
        with self._connection.cursor() as cursor:
            cursor.execute("SET TimeZone = 'UTC'")
            cursor.execute("SET work_mem = %s", [work_mem])
            # JIT compiles each big query's expressions (100+ functions for the status history):
            # measured slower than interpreting them at this size (36 s instead of 47 s at 1M issues)
            cursor.execute("SET jit = off")
            cursor.execute(TRY_CAST_FUNCTIONS)

    def __enter__(self) -> PostgresWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._connection.close()

    def schema_name(self, schema: str) -> str:
        """Where a schema of the SQL lives in this warehouse (`jira` -> `jira_work`)."""
        return self._rename.get(schema.lower(), schema)

    def statements(self, sql: str) -> tuple[PostgresStatement, ...]:
        return to_postgres(sql, self.schemas)

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> PostgresWarehouse:
        statements = self.statements(sql)
        values = self._parameters(sql, parameters)
        if values and len(statements) != 1:
            raise ValueError(f"parameters need exactly one statement, got {len(statements)}: {sql[:200]}")
        cursor = self._connection.cursor()
        for statement in statements:
            cursor.execute(statement.text, values if statement.placeholders else None)
        self._cursor = cursor
        return self

    def native(self, sql: str, parameters: Sequence[Any] | None = None) -> PostgresWarehouse:
        """Run PostgreSQL's own SQL (`%s` placeholders), untranslated: for what only it has (schema
        renames, locks, catalogs)."""
        cursor = self._connection.cursor()
        cursor.execute(sql, list(parameters) if parameters else None)
        self._cursor = cursor
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> PostgresWarehouse:
        (statement,) = self.statements(sql)
        rows = [self._parameters(sql, row) for row in rows]
        cursor = self._connection.cursor()
        _psycopg2().extras.execute_batch(cursor, statement.text, rows, page_size=_INSERT_PAGE)
        self._cursor = cursor
        return self

    def _parameters(self, sql: str, parameters: Sequence[Any] | None) -> list[Any] | None:
        if not parameters:
            return None
        values = list(parameters)
        if _CATALOG.search(sql):
            values = [self._rename.get(v.lower(), v) if isinstance(v, str) else v for v in values]
        return values

    def fetchall(self) -> list[tuple]:
        if self._cursor is None or self._cursor.description is None:
            return []
        return self._cursor.fetchall()

    def fetchone(self) -> tuple | None:
        if self._cursor is None or self._cursor.description is None:
            return None
        return self._cursor.fetchone()

    @property
    def rowcount(self) -> int:
        """Rows the last statement wrote (or, for CREATE TABLE AS, created)."""
        return -1 if self._cursor is None else self._cursor.rowcount

    @property
    def description(self) -> Any:
        return None if self._cursor is None else self._cursor.description

    def register(self, name: str, table: pa.Table) -> PostgresWarehouse:
        """What DuckDB's `register` offers: the Arrow table as a relation of this session (a temp table)."""
        columns = ", ".join(f'"{f.name}" {_arrow_type(f.type)}' for f in table.schema)
        cursor = self._connection.cursor()
        cursor.execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')
        cursor.execute(f'CREATE TEMPORARY TABLE "{name}" ({columns})')
        if table.num_rows:
            names = ", ".join(f'"{f.name}"' for f in table.schema)
            rows = [tuple(row.values()) for row in table.to_pylist()]
            _psycopg2().extras.execute_values(
                cursor, f'INSERT INTO pg_temp."{name}" ({names}) VALUES %s', rows, page_size=_INSERT_PAGE
            )
        return self

    def unregister(self, name: str) -> PostgresWarehouse:
        self._connection.cursor().execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')
        return self
