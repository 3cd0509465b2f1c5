"""The acceptance of the PostgreSQL deployment: the main job against the simulator, once with the
demo's DuckDB sync file and once with a PostgreSQL one (warehouse and Dagster instance on
PostgreSQL), gives equal `jira_raw`, `jira` and `analytics` tables row for row, and what analysts
read - the DuckDB snapshot file, the PostgreSQL published schemas - is equal too.

Columns that hold the moment or the run that wrote a row (sync and detection times, run ids, dlt's
load ids) are compared within the time between the two runs, or left out (dlt's row ids).
Needs `JIRA_SYNC_TEST_POSTGRES_URL` (CI sets it); skips without it.
"""

from __future__ import annotations

import pytest

from jira_sync.demo_world import DemoOptions, connected_demo
from jira_sync.truth_check import check_ids
from tests.assets.warehouse.engines_kit import duckdb_tables, postgres_tables, table_differences
from tests.postgres_server import requires_postgres, scratch_database
from tests.reliability.reliability_kit import (
    dagster_home,
    main_job_in_process,
    postgres_dagster_home,
    scenario_sync_file,
)

pytestmark = requires_postgres

# What Jira answered when each run registered its webhook: the first run creates it, the second
# finds it (same ids, later clock).
WEBHOOK_MOMENT = ("action", "detail", "expires_at", "days_left", "jira_time")


def without(tables: dict, names: set[str], columns: tuple[str, ...] = ()) -> dict:
    """The tables except `names` and dlt's bookkeeping tables, without `columns` where present."""
    kept = {}
    for name, (cols, rows) in tables.items():
        if name in names or name.split(".")[1].startswith("_dlt"):
            continue
        keep = [i for i, c in enumerate(cols) if c not in columns]
        kept[name] = ([cols[i] for i in keep], [tuple(row[i] for i in keep) for row in rows])
    return kept


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("main-job-engines")
    options = DemoOptions(issues=80, seed=14, warehouse=base / "unused.duckdb", demo_dir=base / "demo")
    with (
        connected_demo(options) as demo,
        scratch_database("jira_sync_warehouse") as warehouse_url,
        scratch_database("jira_sync_dagster") as dagster_url,
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        monkeypatch.setenv("WAREHOUSE_URL", warehouse_url)
        on_duckdb = scenario_sync_file(demo, base / "duckdb")
        on_postgres = scenario_sync_file(
            demo, base / "postgres", warehouse={"destination": "postgres", "credentials_env": "WAREHOUSE_URL"}
        )
        outcomes = {
            "duckdb": main_job_in_process(demo, on_duckdb, dagster_home(base / "home-duckdb"), monkeypatch),
            "postgres": main_job_in_process(
                demo,
                on_postgres,
                postgres_dagster_home(base / "home-postgres", dagster_url, monkeypatch),
                monkeypatch,
            ),
        }
        truth = demo.simulator.truth()
        sites = {s.id: s.name for s in demo.sites}
        yield {
            "outcomes": outcomes,
            "warehouse": base / "duckdb" / "warehouse.duckdb",
            "snapshot": base / "duckdb" / "jira_analytics.duckdb",
            "url": warehouse_url,
            "truth": truth,
            "sites": sites,
        }


def test_every_step_of_the_main_job_succeeds_on_both(runs):
    for engine, outcomes in runs["outcomes"].items():
        assert [o.step.title for o in outcomes if not o.success] == [], (engine, [o.error for o in outcomes])
        assert len(outcomes) >= 5


def test_jira_raw_is_equal_and_postgres_equals_the_truth(runs):
    left = without(duckdb_tables(runs["warehouse"], ["jira_raw"]), set())
    right = without(postgres_tables(runs["url"], ["jira_raw"]), set())
    assert {"jira_raw.issues", "jira_raw.issue_changelog", "jira_raw.users"} <= set(left)
    assert table_differences(left, right) == []

    import psycopg2

    with psycopg2.connect(runs["url"]) as connection:
        cursor = connection.cursor()

        def read_ids(table: str, expr: str, owner_column: str | None, owner: str | None) -> list[str]:
            where, params = (f"WHERE {owner_column} = %s", [owner]) if owner_column else ("", [])
            # derived tables (jira.issue_sprints) as analysts read them: the published schemas
            relation = table if "." in table else f"jira_raw.{table}"
            cursor.execute(f"SELECT {expr} FROM {relation} {where}", params)
            return [str(row[0]) for row in cursor.fetchall()]

        checks = check_ids(read_ids, runs["truth"], runs["sites"])
    connection.close()
    assert [c.line() for c in checks if not c.ok] == []


def test_jira_and_analytics_are_equal(runs):
    left = without(duckdb_tables(runs["warehouse"]), set(), WEBHOOK_MOMENT)
    right = without(postgres_tables(runs["url"]), set(), WEBHOOK_MOMENT)
    assert {"jira.issues", "analytics.issue_status_history", "analytics.flow_daily"} <= set(left)
    assert table_differences(left, right) == []


def test_analysts_read_the_same_in_the_snapshot_and_the_published_schemas(runs):
    snapshot = duckdb_tables(runs["snapshot"], ["jira", "analytics", "main"])
    published = postgres_tables(runs["url"], published=True)
    snapshot_info = snapshot.pop("main.snapshot_info")
    published_info = published.pop("jira.snapshot_info")
    assert (
        table_differences(without(snapshot, set(), WEBHOOK_MOMENT), without(published, set(), WEBHOOK_MOMENT))
        == []
    )
    assert sorted(row[2:] for row in snapshot_info[1]) == sorted(row[2:] for row in published_info[1])
