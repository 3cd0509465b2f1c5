"""The `analytics` tables: status history, per-issue flow clocks, and daily flow per team."""

from __future__ import annotations

import dagster as dg

from assets.core.common import ANALYTICS_GROUP, KINDS, analytics_key, core_key, raw_key
from assets.core.raw_views import create_raw_views, create_status_changes_view
from assets.core.sql import ensure_schema, sql_file, table_metadata, transaction, transform_connection
from assets.resources import WAREHOUSE_POOL, WarehouseResource

_SQL = "assets.analytics"


def build_status_history(con) -> None:
    """Rebuild analytics.issue_status_history (needs jira.issues, jira.status_states, the changelog)."""
    create_raw_views(con, ["issue_changelog"])
    create_status_changes_view(con)
    ensure_schema(con, "analytics")
    con.execute(sql_file(_SQL, "issue_status_history.sql"))


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
    deps=[raw_key("issue_changelog"), core_key("issues"), core_key("status_states")],
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
    key=analytics_key("issue_cycle_times"),
    group_name=ANALYTICS_GROUP,
    pool=WAREHOUSE_POOL,
    kinds=KINDS,
    deps=[analytics_key("issue_status_history"), core_key("issues"), core_key("primary_teams")],
    description=(
        "One row per issue: lead time (created -> last entry into closed), cycle time (first in_progress "
        "-> closed; null when never in progress), time in progress (sum), reopen count, and age for "
        "issues not closed. Durations in hours; team = the assignee's primary team."
    ),
)
def issue_cycle_times(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with transform_connection(warehouse) as con, transaction(con):
        build_cycle_times(con)
        metadata = table_metadata(con, "analytics.issue_cycle_times")
        (median_cycle,) = con.execute(
            "SELECT median(cycle_time_hours) FROM analytics.issue_cycle_times"
        ).fetchall()[0]
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "median_cycle_time_hours": None if median_cycle is None else float(median_cycle),
        }
    )


@dg.asset(
    key=analytics_key("flow_daily"),
    group_name=ANALYTICS_GROUP,
    pool=WAREHOUSE_POOL,
    kinds=KINDS,
    deps=[
        analytics_key("issue_status_history"),
        core_key("issues"),
        core_key("teams"),
        core_key("team_members"),
    ],
    description=(
        "Per site, project, team and UTC day: WIP (in progress at the end of the day), arrivals (created) "
        "and throughput (entries into closed). The team is the current assignee's smallest team; "
        "team_id null = unassigned or in no team."
    ),
)
def flow_daily(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with transform_connection(warehouse) as con, transaction(con):
        build_flow_daily(con)
        metadata = table_metadata(con, "analytics.flow_daily")
    return dg.MaterializeResult(metadata=metadata)


ANALYTICS_ASSETS = [issue_status_history, issue_cycle_times, flow_daily]
