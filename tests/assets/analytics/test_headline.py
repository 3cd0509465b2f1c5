"""The headline figures (Dagster metadata and report tiles) on hand-made tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from assets.analytics.headline import cycle_time_headline, flow_headline

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)


@pytest.fixture
def con():
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("CREATE SCHEMA analytics")
        con.execute(
            "CREATE TABLE analytics.issue_cycle_times (closed_at TIMESTAMPTZ, cycle_time_hours DOUBLE)"
        )
        con.execute(
            "CREATE TABLE analytics.flow_daily (day DATE, wip BIGINT, arrivals BIGINT, throughput BIGINT)"
        )
        yield con


def test_cycle_time_percentiles_of_the_issues_closed_in_the_last_12_weeks(con):
    rows = [(AS_OF - timedelta(days=d), hours) for d, hours in enumerate([24, 48, 72, 96, 480], start=1)]
    rows += [
        (AS_OF - timedelta(weeks=12, hours=1), 10_000),  # just before the window
        (AS_OF + timedelta(hours=1), 10_000),  # after the as-of moment
        (AS_OF - timedelta(days=2), None),  # closed without being in progress
        (None, None),  # open
    ]
    con.executemany("INSERT INTO analytics.issue_cycle_times VALUES (?, ?)", rows)
    assert cycle_time_headline(con, AS_OF) == {
        "closed_last_12_weeks": 5,
        "median_cycle_time_days": 3.0,
        "p85_cycle_time_days": pytest.approx(4 + 0.4 * 16),  # between 4 and 20 days
    }


def test_no_issue_closed_leaves_the_percentiles_out(con):
    assert cycle_time_headline(con, AS_OF) == {"closed_last_12_weeks": 0}


def test_flow_figures_per_week_over_12_weeks_and_wip_at_the_end_of_the_day(con):
    today = date(2026, 6, 30)
    rows = [(today - timedelta(days=d), 3, 2, 1) for d in range(0, 84)]  # 84 days in the window
    rows += [(today - timedelta(days=84), 9, 50, 50), (today + timedelta(days=1), 99, 50, 50)]
    con.executemany("INSERT INTO analytics.flow_daily VALUES (?, ?, ?, ?)", rows)
    con.execute("INSERT INTO analytics.flow_daily VALUES (?, 4, 0, 0)", [today])  # a second group
    assert flow_headline(con, today) == {"wip": 7, "weekly_throughput": 7.0, "weekly_arrivals": 14.0}
