"""The current state of the issues, derived from every writer's table (pipelines/current_state.py),
as the transforms read it (`raw_issues`, `raw_issue_changelog`) on a DuckDB warehouse whose
`jira_raw` tables were made from the registry."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from assets.core.raw_views import create_contract_tables, create_raw_views

SITE = "cloud-1"


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def con():
    connection = duckdb.connect()
    create_contract_tables(connection)
    yield connection
    connection.close()


def loaded(con, issue_id: str, summary: str, updated: datetime, synced: datetime) -> None:
    con.execute(
        "INSERT INTO jira_raw.issues (cloud_id, id, key, summary, updated, synced_at) VALUES (?, ?, ?, ?, ?, ?)",
        [SITE, issue_id, f"P-{issue_id}", summary, updated, synced],
    )


def delivered(con, issue_id: str, summary: str, updated: datetime, event_at: datetime) -> None:
    con.execute(
        "INSERT OR REPLACE INTO jira_raw.webhook_issues (cloud_id, id, key, summary, updated, event_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [SITE, issue_id, f"P-{issue_id}", summary, updated, event_at],
    )


def deleted_by_webhook(con, issue_id: str, moment: datetime) -> None:
    con.execute(
        'INSERT INTO jira_raw.webhook_events (cloud_id, webhook_identifier, event, issue_id, "timestamp") '
        "VALUES (?, ?, 'jira:issue_deleted', ?, ?)",
        [SITE, f"delete-{issue_id}-{moment.isoformat()}", issue_id, moment],
    )


def deleted_by_census(con, issue_id: str, moment: datetime) -> None:
    con.execute(
        "INSERT INTO jira_raw.issue_deletions (cloud_id, id, detected_at, reason) VALUES (?, ?, ?, 'census')",
        [SITE, issue_id, moment],
    )


def history(con, table: str, issue_id: str, history_id: str, item_index: int = 0) -> None:
    con.execute(
        f"INSERT INTO jira_raw.{table} (cloud_id, history_id, item_index, issue_id, field_id) "
        "VALUES (?, ?, ?, ?, 'status')",
        [SITE, history_id, item_index, issue_id],
    )


def current(con) -> dict[str, str]:
    create_raw_views(con, ["issues"])
    return dict(con.execute("SELECT id, summary FROM raw_issues ORDER BY id").fetchall())


def current_changelog(con) -> list[tuple[str, str, int]]:
    create_raw_views(con, ["issue_changelog"])
    return con.execute(
        "SELECT issue_id, history_id, item_index FROM raw_issue_changelog ORDER BY ALL"
    ).fetchall()


def test_the_newest_update_wins_whoever_wrote_it(con) -> None:
    loaded(con, "1", "loaded, newer", updated=at(5), synced=at(6))
    delivered(con, "1", "delivered, older", updated=at(4), event_at=at(4))  # a late delivery
    loaded(con, "2", "loaded, older", updated=at(3), synced=at(3))
    delivered(con, "2", "delivered, newer", updated=at(7), event_at=at(7))
    delivered(con, "3", "created by a delivery", updated=at(2), event_at=at(2))
    loaded(con, "4", "only loaded", updated=at(1), synced=at(2))
    assert current(con) == {
        "1": "loaded, newer",
        "2": "delivered, newer",
        "3": "created by a delivery",
        "4": "only loaded",
    }


def test_on_equal_updated_the_later_observation_wins(con) -> None:
    loaded(con, "1", "seen by the load", updated=at(5), synced=at(9))
    delivered(con, "1", "seen by the delivery", updated=at(5), event_at=at(6))
    loaded(con, "2", "seen by the load", updated=at(5), synced=at(5))
    delivered(con, "2", "seen by the delivery", updated=at(5), event_at=at(5))  # a tie: the delivery
    assert current(con) == {"1": "seen by the load", "2": "seen by the delivery"}


def test_a_deletion_removes_what_was_seen_before_it_only(con) -> None:
    loaded(con, "1", "deleted by a delivery", updated=at(2), synced=at(3))
    deleted_by_webhook(con, "1", at(4))
    loaded(con, "2", "updated after its delete event", updated=at(2), synced=at(3))
    deleted_by_webhook(con, "2", at(4))
    delivered(con, "2", "back", updated=at(5), event_at=at(5))
    delivered(con, "3", "created by a delivery, then found deleted", updated=at(2), event_at=at(2))
    deleted_by_census(con, "3", at(8))
    loaded(con, "4", "seen again after the census", updated=at(6), synced=at(9))
    deleted_by_census(con, "4", at(8))
    assert current(con) == {"2": "back", "4": "seen again after the census"}


def test_the_changelog_is_both_tables_once_per_item_for_current_issues(con) -> None:
    loaded(con, "1", "kept", updated=at(2), synced=at(2))
    history(con, "issue_changelog", "1", "100")
    history(con, "webhook_changelog", "1", "100")  # the same item, delivered and then loaded
    history(con, "webhook_changelog", "1", "101")
    history(con, "webhook_changelog", "1", "101", 1)
    loaded(con, "2", "deleted", updated=at(2), synced=at(2))
    history(con, "issue_changelog", "2", "200")
    history(con, "webhook_changelog", "2", "201")
    deleted_by_webhook(con, "2", at(3))
    assert current_changelog(con) == [("1", "100", 0), ("1", "101", 0), ("1", "101", 1)]


def test_tombstones_of_the_load_are_not_current(con) -> None:
    loaded(con, "1", "alive", updated=at(2), synced=at(2))
    con.execute(
        "INSERT INTO jira_raw.issues (cloud_id, id, updated, synced_at, deleted) VALUES (?, '2', ?, ?, true)",
        [SITE, at(2), at(2)],
    )
    assert current(con) == {"1": "alive"}


def test_nothing_loaded_or_delivered_reads_as_empty() -> None:
    con = duckdb.connect()
    assert create_raw_views(con, ["issues", "issue_changelog"]) == ["issues", "issue_changelog"]
    assert con.execute("SELECT count(*) FROM raw_issues").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM raw_issue_changelog").fetchone() == (0,)
