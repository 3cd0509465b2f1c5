"""The issue-ID census: deletions Jira never told us about, and projects we can no longer see."""

import dagster as dg
from dagster import AssetExecutionContext

from assets.raw.catalog import DATASET, DESCRIPTIONS, GROUP, KIND_TAG, table_spec_metadata
from assets.raw.metadata import http_metadata, rows_loaded, table_metadata
from assets.raw.site_access import open_sites
from assets.raw.warehouse_state import warehouse_issues
from assets.resources import WAREHOUSE_POOL, JiraSecretsResource, SyncConfigResource
from pipelines.config import SyncConfig
from pipelines.jira import jira_issue_census

CENSUS_PIPELINE = "jira_issue_census"
CENSUS_TABLES = ("issue_deletions", "project_access")


def build_census_assets(config: SyncConfig) -> dg.AssetsDefinition:
    """`jira_raw/issue_deletions` + `jira_raw/project_access`; runs its dlt pipeline directly because
    the hard deletes go into the tables of `jira_raw/issues`."""
    kinds = {"dlt", config.warehouse.destination}
    specs = [
        dg.AssetSpec(
            key=[DATASET, table],
            group_name=GROUP,
            description=DESCRIPTIONS[table],
            deps=[dg.AssetKey([DATASET, "issues"])],
            metadata=table_spec_metadata(table),
            tags={KIND_TAG: "issues"},
            kinds=kinds,
        )
        for table in CENSUS_TABLES
    ]

    @dg.multi_asset(name="jira_issue_census", specs=specs, pool=WAREHOUSE_POOL, can_subset=False)
    def jira_issue_census_assets(
        context: AssetExecutionContext, sync_config: SyncConfigResource, jira_secrets: JiraSecretsResource
    ):
        step = open_sites(context, sync_config, jira_secrets, purpose="census")
        pipeline = step.pipeline(CENSUS_PIPELINE)
        pipeline.drop()
        known = warehouse_issues(pipeline)
        context.log.info(f"census of {sum(len(v) for v in known.values())} warehouse issues")
        source = jira_issue_census(step.resolved.sites, step.resolved.failures, known, http=step.http)
        pipeline.run(source).raise_on_failed_jobs()
        extra = {
            "issues_hard_deleted": dg.MetadataValue.int(rows_loaded(pipeline, "issue_deletions")),
            **http_metadata(step.http.stats),
        }
        for table in CENSUS_TABLES:
            yield dg.MaterializeResult(
                asset_key=[DATASET, table], metadata={**table_metadata(pipeline, table), **extra}
            )
        step.finish()

    return jira_issue_census_assets
