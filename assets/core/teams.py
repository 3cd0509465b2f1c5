"""Teams per site, from the Teams API or from Jira groups (the site's team_sync.method)."""

import dagster as dg
from dagster import AssetExecutionContext

from assets.automation import FOLLOWS_UPSTREAM
from assets.core.common import CORE_GROUP, KINDS, core_key, raw_key
from assets.core.raw_views import create_raw_views
from assets.core.sql import sql_file, table_metadata, transaction, transform_connection
from assets.core.sync_mappings import load_sync_mappings
from assets.resources import WAREHOUSE_POOL, SyncConfigResource, WarehouseResource
from assets.warehouse import table_exists

RAW_TABLES = ["sites", "teams", "team_members", "groups", "group_members"]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            core_key("teams"),
            group_name=CORE_GROUP,
            kinds=KINDS,
            automation_condition=FOLLOWS_UPSTREAM,
            deps=[raw_key(t) for t in RAW_TABLES],
            description=(
                "Teams per site, by the site's team_sync.method: the Atlassian Teams of its organization "
                "(source teams_api) or one team per Jira group (source groups_api)."
            ),
        ),
        dg.AssetSpec(
            core_key("primary_teams"),
            group_name=CORE_GROUP,
            kinds=KINDS,
            automation_condition=FOLLOWS_UPSTREAM,
            deps=[*(raw_key(t) for t in RAW_TABLES), core_key("user_links")],
            description=(
                "The one team each Jira user's work is attributed to in flow metrics and cycle times: "
                "the smallest of their teams on the site (fewest members), then by name; team_count = "
                "how many teams they are in."
            ),
        ),
        dg.AssetSpec(
            core_key("team_members"),
            group_name=CORE_GROUP,
            kinds=KINDS,
            automation_condition=FOLLOWS_UPSTREAM,
            deps=[*(raw_key(t) for t in RAW_TABLES), core_key("user_links")],
            description=(
                "Team membership: the member's Jira account ID and the account it links to "
                "(account_id null while the member is unlinked)."
            ),
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def teams(context: AssetExecutionContext, warehouse: WarehouseResource, sync_config: SyncConfigResource):
    config = sync_config.load()
    with transform_connection(warehouse) as con, transaction(con):
        create_raw_views(con, RAW_TABLES)
        load_sync_mappings(con, config)
        if not table_exists(con, "jira", "user_links"):
            raise RuntimeError("jira.user_links does not exist yet; materialize jira/user_links first.")
        con.execute(sql_file("assets.core", "teams.sql"))
        sources = dict(con.execute("SELECT source, count(*) FROM jira.teams GROUP BY ALL").fetchall())
        unlinked = con.execute("SELECT count(*) FROM jira.team_members WHERE account_id IS NULL").fetchall()[
            0
        ][0]
        team_meta = table_metadata(con, "jira.teams")
        member_meta = table_metadata(con, "jira.team_members")
        primary_meta = table_metadata(con, "jira.primary_teams")
    team_meta["teams_by_source"] = {str(k): int(v) for k, v in sources.items()}
    member_meta["members_without_account"] = int(unlinked)
    yield dg.MaterializeResult(asset_key=core_key("teams"), metadata=team_meta)
    yield dg.MaterializeResult(asset_key=core_key("team_members"), metadata=member_meta)
    yield dg.MaterializeResult(asset_key=core_key("primary_teams"), metadata=primary_meta)
