"""Asset checks on the analytics tables."""

from __future__ import annotations

import dagster as dg

from assets.automation import CHECK_FOLLOWS_ASSET
from assets.core.common import analytics_key
from assets.core.sql import transform_connection
from assets.resources import WAREHOUSE_POOL, WarehouseResource

HISTORY_PROBLEMS_SQL = """
WITH ordered AS (
    SELECT
        *,
        lead(entered_at) OVER timeline AS next_entered_at,
        row_number() OVER timeline AS position,
        count(*) OVER (PARTITION BY cloud_id, issue_id) AS intervals
    FROM analytics.issue_status_history
    WINDOW timeline AS (PARTITION BY cloud_id, issue_id ORDER BY interval_number)
),
problems AS (
    SELECT cloud_id, issue_key, 'overlap' AS problem
    FROM ordered
    WHERE left_at < entered_at OR (position < intervals AND left_at IS DISTINCT FROM next_entered_at)
    UNION ALL
    SELECT cloud_id, issue_key, 'open_interval_not_last'
    FROM ordered
    WHERE (left_at IS NULL) <> (position = intervals)
    UNION ALL
    SELECT o.cloud_id, o.issue_key, 'last_interval_is_not_current_status'
    FROM ordered AS o
    JOIN jira.issues AS i ON i.cloud_id = o.cloud_id AND i.issue_id = o.issue_id
    WHERE o.position = o.intervals AND o.status_id IS DISTINCT FROM i.status_id
    UNION ALL
    SELECT i.cloud_id, i.issue_key, 'no_history'
    FROM jira.issues AS i
    ANTI JOIN analytics.issue_status_history AS h USING (cloud_id, issue_id)
)
SELECT problem, count(DISTINCT (cloud_id, issue_key)) AS issues, list(DISTINCT issue_key ORDER BY issue_key)[:10]
FROM problems
GROUP BY ALL
ORDER BY problem
"""


@dg.asset_check(
    asset=analytics_key("issue_status_history"),
    pool=WAREHOUSE_POOL,
    automation_condition=CHECK_FOLLOWS_ASSET,
    description=(
        "Every issue has a status history whose intervals do not overlap, only the last interval is "
        "open, and the last interval's status is the issue's current status (a mismatch means the "
        "changelog in jira_raw is stale or incomplete)."
    ),
)
def status_history_consistent(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with transform_connection(warehouse) as con:
        rows = con.execute(HISTORY_PROBLEMS_SQL).fetchall()
    problems = {problem: {"issues": int(count), "examples": examples} for problem, count, examples in rows}
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            "; ".join(f"{p}: {v['issues']} issue(s)" for p, v in problems.items())
            if problems
            else "every issue's history is consistent"
        ),
        metadata={"problems": problems},
    )


ANALYTICS_CHECKS = [status_history_consistent]
