"""Keeps every site's webhook alive: a dynamic one refreshed before its 30-day expiry, any one
re-registered if it vanished (admin webhooks never expire: only vanished or changed ones get a run).

Each tick lists the app's webhooks per site (cheap GETs, short timeouts; no warehouse access) and
asks for a `jira.webhook_registrations` run only when a site needs one. Run keys name the work
(`refresh:<cloud_id>:<expiry date>`, `register:<cloud_id>:<Jira date>`), so Dagster launches each
refresh once; a retry gets a numbered key only after the previous run for that work finished
and the site still needs it. All decisions use Jira's clock (see DynamicWebhookClient.jira_now).
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from assets.automation import run_tags, sensor_status
from assets.resources import JiraSecretsResource, SyncConfigResource
from assets.webhooks.registrations import REGISTRATIONS_KEY, WebhookRegistrationsConfig
from pipelines.config import HttpConfig, LifecycleSensorSettings, SensorSettings
from pipelines.webhooks.admin_lifecycle import AdminSiteWebhooks, inspect_admin
from pipelines.webhooks.client import WebhookAdminError
from pipelines.webhooks.lifecycle import SiteWebhooks, inspect
from pipelines.webhooks.operations import WebhookSite
from pipelines.webhooks.sites import open_webhook_sites

LIFECYCLE_SENSOR = "jira_webhook_lifecycle"
# Tags on every run this sensor asks for: the work it does (a retry finds earlier attempts), and
# the ISO week on Jira's clock (a week that saw any run needs no extra observe run).
WORK_TAG = "jira_sync/webhook_work"
WEEK_TAG = "jira_sync/webhook_week"
# A sensor tick must finish well within Dagster's 60 s sensor timeout.
SENSOR_HTTP = HttpConfig(max_requests_per_second=10, concurrency=1, max_attempts=2, timeout_seconds=10)
_OP_NAME = "__".join(REGISTRATIONS_KEY.path)


def plan_site(site: WebhookSite, state: SiteWebhooks, refresh_before: timedelta) -> tuple[str, str] | None:
    """(work, reason) when the site needs a reconcile run, else None."""
    current = state.current
    if state.status(refresh_before) == "url_conflict":
        return None  # an operator decides (create --replace-url); the registrations check shows ERROR
    if current is None:
        return f"register:{site.cloud_id}:{state.jira_now:%Y-%m-%d}", "no webhook is registered"
    if current.expires_at - state.jira_now <= refresh_before:
        return (
            f"refresh:{site.cloud_id}:{current.expires_at:%Y-%m-%d}",
            f"webhook {current.id} expires {current.expires_at:%Y-%m-%d %H:%M} UTC",
        )
    if state.duplicates or state.stale:
        ids = ",".join(str(w.id) for w in (*state.duplicates, *state.stale))
        return f"cleanup:{site.cloud_id}:{ids}", f"extra webhooks {ids}"
    return None


def plan_admin_site(site: WebhookSite, state: AdminSiteWebhooks) -> tuple[str, str] | None:
    """Admin webhooks never expire: only a vanished webhook or extra ones need a run."""
    if state.current is None:
        return f"register:{site.cloud_id}:{datetime.now(UTC):%Y-%m-%d}", "no admin webhook is registered"
    if state.extras or not state.current.matches(site.spec):
        ids = ",".join(str(w.id) for w in state.ours)
        return f"cleanup:{site.cloud_id}:{ids}", f"admin webhooks {ids} differ from the sync file"
    return None


def _run_key(instance: dg.DagsterInstance, work: str) -> str | None:
    """`work` the first time; `work:retryN` once earlier runs finished without fixing it; None while one runs."""
    runs = instance.get_runs(filters=dg.RunsFilter(tags={WORK_TAG: work}))
    if any(not run.is_finished for run in runs):
        return None
    return f"{work}:retry{len(runs)}" if runs else work


def _request(run_key: str, work: str, week: str, action: str, sites: list[str]) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=run_key,
        asset_selection=[REGISTRATIONS_KEY],
        run_config=dg.RunConfig(ops={_OP_NAME: WebhookRegistrationsConfig(action=action, sites=sites)}),
        tags={WORK_TAG: work, WEEK_TAG: week, **run_tags(f"sensor {LIFECYCLE_SENSOR}", f"webhooks {action}")},
    )


def _week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def build_lifecycle_sensor(settings: SensorSettings) -> dg.SensorDefinition:
    """The sensor, on or stopped and as often as the sync file's `automation.webhook_lifecycle` says
    (hourly by default: refreshes are due `webhooks.refresh_before_days` ahead)."""
    return dg.sensor(
        name=LIFECYCLE_SENSOR,
        asset_selection=[REGISTRATIONS_KEY],
        minimum_interval_seconds=settings.interval_seconds,
        default_status=sensor_status(settings),
        description="Refreshes dynamic webhooks before they expire and re-registers vanished ones, dynamic or admin (one per site).",
    )(lifecycle_requests)


def lifecycle_requests(
    context: dg.SensorEvaluationContext, sync_config: SyncConfigResource, jira_secrets: JiraSecretsResource
) -> dg.SensorResult | dg.SkipReason:
    sync = sync_config.load()
    refresh_before = timedelta(days=sync.webhooks.refresh_before_days)
    requests: list[dg.RunRequest] = []
    notes: list[str] = []
    jira_now = None
    with open_webhook_sites(sync, jira_secrets.environ(), http_config=SENSOR_HTTP) as selected:
        notes += [str(problem) for problem in selected.problems]
        for site in selected.sites:
            try:
                if site.admin is not None:
                    planned = plan_admin_site(site, inspect_admin(site.admin.client, site.spec))
                    state, jira_now = None, jira_now or datetime.now(UTC)  # admin webhooks keep no Jira clock
                else:
                    assert site.client is not None
                    state = inspect(site.client, site.spec)
                    jira_now = state.jira_now
                    planned = plan_site(site, state, refresh_before)
            except WebhookAdminError as exc:
                notes.append(str(exc))
                continue
            if planned is None:
                continue
            work, reason = planned
            run_key = _run_key(context.instance, work)
            if run_key is not None:
                context.log.info(f"{site.label}: {reason}: requesting {run_key}")
                week = _week(state.jira_now if state is not None else datetime.now(UTC))
                requests.append(_request(run_key, work, week, "reconcile", [site.site_name]))
    if not requests and (jira_now is not None or notes):
        # At least one run a week records every site's state (failures included: a site that
        # cannot be listed shows as ERROR), so the registrations check is current.
        week = _week(jira_now or datetime.now(UTC))
        if not context.instance.get_runs(filters=dg.RunsFilter(tags={WEEK_TAG: week}), limit=1):
            requests.append(_request(f"observe:{week}", f"observe:{week}", week, "observe", []))
    for note in notes:
        context.log.warning(note)
    if not requests:
        return dg.SkipReason("; ".join(notes) or "every webhook is alive beyond the refresh window")
    return dg.SensorResult(run_requests=requests)


webhook_lifecycle_sensor = build_lifecycle_sensor(LifecycleSensorSettings())
