"""The published-table registry: docs/analytics.md shows it, and its COMMENT ON statements run."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipelines import published_tables
from pipelines.registry import TEXT, Column

ANALYTICS_DOC = Path(__file__).resolve().parents[2] / "docs" / "analytics.md"


def test_docs_show_every_published_table_as_the_registry_describes_it() -> None:
    text = ANALYTICS_DOC.read_text(encoding="utf-8")
    documented = [m["name"] for m in published_tables.COLUMNS_BLOCK.finditer(text)]
    assert sorted(documented) == sorted(t.qualified_name for t in published_tables.TABLES)
    assert published_tables.rewrite_docs(text) == text, (
        "docs/analytics.md disagrees with pipelines/published_tables.py; run "
        "`.venv/bin/python -m pipelines.published_tables --write docs/analytics.md`"
    )


def test_markdown_escapes_what_would_break_a_table() -> None:
    table = published_tables.table("jira.issues")
    rendered = published_tables.markdown_columns(table.qualified_name)
    assert "custom:&lt;KEY&gt;" in rendered
    assert all(line.count(" | ") == 2 for line in rendered.splitlines()[2:])


def test_comments_land_on_tables_and_columns_with_quotes_intact() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA analytics")
    con.execute(
        "CREATE TABLE analytics.issue_teams AS SELECT "
        + ", ".join(
            f"NULL::{c.type.duckdb} AS {c.name}"
            for c in published_tables.table("analytics.issue_teams").columns
        )
    )
    for statement in published_tables.comment_statements("memory", {"analytics.issue_teams", "jira.absent"}):
        con.execute(statement)
    (comment,) = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE table_name = 'issue_teams'"
    ).fetchall()[0]
    assert comment == published_tables.table("analytics.issue_teams").description
    columns = dict(
        con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'issue_teams'"
        ).fetchall()
    )
    assert (
        columns["team_name"]
        == "That team's name; '(no team)' when the issue has no team (never null; team_rule says why)."
    )
    assert all(columns.values())


def test_a_column_without_a_meaning_is_refused() -> None:
    with pytest.raises(ValueError, match="has no description"):
        published_tables.PublishedTable(
            "analytics", "t", "A table.", (Column("x", TEXT, " "),), (), "analytics/t"
        )
    with pytest.raises(ValueError, match="unknown columns"):
        published_tables.PublishedTable(
            "analytics", "t", "A table.", (Column("x", TEXT, "The x value."),), ("y",), "a/t"
        )
    with pytest.raises(KeyError, match="published_tables.py"):
        published_tables.table("analytics.nothing")


def test_the_no_team_label_is_the_one_the_sql_writes() -> None:
    sql = (ANALYTICS_DOC.parents[1] / "assets" / "analytics" / "issue_teams.sql").read_text(encoding="utf-8")
    assert set(re.findall(r"'(\(no \w+\))'", sql)) == {published_tables.NO_TEAM}
