"""Running the transforms' SQL files on the warehouse, atomically, and describing what they wrote.

The SQL lives in `.sql` files beside the modules (read with importlib.resources) so it can be read,
reviewed and run in the `duckdb` CLI as it is. Every transform runs in one DuckDB transaction:
a failure leaves the previous tables untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files

import dagster as dg

from assets.resources import WarehouseResource
from assets.warehouse import Warehouse, is_postgres
from pipelines import published_tables


def sql_file(package: str, name: str) -> str:
    """The text of `<package>/<name>` (a `.sql` file shipped with the package)."""
    return files(package).joinpath(name).read_text(encoding="utf-8")


@contextmanager
def transform_connection(warehouse: WarehouseResource) -> Iterator[Warehouse]:
    """A warehouse connection whose days are UTC days (flow metrics count per UTC day).

    The transforms never rely on the order rows are stored in, so DuckDB may write them in any
    order (less memory and faster parallel table builds). A PostgreSQL session is set up the same
    way by `PostgresWarehouse`.
    """
    with warehouse.connect() as con:
        if not is_postgres(con):
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET preserve_insertion_order = false")
        yield con


@contextmanager
def transaction(con: Warehouse) -> Iterator[Warehouse]:
    """All or nothing: readers of the warehouse never see a half-rebuilt table."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def ensure_schema(con: Warehouse, schema: str) -> None:
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


def published_column_schema(registered: published_tables.PublishedTable) -> dg.TableSchema:
    """The registry's columns of a published table, with their types and descriptions."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=c.name, type=c.type.duckdb.lower(), description=c.description)
            for c in registered.columns
        ]
    )


def published_spec_metadata(registered: published_tables.PublishedTable) -> dict[str, object]:
    """Definition-time metadata of a published table's asset: its columns and its table name."""
    return {
        "dagster/column_schema": published_column_schema(registered),
        "dagster/table_name": registered.qualified_name,
    }


def table_metadata(con: Warehouse, table: str) -> dict[str, object]:
    """Dagster's standard row-count and column-schema metadata for a warehouse table: the columns
    the table really has, each with its description from pipelines/published_tables.py."""
    schema, name = table.split(".")
    registered = published_tables.table(table)
    columns = con.execute(
        """
        SELECT column_name, data_type, is_nullable = 'YES'
        FROM information_schema.columns
        WHERE table_schema = ? AND table_name = ?
        ORDER BY ordinal_position
        """,
        [schema, name],
    ).fetchall()
    described = {c.name: c.description for c in registered.columns}
    (rows,) = con.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchall()[0]
    return {
        "dagster/row_count": dg.MetadataValue.int(rows),
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(
                    name=column,
                    type=data_type,
                    description=described.get(column, "Not in pipelines/published_tables.py."),
                    constraints=dg.TableColumnConstraints(nullable=nullable),
                )
                for column, data_type, nullable in columns
            ]
        ),
        "dagster/table_name": f"{schema}.{name}",
    }
