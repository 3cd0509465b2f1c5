"""Sprints: every issue's sprints now, sprint membership over time, and Jira's sprint report."""

from __future__ import annotations

import dagster as dg

from assets.automation import FOLLOWS_UPSTREAM
from assets.core.common import (
    ANALYTICS_GROUP,
    CORE_GROUP,
    KINDS,
    analytics_key,
    core_key,
    issue_table_deps,
    raw_key,
)
from assets.core.raw_views import create_raw_views
from assets.core.sql import ensure_schema, sql_file, table_metadata, transaction, transform_connection
from assets.core.sync_mappings import load_sync_mappings
from assets.resources import WAREHOUSE_POOL, SyncConfigResource, WarehouseResource

_SQL = "assets.analytics"
RAW_TABLES = ["sites", "issues", "issue_changelog", "sprints", "boards"]


@dg.asset(
    key=core_key("issue_sprints"),
    group_name=CORE_GROUP,
    pool=WAREHOUSE_POOL,
    kinds=KINDS,
    deps=[*issue_table_deps("issues"), raw_key("sprints"), core_key("issues")],
    automation_condition=FOLLOWS_UPSTREAM,
    description=(
        "One row per issue and sprint in its Sprint field now (closed sprints it was carried out of "
        "included): sprint name, state and board."
    ),
)
def issue_sprints(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with transform_connection(warehouse) as con, transaction(con):
        create_raw_views(con, ["issues", "sprints"])
        con.execute(sql_file(_SQL, "issue_sprints.sql"))
        metadata = table_metadata(con, "jira.issue_sprints")
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=analytics_key("sprint_membership"),
    group_name=ANALYTICS_GROUP,
    pool=WAREHOUSE_POOL,
    kinds=KINDS,
    deps=[*issue_table_deps("issues"), raw_key("issue_changelog"), core_key("issues")],
    automation_condition=FOLLOWS_UPSTREAM,
    description=(
        "Sprint membership over time: one row per stay of an issue in a sprint (joined_at, left_at; "
        "left_at null = still in it), from the Sprint field's changelog and its value now."
    ),
)
def sprint_membership(warehouse: WarehouseResource, sync_config: SyncConfigResource) -> dg.MaterializeResult:
    config = sync_config.load()
    with transform_connection(warehouse) as con, transaction(con):
        create_raw_views(con, RAW_TABLES)
        load_sync_mappings(con, config)
        ensure_schema(con, "analytics")
        con.execute(sql_file(_SQL, "sprint_membership.sql"))
        metadata = table_metadata(con, "analytics.sprint_membership")
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=analytics_key("sprint_reports"),
    group_name=ANALYTICS_GROUP,
    pool=WAREHOUSE_POOL,
    kinds=KINDS,
    deps=[
        analytics_key("sprint_membership"),
        analytics_key("issue_status_history"),
        raw_key("sprints"),
        raw_key("boards"),
    ],
    automation_condition=FOLLOWS_UPSTREAM,
    description=(
        "Jira's sprint report per started sprint: issues committed at the start, added, removed, "
        "completed, not completed and carried over, with story points where the board estimates "
        "with a field the site keeps in issues.extra_fields."
    ),
)
def sprint_reports(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with transform_connection(warehouse) as con, transaction(con):
        create_raw_views(con, RAW_TABLES)
        ensure_schema(con, "analytics")
        con.execute(sql_file(_SQL, "sprint_reports.sql"))
        metadata = table_metadata(con, "analytics.sprint_reports")
        (closed, completed) = con.execute(
            "SELECT count(*) FILTER (WHERE state = 'closed'), "
            "sum(completed_issues) FILTER (WHERE state = 'closed') FROM analytics.sprint_reports"
        ).fetchall()[0]
    return dg.MaterializeResult(
        metadata={**metadata, "closed_sprints": int(closed or 0), "issues_completed": int(completed or 0)}
    )


SPRINT_ASSETS = [issue_sprints, sprint_membership, sprint_reports]
