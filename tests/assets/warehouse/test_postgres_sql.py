"""The DuckDB -> PostgreSQL translation of the transforms' SQL.

Every `.sql` file of the project translates (a DuckDB-only form added to one fails here, naming it,
without a server). Each rewrite is then run on both engines over the same small data and must give
the same rows: the forms where DuckDB and PostgreSQL differ (NULL order, arg_max's NULLs, QUALIFY
over `*`, anti joins, integer division, try_cast of bad text, list slices, series of days).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from assets.warehouse.postgres import PostgresWarehouse
from assets.warehouse.postgres_sql import UnsupportedSql, to_postgres
from tests.postgres_server import requires_postgres, scratch_database

REPO = Path(__file__).resolve().parents[3]
SQL_FILES = sorted(p.relative_to(REPO) for p in REPO.glob("assets/**/*.sql"))
RENAME = (("jira", "jira_work"), ("analytics", "analytics_work"))


def texts(sql: str) -> list[str]:
    return [s.text for s in to_postgres(sql, RENAME)]


@pytest.mark.parametrize("path", SQL_FILES, ids=str)
def test_every_sql_file_translates(path: Path) -> None:
    statements = to_postgres((REPO / path).read_text(), RENAME)
    assert statements
    joined = " ".join(s.text for s in statements).upper()
    for duckdb_only in ("QUALIFY", "ANTI JOIN", "SEMI JOIN", "GROUP BY ALL", "OR REPLACE TABLE", "ARG_M"):
        assert duckdb_only not in joined, (path, duckdb_only)


def test_create_or_replace_drops_first_and_temp_objects_live_in_pg_temp() -> None:
    assert texts("CREATE OR REPLACE TABLE jira.t AS SELECT 1 AS x") == [
        "DROP TABLE IF EXISTS jira_work.t",
        "CREATE TABLE jira_work.t AS SELECT 1 AS x",
    ]
    assert (
        texts("CREATE OR REPLACE TEMP VIEW v AS SELECT 1 AS x")[0] == "DROP VIEW IF EXISTS pg_temp.v CASCADE"
    )


def test_row_number_qualify_becomes_distinct_on_and_keeps_the_star() -> None:
    (sql,) = texts("SELECT * FROM t QUALIFY row_number() OVER (PARTITION BY a ORDER BY b DESC) = 1")
    assert sql == "SELECT DISTINCT ON (a) * FROM t ORDER BY a, b DESC NULLS LAST"


def test_qualify_that_cannot_be_distinct_on_names_the_fix() -> None:
    (sql,) = texts("SELECT a, b + 1 AS c FROM t QUALIFY count(*) OVER (PARTITION BY a) > 1")
    assert "_qualified" in sql and "WHERE _qw0 > 1" in sql
    with pytest.raises(UnsupportedSql, match="name the columns"):
        texts("SELECT * FROM t QUALIFY count(*) OVER (PARTITION BY a) > 1")


def test_forms_without_an_equivalent_say_what_to_write() -> None:
    with pytest.raises(UnsupportedSql, match="ASOF JOIN.*flow_daily"):
        texts("SELECT * FROM a ASOF JOIN b ON a.k = b.k AND a.t >= b.t")
    with pytest.raises(UnsupportedSql, match="relation_columns"):
        texts("DESCRIBE SELECT 1")
    with pytest.raises(UnsupportedSql, match="TRY_CAST to"):
        texts("SELECT TRY_CAST(x AS INTERVAL) FROM t")


def test_placeholders_escape_percent_signs_and_catalog_literals_are_renamed() -> None:
    (statement,) = to_postgres("SELECT 1 FROM t WHERE x LIKE 'a%' AND y = ?", RENAME)
    assert statement.text == "SELECT 1 FROM t WHERE x LIKE 'a%%' AND y = %s" and statement.placeholders == 1
    (plain,) = to_postgres("SELECT 1 FROM t WHERE x LIKE 'a%'", RENAME)
    assert plain.text.endswith("'a%'") and plain.placeholders == 0
    (catalog,) = texts("SELECT 1 FROM information_schema.tables WHERE table_schema = 'jira'")
    assert catalog.endswith("table_schema = 'jira_work'")
    (data,) = texts("SELECT 'jira' AS source FROM jira.issues")
    assert data == "SELECT 'jira' AS source FROM jira_work.issues"


# Each query runs on DuckDB as written and on PostgreSQL translated, over the same rows of `t`.
ROWS = "(VALUES (1, 'a', 10, '5'), (1, NULL, 20, 'x'), (1, 'c', NULL, '7'), (2, 'd', 5, NULL), (3, 'e', 1, '12'))"
EQUIVALENT = {
    "arg_max ignores null values and keys": "SELECT k, arg_max(s, n), arg_min(s, n) FROM t GROUP BY ALL",
    "any_value of one value per group": "SELECT k, any_value(k * 2) FROM t GROUP BY ALL",
    "group by all with an expression": "SELECT k + 1 AS j, 'x' AS c, count(*), sum(n) FROM t GROUP BY ALL",
    "qualify first row keeps every column": (
        "SELECT * FROM t QUALIFY row_number() OVER (PARTITION BY k ORDER BY n DESC, s) = 1"
    ),
    "qualify on a count": "SELECT k, s FROM t QUALIFY count(*) OVER (PARTITION BY k) > 1",
    "anti join using": "SELECT t.* FROM t ANTI JOIN (SELECT 1 AS k) AS o USING (k)",
    "semi join on": "SELECT s FROM t SEMI JOIN (SELECT 2 AS x) AS o ON o.x = t.k",
    "descending order puts nulls last": "SELECT s, row_number() OVER (ORDER BY n DESC) FROM t",
    "integer division is exact": "SELECT k, n / 3, n // 3 FROM t WHERE n IS NOT NULL",
    "try_cast of text to bigint": "SELECT v, TRY_CAST(v AS BIGINT) FROM t",
    "contains": "SELECT s, contains(coalesce(s, ''), 'c') FROM t",
    "list slices and order": "SELECT k, list(s ORDER BY s)[1], list(DISTINCT n ORDER BY n)[:2] FROM t GROUP BY ALL",
    "list_contains": "SELECT s FROM t WHERE list_contains(['a', 'e'], s)",
    "a series of days": (
        "SELECT CAST(unnest(generate_series(DATE '2024-02-27', DATE '2024-03-02', INTERVAL 1 DAY)) AS DATE) AS day"
    ),
    "epoch and hours": (
        "SELECT (epoch(TIMESTAMPTZ '2024-01-02 00:00:00+00') - epoch(TIMESTAMPTZ '2024-01-01 12:00:00+00')) / 3600"
    ),
    "greatest with a null": "SELECT greatest(n, 7) FROM t",
    "distinct on a row of two columns": "SELECT count(DISTINCT (k, s)) FROM t",
    "a JSON path computed from a column": (
        'SELECT s, TRY_CAST(json_extract_string(CAST(\'{"a": "4.5", "d": "x"}\' AS JSON), \'$.\' || s) AS DOUBLE) '
        "FROM t WHERE s IN ('a', 'd', 'e')"
    ),
}


@pytest.fixture(scope="module")
def engines():
    with scratch_database() as url, PostgresWarehouse(url) as postgres:
        local = duckdb.connect()
        for con in (local, postgres):
            con.execute(f"CREATE TEMP TABLE t AS SELECT * FROM {ROWS} AS v(k, s, n, v)")
        yield local, postgres
        local.close()


def normal(rows: list[tuple]) -> list[tuple]:
    def value(v):
        if isinstance(v, int | float) and not isinstance(v, bool):
            return float(v)
        if hasattr(v, "as_integer_ratio"):  # Decimal
            return float(v)
        if isinstance(v, list):
            return tuple(value(x) for x in v)
        return v

    return sorted((tuple(value(v) for v in row) for row in rows), key=repr)


@requires_postgres
@pytest.mark.parametrize("query", list(EQUIVALENT.values()), ids=list(EQUIVALENT))
def test_both_engines_answer_alike(engines, query: str) -> None:
    local, postgres = engines
    assert normal(postgres.execute(query).fetchall()) == normal(local.execute(query).fetchall())
