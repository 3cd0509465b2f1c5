"""What the flow report shows, read from the published tables through one connection.

Every dataset is at the finest grain the charts need — per group of (site, project, team) — so
the page can show any slice (a site, a project, a team, or a mix) by filtering rows and letting
Vega-Lite aggregate. Groups are numbered; rows carry the group number, not the names. Columns are
sent as arrays (columnar JSON is about half the size of a list of objects).

The SQL is plain and set-based (window functions, FILTER, date arithmetic, `extract(epoch ...)`)
and reads only `jira.*` and `analytics.*`, so it runs on the snapshot, the warehouse, or another
database holding the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from assets.analytics.headline import HEADLINE_WEEKS, cycle_time_headline, flow_headline
from pipelines.published_tables import NO_TEAM

STATES = ("closed", "in_progress", "open")

AS_OF_SQL = "SELECT max(as_of) FROM analytics.issue_cycle_times"
SNAPSHOT_SQL = "SELECT max(published_at), max(run_id) FROM main.snapshot_info"

GROUPS_SQL = """
SELECT DISTINCT i.cloud_id, coalesce(s.site_name, i.cloud_id) AS site_name, i.project_key,
    coalesce(t.team_id, '') AS team_key, t.team_name
FROM jira.issues AS i
JOIN analytics.issue_teams AS t ON t.cloud_id = i.cloud_id AND t.issue_id = i.issue_id
LEFT JOIN jira.sync_sites AS s ON s.cloud_id = i.cloud_id
"""

# Issues per state at the end of each day (the day's last moment; the as-of day: now), from the
# status intervals, with the same day rule as analytics.flow_daily: an interval counts on the days
# from the one it starts to the day before the one it ends. Computed as +1/-1 steps summed over a
# calendar (group x state x day), not as a join of every interval with every day. The closed band
# holds the issues closed in the window (a closed interval counts when the close that began its
# run of closed statuses happened in the window), so it starts at zero and only grows with closes.
STATES_DAILY_SQL = """
WITH closings AS (
    SELECT
        h.*,
        max(CASE WHEN h.state = 'closed' AND h.previous_state IS DISTINCT FROM 'closed' THEN h.entered_at END)
            OVER (PARTITION BY h.cloud_id, h.issue_id ORDER BY h.interval_number ROWS UNBOUNDED PRECEDING)
            AS closed_at
    FROM analytics.issue_status_history AS h
),
intervals AS (
    SELECT
        cloud_id, issue_id, state,
        CAST(entered_at AS DATE) AS first_day,
        CASE WHEN left_at IS NULL THEN CAST(? AS DATE) ELSE CAST(left_at - INTERVAL '1 day' AS DATE) END
            AS last_day
    FROM closings
    WHERE state <> 'closed' OR CAST(closed_at AS DATE) >= CAST(? AS DATE)
),
steps AS (
    SELECT cloud_id, issue_id, state, greatest(first_day, CAST(? AS DATE)) AS day, 1 AS step
    FROM intervals
    WHERE first_day <= last_day AND last_day >= CAST(? AS DATE)
    UNION ALL
    SELECT cloud_id, issue_id, state, last_day + 1, -1
    FROM intervals
    WHERE first_day <= last_day AND last_day >= CAST(? AS DATE) AND last_day < CAST(? AS DATE)
),
grouped AS (
    SELECT s.cloud_id, i.project_key, coalesce(t.team_id, '') AS team_key, s.state, s.day, sum(s.step) AS step
    FROM steps AS s
    JOIN jira.issues AS i ON i.cloud_id = s.cloud_id AND i.issue_id = s.issue_id
    JOIN analytics.issue_teams AS t ON t.cloud_id = s.cloud_id AND t.issue_id = s.issue_id
    GROUP BY s.cloud_id, i.project_key, coalesce(t.team_id, ''), s.state, s.day
),
days AS (
    SELECT CAST(d AS DATE) AS day
    FROM generate_series(CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), INTERVAL '1 day') AS days(d)
),
calendar AS (
    SELECT k.cloud_id, k.project_key, k.team_key, k.state, days.day
    FROM (SELECT DISTINCT cloud_id, project_key, team_key, state FROM grouped) AS k
    CROSS JOIN days
),
counts AS (
    SELECT
        c.cloud_id, c.project_key, c.team_key, c.state, c.day,
        sum(coalesce(g.step, 0)) OVER (
            PARTITION BY c.cloud_id, c.project_key, c.team_key, c.state ORDER BY c.day
        ) AS issues
    FROM calendar AS c
    LEFT JOIN grouped AS g
        ON g.cloud_id = c.cloud_id AND g.project_key = c.project_key AND g.team_key = c.team_key
        AND g.state = c.state AND g.day = c.day
)
SELECT cloud_id, project_key, team_key, state, day, issues
FROM counts
WHERE issues <> 0
ORDER BY day
"""

# Arrivals and throughput in 7-day buckets that end on the as-of day (so the last bucket is a
# whole week, not a partial calendar week); week_end is the bucket's last day.
WEEKLY_SQL = """
SELECT cloud_id, project_key, coalesce(team_id, '') AS team_key,
    CAST(? AS DATE) - 7 * CAST(floor((CAST(? AS DATE) - day) / 7.0) AS INTEGER) AS week_end,
    sum(arrivals) AS arrivals, sum(throughput) AS throughput
FROM analytics.flow_daily
WHERE day > CAST(? AS DATE) AND day <= CAST(? AS DATE)
GROUP BY cloud_id, project_key, coalesce(team_id, ''), week_end
ORDER BY week_end
"""

CLOSED_SQL = """
SELECT cloud_id, project_key, coalesce(team_id, '') AS team_key, issue_key, type_category,
    extract(epoch FROM closed_at) * 1000 AS closed_ms,
    cycle_time_hours / 24 AS cycle_days, lead_time_hours / 24 AS lead_days
FROM analytics.issue_cycle_times
WHERE closed_at > ? AND closed_at <= ?
ORDER BY closed_at
"""

AGING_SQL = """
SELECT c.cloud_id, c.project_key, coalesce(c.team_id, '') AS team_key, c.issue_key, c.type_category,
    h.status_name, (extract(epoch FROM CAST(? AS TIMESTAMPTZ)) - extract(epoch FROM c.first_in_progress_at)) / 86400
        AS age_days
FROM analytics.issue_cycle_times AS c
JOIN analytics.issue_status_history AS h
    ON h.cloud_id = c.cloud_id AND h.issue_id = c.issue_id AND h.left_at IS NULL
WHERE c.state = 'in_progress' AND c.first_in_progress_at IS NOT NULL
ORDER BY c.first_in_progress_at
"""

CREATED_SQL = """
SELECT i.cloud_id, i.project_key, coalesce(t.team_id, '') AS team_key,
    CAST(date_trunc('month', i.created) AS DATE) AS month, i.type_category, count(*) AS created
FROM jira.issues AS i
JOIN analytics.issue_teams AS t ON t.cloud_id = i.cloud_id AND t.issue_id = i.issue_id
WHERE i.created >= ? AND i.created <= ?
GROUP BY i.cloud_id, i.project_key, coalesce(t.team_id, ''), CAST(date_trunc('month', i.created) AS DATE),
    i.type_category
ORDER BY month
"""


@dataclass
class Group:
    """One (site, project, team) the datasets are split by."""

    site: str
    project: str
    team_key: str  # the team id, '' for no team
    team: str


@dataclass
class ReportData:
    as_of: datetime  # when the transforms computed the tables (the clocks of open issues run to it)
    published_at: datetime | None  # when the snapshot was published
    run_id: str | None
    weeks: int
    months: int
    groups: list[Group]
    datasets: dict[str, dict[str, list[Any]]]  # name -> column -> values
    headline: dict[str, float | int] = field(default_factory=dict)

    @property
    def as_of_day(self) -> date:
        return self.as_of.astimezone(UTC).date()

    def rows(self, name: str) -> int:
        columns = self.datasets[name]
        return len(next(iter(columns.values()))) if columns else 0


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _month_start(day: date, months_back: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months_back
    return date(month_index // 12, month_index % 12 + 1, 1)


def read_report_data(con: Any, *, weeks: int, months: int) -> ReportData:
    """Everything the report shows, from a connection to the published tables (UTC session)."""
    con.execute("SET TimeZone = 'UTC'")
    published_at, run_id = _snapshot_info(con)
    (as_of,) = con.execute(AS_OF_SQL).fetchall()[0]
    as_of = _utc(as_of) or published_at or datetime.now(UTC)
    today = as_of.date()
    window_start = today - timedelta(days=7 * weeks - 1)
    months_start = datetime.combine(_month_start(today, months - 1), datetime.min.time(), UTC)

    groups: list[Group] = []
    index: dict[tuple[str, str, str], int] = {}
    for cloud_id, site, project, team_key, team in sorted(
        con.execute(GROUPS_SQL).fetchall(), key=lambda r: (r[1], r[2], r[3] == "", r[4] or "")
    ):
        index[(cloud_id, project, team_key)] = len(groups)
        groups.append(Group(site, project, team_key, team or NO_TEAM))

    def grouped(rows: list[tuple], names: list[str]) -> dict[str, list[Any]]:
        columns: dict[str, list[Any]] = {"g": [], **{name: [] for name in names}}
        for cloud_id, project, team_key, *values in rows:
            columns["g"].append(index[(cloud_id, project, team_key)])
            for name, value in zip(names, values, strict=True):
                columns[name].append(value)
        return columns

    start = window_start
    states = grouped(
        con.execute(STATES_DAILY_SQL, [today, start, start, start, start, today, start, today]).fetchall(),
        ["state", "day", "issues"],
    )
    states["day"] = [day.isoformat() for day in states["day"]]
    states["state"] = [STATES.index(state) for state in states["state"]]
    states["issues"] = [int(n) for n in states["issues"]]

    weekly = grouped(
        con.execute(WEEKLY_SQL, [today, today, today - timedelta(days=7 * weeks), today]).fetchall(),
        ["week_end", "arrivals", "throughput"],
    )
    weekly["week_end"] = [day.isoformat() for day in weekly["week_end"]]
    weekly["arrivals"] = [int(n) for n in weekly["arrivals"]]
    weekly["throughput"] = [int(n) for n in weekly["throughput"]]

    closed_since = min(months_start, datetime.combine(window_start, datetime.min.time(), UTC))
    closed = grouped(
        con.execute(CLOSED_SQL, [closed_since, as_of]).fetchall(),
        ["key", "category", "closed", "cycle_days", "lead_days"],
    )
    closed["closed"] = [int(ms) for ms in closed["closed"]]
    closed["cycle_days"] = [None if d is None else round(float(d), 3) for d in closed["cycle_days"]]
    closed["lead_days"] = [None if d is None else round(float(d), 3) for d in closed["lead_days"]]

    aging = grouped(con.execute(AGING_SQL, [as_of]).fetchall(), ["key", "category", "status", "age_days"])
    aging["age_days"] = [round(float(d), 3) for d in aging["age_days"]]

    created = grouped(
        con.execute(CREATED_SQL, [months_start, as_of]).fetchall(), ["month", "category", "created"]
    )
    created["month"] = [month.isoformat() for month in created["month"]]
    created["created"] = [int(n) for n in created["created"]]

    return ReportData(
        as_of=as_of,
        published_at=published_at,
        run_id=run_id,
        weeks=weeks,
        months=months,
        groups=groups,
        datasets={
            "states": states,
            "weekly": weekly,
            "closed": closed,
            "aging": aging,
            "created": created,
        },
        headline={**flow_headline(con, today), **cycle_time_headline(con, as_of)},
    )


def _snapshot_info(con: Any) -> tuple[datetime | None, str | None]:
    """When and by which run the snapshot was published; nothing when reading a warehouse."""
    (present,) = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = 'snapshot_info'"
    ).fetchall()[0]
    if not present:
        return None, None
    published_at, run_id = con.execute(SNAPSHOT_SQL).fetchall()[0]
    return _utc(published_at), run_id


__all__ = ["HEADLINE_WEEKS", "STATES", "Group", "ReportData", "read_report_data"]
