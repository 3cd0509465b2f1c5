"""The mapping tables other parts reuse: issue type -> category, status -> state, per project.

`jira.issue_type_categories` and `jira.status_states` hold one row per (site, project, type or
status), with the rule that decided, so every consumer (jira.issues, the webhook upsert, the
status history) applies the same mapping, and an analyst can see why a type landed where it did.
"""

import dagster as dg
from dagster import AssetExecutionContext

from assets.automation import FOLLOWS_UPSTREAM
from assets.core.common import CORE_GROUP, KINDS, core_key, issue_table_deps, raw_key
from assets.core.raw_views import create_raw_views, create_status_changes_view
from assets.core.sql import sql_file, table_metadata, transaction, transform_connection
from assets.core.sync_mappings import load_sync_mappings
from assets.resources import WAREHOUSE_POOL, SyncConfigResource, WarehouseResource
from assets.warehouse import Warehouse

_SQL = "assets.core"


def build_type_categories(con: Warehouse) -> None:
    """Rebuild jira.issue_type_categories from the raw catalogue (needs the raw views)."""
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW type_candidates AS {sql_file(_SQL, 'issue_type_candidates.sql')}"
    )
    con.execute(
        f"CREATE OR REPLACE TABLE jira.issue_type_categories AS {sql_file(_SQL, 'issue_types_mapped.sql')}"
    )


def build_status_states(con: Warehouse) -> None:
    """Rebuild jira.status_states from the raw catalogue, issues and changelog."""
    create_status_changes_view(con)
    con.execute(f"CREATE OR REPLACE TEMP VIEW status_candidates AS {sql_file(_SQL, 'status_candidates.sql')}")
    con.execute(f"CREATE OR REPLACE TABLE jira.status_states AS {sql_file(_SQL, 'statuses_mapped.sql')}")


def _counts(con: Warehouse, table: str, column: str) -> dict[str, int]:
    rows = con.execute(f"SELECT {column}, count(*) FROM jira.{table} GROUP BY ALL ORDER BY 1").fetchall()
    return {str(value): count for value, count in rows}


@dg.asset(
    key=core_key("issue_type_categories"),
    group_name=CORE_GROUP,
    pool=WAREHOUSE_POOL,
    kinds=KINDS,
    deps=[*(raw_key(t) for t in ("sites", "projects", "issue_types")), *issue_table_deps("issues")],
    automation_condition=FOLLOWS_UPSTREAM,
    description=(
        "Issue type -> category (feature, bug, chore, discovery, incident, other) per site and project, "
        "with the deciding rule (custom:<PROJECT>, keyword:<word>, default). Custom per-project mappings "
        "of the sync file win; then the first keyword category in the sync file's order whose keyword "
        "the name contains (case-insensitive); else other."
    ),
)
def issue_type_categories(
    context: AssetExecutionContext, warehouse: WarehouseResource, sync_config: SyncConfigResource
) -> dg.MaterializeResult:
    config = sync_config.load()
    with transform_connection(warehouse) as con, transaction(con):
        missing = create_raw_views(con, ["sites", "projects", "issue_types", "issues"])
        load_sync_mappings(con, config)
        build_type_categories(con)
        metadata = table_metadata(con, "jira.issue_type_categories")
        metadata["categories"] = _counts(con, "issue_type_categories", "type_category")
    if missing:
        context.log.warning(f"jira_raw tables not loaded yet (read as empty): {', '.join(missing)}")
    return dg.MaterializeResult(metadata={**metadata, "missing_raw_tables": ", ".join(missing) or "none"})


@dg.asset(
    key=core_key("status_states"),
    group_name=CORE_GROUP,
    pool=WAREHOUSE_POOL,
    kinds=KINDS,
    deps=[
        *(raw_key(t) for t in ("sites", "projects", "statuses")),
        *issue_table_deps("issues"),
        *issue_table_deps("issue_changelog"),
    ],
    automation_condition=FOLLOWS_UPSTREAM,
    description=(
        "Status -> state (open, in_progress, closed) per site and project, with the deciding rule. "
        "From the status category: To Do (new) -> open, In Progress (indeterminate) -> in_progress, "
        "Done (done) -> closed, No Category (undefined) -> open; per-project overrides of the sync file "
        "(by status id or name) win. Covers statuses seen only in issue histories."
    ),
)
def status_states(
    context: AssetExecutionContext, warehouse: WarehouseResource, sync_config: SyncConfigResource
) -> dg.MaterializeResult:
    config = sync_config.load()
    with transform_connection(warehouse) as con, transaction(con):
        missing = create_raw_views(con, ["sites", "projects", "statuses", "issues", "issue_changelog"])
        load_sync_mappings(con, config)
        build_status_states(con)
        metadata = table_metadata(con, "jira.status_states")
        metadata["states"] = _counts(con, "status_states", "state")
    if missing:
        context.log.warning(f"jira_raw tables not loaded yet (read as empty): {', '.join(missing)}")
    return dg.MaterializeResult(metadata={**metadata, "missing_raw_tables": ", ".join(missing) or "none"})
