"""Typed views of the `jira_raw` tables, exactly as docs/architecture.md specifies them.

The transforms read `raw_<table>` temp views instead of `jira_raw.<table>` so that
- every column has the contract's type whatever dlt inferred (a column that was always null in a
  load may be missing or typed as text),
- a table no site syncs (a site without groups, no Teams API) reads as empty instead of failing,
- a table that exists without its key columns fails with a message that says which and what to do.
"""

from __future__ import annotations

from collections.abc import Iterable

from assets.warehouse import Warehouse
from pipelines import registry
from pipelines.current_state import (
    CURRENT_STATE_VIEWS,
    DELETION_SOURCES,
    current_changelog_sql,
    current_issues_sql,
)
from pipelines.registry import DATASET as RAW_SCHEMA
from pipelines.registry import JSON, TABLES, Table


def contract_columns(raw: Table) -> dict[str, str]:
    """{column: DuckDB type} of a registered table, as the transforms read it."""
    return {c.name: c.type.duckdb for c in raw.columns}


def create_table_sql(raw: Table) -> str:
    """DDL of a registered table as its writer makes it (dlt stores JSON as text; SQL-written tables
    get a real primary key for `ON CONFLICT`)."""
    columns = [
        f'"{c.name}" {"VARCHAR" if c.type is JSON and raw.disposition != "sql" else c.type.duckdb}'
        + (" NOT NULL" if c.name in raw.required_columns else "")
        for c in raw.columns
    ]
    if raw.disposition == "sql":
        columns.append(f"PRIMARY KEY ({', '.join(raw.key)})")
    body = ",\n    ".join(columns)
    return f'CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}."{raw.name}" (\n    {body}\n)'


class RawContractError(RuntimeError):
    """A `jira_raw` table does not match docs/architecture.md."""


def raw_columns(con: Warehouse, table: str) -> set[str] | None:
    """The columns of `jira_raw.<table>`, or None when the table does not exist."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
        [RAW_SCHEMA, table],
    ).fetchall()
    return {name for (name,) in rows} or None


def create_raw_views(con: Warehouse, tables: Iterable[str]) -> list[str]:
    """Create the `raw_<table>` temp views; returns the tables that are missing (read as empty).

    `raw_issues` and `raw_issue_changelog` are the current state, derived from every writer's
    table (the REST loads, the webhook drain, the census; pipelines/current_state.py)."""
    missing: list[str] = []
    for name in tables:
        if name in CURRENT_STATE_VIEWS:
            if not _create_current_view(con, name):
                missing.append(name)
        elif not _create_typed_view(con, name, f"raw_{name}"):
            missing.append(name)
    return missing


def _create_current_view(con: Warehouse, name: str) -> bool:
    """`raw_issues` or `raw_issue_changelog` (which needs the issues' sources too: the changelog of
    a deleted issue goes with it); False when no table it is derived from exists yet (it reads as
    empty)."""
    tables = CURRENT_STATE_VIEWS[name]
    needed = dict.fromkeys((*tables, *CURRENT_STATE_VIEWS["issues"]))
    # views of their own per derived view: PostgreSQL replaces a view by dropping it with what
    # depends on it, so a shared source view would take the other derived view with it
    found = {table: _create_typed_view(con, table, f"raw_{name}__{table}") for table in needed}
    # a webhook or deletion table never written is left out (simpler SQL); the REST tables stay, as
    # typed empty views when missing, so the view keeps the contract's types
    rest = (tables[0], CURRENT_STATE_VIEWS["issues"][0])
    sources = {table: f"raw_{name}__{table}" if found[table] or table in rest else None for table in needed}
    raw = registry.table(name)
    columns = [c for c in contract_columns(raw) if c != raw.hard_delete]
    select = (
        current_issues_sql(columns, sources) if name == "issues" else current_changelog_sql(columns, sources)
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW raw_{name} AS {select}")
    return any(found[table] for table in tables if table not in DELETION_SOURCES)


def _create_typed_view(con: Warehouse, name: str, view: str) -> bool:
    """`view`: `jira_raw.<name>` with the contract's columns and types, its hard-deleted rows left
    out; an empty view when the table does not exist (returns False)."""
    raw = registry.table(name)
    keys, columns = raw.required_columns, contract_columns(raw)
    present = raw_columns(con, name)
    if present is not None:
        absent_keys = [key for key in keys if key not in present]
        if absent_keys:
            raise RawContractError(
                f"{RAW_SCHEMA}.{name} has no column {', '.join(absent_keys)} (docs/architecture.md "
                f"requires {', '.join(keys)}); re-run the {raw.owner} asset with the current "
                "pipelines, or drop the stale table so it is recreated."
            )
    select = ", ".join(
        f'CAST("{column}" AS {kind}) AS "{column}"'
        if present is not None and column in present
        else f'CAST(NULL AS {kind}) AS "{column}"'
        for column, kind in columns.items()
    )
    source = f'FROM "{RAW_SCHEMA}"."{name}"' if present is not None else "LIMIT 0"
    tombstone = raw.hard_delete
    where = f' WHERE "{tombstone}" IS NOT TRUE' if tombstone and present and tombstone in present else ""
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {select} {source}{where}")
    return present is not None


def create_status_changes_view(con: Warehouse) -> None:
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


def create_contract_tables(con: Warehouse, tables: Iterable[str] | None = None) -> None:
    """Empty `jira_raw` tables as their writers make them (for benchmarks and hand-written cases)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for raw in (registry.table(name) for name in tables) if tables is not None else TABLES:
        con.execute(create_table_sql(raw))
