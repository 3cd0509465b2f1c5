"""`jira.webhook_registrations`: each webhook-enabled site's dynamic webhook, and its expiry check.

Materializing reconciles by default (register a missing webhook, refresh one due, drop
duplicates) and always records every enabled site as one row, judged on Jira's clock. The
lifecycle sensor launches it with `action` and `sites` run config; operators can too (observe,
refresh or delete from the launchpad).
"""

from datetime import timedelta
from typing import Literal

import dagster as dg

from assets.resources import WAREHOUSE_POOL, JiraSecretsResource, SyncConfigResource, WarehouseResource
from assets.warehouse import Warehouse
from pipelines.inbox import inbox_location
from pipelines.webhooks.operations import SiteRegistration, record_for_receiver, run_action
from pipelines.webhooks.sites import open_webhook_sites

REGISTRATIONS_KEY = dg.AssetKey(["jira", "webhook_registrations"])
EXPIRY_CHECK = "webhook_expiry"
UNHEALTHY = ("missing", "expired", "url_conflict", "error", "deleted")

_TABLE_DDL = """
CREATE SCHEMA IF NOT EXISTS jira;
CREATE OR REPLACE TABLE jira.webhook_registrations (
    tenant_id VARCHAR NOT NULL,
    site_name VARCHAR NOT NULL,
    cloud_id VARCHAR NOT NULL,
    webhook_ids BIGINT[] NOT NULL,
    events VARCHAR[] NOT NULL,
    jql_filter VARCHAR NOT NULL,
    url VARCHAR NOT NULL,
    expires_at TIMESTAMPTZ,
    days_left DOUBLE,
    status VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    jira_time TIMESTAMPTZ,
    detail VARCHAR NOT NULL,
    mode VARCHAR NOT NULL,
    PRIMARY KEY (tenant_id, site_name)
);
"""


class WebhookRegistrationsConfig(dg.Config):
    """What a materialization does to the selected sites; every other enabled site is observed."""

    action: Literal["reconcile", "observe", "refresh", "delete", "rotate"] = "reconcile"
    sites: list[str] = []  # site names from the sync file; empty = every webhook-enabled site
    replace_url: bool = False  # reconcile: delete this app's webhooks for another URL first


@dg.asset(
    key=REGISTRATIONS_KEY,
    group_name="webhooks",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description="One row per webhook-enabled site: webhook ids, events, JQL filter, URL, expiry on Jira's clock, status.",
    check_specs=[
        dg.AssetCheckSpec(
            EXPIRY_CHECK,
            asset=REGISTRATIONS_KEY,
            description="WARN when a webhook expires within webhooks.refresh_before_days; ERROR when expired or missing.",
        )
    ],
)
def webhook_registrations(
    context: dg.AssetExecutionContext,
    config: WebhookRegistrationsConfig,
    sync_config: SyncConfigResource,
    jira_secrets: JiraSecretsResource,
    warehouse: WarehouseResource,
):
    sync = sync_config.load()
    environ = jira_secrets.environ()
    sync.check_environment(environ)
    refresh_before = timedelta(days=sync.webhooks.refresh_before_days)
    with open_webhook_sites(sync, environ) as selected:
        unknown = (
            set(config.sites)
            - {s.site_name for s in selected.sites}
            - {p.site_name for p in selected.problems}
        )
        if unknown:
            raise dg.Failure(
                f"run config sites {sorted(unknown)} are not webhook-enabled sites of {sync.source_path}; "
                f"known: {sorted(s.site_name for s in selected.sites)}"
            )
        rows = []
        for site in selected.sites:
            chosen = not config.sites or site.site_name in config.sites
            action = config.action if chosen else "observe"
            rows.append(
                run_action(site, action, refresh_before=refresh_before, replace_url=config.replace_url)
            )
            context.log.info(
                f"{site.label}: {rows[-1].action} -> {rows[-1].status} {rows[-1].detail}".rstrip()
            )
        rows += [problem.as_registration() for problem in selected.problems]
    record_for_receiver(inbox_location(sync, environ), rows)
    with warehouse.connect() as con:
        write_registrations(con, rows)
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "sites": dg.MetadataValue.md(registrations_markdown(rows)),
            "min_days_left": min((r.days_left for r in rows if r.days_left is not None), default=None),
        }
    )
    yield expiry_check(rows, refresh_before)
    failed = [r for r in rows if r.status == "error"]
    if failed:
        raise dg.Failure(
            description="; ".join(f"{r.tenant_id}/{r.site_name}: {r.detail}" for r in failed),
            metadata={"failed_sites": [f"{r.tenant_id}/{r.site_name}" for r in failed]},
        )


def expiry_check(rows: list[SiteRegistration], refresh_before: timedelta) -> dg.AssetCheckResult:
    """ERROR when a site's webhook is expired, missing or unusable; WARN when it expires soon."""
    broken = [r for r in rows if r.status in UNHEALTHY]
    due = [
        r
        for r in rows
        if r.status not in UNHEALTHY and r.days_left is not None and r.days_left < refresh_before.days
    ]
    severity = dg.AssetCheckSeverity.ERROR if broken else dg.AssetCheckSeverity.WARN
    summary = [
        f"{r.tenant_id}/{r.site_name}: {r.status}{f' ({r.detail})' if r.detail else ''}" for r in broken
    ] + [f"{r.tenant_id}/{r.site_name}: expires in {r.days_left:.1f} days" for r in due]
    soonest = min((r.days_left for r in rows if r.days_left is not None), default=None)
    healthy = f"{len(rows)} site(s) registered; " + (
        f"the soonest webhook expires in {soonest:.1f} days (refreshed {refresh_before.days} days before)"
        if soonest is not None
        else "none expires (admin webhooks)"
    )
    return dg.AssetCheckResult(
        check_name=EXPIRY_CHECK,
        asset_key=REGISTRATIONS_KEY,
        passed=not (broken or due),
        severity=severity,
        description="; ".join(summary) or healthy,
        metadata={
            "sites": len(rows),
            "broken_sites": len(broken),
            "expiring_sites": len(due),
            "min_days_left": soonest,
            "refresh_before_days": refresh_before.days,
        },
    )


def write_registrations(con: Warehouse, rows: list[SiteRegistration]) -> None:
    """Replace the table in one transaction: analysts see the previous or the new state, never half."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(_TABLE_DDL)
        con.executemany(
            "INSERT INTO jira.webhook_registrations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.tenant_id,
                    r.site_name,
                    r.cloud_id,
                    list(r.webhook_ids),
                    list(r.events),
                    r.jql_filter,
                    r.url,
                    r.expires_at,
                    r.days_left,
                    r.status,
                    r.action,
                    r.jira_now,
                    r.detail,
                    r.mode,
                )
                for r in rows
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def registrations_markdown(rows: list[SiteRegistration]) -> str:
    lines = ["| site | status | action | webhooks | expires (UTC) | days left |", "|---|---|---|---|---|---|"]
    for r in rows:
        expires = r.expires_at.strftime("%Y-%m-%d %H:%M") if r.expires_at else "-"
        days = f"{r.days_left:.1f}" if r.days_left is not None else "-"
        ids = ", ".join(map(str, r.webhook_ids)) or "-"
        lines.append(
            f"| {r.tenant_id}/{r.site_name} | {r.status} | {r.action} | {ids} | {expires} | {days} |"
        )
    return "\n".join(lines)
