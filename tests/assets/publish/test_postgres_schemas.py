"""PostgreSQL's published schemas: swapped in one transaction, never half-written, and a reader
holding a transaction (or running a long query) never makes a publish wait.

The working schemas are written directly here (the transforms' own runs are in
tests/assets/warehouse/test_dual_engine.py); each publish copies them and swaps.
"""

from __future__ import annotations

import threading
import time

import pytest

from assets.publish.postgres_schemas import publish_schemas
from assets.warehouse.postgres import PostgresWarehouse
from tests.postgres_server import psycopg2_module, requires_postgres, scratch_database

pytestmark = requires_postgres


@pytest.fixture
def warehouse():
    with scratch_database() as url, PostgresWarehouse(url) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS jira")
        con.execute("CREATE SCHEMA IF NOT EXISTS analytics")
        write_run(con, 1)
        yield url, con


def write_run(con: PostgresWarehouse, run: int) -> None:
    """The working tables as transform run `run` leaves them: 10 * run issues, one day per issue."""
    rows = f"FROM generate_series(1, {10 * run}) AS g(n)"
    con.execute(f"CREATE OR REPLACE TABLE jira.issues AS SELECT n AS issue_id, {run} AS run {rows}")
    con.execute(f"CREATE OR REPLACE TABLE analytics.flow_daily AS SELECT n AS day, {run} AS run {rows}")


def analyst(url: str):
    connection = psycopg2_module().connect(url, application_name="analyst")
    connection.autocommit = False  # psycopg2 opens a transaction at the first statement
    return connection


def read_state(cursor) -> tuple:
    """One statement reads both schemas and the run that published them."""
    cursor.execute(
        "SELECT (SELECT count(*) FROM jira.issues), (SELECT count(*) FROM analytics.flow_daily), "
        "(SELECT max(run_id) FROM jira.snapshot_info), (SELECT max(run) FROM analytics.flow_daily)"
    )
    return cursor.fetchone()


def table_oid(cursor, name: str) -> int:
    cursor.execute("SELECT %s::regclass::oid", [name])
    return cursor.fetchone()[0]


def test_a_publish_replaces_both_schemas_and_says_which_run(warehouse):
    url, con = warehouse
    published = publish_schemas(con, "run-1")
    assert published.row_counts == {"jira.issues": 10, "analytics.flow_daily": 10}
    assert published.method == "rows" and published.reshaped == ["analytics.flow_daily", "jira.issues"]
    with analyst(url) as connection:
        cursor = connection.cursor()
        assert read_state(cursor) == (10, 10, "run-1", 1)
        oid = table_oid(cursor, "jira.issues")
    connection.close()
    write_run(con, 2)
    published = publish_schemas(con, "run-2")
    assert (published.method, published.reshaped) == ("rows", [])
    with analyst(url) as connection:
        cursor = connection.cursor()
        assert read_state(cursor) == (20, 20, "run-2", 2)
        assert table_oid(cursor, "jira.issues") == oid  # the same table, new rows
        cursor.execute("SELECT obj_description('jira.issues'::regclass, 'pg_class')")
        assert "issue" in cursor.fetchone()[0]  # described from pipelines/published_tables.py
    connection.close()


def test_a_reader_holding_a_transaction_never_blocks_a_publish(warehouse):
    url, con = warehouse
    publish_schemas(con, "run-1")
    reader = analyst(url)
    cursor = reader.cursor()
    assert read_state(cursor) == (10, 10, "run-1", 1)  # ACCESS SHARE on the tables, held until commit
    repeatable = analyst(url)
    repeatable.set_session(isolation_level="REPEATABLE READ")
    assert read_state(repeatable.cursor()) == (10, 10, "run-1", 1)

    write_run(con, 2)
    started = time.monotonic()
    published = publish_schemas(con, "run-2")
    took = time.monotonic() - started
    assert took < 5, f"the publish waited {took:.1f} s for the readers"
    assert published.method == "rows"

    # READ COMMITTED: the reader's next statement sees run 2 whole; REPEATABLE READ keeps run 1 whole
    assert read_state(cursor) == (20, 20, "run-2", 2)
    assert read_state(repeatable.cursor()) == (10, 10, "run-1", 1)
    with analyst(url) as other:
        assert read_state(other.cursor()) == (20, 20, "run-2", 2)
    other.close()
    for connection in (reader, repeatable):
        connection.commit()
        connection.close()


def test_a_new_shape_while_a_reader_holds_the_table_publishes_by_renaming(warehouse):
    url, con = warehouse
    publish_schemas(con, "run-1")
    reader = analyst(url)
    assert read_state(reader.cursor()) == (10, 10, "run-1", 1)
    con.execute(
        "CREATE OR REPLACE TABLE jira.issues AS SELECT n AS issue_id, 2 AS run, 'x' AS added FROM generate_series(1, 20) AS g(n)"
    )
    con.execute(
        "CREATE OR REPLACE TABLE analytics.flow_daily AS SELECT n AS day, 2 AS run FROM generate_series(1, 20) AS g(n)"
    )
    started = time.monotonic()
    published = publish_schemas(con, "run-2", lock_timeout="300ms")
    assert time.monotonic() - started < 5
    assert published.method == "renamed" and len(published.retired_kept) == 2  # the reader still has them
    with analyst(url) as other:
        cursor = other.cursor()
        assert read_state(cursor) == (20, 20, "run-2", 2)
        cursor.execute("SELECT count(added) FROM jira.issues")
        assert cursor.fetchone() == (20,)
    other.close()
    reader.commit()
    reader.close()
    write_run(con, 3)  # back to the old shape, nobody reading: the tables are recreated in place
    published = publish_schemas(con, "run-3")
    assert published.method == "rows" and published.reshaped == ["jira.issues"]
    assert len(published.retired_dropped) == 2 and published.retired_kept == []


def test_a_long_query_finishes_on_the_run_it_started_with(warehouse):
    url, con = warehouse
    publish_schemas(con, "run-1")
    results: list[tuple] = []

    def long_query() -> None:
        with analyst(url) as connection:
            cursor = connection.cursor()
            cursor.execute(
                "SELECT pg_sleep(2), (SELECT count(*) FROM jira.issues), max(run) FROM jira.issues"
            )
            results.append(cursor.fetchone()[1:])
        connection.close()

    thread = threading.Thread(target=long_query)
    thread.start()
    time.sleep(0.5)  # the query reads run 1
    write_run(con, 2)
    started = time.monotonic()
    publish_schemas(con, "run-2")
    assert time.monotonic() - started < 2  # the publish did not wait for the query
    thread.join()
    assert results == [(10, 1)]  # whole run 1, not a mix


def test_readers_polling_through_publishes_never_see_a_mixed_state(warehouse):
    url, con = warehouse
    publish_schemas(con, "run-1")
    seen: set[tuple] = set()
    stop = threading.Event()

    def poll() -> None:
        connection = analyst(url)
        connection.autocommit = True  # each statement on its own (psycopg2's `with` would open a transaction)
        cursor = connection.cursor()
        while not stop.is_set():
            seen.add(read_state(cursor))
            time.sleep(0.001)  # leave the publishing thread the GIL
        connection.close()

    threads = [threading.Thread(target=poll) for _ in range(3)]
    for thread in threads:
        thread.start()
    for run in range(2, 6):
        write_run(con, run)
        publish_schemas(con, f"run-{run}")
    stop.set()
    for thread in threads:
        thread.join()
    assert seen <= {(10 * run, 10 * run, f"run-{run}", run) for run in range(1, 6)}
    assert len(seen) >= 2


def test_a_failed_publish_leaves_the_published_schemas_as_they_were(warehouse):
    url, con = warehouse
    publish_schemas(con, "run-1")
    con.execute("CREATE OR REPLACE TABLE jira.broken AS SELECT 1 AS x")
    with pytest.raises(Exception, match="readers_that_do_not_exist"):
        publish_schemas(con, "run-2", readers=["readers_that_do_not_exist"])
    with analyst(url) as connection:
        cursor = connection.cursor()
        assert read_state(cursor) == (10, 10, "run-1", 1)
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE '%%publishing'")
        assert cursor.fetchone() == (0,)
    connection.close()
