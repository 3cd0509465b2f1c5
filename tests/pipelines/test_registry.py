"""The table registry: the docs agree with it, and what is derived from it says the same thing."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from assets.core.raw_views import create_contract_tables, create_raw_views
from jira_sync.truth_check import ORGANIZATION_TABLES, SITE_TABLES
from pipelines import registry
from pipelines.config_fields import ALL_ENTITIES
from pipelines.current_state import CURRENT_STATE_VIEWS
from pipelines.jira.tables import HINTS, SCHEMAS

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
BLOCK = re.compile(r"<!-- registry:[^\n]*-->\n(?P<table>.*?)<!-- /registry -->", re.DOTALL)


def test_the_docs_table_is_the_registry() -> None:
    match = BLOCK.search(ARCHITECTURE.read_text())
    assert match, "docs/architecture.md has no <!-- registry: ... --> block"
    assert match["table"] == registry.markdown_table(), (
        "docs/architecture.md disagrees with pipelines/registry.py; paste the output of "
        "`.venv/bin/python -m pipelines.registry` between the registry markers"
    )


def test_every_column_is_described_and_typed_the_same_everywhere() -> None:
    for table in registry.TABLES:
        schema = SCHEMAS[table.name]
        assert schema.names == table.column_names
        for column in table.columns:
            assert len(column.description) >= 8, (table.name, column.name)
            assert schema.field(column.name).type == column.type.arrow
            assert schema.field(column.name).nullable == (column.name not in table.required_columns)


def test_dlt_hints_follow_the_keys() -> None:
    for table in registry.TABLES:
        if table.disposition == "sql":
            assert table.name not in HINTS
            continue
        hints = HINTS[table.name]
        if table.merge_key:
            assert hints["merge_key"] == table.merge_key and "primary_key" not in hints
        else:
            assert hints["primary_key"] == table.key
        if table.hard_delete:
            assert hints["columns"][table.hard_delete]["hard_delete"] is True


def test_entities_and_truth_come_from_the_registry() -> None:
    assert set(ALL_ENTITIES) == {t.entity for t in registry.TABLES if t.entity}
    truthful = {t.name for t in registry.TABLES if t.truth}
    assert truthful == set(SITE_TABLES) | set(ORGANIZATION_TABLES)


def test_contract_tables_read_back_through_the_typed_views() -> None:
    """DDL and views from the registry agree: empty tables read back with the registry's columns."""
    con = duckdb.connect()
    create_contract_tables(con)
    names = [t.name for t in registry.TABLES]
    assert create_raw_views(con, names) == []
    for table in registry.TABLES:
        described = con.execute(f"DESCRIBE raw_{table.name}").fetchall()
        # the current-state views (issues, issue_changelog) hold no tombstones: no hard-delete column
        current = table.name in CURRENT_STATE_VIEWS
        assert [(row[0], row[1]) for row in described] == [
            (c.name, c.type.duckdb.replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"))
            for c in table.columns
            if not (current and c.name == table.hard_delete)
        ]
    keys = con.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE table_name = 'webhook_events' AND constraint_type = 'PRIMARY KEY'"
    ).fetchall()
    assert keys == [(list(registry.table("webhook_events").key),)]


def test_a_table_that_names_an_unknown_column_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown columns"):
        registry.Table(
            "x",
            None,
            "d",
            (registry.Column("a", registry.TEXT, "the a column"),),
            key=("b",),
            source="s",
            owner="jira_raw/x",
        )
    with pytest.raises(KeyError, match="not a jira_raw table"):
        registry.table("nope")
