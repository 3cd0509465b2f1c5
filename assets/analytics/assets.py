"""The `analytics` tables: status history, team attribution, per-issue flow clocks, daily flow."""

from __future__ import annotations

import dagster as dg

from assets.analytics.headline import cycle_time_headline, flow_headline
from assets.automation import FOLLOWS_UPSTREAM
from assets.core.common import ANALYTICS_GROUP, KINDS, analytics_key, core_key, issue_table_deps
from assets.core.raw_views import create_raw_views, create_status_changes_view
from assets.core.sql import ensure_schema, sql_file, table_metadata, transaction, transform_connection
from assets.core.sync_mappings import load_sync_mappings
from assets.resources import WAREHOUSE_POOL, SyncConfigResource, WarehouseResource
from pipelines.config import SyncConfig

_SQL = "assets.analytics"


def build_status_history(con) -> None:
    """Rebuild analytics.issue_status_history (needs jira.issues, jira.status_states, the changelog)."""
    create_raw_views(con, ["issue_changelog"])
    create_status_changes_view(con)
    ensure_schema(con, "analytics")
    con.execute(sql_file(_SQL, "issue_status_history.sql"))


def build_issue_teams(con, config: SyncConfig) -> None:
    """Rebuild analytics.issue_teams (needs the status history, jira.issues, the teams tables)."""
    create_raw_views(con, ["sites", "issue_changelog"])
    load_sync_mappings(con, config)
    ensure_schema(con, "analytics")
    con.execute(sql_file(_SQL, "issue_teams.sql"))


def _transaction_clock(con):
    """The transaction's `now()` and UTC day: the moment the tables just built describe."""
    return con.execute("SELECT now(), current_date").fetchall()[0]


def build_cycle_times(con) -> None:
    ensure_schema(con, "analytics")
    con.execute(sql_file(_SQL, "issue_cycle_times.sql"))


def build_flow_daily(con) -> None:
    ensure_schema(con, "analytics")
    con.execute(sql_file(_SQL, "flow_daily.sql"))


@dg.asset(
    key=analytics_key("issue_status_history"),
    group_name=ANALYTICS_GROUP,
    pool=WAREHOUSE_POOL,
    kinds=KINDS,
    automation_condition=FOLLOWS_UPSTREAM,
    deps=[*issue_table_deps("issue_changelog"), core_key("issues"), core_key("status_states")],
    description=(
        "One row per issue per status interval (status id/name, state, entered_at, left_at; left_at null "
        "= current) from the full changelog, starting at creation in the issue's initial status."
    ),
)
def issue_status_history(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with transform_connection(warehouse) as con, transaction(con):
        build_status_history(con)
        metadata = table_metadata(con, "analytics.issue_status_history")
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=analytics_key("issue_teams"),
    group_name=ANALYTICS_GROUP,
    pool=WAREHOUSE_POOL,
    kinds=KINDS,
    automation_condition=FOLLOWS_UPSTREAM,
    deps=[
        analytics_key("issue_status_history"),
        *issue_table_deps("issue_changelog"),
        core_key("issues"),
        core_key("teams"),
        core_key("primary_teams"),
    ],
    description=(
        "One row per issue: the team its work counts for in every team metric and chart, and why "
        "(team_rule): the primary team of the person assigned when the issue was last closed (or now, "
        "if open), else the project's default team from the sync file, else '(no team)' with the "
        "reason (unassigned, assignee_in_no_team, no_team_sync, project_default_not_found)."
    ),
)
def issue_teams(warehouse: WarehouseResource, sync_config: SyncConfigResource) -> dg.MaterializeResult:
    config = sync_config.load()
    with transform_connection(warehouse) as con, transaction(con):
        build_issue_teams(con, config)
        metadata = table_metadata(con, "analytics.issue_teams")
        rules = con.execute("SELECT team_rule, count(*) FROM analytics.issue_teams GROUP BY ALL").fetchall()
    counts = {str(rule): int(n) for rule, n in rules}
    total = sum(counts.values())
    without = sum(n for rule, n in counts.items() if rule.startswith("none:"))
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "issues_by_team_rule": counts,
            "share_without_team": round(without / total, 4) if total else 0.0,
        }
    )


@dg.asset(
    key=analytics_key("issue_cycle_times"),
    group_name=ANALYTICS_GROUP,
    pool=WAREHOUSE_POOL,
    kinds=KINDS,
    automation_condition=FOLLOWS_UPSTREAM,
    deps=[analytics_key("issue_status_history"), analytics_key("issue_teams"), core_key("issues")],
    description=(
        "One row per issue: lead time (created -> last entry into closed), cycle time (first in_progress "
        "-> closed; null when never in progress), time in progress (sum), reopen count, and age for "
        "issues not closed. Durations in hours; team as in analytics.issue_teams. Metadata: median and "
        "p85 cycle time (days) of the issues closed in the last 12 weeks."
    ),
)
def issue_cycle_times(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with transform_connection(warehouse) as con, transaction(con):
        build_cycle_times(con)
        metadata = table_metadata(con, "analytics.issue_cycle_times")
        now, _ = _transaction_clock(con)
        headline = cycle_time_headline(con, now)
    return dg.MaterializeResult(metadata={**metadata, **headline})


@dg.asset(
    key=analytics_key("flow_daily"),
    group_name=ANALYTICS_GROUP,
    pool=WAREHOUSE_POOL,
    kinds=KINDS,
    automation_condition=FOLLOWS_UPSTREAM,
    deps=[analytics_key("issue_status_history"), analytics_key("issue_teams"), core_key("issues")],
    description=(
        "Per site, project, team and UTC day: WIP (in progress at the end of the day), arrivals (created) "
        "and throughput (entries into closed). Team as in analytics.issue_teams ('(no team)' when none). "
        "Metadata: WIP today, throughput and arrivals per week over the last 12 weeks."
    ),
)
def flow_daily(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with transform_connection(warehouse) as con, transaction(con):
        build_flow_daily(con)
        metadata = table_metadata(con, "analytics.flow_daily")
        _, today = _transaction_clock(con)
        headline = flow_headline(con, today)
    return dg.MaterializeResult(metadata={**metadata, **headline})


ANALYTICS_ASSETS = [issue_status_history, issue_teams, issue_cycle_times, flow_daily]
