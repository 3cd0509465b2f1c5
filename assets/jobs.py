"""Jobs and schedules generated from the sync file's `jobs:` (plus the issues backfill job).

A job is a Dagster asset selection string. It is validated here, against the assets every area
defined, so a typo fails when the definitions load, naming the file and `jobs[i].select`, instead of
producing a job that silently materializes nothing.
"""

from __future__ import annotations

import warnings

import dagster as dg

from assets.automation import STEP_TAG, run_tags
from assets.main_steps import ISSUES_BACKFILL_JOB, main_step_jobs
from pipelines.config import JobConfig, SyncConfig, SyncConfigError

# Launch `issues_backfill` over a partition range (UI "Materialize" > range, or `dagster job
# backfill`) to import history: the issues assets' single-run backfill policy makes a range one run.
ISSUES_BACKFILL_SELECTION = 'key:"jira_raw/issues" or key:"jira_raw/issue_changelog"'
SELECTION_EXAMPLES = (
    "'group:jira_raw', 'key:\"jira_raw/issue_updates\"+', 'tag:\"jira_sync/kind\"=\"reference\"'"
)


def build_job_definitions(config: SyncConfig, assets: dg.Definitions) -> dg.Definitions:
    """One asset job per `jobs[i]`, a schedule for each job with a `cron`, the backfill job and the
    main job's steps (`assets.main_steps`).

    `assets` are every area's definitions with their resources bound.
    """
    graph = assets.resolve_asset_graph()
    jobs: list[dg.UnresolvedAssetJobDefinition] = []
    schedules: list = []
    names: set[str] = set()

    backfill_keys = _resolve(dg.AssetSelection.from_string(ISSUES_BACKFILL_SELECTION), graph)
    if backfill_keys:
        jobs.append(
            dg.define_asset_job(
                ISSUES_BACKFILL_JOB,
                selection=dg.AssetSelection.assets(*sorted(backfill_keys)),
                tags={STEP_TAG: "issues backfill"},
                description=(
                    "Historical import of issues and their full changelogs by created month. "
                    "Launch it over a partition range: the range runs as one bounded, stateless run."
                ),
            )
        )
        names.add(ISSUES_BACKFILL_JOB)
    for main_job in main_step_jobs(graph):
        jobs.append(main_job)
        names.add(main_job.name)

    for index, job in enumerate(config.jobs):
        if job.name in names:
            raise SyncConfigError(
                config.source_path,
                [
                    (
                        f"jobs[{index}].name",
                        f"{job.name!r} is the name of a built-in job (the issues backfill or a step of "
                        "the main job); rename it",
                    )
                ],
            )
        names.add(job.name)
        # A multi-asset that cannot be split (the census writes both its tables) comes whole.
        selection = _parse_selection(config, index, job).required_multi_asset_neighbors()
        keys = _resolve(selection, graph)
        if not keys:
            groups = ", ".join(sorted(graph.all_group_names)) or "none"
            raise SyncConfigError(
                config.source_path,
                [
                    (
                        f"jobs[{index}].select",
                        f"{job.select!r} matches no asset of these definitions (groups: {groups}); "
                        f"fix the selection ({SELECTION_EXAMPLES}) or remove the job",
                    )
                ],
            )
        asset_job = dg.define_asset_job(
            job.name,
            selection=selection,
            description=f"From {config.source_path} jobs[{index}]: {job.select}",
            tags={STEP_TAG: job.name},
        )
        jobs.append(asset_job)
        if job.cron:
            schedules.append(_schedule(asset_job, job, _partitions(graph, keys)))
    return dg.Definitions(jobs=jobs, schedules=schedules)


def _parse_selection(config: SyncConfig, index: int, job: JobConfig) -> dg.AssetSelection:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.BetaWarning)  # tag/group selections are "beta"
            return dg.AssetSelection.from_string(job.select)
    except Exception as exc:  # dagster raises several error types for bad syntax
        raise SyncConfigError(
            config.source_path,
            [
                (
                    f"jobs[{index}].select",
                    f"{job.select!r} is not a Dagster asset selection ({exc}); write e.g. "
                    f"{SELECTION_EXAMPLES}, combined with and / or / not",
                )
            ],
        ) from None


def _resolve(selection: dg.AssetSelection, graph) -> set[dg.AssetKey]:
    """Materializable keys only: other areas may reference raw tables no site syncs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        resolved = selection.resolve(graph, allow_missing=True)
    return {key for key in resolved if graph.get(key).is_materializable}


def _partitions(graph, keys: set[dg.AssetKey]) -> dg.PartitionsDefinition | None:
    return next((p for key in keys if (p := graph.get(key).partitions_def) is not None), None)


def schedule_name(job: JobConfig) -> str:
    return f"{job.name}_schedule"


def _schedule(asset_job, job: JobConfig, partitions: dg.PartitionsDefinition | None):
    """A cron schedule, running from the start unless `enabled: false`; a job with partitioned
    assets refreshes the latest partition on each tick."""
    name = schedule_name(job)
    status = dg.DefaultScheduleStatus.RUNNING if job.enabled else dg.DefaultScheduleStatus.STOPPED
    tags = run_tags(f"schedule {name}", job.name)
    if partitions is None:
        return dg.ScheduleDefinition(
            name=name,
            job=asset_job,
            cron_schedule=job.cron,
            execution_timezone="UTC",
            default_status=status,
            tags=tags,
            description=f"{job.name} at {job.cron!r} (UTC)",
        )

    @dg.schedule(
        name=name,
        job=asset_job,
        cron_schedule=job.cron,
        execution_timezone="UTC",
        default_status=status,
        tags=tags,
        description=f"{job.name} on the latest partition (the current month) at {job.cron!r} (UTC)",
    )
    def latest_partition(context: dg.ScheduleEvaluationContext):
        key = _partition_at(partitions, context.scheduled_execution_time)
        if key is None:
            return dg.SkipReason("no partition exists yet at this time (history_start is later)")
        return dg.RunRequest(partition_key=key)

    return latest_partition


def _partition_at(partitions: dg.PartitionsDefinition, moment) -> str | None:
    """The partition containing `moment` (a time window), or the last one for other kinds."""
    if not isinstance(partitions, dg.TimeWindowPartitionsDefinition) or moment is None:
        return partitions.get_last_partition_key()
    first = partitions.get_first_partition_window()
    if first is None or moment < first.start:
        return None
    return partitions.get_partition_key_for_timestamp(moment.timestamp())
