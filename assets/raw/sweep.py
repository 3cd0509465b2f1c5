"""The incremental sweep: issues updated since each site's watermark, merged into the issues tables."""

from datetime import timedelta

import dagster as dg
from dagster import AssetExecutionContext

from assets.raw.catalog import DATASET, DESCRIPTIONS, GROUP, KIND_TAG, table_spec_metadata
from assets.raw.metadata import http_metadata, rows_loaded, table_metadata
from assets.raw.site_access import open_sites
from assets.raw.warehouse_state import latest_updated
from assets.resources import WAREHOUSE_POOL, JiraSecretsResource, SyncConfigResource
from pipelines.config import SyncConfig
from pipelines.jira import jira_issue_updates

SWEEP_PIPELINE = "jira_issue_updates"
ISSUES_KEY = dg.AssetKey([DATASET, "issues"])


def build_sweep_asset(config: SyncConfig) -> dg.AssetsDefinition:
    """`jira_raw/issue_updates`; runs its dlt pipeline directly because it writes tables of
    `jira_raw/issues` (a partitioned asset that an unpartitioned run cannot materialize)."""

    @dg.asset(
        key=[DATASET, "issue_updates"],
        group_name=GROUP,
        description=DESCRIPTIONS["issue_updates"],
        deps=[ISSUES_KEY],
        metadata=table_spec_metadata("issue_updates"),
        pool=WAREHOUSE_POOL,
        tags={KIND_TAG: "issues"},
        kinds={"dlt", config.warehouse.destination},
    )
    def issue_updates(
        context: AssetExecutionContext, sync_config: SyncConfigResource, jira_secrets: JiraSecretsResource
    ):
        step = open_sites(context, sync_config, jira_secrets, purpose="sweep")
        pipeline = step.pipeline(SWEEP_PIPELINE)
        pipeline.drop()  # local state may be stale: restore the watermarks from the warehouse
        seeds = latest_updated(pipeline, "issues")
        source = jira_issue_updates(
            step.resolved.sites,
            step.resolved.failures,
            overlap=timedelta(minutes=step.config.sync.incremental_overlap_minutes),
            initial_watermarks=seeds,
            http=step.http,
            history_start=step.config.sync.history_start,
            run_id=context.run.run_id,
        )
        pipeline.run(source).raise_on_failed_jobs()
        yield dg.MaterializeResult(
            metadata={
                **table_metadata(pipeline, "issue_updates"),
                "issues_merged": dg.MetadataValue.int(rows_loaded(pipeline, "issues")),
                "changelog_rows_merged": dg.MetadataValue.int(rows_loaded(pipeline, "issue_changelog")),
                "warehouse_watermarks": dg.MetadataValue.json({k: v.isoformat() for k, v in seeds.items()}),
                **http_metadata(step.http.stats),
            }
        )
        step.finish()

    return issue_updates
