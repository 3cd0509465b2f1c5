"""The backfill's cost in the UI before it is launched: job `plan_issues_backfill`.

It asks each site for its approximate issue count and one sample page (`pipelines.jira.plan`, as
`jira-sync plan backfill` does) and records the estimate as an observation of `jira_raw/issues`:
the asset's page then shows the requests, Atlassian points and hours of the backfill next to the
materializations, whose `run_http_requests` and `run_http_quota_points` are what a run really
spent.
"""

from datetime import UTC, date, datetime

import dagster as dg

from assets.raw.site_access import open_sites
from assets.resources import JiraSecretsResource, SyncConfigResource
from pipelines.jira.plan import plan_backfill
from pipelines.jira.windows import Window, epoch_ms

PLAN_JOB = "plan_issues_backfill"
ISSUES_KEY = dg.AssetKey(["jira_raw", "issues"])


class BackfillRange(dg.Config):
    """Months created, `YYYY-MM`; empty: from `sync.history_start` to this month."""

    from_month: str = ""
    to_month: str = ""


def _month(text: str, name: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise dg.Failure(f"{name} {text!r} is not a month: write YYYY-MM, e.g. 2024-01") from None


@dg.op(name="plan_issues_backfill_estimate")
def estimate_backfill(
    context: dg.OpExecutionContext,
    config: BackfillRange,
    sync_config: SyncConfigResource,
    jira_secrets: JiraSecretsResource,
) -> None:
    step = open_sites(context, sync_config, jira_secrets, purpose="plan")
    start = _month(config.from_month, "from_month") if config.from_month else step.config.sync.history_start
    last = _month(config.to_month, "to_month") if config.to_month else datetime.now(UTC).date()
    end = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    window = Window(
        "created",
        epoch_ms(datetime(start.year, start.month, 1, tzinfo=UTC)),
        epoch_ms(datetime(end.year, end.month, 1, tzinfo=UTC)),
    )
    plan = plan_backfill(step.http, step.resolved.sites, window, step.config)
    for line in plan.lines():
        context.log.info(line)
    requests = sum(site.requests for site in plan.sites)
    context.log_event(
        dg.AssetObservation(
            asset_key=ISSUES_KEY,
            description="Estimate of an issues backfill (job plan_issues_backfill)",
            metadata={
                "estimate_window": window.label(),
                "estimated_issues": dg.MetadataValue.int(sum(site.issues for site in plan.sites)),
                "estimated_requests": dg.MetadataValue.int(requests),
                "estimated_oauth_points": dg.MetadataValue.int(plan.oauth_points),
                "estimated_oauth_hours": dg.MetadataValue.float(round(plan.oauth_hours, 2)),
                "estimated_api_token_minutes": dg.MetadataValue.float(
                    round(plan.request_hours(requests) * 60, 1)
                ),
                "estimate": dg.MetadataValue.md("\n".join(f"- {line.strip()}" for line in plan.lines())),
            },
        )
    )
    step.finish()


@dg.job(
    name=PLAN_JOB,
    description="Estimate an issues backfill before launching it: issues, requests, Atlassian points and "
    "hours per site (2 requests a site). The estimate lands as an observation on jira_raw/issues.",
    tags={"jira_sync/kind": "plan"},
)
def plan_issues_backfill() -> None:
    estimate_backfill()


def latest_estimate(instance: dg.DagsterInstance, window: Window) -> dict[str, dg.MetadataValue]:
    """The newest plan of this very window, as `estimated_*` metadata for the backfill's run."""
    records = instance.fetch_observations(ISSUES_KEY, limit=1).records
    if not records or records[0].asset_observation is None:
        return {}
    metadata = records[0].asset_observation.metadata
    found = metadata.get("estimate_window")
    if found is None or found.value != window.label():
        return {}
    return {k: v for k, v in metadata.items() if k in ("estimated_requests", "estimated_oauth_points")}


def spent_line(counts: dict, estimate: dict[str, dg.MetadataValue]) -> str:
    """What the backfill spent, beside the plan of the same window when there is one."""
    points = counts.get("quota", {}).get("points")
    spent = f"{counts['requests']:,} requests" + (
        f", {points:,} points of the app's quota" if points is not None else ""
    )
    if not estimate:
        return (
            f"backfill spent {spent} (no plan of this window: run job {PLAN_JOB} to see one before launching)"
        )
    planned = f"{estimate['estimated_requests'].value:,} requests, {estimate['estimated_oauth_points'].value:,} points"
    return f"backfill spent {spent}; planned: {planned} (job {PLAN_JOB})"
