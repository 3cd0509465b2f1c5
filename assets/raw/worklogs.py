"""Worklogs, incremental: changed ones through worklog/updated + worklog/list, deletions through
worklog/deleted, each from its own per-site watermark."""

import dagster as dg
from dagster import AssetExecutionContext

from assets.raw.catalog import DATASET, DESCRIPTIONS, GROUP, KIND_TAG, table_spec_metadata
from assets.raw.metadata import http_metadata, rows_loaded, table_metadata
from assets.raw.site_access import open_sites
from assets.raw.warehouse_state import latest_updated
from assets.resources import WAREHOUSE_POOL, JiraSecretsResource, SyncConfigResource
from pipelines.config import SyncConfig
from pipelines.jira import jira_worklogs

WORKLOGS_PIPELINE = "jira_worklogs"


def build_worklog_asset(config: SyncConfig) -> dg.AssetsDefinition:
    """`jira_raw/worklogs`; the watermarks live in the dlt state, seeded from the warehouse when lost."""

    @dg.asset(
        key=[DATASET, "worklogs"],
        group_name=GROUP,
        description=DESCRIPTIONS["worklogs"],
        metadata=table_spec_metadata("worklogs"),
        pool=WAREHOUSE_POOL,
        tags={KIND_TAG: "issues"},
        kinds={"dlt", config.warehouse.destination},
    )
    def worklogs(
        context: AssetExecutionContext, sync_config: SyncConfigResource, jira_secrets: JiraSecretsResource
    ):
        step = open_sites(context, sync_config, jira_secrets, purpose="sweep")
        pipeline = step.pipeline(WORKLOGS_PIPELINE)
        pipeline.drop()  # local state may be stale: restore the watermarks from the warehouse
        seeds = latest_updated(pipeline, "worklogs")
        source = jira_worklogs(
            step.resolved.sites, step.resolved.failures, initial_watermarks=seeds, http=step.http
        )
        pipeline.run(source).raise_on_failed_jobs()
        yield dg.MaterializeResult(
            metadata={
                **table_metadata(pipeline, "worklogs"),
                "worklog_rows_loaded": dg.MetadataValue.int(rows_loaded(pipeline, "worklogs")),
                "warehouse_watermarks": dg.MetadataValue.json({k: v.isoformat() for k, v in seeds.items()}),
                **http_metadata(step.http.stats),
            }
        )
        step.finish()

    return worklogs
