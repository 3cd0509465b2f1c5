"""Webhook miss rate: changes the incremental sweep found that no webhook delivered.

A check on `jira_raw/issue_updates`, so it runs with every sweep (the `incremental_sync` job)
even when webhooks have gone silent and the ingest asset never runs, which is exactly when it
must speak. For each webhook-enabled site, over the last day of Jira time (the newest change or
sweep seen), a sweep change (issue id, `updated`) counts as delivered when a webhook event for
that issue carries the same `updated` or was sent within a minute of it. Changes of the last few
minutes are left for the next sweep (their delivery may still be in the inbox), and so are
changes from before the site's first delivery (the webhook did not exist yet). A site filter of
the form `project = X` / `project in (...)` limits the comparison to those projects.
"""

import re

import dagster as dg
import duckdb

from assets.core.common import raw_key
from assets.resources import WAREHOUSE_POOL, SyncConfigResource, WarehouseResource
from pipelines.config import SyncConfig

ISSUE_UPDATES_KEY = raw_key("issue_updates")
MISS_RATE_CHECK = "webhook_miss_rate"
MISS_RATE_WARN = 0.05  # more than 5% of the sweep's changes undelivered: WARN
WINDOW_HOURS = 24
GRACE_MINUTES = 5
MATCH_SECONDS = 60
_PROJECT_CLAUSE = re.compile(
    r"""^\s*project\s*(=|\bin\b)\s*(\(([^)]*)\)|("[^"]*"|'[^']*'|[\w-]+))\s*(\band\b.*)?$""", re.I | re.S
)

_MISSES_SQL = f"""
WITH scope AS (SELECT * FROM webhook_scope),
reference AS (
    SELECT u.cloud_id, greatest(max(u.updated), max(u.detected_at)) AS jira_now
    FROM jira_raw.issue_updates AS u JOIN scope USING (cloud_id) GROUP BY ALL
),
first_delivery AS (
    SELECT cloud_id, min("timestamp") AS first_at FROM webhook_deliveries GROUP BY ALL
),
changes AS (
    SELECT u.cloud_id, u.id, u.updated, i.key, i.project_key
    FROM jira_raw.issue_updates AS u
    JOIN reference AS r USING (cloud_id)
    JOIN scope AS s USING (cloud_id)
    LEFT JOIN first_delivery AS f USING (cloud_id)
    LEFT JOIN jira_raw.issues AS i ON i.cloud_id = u.cloud_id AND i.id = u.id
    WHERE u.updated >= r.jira_now - INTERVAL {WINDOW_HOURS} HOUR
      AND u.updated <= r.jira_now - INTERVAL {GRACE_MINUTES} MINUTE
      AND (f.first_at IS NULL OR u.updated >= f.first_at - INTERVAL {MATCH_SECONDS} SECOND)
      AND (s.project_keys IS NULL OR i.project_key IS NULL OR list_contains(s.project_keys, i.project_key))
),
delivered AS (
    SELECT DISTINCT c.cloud_id, c.id, c.updated
    FROM changes AS c
    JOIN webhook_deliveries AS w ON w.cloud_id = c.cloud_id AND w.issue_id = c.id
    WHERE TRY_CAST(json_extract_string(w.payload, '$.issue.fields.updated') AS TIMESTAMPTZ) = c.updated
       OR abs(epoch(w."timestamp") - epoch(c.updated)) <= {MATCH_SECONDS}
)
SELECT c.cloud_id, c.id, c.key, c.updated, d.id IS NOT NULL AS delivered
FROM changes AS c LEFT JOIN delivered AS d USING (cloud_id, id, updated)
"""

_SILENCE_SQL = f"""
SELECT s.cloud_id, s.site,
       count(DISTINCT (u.id, u.updated)) AS sweep_changes,
       (SELECT count(*) FROM webhook_deliveries AS w
        WHERE w.cloud_id = s.cloud_id AND w."timestamp" >= r.jira_now - INTERVAL {WINDOW_HOURS} HOUR) AS deliveries
FROM webhook_scope AS s
JOIN (SELECT cloud_id, greatest(max(updated), max(detected_at)) AS jira_now
      FROM jira_raw.issue_updates GROUP BY ALL) AS r USING (cloud_id)
LEFT JOIN jira_raw.issue_updates AS u
  ON u.cloud_id = s.cloud_id AND u.updated >= r.jira_now - INTERVAL {WINDOW_HOURS} HOUR
GROUP BY s.cloud_id, s.site, r.jira_now
"""


def filter_project_keys(jql_filter: str | None) -> list[str] | None:
    """Project keys when the filter starts with `project = X` / `project in (...)`, else None (all)."""
    match = _PROJECT_CLAUSE.match(jql_filter or "")
    if not match or re.search(r"\bor\b", jql_filter or "", re.I):
        return None
    values = match.group(3) if match.group(3) is not None else match.group(4)
    return [v.strip().strip("\"'") for v in values.split(",") if v.strip()]


def _scope(con: duckdb.DuckDBPyConnection, config: SyncConfig) -> list[tuple[str, str, list[str] | None]]:
    """(cloud_id, tenant/site, project keys) of webhook-enabled sites, cloud IDs via jira_raw.sites."""
    cloud_ids = (
        dict(
            ((tenant, name), cloud)
            for cloud, tenant, name in con.execute(
                "SELECT cloud_id, tenant_id, name FROM jira_raw.sites"
            ).fetchall()
        )
        if _exists(con, "sites")
        else {}
    )
    scope = []
    for tenant, site in config.iter_sites():
        cloud_id = cloud_ids.get((tenant.id, site.name)) or site.cloud_id
        if site.webhook.enabled and cloud_id:
            scope.append((cloud_id, f"{tenant.id}/{site.name}", filter_project_keys(site.webhook.jql_filter)))
    return scope


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'jira_raw' AND table_name = ?",
            [table],
        ).fetchall()[0][0]
    )


def measure_miss_rate(con: duckdb.DuckDBPyConnection, config: SyncConfig) -> dg.AssetCheckResult:
    """Count, rate and examples of undelivered changes; ERROR when a site's webhooks went silent."""
    scope = _scope(con, config)
    if not scope:
        return dg.AssetCheckResult(passed=True, description="no webhook-enabled site with a known cloud ID")
    if not _exists(con, "issue_updates"):
        return dg.AssetCheckResult(
            passed=True, description="jira_raw.issue_updates is empty: no sweep ran yet"
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE webhook_scope (cloud_id VARCHAR, site VARCHAR, project_keys VARCHAR[])"
    )
    con.executemany("INSERT INTO webhook_scope VALUES (?, ?, ?)", scope)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW webhook_deliveries AS "
        + (
            'SELECT cloud_id, issue_id, "timestamp", payload FROM jira_raw.webhook_events'
            if _exists(con, "webhook_events")
            else 'SELECT NULL::VARCHAR AS cloud_id, NULL::VARCHAR AS issue_id, NULL::TIMESTAMPTZ AS "timestamp", '
            "NULL::JSON AS payload WHERE false"
        )
    )
    rows = con.execute(_MISSES_SQL).fetchall()
    silence = con.execute(_SILENCE_SQL).fetchall()
    con.execute("DROP TABLE webhook_scope")
    con.execute("DROP VIEW webhook_deliveries")
    changes = len(rows)
    missed = [r for r in rows if not r[4]]
    rate = len(missed) / changes if changes else 0.0
    silent = [(site, sweep) for _cloud, site, sweep, deliveries in silence if sweep and not deliveries]
    examples = [
        f"{key or issue_id} (cloud {cloud[:8]}, updated {updated:%Y-%m-%d %H:%M:%S})"
        for cloud, issue_id, key, updated, _ in missed[:10]
    ]
    if silent:
        severity, passed = dg.AssetCheckSeverity.ERROR, False
        description = "webhook traffic is silent: " + "; ".join(
            f"{site} had {n} changes in the sweep and no delivery in {WINDOW_HOURS} h (check the registration and receiver)"
            for site, n in silent
        )
    else:
        passed = rate <= MISS_RATE_WARN
        severity = dg.AssetCheckSeverity.WARN
        description = f"{len(missed)} of {changes} changes found by the sweep were not delivered by a webhook ({rate:.1%})"
    return dg.AssetCheckResult(
        passed=passed,
        severity=severity,
        description=description,
        metadata={
            "sweep_changes": changes,
            "missed_changes": len(missed),
            "miss_rate": round(rate, 4),
            "warn_above": MISS_RATE_WARN,
            "silent_sites": [site for site, _ in silent],
            "examples": examples,
            "window_hours": WINDOW_HOURS,
        },
    )


@dg.asset_check(
    asset=ISSUE_UPDATES_KEY,
    name=MISS_RATE_CHECK,
    pool=WAREHOUSE_POOL,
    description=(
        f"Changes the incremental sweep found that no webhook delivered (last {WINDOW_HOURS} h of Jira time): "
        f"WARN above {MISS_RATE_WARN:.0%}; ERROR when a webhook-enabled site had changes but no delivery at all."
    ),
)
def webhook_miss_rate(warehouse: WarehouseResource, sync_config: SyncConfigResource) -> dg.AssetCheckResult:
    config = sync_config.load()
    with warehouse.connect() as con:
        return measure_miss_rate(con, config)
