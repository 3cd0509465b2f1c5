"""Worklogs: the work logged on the issues the warehouse holds, and time logged per issue, person
and team by day."""

from __future__ import annotations

import dagster as dg

from assets.automation import FOLLOWS_UPSTREAM
from assets.core.common import ANALYTICS_GROUP, KINDS, analytics_key, core_key, raw_key
from assets.core.raw_views import create_raw_views
from assets.core.sql import ensure_schema, sql_file, table_metadata, transaction, transform_connection
from assets.resources import WAREHOUSE_POOL, WarehouseResource


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            core_key("worklogs"),
            group_name="jira",
            kinds=KINDS,
            deps=[raw_key("worklogs"), core_key("issues"), core_key("user_links"), core_key("primary_teams")],
            automation_condition=FOLLOWS_UPSTREAM,
            description=(
                "One row per worklog of an issue in jira.issues: issue, project, author (Jira account and "
                "linked account), the author's primary team, started, seconds."
            ),
        ),
        dg.AssetSpec(
            analytics_key("time_logged"),
            group_name=ANALYTICS_GROUP,
            kinds=KINDS,
            deps=[core_key("worklogs")],
            automation_condition=FOLLOWS_UPSTREAM,
            description="Time logged per site, project, issue, person, team and UTC day the work started.",
        ),
    ],
    pool=WAREHOUSE_POOL,
    can_subset=False,
)
def worklogs(warehouse: WarehouseResource):
    with transform_connection(warehouse) as con, transaction(con):
        create_raw_views(con, ["worklogs"])
        ensure_schema(con, "analytics")
        con.execute(sql_file("assets.analytics", "time_logged.sql"))
        yield dg.MaterializeResult(
            asset_key=core_key("worklogs"), metadata=table_metadata(con, "jira.worklogs")
        )
        yield dg.MaterializeResult(
            asset_key=analytics_key("time_logged"), metadata=table_metadata(con, "analytics.time_logged")
        )


WORKLOG_ASSETS = [worklogs]
