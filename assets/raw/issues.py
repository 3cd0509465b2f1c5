"""Issues and their full changelogs, partitioned by the month the issue was created."""

from datetime import UTC, datetime

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dlt import DagsterDltResource

from assets.raw.backfill_plan import latest_estimate, spent_line
from assets.raw.metadata import with_table_metadata
from assets.raw.partitions import issue_created_months
from assets.raw.site_access import open_sites
from assets.raw.translator import raw_assets
from assets.resources import WAREHOUSE_POOL, JiraSecretsResource, SyncConfigResource
from pipelines.config import SyncConfig
from pipelines.jira import jira_issues
from pipelines.jira.runtime import SiteFailures
from pipelines.jira.windows import Window, epoch_ms

ISSUES_PIPELINE = "jira_issues"


def build_issue_assets(config: SyncConfig) -> dg.AssetsDefinition:
    """`jira_raw/issues` + `jira_raw/issue_changelog`; a partition range runs as one bounded run."""
    months = issue_created_months(config)
    placeholder_start = datetime.combine(config.sync.history_start, datetime.min.time(), UTC)

    @raw_assets(
        jira_issues(
            [], SiteFailures(), created_from=placeholder_start, created_to=placeholder_start, http=None
        ),
        name=ISSUES_PIPELINE,
        kind="issues",
        config=config,
        partitions_def=months,
        # Explicit, though dagster-dlt defaults to it for time partitions: a backfill over many
        # months is one run over one bounded window, never N runs racing on one dlt pipeline.
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
    )
    def jira_issues_assets(
        context: AssetExecutionContext,
        dlt: DagsterDltResource,
        sync_config: SyncConfigResource,
        jira_secrets: JiraSecretsResource,
    ):
        window = context.partition_time_window  # range-aware: [first month start, last month end)
        context.log.info(f"issues created in [{window.start.isoformat()}, {window.end.isoformat()})")
        step = open_sites(context, sync_config, jira_secrets, purpose="backfill")
        pipeline = step.pipeline(ISSUES_PIPELINE)
        source = jira_issues(
            step.resolved.sites,
            step.resolved.failures,
            created_from=window.start,
            created_to=window.end,
            http=step.http,
        )
        events = dlt.run(context=context, dlt_source=source, dlt_pipeline=pipeline)
        estimate = latest_estimate(
            context.instance, Window("created", epoch_ms(window.start), epoch_ms(window.end))
        )
        extra = {
            "created_window": f"[{window.start.isoformat()}, {window.end.isoformat()})",
            **estimate,
        }
        yield from with_table_metadata(events, pipeline, stats=step.http.stats, extra=extra, context=context)
        context.log.info(spent_line(step.http.stats.as_dict(), estimate))
        step.finish()

    return jira_issues_assets
