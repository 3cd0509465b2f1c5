"""Reference data (sites, projects, issue types, statuses, users, groups) and Atlassian Teams."""

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dlt import DagsterDltResource

from assets.raw.catalog import reference_tables, syncs_teams
from assets.raw.metadata import with_table_metadata
from assets.raw.site_access import open_sites
from assets.raw.translator import raw_assets
from assets.resources import WAREHOUSE_POOL, JiraSecretsResource, SyncConfigResource
from pipelines.config import SyncConfig
from pipelines.jira import jira_reference, jira_teams
from pipelines.jira.runtime import SiteFailures

REFERENCE_PIPELINE = "jira_reference"
TEAMS_PIPELINE = "jira_teams"


def build_reference_assets(config: SyncConfig) -> list[dg.AssetsDefinition]:
    """One multi-asset per source; each site's snapshot replaces only that site's rows."""
    tables = reference_tables(config)

    @raw_assets(
        jira_reference([], SiteFailures()).with_resources(*tables),
        name=REFERENCE_PIPELINE,
        kind="reference",
        config=config,
        pool=WAREHOUSE_POOL,
    )
    def jira_reference_assets(
        context: AssetExecutionContext,
        dlt: DagsterDltResource,
        sync_config: SyncConfigResource,
        jira_secrets: JiraSecretsResource,
    ):
        step = open_sites(context, sync_config, jira_secrets, purpose="reference")
        pipeline = step.pipeline(REFERENCE_PIPELINE)
        source = jira_reference(step.resolved.sites, step.resolved.failures, http=step.http)
        events = dlt.run(context=context, dlt_source=source.with_resources(*tables), dlt_pipeline=pipeline)
        yield from with_table_metadata(events, pipeline, stats=step.http.stats)
        step.finish()

    assets = [jira_reference_assets]
    if not syncs_teams(config):
        return assets

    @raw_assets(
        jira_teams([], SiteFailures()),
        name=TEAMS_PIPELINE,
        kind="reference",
        config=config,
        pool=WAREHOUSE_POOL,
    )
    def jira_teams_assets(
        context: AssetExecutionContext,
        dlt: DagsterDltResource,
        sync_config: SyncConfigResource,
        jira_secrets: JiraSecretsResource,
    ):
        step = open_sites(context, sync_config, jira_secrets, purpose="reference")
        pipeline = step.pipeline(TEAMS_PIPELINE)
        source = jira_teams(step.resolved.teams, step.resolved.failures, http=step.http)
        events = dlt.run(context=context, dlt_source=source, dlt_pipeline=pipeline)
        yield from with_table_metadata(events, pipeline, stats=step.http.stats)
        step.finish()

    return [*assets, jira_teams_assets]
