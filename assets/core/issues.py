"""`jira.issues`: the current state of every issue with its category and state, and the upsert
that applies a set of changed issues between full runs (used by the webhook ingest).
"""

import dagster as dg
from dagster import AssetExecutionContext

from assets.automation import FOLLOWS_UPSTREAM
from assets.core.common import CORE_GROUP, KINDS, core_key, issue_table_deps, raw_key
from assets.core.mappings import add_missing_mappings
from assets.core.raw_views import contract_columns, create_raw_views
from assets.core.sql import sql_file, table_metadata, transaction, transform_connection
from assets.core.sync_mappings import load_sync_mappings
from assets.resources import WAREHOUSE_POOL, SyncConfigResource, WarehouseResource
from assets.warehouse import Warehouse, relation_columns, table_exists
from pipelines import registry
from pipelines.config import SyncConfig

_ISSUE_COLUMNS = contract_columns(registry.table("issues"))


def build_issues(con: Warehouse) -> None:
    """Rebuild jira.issues from raw_issues (needs the raw views and both mapping tables)."""
    con.execute("CREATE OR REPLACE TEMP VIEW issue_source AS SELECT * FROM raw_issues")
    con.execute(f"CREATE OR REPLACE TABLE jira.issues AS {sql_file('assets.core', 'issue_rows.sql')}")


def upsert_issues(con: Warehouse, changed_issues: str, config: SyncConfig) -> int:
    """Apply changed issues to jira.issues; returns how many rows were written.

    `changed_issues` names a table or view with the columns of jira_raw.issues (at least
    cloud_id, id, updated; missing columns read as null), e.g. issues rebuilt from webhook
    payloads. An issue present several times counts with its latest `updated`; a row never
    replaces one whose `updated` is newer (a late webhook never overwrites newer data). Types and
    statuses not mapped yet are mapped by the same rules as the full run. Runs in the caller's
    transaction if one is open; needs the jira tables of a previous full transform run.
    """
    present = set(relation_columns(con, changed_issues))
    for required in ("cloud_id", "id", "updated"):
        if required not in present:
            raise ValueError(
                f"upsert_issues: {changed_issues} has no column {required!r}; it needs the columns of "
                "jira_raw.issues (docs/architecture.md), at least cloud_id, id and updated."
            )
    if not table_exists(con, "jira", "issues"):
        raise RuntimeError(
            "upsert_issues: jira.issues does not exist yet; materialize the jira assets once "
            "(job `transforms`) before applying changes to it."
        )
    select = ", ".join(
        f'CAST("{column}" AS {kind}) AS "{column}"'
        if column in present
        else f'CAST(NULL AS {kind}) AS "{column}"'
        for column, kind in _ISSUE_COLUMNS.items()
    )
    create_raw_views(con, ["sites"])
    load_sync_mappings(con, config)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE changed_issue_source AS
        SELECT {select} FROM {changed_issues}
        WHERE cloud_id IS NOT NULL AND id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY cloud_id, id ORDER BY updated DESC NULLS LAST) = 1
        """
    )
    con.execute(
        """
        DELETE FROM changed_issue_source AS s
        USING jira.issues AS i
        WHERE i.cloud_id = s.cloud_id AND i.issue_id = s.id AND i.updated > s.updated
        """
    )
    con.execute("CREATE OR REPLACE TEMP VIEW issue_source AS SELECT * FROM changed_issue_source")
    add_missing_mappings(con, "issue_source")
    con.execute(
        """
        DELETE FROM jira.issues AS i
        USING issue_source AS s
        WHERE i.cloud_id = s.cloud_id AND i.issue_id = s.id
        """
    )
    con.execute(f"INSERT INTO jira.issues {sql_file('assets.core', 'issue_rows.sql')}")
    (written,) = con.execute("SELECT count(*) FROM changed_issue_source").fetchall()[0]
    con.execute("DROP VIEW issue_source")
    con.execute("DROP TABLE changed_issue_source")
    return int(written)


def delete_issues(con: Warehouse, deleted_issues: str) -> int:
    """Remove issues from jira.issues; `deleted_issues` names a relation with cloud_id and issue_id."""
    before = con.execute("SELECT count(*) FROM jira.issues").fetchall()[0][0]
    con.execute(
        f"""
        DELETE FROM jira.issues AS i
        USING {deleted_issues} AS d
        WHERE i.cloud_id = d.cloud_id AND i.issue_id = d.issue_id
        """
    )
    return int(before - con.execute("SELECT count(*) FROM jira.issues").fetchall()[0][0])


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
        "Webhook events are applied between full runs with assets.core.issues.upsert_issues."
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
