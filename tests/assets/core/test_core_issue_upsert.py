"""upsert_issues / delete_issues: applying changed issues to jira.issues between full runs."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.core.issues import delete_issues, upsert_issues
from pipelines.config import load_sync_config
from tests.assets.core.transform_world import (
    ALPHA,
    at,
    insert,
    new_warehouse,
    query,
    run_transforms,
    write_sync_file,
)


def raw_issue(
    issue_id, type_name="Story", type_id="10001", status=("1", "To Do", "new"), updated=None, **extra
):
    return {
        "cloud_id": ALPHA,
        "id": issue_id,
        "key": f"OPS-{issue_id}",
        "project_id": "101",
        "project_key": "OPS",
        "issue_type_id": type_id,
        "issue_type_name": type_name,
        "status_id": status[0],
        "status_name": status[1],
        "status_category_key": status[2],
        "summary": f"issue {issue_id}",
        "created": at(1),
        "updated": updated or at(2),
        **extra,
    }


@pytest.fixture
def warehouse(tmp_path) -> tuple[Path, Path]:
    sync_file = write_sync_file(tmp_path)
    path = tmp_path / "warehouse.duckdb"
    new_warehouse(path)
    with duckdb.connect(str(path)) as con:
        insert(con, "projects", [{"cloud_id": ALPHA, "id": "101", "key": "OPS"}])
        insert(con, "issue_types", [{"cloud_id": ALPHA, "id": "10001", "name": "Story"}])
        insert(
            con, "statuses", [{"cloud_id": ALPHA, "id": "1", "name": "To Do", "status_category_key": "new"}]
        )
        insert(con, "issues", [raw_issue("1"), raw_issue("2"), raw_issue("3")])
    core = [dg.AssetKey(["jira", t]) for t in ("issue_type_categories", "status_states", "issues")]
    assert run_transforms(sync_file, selection=core).success
    return path, sync_file


def changed(con, rows):
    columns = sorted({c for row in rows for c in row})
    con.execute(
        "CREATE TEMP TABLE changed AS SELECT * FROM (VALUES "
        + ", ".join("(" + ", ".join("?" for _ in columns) + ")" for _ in rows)
        + ") AS v("
        + ", ".join(columns)
        + ")",
        [row.get(c) for row in rows for c in columns],
    )


def test_upsert_applies_newer_rows_maps_new_types_and_ignores_stale_ones(warehouse):
    path, sync_file = warehouse
    config = load_sync_config(sync_file)
    with duckdb.connect(str(path)) as con:
        changed(
            con,
            [
                # issue 1: two events; the later one wins
                raw_issue("1", status=("5", "Done", "done"), updated=at(3)),
                raw_issue("1", status=("3", "In Progress", "indeterminate"), updated=at(2, 18)),
                # issue 2: an event older than the row -> never overwrites it
                raw_issue("2", status=("5", "Done", "done"), updated=at(1, 13)),
                # issue 9: new, with a type and a status the mapping tables do not know yet
                raw_issue(
                    "9", type_name="Hotfix", type_id="10077", status=("60", "Shipped", "done"), updated=at(4)
                ),
            ],
        )
        written = upsert_issues(con, "changed", config)
    assert written == 2
    rows = query(
        path,
        "SELECT issue_id, status_name, state, issue_type_name, type_category, type_rule FROM jira.issues ORDER BY 1",
    )
    assert rows == [
        ("1", "Done", "closed", "Story", "feature", "keyword:story"),
        ("2", "To Do", "open", "Story", "feature", "keyword:story"),
        ("3", "To Do", "open", "Story", "feature", "keyword:story"),
        ("9", "Shipped", "closed", "Hotfix", "bug", "keyword:fix"),
    ]
    assert query(path, "SELECT tenant_id FROM jira.issues WHERE issue_id = '9'") == [("acme",)]
    assert query(
        path, "SELECT type_category FROM jira.issue_type_categories WHERE issue_type_id = '10077'"
    ) == [("bug",)]


def test_delete_issues_removes_rows(warehouse):
    path, _ = warehouse
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE TEMP TABLE gone AS SELECT '{ALPHA}' AS cloud_id, '2' AS issue_id")
        assert delete_issues(con, "gone") == 1
    assert query(path, "SELECT issue_id FROM jira.issues ORDER BY 1") == [("1",), ("3",)]


def test_upsert_names_the_missing_column(warehouse):
    path, sync_file = warehouse
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TEMP TABLE changed AS SELECT 'x' AS cloud_id, now() AS updated")
        with pytest.raises(ValueError, match="has no column 'id'"):
            upsert_issues(con, "changed", load_sync_config(sync_file))
