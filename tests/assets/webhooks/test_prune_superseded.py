"""The drain prunes its issue rows the REST load has overtaken, and the current state stays the same."""

from __future__ import annotations

import duckdb

from assets.core.raw_views import create_contract_tables, create_raw_views
from assets.webhooks.apply import prune_superseded
from tests.pipelines.test_current_state import at, deleted_by_webhook, delivered, loaded


def current(con) -> list[tuple]:
    create_raw_views(con, ["issues"])
    return con.execute("SELECT id, summary, updated FROM raw_issues ORDER BY id").fetchall()


def test_only_overtaken_deliveries_go_and_the_current_state_does_not_move() -> None:
    con = duckdb.connect()
    create_contract_tables(con)
    loaded(con, "1", "loaded later", updated=at(5), synced=at(6))
    delivered(con, "1", "overtaken", updated=at(4), event_at=at(4))
    loaded(con, "2", "loaded", updated=at(5), synced=at(5))
    delivered(con, "2", "same updated, kept", updated=at(5), event_at=at(5))
    loaded(con, "3", "loaded", updated=at(3), synced=at(3))
    delivered(con, "3", "newer, kept", updated=at(7), event_at=at(7))
    delivered(con, "4", "never loaded, kept", updated=at(2), event_at=at(2))
    loaded(con, "5", "loaded later, then deleted", updated=at(5), synced=at(5))
    delivered(con, "5", "overtaken", updated=at(4), event_at=at(4))
    deleted_by_webhook(con, "5", at(6))
    before = current(con)

    assert prune_superseded(con) == 2
    assert [r[0] for r in con.execute("SELECT id FROM jira_raw.webhook_issues ORDER BY id").fetchall()] == [
        "2",
        "3",
        "4",
    ]
    assert current(con) == before
    assert prune_superseded(con) == 0


def test_nothing_to_prune_before_the_first_load_or_delivery() -> None:
    assert prune_superseded(duckdb.connect()) == 0
