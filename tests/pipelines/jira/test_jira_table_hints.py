"""The merge hints of jira_raw tables, loaded for real into DuckDB with dlt.

Proves the semantics the sources rely on: an issue's changelog is replaced as a whole, tombstones
hard-delete an issue and its changelog, site snapshots leave other sites alone, and
issue_updates keeps the first detection of a change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dlt
import duckdb
import pyarrow as pa

from pipelines.config import SyncConfig
from pipelines.destination import make_pipeline
from pipelines.jira import _variant
from pipelines.jira.helpers import IssueColumns, issue_tombstones
from pipelines.jira.issues import ChangelogDedup
from pipelines.jira.pages import issue_from_json
from pipelines.jira.tables import from_rows


def issue(issue_id: str, updated: str, histories: list[dict]) -> dict:
    return {
        "id": issue_id,
        "key": f"A-{issue_id}",
        "fields": {
            "summary": "s",
            "project": {"id": "1", "key": "A"},
            "created": "2024-01-01T00:00:00.000+0000",
            "updated": updated,
            "labels": ["x"],
        },
        "changelog": {"total": len(histories), "histories": histories},
    }


def history(history_id: str, items: int) -> dict:
    return {
        "id": history_id,
        "created": "2024-01-02T00:00:00.000+0000",
        "items": [{"field": "status", "to": str(i)} for i in range(items)],
    }


def page(cloud_id: str, *issues: dict) -> tuple[pa.Table, pa.Table]:
    columns = IssueColumns(cloud_id, "2026-11-28T00:00:00+00:00")
    for item in issues:
        issue = issue_from_json(item)
        columns.add_issue(issue, issue.changelog.histories)
    return columns.issues_table(), columns.changelog_table()


def load(pipeline: dlt.Pipeline, *items: object) -> None:
    """One load through a hint-less resource; every item is routed with its table's hints."""

    @dlt.resource(name="writer")
    def writer():
        for item in items:
            yield _variant(item, "issues") if isinstance(item, pa.Table) else item

    pipeline.run(writer(), loader_file_format="parquet")


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def make(tmp_path: Path) -> tuple[dlt.Pipeline, Path]:
    config = SyncConfig.model_validate(
        {
            "warehouse": {"path": str(tmp_path / "wh.duckdb")},
            "tenants": [{"id": "t", "sites": [{"name": "s", "cloud_id": "c1"}]}],
        }
    )
    return make_pipeline("hints", config, pipelines_dir=tmp_path / "dlt"), tmp_path / "wh.duckdb"


def test_changelog_replaced_per_issue_and_tombstones_delete(tmp_path: Path) -> None:
    pipeline, path = make(tmp_path)
    issues, changelog = page(
        "c1", issue("1", "2024-01-03T00:00:00.000+0000", [history("201", 2), history("202", 1)])
    )
    other_issues, other_changelog = page(
        "c1", issue("2", "2024-01-03T00:00:00.000+0000", [history("203", 1)])
    )
    load(
        pipeline,
        issues,
        _variant(changelog, "issue_changelog"),
        other_issues,
        _variant(other_changelog, "issue_changelog"),
    )
    assert rows(path, "select count(*) from jira_raw.issue_changelog") == [(4,)]
    assert rows(path, "select labels->>0 from jira_raw.issues where id = '1'") == [("x",)]

    # Issue 1 comes back with one history rewritten: its rows are replaced, issue 2's stay.
    issues, changelog = page("c1", issue("1", "2024-01-04T00:00:00.000+0000", [history("201", 1)]))
    load(pipeline, issues, _variant(changelog, "issue_changelog"))
    assert rows(
        path, "select issue_id, history_id, item_index from jira_raw.issue_changelog order by 1, 2, 3"
    ) == [
        ("1", "201", 0),
        ("2", "203", 0),
    ]

    dead_issues, dead_changelog = issue_tombstones("c1", ["1"])
    load(pipeline, dead_issues, _variant(dead_changelog, "issue_changelog"))
    assert rows(path, "select id from jira_raw.issues") == [("2",)]
    assert rows(path, "select issue_id from jira_raw.issue_changelog") == [("2",)]
    column_types = dict(
        rows(
            path, "select column_name, data_type from information_schema.columns where table_name = 'issues'"
        )
    )
    assert column_types["updated"] == "TIMESTAMP WITH TIME ZONE"
    assert column_types["due_date"] == "DATE"


def test_site_snapshot_replaces_only_its_site(tmp_path: Path) -> None:
    pipeline, path = make(tmp_path)

    def projects(cloud_id: str, *keys: str) -> object:
        table = from_rows("projects", [{"cloud_id": cloud_id, "id": k, "key": k} for k in keys])
        return _variant(table, "projects")

    load(pipeline, projects("c1", "A", "B"), projects("c2", "X"))
    load(pipeline, projects("c1", "A"))
    assert rows(path, "select cloud_id, key from jira_raw.projects order by 1, 2") == [
        ("c1", "A"),
        ("c2", "X"),
    ]


def test_issue_updates_keep_the_first_detection(tmp_path: Path) -> None:
    pipeline, path = make(tmp_path)
    updated = datetime(2024, 1, 1, tzinfo=UTC)

    def detection(at: datetime) -> object:
        row = {"cloud_id": "c1", "id": "1", "updated": updated, "detected_at": at, "run_id": at.isoformat()}
        return _variant(from_rows("issue_updates", [row]), "issue_updates")

    first, second = datetime(2024, 1, 1, 0, 15, tzinfo=UTC), datetime(2024, 1, 1, 0, 30, tzinfo=UTC)
    load(pipeline, detection(first))
    load(pipeline, detection(second))
    assert rows(path, "select detected_at from jira_raw.issue_updates") == [(first,)]


def test_an_issue_met_twice_in_one_load_keeps_each_history_once(tmp_path: Path) -> None:
    pipeline, path = make(tmp_path)
    dedup = ChangelogDedup()
    first_issues, first = page("c1", issue("1", "2024-01-03T00:00:00.000+0000", [history("101", 2)]))
    again_issues, again = page(
        "c1", issue("1", "2024-01-05T00:00:00.000+0000", [history("101", 2), history("102", 1)])
    )
    load(
        pipeline,
        first_issues,
        _variant(dedup("c1", first), "issue_changelog"),
        again_issues,
        _variant(dedup("c1", again), "issue_changelog"),
    )
    assert rows(path, "select history_id, item_index from jira_raw.issue_changelog order by all") == [
        ("101", 0),
        ("101", 1),
        ("102", 0),
    ]
    assert rows(path, "select updated from jira_raw.issues") == [(datetime(2024, 1, 5, tzinfo=UTC),)]
