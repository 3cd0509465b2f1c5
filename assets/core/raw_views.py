"""Typed views of the `jira_raw` tables, exactly as docs/architecture.md specifies them.

The transforms read `raw_<table>` temp views instead of `jira_raw.<table>` so that
- every column has the contract's type whatever dlt inferred (a column that was always null in a
  load may be missing or typed as text),
- a table no site syncs (a site without groups, no Teams API) reads as empty instead of failing,
- a table that exists without its key columns fails with a message that says which and what to do.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

RAW_SCHEMA = "jira_raw"

# table -> (key columns that must exist when the table exists, {column: DuckDB type})
RAW_CONTRACT: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "sites": (
        ("cloud_id",),
        {"cloud_id": "VARCHAR", "tenant_id": "VARCHAR", "name": "VARCHAR", "url": "VARCHAR"},
    ),
    "projects": (
        ("cloud_id", "id"),
        {"cloud_id": "VARCHAR", "id": "VARCHAR", "key": "VARCHAR", "name": "VARCHAR", "archived": "BOOLEAN"},
    ),
    "issue_types": (
        ("cloud_id", "id"),
        {"cloud_id": "VARCHAR", "id": "VARCHAR", "name": "VARCHAR", "scope_project_id": "VARCHAR"},
    ),
    "statuses": (
        ("cloud_id", "id"),
        {
            "cloud_id": "VARCHAR",
            "id": "VARCHAR",
            "name": "VARCHAR",
            "status_category_key": "VARCHAR",
            "scope_project_id": "VARCHAR",
        },
    ),
    "users": (
        ("cloud_id", "account_id"),
        {
            "cloud_id": "VARCHAR",
            "account_id": "VARCHAR",
            "account_type": "VARCHAR",
            "display_name": "VARCHAR",
            "email_address": "VARCHAR",
            "active": "BOOLEAN",
        },
    ),
    "groups": (("cloud_id", "group_id"), {"cloud_id": "VARCHAR", "group_id": "VARCHAR", "name": "VARCHAR"}),
    "group_members": (
        ("cloud_id", "group_id", "account_id"),
        {"cloud_id": "VARCHAR", "group_id": "VARCHAR", "account_id": "VARCHAR"},
    ),
    "teams": (
        ("organization_id", "team_id"),
        {
            "organization_id": "VARCHAR",
            "team_id": "VARCHAR",
            "cloud_id": "VARCHAR",
            "display_name": "VARCHAR",
            "description": "VARCHAR",
            "state": "VARCHAR",
            "team_type": "VARCHAR",
        },
    ),
    "team_members": (
        ("organization_id", "team_id", "account_id"),
        {"organization_id": "VARCHAR", "team_id": "VARCHAR", "account_id": "VARCHAR"},
    ),
    "issues": (
        ("cloud_id", "id"),
        {
            "cloud_id": "VARCHAR",
            "id": "VARCHAR",
            "key": "VARCHAR",
            "project_id": "VARCHAR",
            "project_key": "VARCHAR",
            "issue_type_id": "VARCHAR",
            "issue_type_name": "VARCHAR",
            "status_id": "VARCHAR",
            "status_name": "VARCHAR",
            "status_category_key": "VARCHAR",
            "priority_name": "VARCHAR",
            "resolution_name": "VARCHAR",
            "summary": "VARCHAR",
            "parent_id": "VARCHAR",
            "parent_key": "VARCHAR",
            "assignee_account_id": "VARCHAR",
            "reporter_account_id": "VARCHAR",
            "creator_account_id": "VARCHAR",
            "labels": "JSON",
            "created": "TIMESTAMPTZ",
            "updated": "TIMESTAMPTZ",
            "resolved": "TIMESTAMPTZ",
            "due_date": "DATE",
            "synced_at": "TIMESTAMPTZ",
            "deleted": "BOOLEAN",
        },
    ),
    "issue_changelog": (
        ("cloud_id", "issue_id", "history_id"),
        {
            "cloud_id": "VARCHAR",
            "issue_id": "VARCHAR",
            "history_id": "VARCHAR",
            "item_index": "BIGINT",
            "author_account_id": "VARCHAR",
            "created": "TIMESTAMPTZ",
            "field": "VARCHAR",
            "field_id": "VARCHAR",
            "from_id": "VARCHAR",
            "from_string": "VARCHAR",
            "to_id": "VARCHAR",
            "to_string": "VARCHAR",
        },
    ),
}


class RawContractError(RuntimeError):
    """A `jira_raw` table does not match docs/architecture.md."""


def raw_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str] | None:
    """The columns of `jira_raw.<table>`, or None when the table does not exist."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
        [RAW_SCHEMA, table],
    ).fetchall()
    return {name for (name,) in rows} or None


def create_raw_views(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> list[str]:
    """Create the `raw_<table>` temp views; returns the tables that are missing (read as empty)."""
    missing: list[str] = []
    for table in tables:
        keys, columns = RAW_CONTRACT[table]
        present = raw_columns(con, table)
        if present is None:
            missing.append(table)
        else:
            absent_keys = [key for key in keys if key not in present]
            if absent_keys:
                raise RawContractError(
                    f"{RAW_SCHEMA}.{table} has no column {', '.join(absent_keys)} (docs/architecture.md "
                    f"requires {', '.join(keys)}); re-run the jira_raw/{table} asset with the current "
                    "pipelines, or drop the stale table so it is recreated."
                )
        select = ", ".join(
            f'CAST("{column}" AS {kind}) AS "{column}"'
            if present is not None and column in present
            else f'CAST(NULL AS {kind}) AS "{column}"'
            for column, kind in columns.items()
        )
        source = f'FROM "{RAW_SCHEMA}"."{table}"' if present is not None else "LIMIT 0"
        where = (
            ' WHERE "deleted" IS NOT TRUE' if table == "issues" and present and "deleted" in present else ""
        )
        con.execute(f"CREATE OR REPLACE TEMP VIEW raw_{table} AS SELECT {select} {source}{where}")
    return missing


def create_status_changes_view(con: duckdb.DuckDBPyConnection) -> None:
    """`raw_status_changes`: the changelog items that changed the status (needs raw_issue_changelog)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP VIEW raw_status_changes AS
        SELECT cloud_id, issue_id, history_id, item_index, author_account_id, created,
            from_id, from_string, to_id, to_string
        FROM raw_issue_changelog
        WHERE coalesce(field_id, lower(field)) = 'status'
        """
    )


def create_contract_tables(con: duckdb.DuckDBPyConnection, tables: Iterable[str] | None = None) -> None:
    """Empty `jira_raw` tables with the contract's columns (for benchmarks and hand-written cases)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for table in tables or RAW_CONTRACT:
        columns = ", ".join(f'"{name}" {kind}' for name, kind in RAW_CONTRACT[table][1].items())
        con.execute(f'CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}."{table}" ({columns})')
