"""What keeps the deployment current with nobody clicking: declarative automation and run tags.

Every derived asset (`jira/*`, `analytics/*`, `publish/analyst_snapshot`) and every asset check
carries an `AutomationCondition`; the automation sensor (`default_automation_condition_sensor`,
on from the start unless the sync file's `automation.freshness.enabled` is false) evaluates them.
A sweep, a census, a backfill or a webhook drain updates a raw asset, and its downstream follows in
one run: at most one such run is queued or running at a time (`~in_progress`), so a burst of
webhook drains coalesces into a few transform runs. Warehouse steps stay serialized by the
`warehouse` pool whatever launched them.

Every run says who launched it and what it is for: tags `jira_sync/trigger` (schedule, sensor,
automation, make run) and `jira_sync/step`.
"""

from __future__ import annotations

import warnings

import dagster as dg

from pipelines import registry
from pipelines.config import SensorSettings
from pipelines.registry import WEBHOOK_SOURCE

TRIGGER_TAG = "jira_sync/trigger"
STEP_TAG = "jira_sync/step"
AUTOMATION_SENSOR = "default_automation_condition_sensor"

_ISSUES = dg.AssetKey(["jira_raw", "issues"])
_CHANGELOG = dg.AssetKey(["jira_raw", "issue_changelog"])
# The assets of the webhook drain's tables (assets/webhooks/ingest.py)
WEBHOOK_DRAIN = [dg.AssetKey(t.owner.split("/")) for t in registry.TABLES if t.source == WEBHOOK_SOURCE]

# Months of the issues backfill may stay missing for good (a month never imported, a new month
# before its first run: the sweep loads their issues anyway), and a table no site syncs has no
# asset at all: neither may hold the transforms back.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)  # include_sources is "beta"
    _EXTERNAL = dg.AssetSelection.all(include_sources=True) - dg.AssetSelection.all()
_MAY_STAY_MISSING = dg.AssetSelection.assets(_ISSUES, _CHANGELOG) | _EXTERNAL
# While deliveries arrive the inbox sensor asks for a drain every few seconds: waiting for a
# moment with no drain in progress could put the transforms off indefinitely. The pool orders
# the steps; a drain that lands meanwhile triggers the next transform run.
_RUNS_OFTEN = dg.AssetSelection.assets(*WEBHOOK_DRAIN)

FOLLOWS_UPSTREAM = (
    dg.AutomationCondition.eager()
    .replace("any_deps_missing", dg.AutomationCondition.any_deps_missing().ignore(_MAY_STAY_MISSING))
    .replace("any_deps_in_progress", dg.AutomationCondition.any_deps_in_progress().ignore(_RUNS_OFTEN))
    .with_label("follows upstream")
)
"""For derived assets: run after any upstream update (or when first missing), once nothing it
waits for is in progress and it is not already queued or running."""

CHECK_FOLLOWS_ASSET = dg.AutomationCondition.eager().with_label("after each materialization")
"""For asset checks: evaluate after each materialization of the asset that no run checked."""


def run_tags(trigger: str, step: str) -> dict[str, str]:
    return {TRIGGER_TAG: trigger, STEP_TAG: step}


def sensor_status(settings: SensorSettings) -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if settings.enabled else dg.DefaultSensorStatus.STOPPED


def automation_sensor(settings: SensorSettings) -> dg.AutomationConditionSensorDefinition:
    """Dagster's default automation sensor, declared so the sync file decides its status and pace."""
    return dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR,
        target=dg.AssetSelection.all(),
        default_status=sensor_status(settings),
        minimum_interval_seconds=settings.interval_seconds,
        run_tags=run_tags("automation", "follow upstream"),
        emit_backfills=False,
        description=(
            "Keeps jira/*, analytics/*, the analyst snapshot and every check current: after a sweep, "
            "census, backfill or webhook drain, what depends on it runs (one run at a time)."
        ),
    )
