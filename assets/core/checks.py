"""Asset checks on the core tables: unmapped types, unlinked users, stale raw data."""

from __future__ import annotations

import dagster as dg

from assets.automation import CHECK_FOLLOWS_ASSET
from assets.core.common import core_key
from assets.core.raw_views import create_raw_views
from assets.core.sql import transform_connection
from assets.resources import WAREHOUSE_POOL, SyncConfigResource, WarehouseResource

# The incremental sweep runs every 15 minutes by default; raw issues older than this are stale.
RAW_ISSUES_STALE_AFTER_HOURS = 6


@dg.asset_check(
    asset=core_key("issues"),
    pool=WAREHOUSE_POOL,
    automation_condition=CHECK_FOLLOWS_ASSET,
    description=(
        "Warns when a project's share of issues whose type maps to `other` exceeds "
        "mappings.other_share_warn of the sync file: add keywords or a custom mapping for its types."
    ),
)
def other_type_share(warehouse: WarehouseResource, sync_config: SyncConfigResource) -> dg.AssetCheckResult:
    threshold = sync_config.load().mappings.other_share_warn
    with transform_connection(warehouse) as con:
        rows = con.execute(
            """
            SELECT cloud_id, project_key, issue_count, other_count, other_types
            FROM (
                SELECT cloud_id, project_key,
                    count(*) AS issue_count,
                    count(*) FILTER (WHERE type_category = 'other') AS other_count,
                    list(DISTINCT issue_type_name ORDER BY issue_type_name) FILTER (WHERE type_category = 'other')
                        AS other_types
                FROM jira.issues
                GROUP BY ALL
            ) AS projects
            WHERE other_count > ? * issue_count
            ORDER BY other_count / issue_count DESC, cloud_id, project_key
            """,
            [threshold],
        ).fetchall()
    projects = [
        {
            "cloud_id": cloud_id,
            "project": project,
            "share_other": round(other / total, 4),
            "issues": total,
            "other_type_names": names,
        }
        for cloud_id, project, total, other, names in rows
    ]
    return dg.AssetCheckResult(
        passed=not projects,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(projects)} project(s) have more than {threshold:.0%} of their issues typed `other`"
            if projects
            else f"no project over {threshold:.0%} `other`"
        ),
        metadata={
            "threshold": threshold,
            "projects_over_threshold": len(projects),
            "projects": projects[:50],  # the 50 with the largest share
        },
    )


@dg.asset_check(
    asset=core_key("unlinked_users"),
    pool=WAREHOUSE_POOL,
    automation_condition=CHECK_FOLLOWS_ASSET,
    description="Warns when Jira users could not be linked to an account (mostly hidden emails).",
)
def unlinked_users_listed(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with transform_connection(warehouse) as con:
        reasons = dict(
            con.execute("SELECT reason, count(*) FROM jira.unlinked_users GROUP BY ALL ORDER BY 1").fetchall()
        )
        sample = con.execute(
            """
            SELECT cloud_id, jira_account_id, display_name, reason FROM jira.unlinked_users
            ORDER BY reason, cloud_id, display_name LIMIT 20
            """
        ).fetchall()
    count = sum(reasons.values())
    return dg.AssetCheckResult(
        passed=count == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{count} unlinked Jira user(s)" if count else "every Jira user is linked",
        metadata={
            "unlinked_users": count,
            "by_reason": {str(k): int(v) for k, v in reasons.items()},
            "sample": [
                {"cloud_id": c, "jira_account_id": a, "display_name": n, "reason": r} for c, a, n, r in sample
            ],
        },
    )


@dg.asset_check(
    asset=core_key("issues"),
    pool=WAREHOUSE_POOL,
    automation_condition=CHECK_FOLLOWS_ASSET,
    description=(
        f"Freshness of jira_raw: warns when a site's newest synced issue (max synced_at) is older than "
        f"{RAW_ISSUES_STALE_AFTER_HOURS} hours, or a site has no issues at all."
    ),
)
def raw_issues_fresh(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with transform_connection(warehouse) as con:
        create_raw_views(con, ["issues"])
        rows = con.execute(
            """
            SELECT s.tenant_id, s.site_name, s.cloud_id, max(i.synced_at) AS last_synced,
                epoch(now()) - epoch(max(i.synced_at)) AS lag_seconds
            FROM jira.sync_sites AS s
            LEFT JOIN raw_issues AS i ON i.cloud_id = s.cloud_id
            GROUP BY ALL
            ORDER BY 1, 2
            """
        ).fetchall()
    sites = [
        {
            "tenant": tenant,
            "site": site,
            "cloud_id": cloud_id,
            "last_synced": last.isoformat() if last else None,
            "lag_hours": None if lag is None else round(lag / 3600, 2),
        }
        for tenant, site, cloud_id, last, lag in rows
    ]
    stale = [s for s in sites if s["lag_hours"] is None or s["lag_hours"] > RAW_ISSUES_STALE_AFTER_HOURS]
    return dg.AssetCheckResult(
        passed=not stale,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"stale or empty: {', '.join(s['site'] for s in stale)}"
            if stale
            else "every site synced recently"
        ),
        metadata={
            "stale_sites": [s["site"] for s in stale],
            "sites": sites,
            "stale_after_hours": RAW_ISSUES_STALE_AFTER_HOURS,
        },
    )


CORE_CHECKS = [other_type_share, unlinked_users_listed, raw_issues_fresh]
