"""`jira.issues`: the current state of every issue with its category and state, rebuilt from the
current state of the raw tables (REST loads, webhook deliveries, deletions: `raw_issues`)."""

import dagster as dg
from dagster import AssetExecutionContext

from assets.automation import FOLLOWS_UPSTREAM
from assets.core.common import CORE_GROUP, KINDS, core_key, issue_table_deps, raw_key
from assets.core.raw_views import contract_columns, create_raw_views
from assets.core.sql import sql_file, table_metadata, transaction, transform_connection
from assets.resources import WAREHOUSE_POOL, SyncConfigResource, WarehouseResource
from assets.warehouse import Warehouse
from pipelines import registry

_ISSUE_COLUMNS = contract_columns(registry.table("issues"))


def build_issues(con: Warehouse) -> None:
    """Rebuild jira.issues from raw_issues (needs the raw views and both mapping tables)."""
    con.execute("CREATE OR REPLACE TEMP VIEW issue_source AS SELECT * FROM raw_issues")
    con.execute(f"CREATE OR REPLACE TABLE jira.issues AS {sql_file('assets.core', 'issue_rows.sql')}")


@dg.asset(
    key=core_key("issues"),
    group_name=CORE_GROUP,
    pool=WAREHOUSE_POOL,
    kinds=KINDS,
    deps=[
        *issue_table_deps("issues"),
        raw_key("sites"),
        core_key("issue_type_categories"),
        core_key("status_states"),
    ],
    automation_condition=FOLLOWS_UPSTREAM,
    description=(
        "Current state of every issue, one row per issue per site: key, summary, project, parent, "
        "assignee/reporter account IDs, created/updated/resolved, the original type and status (names "
        "and ids), type_category + type_rule and state + state_rule from the mapping tables, tenant_id. "
        "Derived from every writer of the issues: the REST loads, the webhook drain and the census "
        "(the newest observation of an issue wins; a deletion removes it)."
    ),
)
def issues(
    context: AssetExecutionContext, warehouse: WarehouseResource, sync_config: SyncConfigResource
) -> dg.MaterializeResult:
    sync_config.load()  # a broken sync file fails here, before the warehouse is touched
    with transform_connection(warehouse) as con, transaction(con):
        missing = create_raw_views(con, ["issues", "sites"])
        build_issues(con)
        metadata = table_metadata(con, "jira.issues")
        rows = con.execute(
            "SELECT type_category, count(*) FROM jira.issues GROUP BY ALL ORDER BY 1"
        ).fetchall()
        unmapped_sites = con.execute("SELECT count(*) FROM jira.issues WHERE tenant_id IS NULL").fetchall()[
            0
        ][0]
    if missing:
        context.log.warning(f"jira_raw tables not loaded yet (read as empty): {', '.join(missing)}")
    if unmapped_sites:
        context.log.warning(
            f"{unmapped_sites} issues belong to a cloud_id that jira_raw.sites does not list (tenant_id null); "
            "run the jira_raw/sites asset."
        )
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "issues_by_category": {str(k): v for k, v in rows},
            "issues_without_tenant": unmapped_sites,
        }
    )
