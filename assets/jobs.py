"""Jobs and schedules generated from the sync file's `jobs:` (plus the issues backfill job).

A job is a Dagster asset selection string. It is validated here, against the assets every area
defined, so a typo fails when the definitions load, naming the file and `jobs[i].select`, instead of
producing a job that silently materializes nothing.
"""

from __future__ import annotations

import dagster as dg

from pipelines.config import JobConfig, SyncConfig, SyncConfigError

# Launch this job over a partition range (UI "Materialize" > range, or `dagster job backfill`) to
# import history: the issues assets' single-run backfill policy makes a range one run.
ISSUES_BACKFILL_JOB = "issues_backfill"
ISSUES_BACKFILL_SELECTION = 'key:"jira_raw/issues" or key:"jira_raw/issue_changelog"'
SELECTION_EXAMPLES = (
    "'group:jira_raw', 'key:\"jira_raw/issue_updates\"+', 'tag:\"jira_sync/kind\"=\"reference\"'"
)


def build_job_definitions(config: SyncConfig, assets: dg.Definitions) -> dg.Definitions:
    """One asset job per `jobs[i]`, a schedule for each job with a `cron`, and the backfill job.

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
                selection=dg.AssetSelection.keys(*sorted(backfill_keys)),
                description=(
                    "Historical import of issues and their full changelogs by created month. "
                    "Launch it over a partition range: the range runs as one bounded, stateless run."
                ),
            )
        )
        names.add(ISSUES_BACKFILL_JOB)

    for index, job in enumerate(config.jobs):
        if job.name in names:
            raise SyncConfigError(
                config.source_path,
                [
                    (
                        f"jobs[{index}].name",
                        f"{job.name!r} is the name of the built-in issues backfill job; rename it",
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
        )
        jobs.append(asset_job)
        if job.cron:
            schedules.append(_schedule(asset_job, job, _is_partitioned(graph, keys)))
    return dg.Definitions(jobs=jobs, schedules=schedules)


def _parse_selection(config: SyncConfig, index: int, job: JobConfig) -> dg.AssetSelection:
    try:
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
    return set(selection.resolve(graph, allow_missing=True))


def _is_partitioned(graph, keys: set[dg.AssetKey]) -> bool:
    return any(graph.get(key).partitions_def is not None for key in keys)


def _schedule(asset_job, job: JobConfig, partitioned: bool):
    """A cron schedule; a job with partitioned assets refreshes the latest partition on each tick."""
    name = f"{job.name}_schedule"
    if partitioned:
        return dg.build_schedule_from_partitioned_job(
            asset_job, name=name, cron_schedule=job.cron, execution_timezone="UTC"
        )
    return dg.ScheduleDefinition(name=name, job=asset_job, cron_schedule=job.cron, execution_timezone="UTC")
