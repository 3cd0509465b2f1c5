"""The headline flow figures: one definition for the Dagster metadata and the flow report.

Over the last 12 weeks (84 days ending on the as-of day, so no partial calendar week drags a
figure down): the median and 85th percentile cycle time of the issues closed in that window, the
mean throughput and arrivals per week, and the WIP at the end of the as-of day. The SQL is plain
(ordered-set percentiles, FILTER, date arithmetic) so it runs on any connection to the tables.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

HEADLINE_WEEKS = 12

CYCLE_SQL = """
SELECT
    count(*) AS closed,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY cycle_time_hours) / 24 AS median_cycle_days,
    percentile_cont(0.85) WITHIN GROUP (ORDER BY cycle_time_hours) / 24 AS p85_cycle_days
FROM analytics.issue_cycle_times
WHERE closed_at > ? AND closed_at <= ? AND cycle_time_hours IS NOT NULL
"""

FLOW_SQL = """
SELECT
    coalesce(sum(wip) FILTER (WHERE day = ?), 0) AS wip,
    coalesce(sum(throughput) FILTER (WHERE day > ?), 0) AS throughput,
    coalesce(sum(arrivals) FILTER (WHERE day > ?), 0) AS arrivals
FROM analytics.flow_daily
WHERE day <= ?
"""


def cycle_time_headline(con: Any, as_of: datetime) -> dict[str, float | int]:
    """Median and p85 cycle time (days) of the issues closed in the 12 weeks up to `as_of`.

    The percentiles are left out when no issue with a cycle time closed in the window.
    """
    closed, median, p85 = con.execute(CYCLE_SQL, [as_of - timedelta(weeks=HEADLINE_WEEKS), as_of]).fetchall()[
        0
    ]
    figures: dict[str, float | int] = {"closed_last_12_weeks": int(closed)}
    if closed:
        figures["median_cycle_time_days"] = round(float(median), 2)
        figures["p85_cycle_time_days"] = round(float(p85), 2)
    return figures


def flow_headline(con: Any, as_of_day: date) -> dict[str, float | int]:
    """WIP at the end of `as_of_day`; throughput and arrivals per week over the 12 weeks up to it."""
    since = as_of_day - timedelta(weeks=HEADLINE_WEEKS)
    wip, throughput, arrivals = con.execute(FLOW_SQL, [as_of_day, since, since, as_of_day]).fetchall()[0]
    return {
        "wip": int(wip),
        "weekly_throughput": round(int(throughput) / HEADLINE_WEEKS, 2),
        "weekly_arrivals": round(int(arrivals) / HEADLINE_WEEKS, 2),
    }
