"""What a deployment runs by itself, and when: the schedules, sensors and automation of the definitions.

`jira-sync config check` prints it, so an operator sees before starting the daemon what will run,
how often, and what the sync file switched off.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime

from croniter import croniter

from pipelines.config import SyncConfig


@dataclass
class Plan:
    kind: str  # schedule | sensor | job
    name: str
    running: bool
    when: str
    what: str


def automation_plan(config: SyncConfig, defs, now: datetime) -> list[Plan]:
    """Every schedule and sensor of `defs` (status, pace, next tick) and each job with no schedule."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import dagster as dg

        from assets.automation import AUTOMATION_SENSOR

        repo = defs.get_repository_def()
        graph = repo.asset_graph
        plans: list[Plan] = []
        for schedule in sorted(repo.schedule_defs, key=lambda s: s.name):
            job = repo.get_job(schedule.job_name)
            upcoming = croniter(schedule.cron_schedule, now).get_next(datetime)
            plans.append(
                Plan(
                    "schedule",
                    schedule.name,
                    schedule.default_status == dg.DefaultScheduleStatus.RUNNING,
                    f"cron '{schedule.cron_schedule}' UTC, next {upcoming:%Y-%m-%d %H:%M} UTC",
                    f"job {schedule.job_name} ({len(job.asset_layer.executable_asset_keys)} assets)",
                )
            )
        scheduled = {schedule.job_name for schedule in repo.schedule_defs}
        for sensor in sorted(repo.sensor_defs, key=lambda s: s.name):
            what = (sensor.description or "").split(":")[0].rstrip(".")
            what = what[:1].lower() + what[1:]
            if sensor.name == AUTOMATION_SENSOR:
                assets = [k for k in graph.materializable_asset_keys if graph.get(k).automation_condition]
                checks = [k for k in graph.asset_check_keys if graph.get(k).automation_condition]
                what = (
                    f"{len(assets)} derived assets and {len(checks)} checks follow their upstream "
                    "(sweep, census, backfill, webhook drain); one transform run at a time"
                )
            plans.append(
                Plan(
                    "sensor",
                    sensor.name,
                    sensor.default_status == dg.DefaultSensorStatus.RUNNING,
                    f"every {_seconds(sensor.minimum_interval_seconds or 30)}",
                    what,
                )
            )
        for job in config.jobs:
            if job.name not in scheduled:
                plans.append(Plan("job", job.name, False, "on demand (no cron)", "launch it from the UI"))
    return plans


def _seconds(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def describe(plans: list[Plan]) -> str:
    width = max((len(p.name) for p in plans), default=0)
    lines = [
        "  what runs by itself once the Dagster daemon runs (`make dev`, `dagster dev`, `dagster-daemon run`):"
    ]
    for plan in plans:
        status = "-" if plan.kind == "job" else ("running" if plan.running else "STOPPED")
        lines.append(f"    {plan.kind:<8} {plan.name:<{width}}  {status:<7}  {plan.when}: {plan.what}")
    if any(p.kind != "job" and not p.running for p in plans):
        lines.append("    (STOPPED: switched off in the sync file; start it on the UI's Automation page)")
    lines.append(
        "  watch it in the Dagster UI: Automation (schedules, sensors, their ticks), Runs (tags "
        "jira_sync/trigger, jira_sync/step), Assets (each asset's automation condition and checks)"
    )
    return "\n".join(lines)
