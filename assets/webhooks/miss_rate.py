"""Webhook miss rate: changes the incremental sweep found that no webhook delivered.

A check on `jira_raw/issue_updates`, so it runs with every sweep (the `incremental_sync` job)
even when webhooks have gone silent and the ingest asset never runs, which is exactly when it
must speak. For each webhook-enabled site, over the last day of Jira time (the newest change or
sweep seen), a sweep change (issue id, `updated`) counts as delivered when a webhook event for
that issue carries the same `updated` or was sent within a minute of it. Only changes made while
the site's webhook is known to exist are judged: since its first delivery, or since its last
registration or refresh (`jira.webhook_registrations`: `expires_at` - 30 days). Changes of the
last few minutes are left for the next sweep (their delivery may still be in the inbox). A site
filter of the form `project = X` / `project in (...)` limits the comparison to those projects.

Outcomes: ERROR when a site had such changes and no delivery at all (its webhooks are silent);
WARN above 5% missed; passed otherwise. With nothing to judge yet (no sweep, no webhook
registered or delivered, no change since) it passes saying "not enough data yet".
"""

import re
from datetime import datetime

import dagster as dg

from assets.automation import CHECK_FOLLOWS_ASSET
from assets.core.common import raw_key
from assets.resources import WAREHOUSE_POOL, SyncConfigResource, WarehouseResource
from assets.warehouse import Warehouse
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

WEBHOOK_LIFETIME_DAYS = 30  # Jira's dynamic webhooks: alive since expires_at - 30 days

_CHANGES_SQL = f"""
WITH reference AS (
    SELECT u.cloud_id, greatest(max(u.updated), max(u.detected_at)) AS jira_now
    FROM jira_raw.issue_updates AS u JOIN webhook_scope USING (cloud_id) GROUP BY ALL
),
first_delivery AS (
    SELECT cloud_id, min("timestamp") AS first_at FROM webhook_deliveries GROUP BY ALL
),
watched AS (
    SELECT s.cloud_id, s.site, s.project_keys, r.jira_now,
           least(f.first_at - INTERVAL {MATCH_SECONDS} SECOND, s.alive_since) AS watch_from
    FROM webhook_scope AS s
    JOIN reference AS r USING (cloud_id)
    LEFT JOIN first_delivery AS f USING (cloud_id)
),
changes AS (
    SELECT u.cloud_id, u.id, u.updated, i.key
    FROM jira_raw.issue_updates AS u
    JOIN watched AS w USING (cloud_id)
    LEFT JOIN jira_raw.issues AS i ON i.cloud_id = u.cloud_id AND i.id = u.id
    WHERE u.updated >= w.jira_now - INTERVAL {WINDOW_HOURS} HOUR
      AND u.updated <= w.jira_now - INTERVAL {GRACE_MINUTES} MINUTE
      AND u.updated >= w.watch_from
      AND (w.project_keys IS NULL OR i.project_key IS NULL OR list_contains(w.project_keys, i.project_key))
),
delivered AS (
    SELECT DISTINCT c.cloud_id, c.id, c.updated
    FROM changes AS c
    JOIN webhook_deliveries AS d ON d.cloud_id = c.cloud_id AND d.issue_id = c.id
    WHERE TRY_CAST(json_extract_string(d.payload, '$.issue.fields.updated') AS TIMESTAMPTZ) = c.updated
       OR abs(epoch(d."timestamp") - epoch(c.updated)) <= {MATCH_SECONDS}
)
SELECT c.cloud_id, c.id, c.key, c.updated, d.id IS NOT NULL AS delivered
FROM changes AS c LEFT JOIN delivered AS d USING (cloud_id, id, updated)
"""

# Per site: when its webhook is known to exist, and its deliveries in the window.
_SITES_SQL = f"""
SELECT s.cloud_id, s.site,
       least(min(d."timestamp") - INTERVAL {MATCH_SECONDS} SECOND, s.alive_since) AS watch_from,
       count(d."timestamp") FILTER (
           WHERE d."timestamp" >= (SELECT greatest(max(updated), max(detected_at)) FROM jira_raw.issue_updates
                                   WHERE cloud_id = s.cloud_id) - INTERVAL {WINDOW_HOURS} HOUR
       ) AS deliveries
FROM webhook_scope AS s LEFT JOIN webhook_deliveries AS d USING (cloud_id)
GROUP BY s.cloud_id, s.site, s.alive_since
ORDER BY s.site
"""


def filter_project_keys(jql_filter: str | None) -> list[str] | None:
    """Project keys when the filter starts with `project = X` / `project in (...)`, else None (all)."""
    match = _PROJECT_CLAUSE.match(jql_filter or "")
    if not match or re.search(r"\bor\b", jql_filter or "", re.I):
        return None
    values = match.group(3) if match.group(3) is not None else match.group(4)
    return [v.strip().strip("\"'") for v in values.split(",") if v.strip()]


def _scope(con: Warehouse, config: SyncConfig) -> list[tuple[str, str, list[str] | None, datetime | None]]:
    """(cloud_id, tenant/site, project keys, webhook alive since) of webhook-enabled sites.

    Cloud IDs come from jira_raw.sites; "alive since" from jira.webhook_registrations (a healthy
    registration was made or refreshed at expires_at - 30 days), None when none is recorded.
    """
    cloud_ids = (
        dict(
            ((tenant, name), cloud)
            for cloud, tenant, name in con.execute(
                "SELECT cloud_id, tenant_id, name FROM jira_raw.sites"
            ).fetchall()
        )
        if _exists(con, "jira_raw", "sites")
        else {}
    )
    alive_since = (
        dict(
            con.execute(
                f"""
                SELECT cloud_id, max(expires_at) - INTERVAL {WEBHOOK_LIFETIME_DAYS} DAY
                FROM jira.webhook_registrations
                WHERE status IN ('active', 'expiring') AND expires_at IS NOT NULL
                GROUP BY ALL
                """
            ).fetchall()
        )
        if _exists(con, "jira", "webhook_registrations")
        else {}
    )
    scope = []
    for tenant, site in config.iter_sites():
        cloud_id = cloud_ids.get((tenant.id, site.name)) or site.cloud_id
        if site.webhook.enabled and cloud_id:
            scope.append(
                (
                    cloud_id,
                    f"{tenant.id}/{site.name}",
                    filter_project_keys(site.webhook.jql_filter),
                    alive_since.get(cloud_id),
                )
            )
    return scope


def _exists(con: Warehouse, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def _not_enough_data(reason: str, metadata: dict | None = None) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=True,
        description=f"not enough data yet: {reason}",
        metadata={"status": "not enough data yet", **(metadata or {})},
    )


def measure_miss_rate(con: Warehouse, config: SyncConfig) -> dg.AssetCheckResult:
    """Count, rate and examples of undelivered changes; ERROR when a site's webhooks went silent."""
    scope = _scope(con, config)
    if not scope:
        return _not_enough_data("no webhook-enabled site with a known cloud ID")
    if not _exists(con, "jira_raw", "issue_updates"):
        return _not_enough_data("no incremental sweep ran yet (jira_raw.issue_updates does not exist)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE webhook_scope "
        "(cloud_id VARCHAR, site VARCHAR, project_keys VARCHAR[], alive_since TIMESTAMPTZ)"
    )
    con.executemany("INSERT INTO webhook_scope VALUES (?, ?, ?, ?)", scope)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW webhook_deliveries AS "
        + (
            'SELECT cloud_id, issue_id, "timestamp", payload FROM jira_raw.webhook_events'
            if _exists(con, "jira_raw", "webhook_events")
            else 'SELECT NULL::VARCHAR AS cloud_id, NULL::VARCHAR AS issue_id, NULL::TIMESTAMPTZ AS "timestamp", '
            "NULL::JSON AS payload WHERE false"
        )
    )
    rows = con.execute(_CHANGES_SQL).fetchall()
    sites = con.execute(_SITES_SQL).fetchall()
    con.execute("DROP TABLE webhook_scope")
    con.execute("DROP VIEW webhook_deliveries")

    changes_by_site = {cloud: sum(1 for r in rows if r[0] == cloud) for cloud, *_ in sites}
    per_site = [
        {
            "site": site,
            "watching_since": watch_from.isoformat() if watch_from else None,
            "sweep_changes": changes_by_site[cloud],
            "missed_changes": sum(1 for r in rows if r[0] == cloud and not r[4]),
            "deliveries": int(deliveries),
        }
        for cloud, site, watch_from, deliveries in sites
    ]
    changes = len(rows)
    missed = [r for r in rows if not r[4]]
    rate = len(missed) / changes if changes else 0.0
    silent = [s for s in per_site if s["sweep_changes"] and not s["deliveries"]]
    metadata = {
        "sweep_changes": changes,
        "missed_changes": len(missed),
        "miss_rate": round(rate, 4),
        "warn_above": MISS_RATE_WARN,
        "silent_sites": [s["site"] for s in silent],
        "sites": per_site,
        "examples": [
            f"{key or issue_id} (cloud {cloud[:8]}, updated {updated:%Y-%m-%d %H:%M:%S})"
            for cloud, issue_id, key, updated, _ in missed[:10]
        ],
        "window_hours": WINDOW_HOURS,
    }
    if silent:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description="webhook traffic is silent: "
            + "; ".join(
                f"{s['site']} had {s['sweep_changes']} changes in the sweep while its webhook existed and "
                f"no delivery in {WINDOW_HOURS} h (check the registration and receiver)"
                for s in silent
            ),
            metadata=metadata,
        )
    if not changes:
        reasons = [
            f"{s['site']}: no webhook registered or delivered yet"
            if s["watching_since"] is None
            else f"{s['site']}: no change found by the sweep since its webhook existed"
            for s in per_site
        ]
        return _not_enough_data("; ".join(reasons), metadata)
    return dg.AssetCheckResult(
        passed=rate <= MISS_RATE_WARN,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(missed)} of {changes} changes found by the sweep were not delivered by a webhook ({rate:.1%})",
        metadata=metadata,
    )


@dg.asset_check(
    asset=ISSUE_UPDATES_KEY,
    name=MISS_RATE_CHECK,
    pool=WAREHOUSE_POOL,
    automation_condition=CHECK_FOLLOWS_ASSET,
    description=(
        f"Changes the incremental sweep found that no webhook delivered (last {WINDOW_HOURS} h of Jira time, "
        f"while the site's webhook existed): WARN above {MISS_RATE_WARN:.0%}; ERROR when a site had such "
        "changes but no delivery at all; 'not enough data yet' before there is anything to judge."
    ),
)
def webhook_miss_rate(warehouse: WarehouseResource, sync_config: SyncConfigResource) -> dg.AssetCheckResult:
    config = sync_config.load()
    with warehouse.connect() as con:
        return measure_miss_rate(con, config)
