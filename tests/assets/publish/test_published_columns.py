"""The transforms build exactly the tables pipelines/published_tables.py describes, and the
snapshot carries every description as a COMMENT ON."""

from __future__ import annotations

import duckdb
import pytest

from assets.webhooks.registrations import _TABLE_DDL as WEBHOOK_REGISTRATIONS_DDL
from pipelines import published_tables
from tests.assets.core.transform_world import (
    ALPHA,
    at,
    insert,
    materialization,
    new_warehouse,
    run_transforms,
    write_sync_file,
)

TYPE_NAMES = {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}


def columns_of(con, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()


def registered_columns(table: published_tables.PublishedTable) -> list[tuple[str, str]]:
    return [(c.name, TYPE_NAMES.get(c.type.duckdb, c.type.duckdb)) for c in table.columns]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    directory = tmp_path_factory.mktemp("published_columns")
    sync_file = write_sync_file(directory)
    warehouse = directory / "warehouse.duckdb"
    new_warehouse(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        insert(con, "projects", [{"cloud_id": ALPHA, "id": "101", "key": "OPS"}])
        insert(
            con,
            "issues",
            [
                {
                    "cloud_id": ALPHA,
                    "id": "1",
                    "key": "OPS-1",
                    "project_id": "101",
                    "project_key": "OPS",
                    "created": at(1),
                }
            ],
        )
    result = run_transforms(sync_file)
    assert result.success
    return warehouse, directory / "published" / "jira_analytics.duckdb", result


def test_every_table_the_transforms_build_is_registered_with_its_columns_and_types(published):
    warehouse, _, _ = published
    with duckdb.connect(str(warehouse), read_only=True) as con:
        built = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('jira', 'analytics') ORDER BY 1, 2"
        ).fetchall()
        for schema, name in built:
            table = published_tables.table(f"{schema}.{name}")
            assert columns_of(con, schema, name) == registered_columns(table), table.qualified_name
    registered = {t.qualified_name for t in published_tables.TABLES if t.schema != "main"}
    built_names = {f"{s}.{n}" for s, n in built}
    assert registered - built_names == {"jira.webhook_registrations"}  # the webhook area's, below


def test_the_webhook_registrations_table_is_registered_with_its_columns():
    with duckdb.connect() as con:
        con.execute(WEBHOOK_REGISTRATIONS_DDL)
        table = published_tables.table("jira.webhook_registrations")
        assert columns_of(con, "jira", "webhook_registrations") == registered_columns(table)


def test_the_snapshot_describes_every_table_and_column(published):
    _, snapshot, _ = published
    with duckdb.connect(str(snapshot), read_only=True) as con:
        tables = con.execute("SELECT schema_name, table_name, comment FROM duckdb_tables()").fetchall()
        columns = con.execute(
            "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns() WHERE NOT internal"
        ).fetchall()
    assert tables and all(comment for *_, comment in tables)
    for schema, table, column, comment in columns:
        assert comment == published_tables.table(f"{schema}.{table}").column(column).description


def test_materializations_describe_every_column(published):
    _, _, result = published
    for key in (("jira", "issues"), ("analytics", "issue_teams"), ("analytics", "flow_daily")):
        schema = materialization(result, *key).metadata["dagster/column_schema"].value
        table = published_tables.table(".".join(key))
        assert [(c.name, c.description) for c in schema.columns] == [
            (c.name, c.description) for c in table.columns
        ]
