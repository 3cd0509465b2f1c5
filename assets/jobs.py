"""Jobs and schedules generated from the sync file's `jobs:` (plus the issues backfill job).

A job is a Dagster asset selection string. It is validated here, against the assets every area
defined, so a typo fails when the definitions load, naming the file and `jobs[i].select`, instead of
producing a job that silently materializes nothing.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterator

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

    problems: list[tuple[str, str]] = []
    for index, job in enumerate(config.jobs):
        if job.name in names:
            problems.append(
                (
                    f"jobs[{index}].name",
                    f"{job.name!r} is the name of a built-in job (the issues backfill or a step of "
                    "the main job); rename it",
                )
            )
            continue
        names.add(job.name)
        try:
            # A multi-asset that cannot be split (the census writes both its tables) comes whole.
            selection = _parse_selection(job).required_multi_asset_neighbors()
        except ValueError as exc:
            problems.append((f"jobs[{index}].select", str(exc)))
            continue
        unmatched = _unmatched_terms(selection, graph)
        problems += [(f"jobs[{index}].select", f"{job.select!r}: {problem}") for problem in unmatched]
        keys = _resolve(selection, graph)
        if not keys and not unmatched:
            problems.append(
                (
                    f"jobs[{index}].select",
                    f"{job.select!r} matches no asset of these definitions (groups: "
                    f"{', '.join(_groups(graph)) or 'none'}); fix the selection ({SELECTION_EXAMPLES}) "
                    "or remove the job",
                )
            )
        if unmatched or not keys:
            continue
        asset_job = dg.define_asset_job(
            job.name,
            selection=selection,
            description=job_description(config, index, graph, keys),
            tags={STEP_TAG: job.name},
        )
        jobs.append(asset_job)
        if job.cron:
            schedules.append(_schedule(asset_job, job, _partitions(graph, keys)))
    if problems:
        raise SyncConfigError(config.source_path, problems)
    return dg.Definitions(jobs=jobs, schedules=schedules)


def _parse_selection(job: JobConfig) -> dg.AssetSelection:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.BetaWarning)  # tag/group selections are "beta"
            return dg.AssetSelection.from_string(job.select)
    except Exception as exc:  # dagster raises several error types for bad syntax
        raise ValueError(
            f"{job.select!r} is not a Dagster asset selection ({exc}); write e.g. "
            f"{SELECTION_EXAMPLES}, combined with and / or / not"
        ) from None


def _groups(graph) -> list[str]:
    """The groups of the assets these definitions materialize."""
    return sorted({node.group_name for node in graph.asset_nodes if node.is_materializable})


def job_description(config: SyncConfig, index: int, graph, keys: set[dg.AssetKey]) -> str:
    """What the job does, for people: the sync file's `description` (or what it selects by group),
    when it runs, and where it is defined."""
    job = config.jobs[index]
    by_group: dict[str, int] = {}
    for key in keys:
        group = graph.get(key).group_name
        by_group[group] = by_group.get(group, 0) + 1
    counted = ", ".join(f"{count} in {group}" for group, count in sorted(by_group.items()))
    what = job.description or f"Materializes {len(keys)} asset(s): {counted}."
    when = (
        f"Runs on the schedule {schedule_name(job)} (cron {job.cron!r}, UTC)"
        + ("" if job.enabled else ", defined stopped: turn it on under Automation")
        if job.cron
        else "No schedule: launch it here, or with `dg launch --job " + job.name + "`"
    )
    return (
        f"{what}\n\n{when}. {len(keys)} asset(s) ({counted}); selection `{job.select}`, "
        f"jobs[{index}] of {config.source_path}."
    )


def _terms(selection: dg.AssetSelection) -> Iterator[dg.AssetSelection]:
    """The leaf terms of a selection (`group:x`, `key:"a/b"`, `tag:...`), operators walked through."""
    children: list[dg.AssetSelection] = []
    for name in ("operands", "child", "left", "right"):
        value = getattr(selection, name, None)
        if value is not None:
            children += [value] if isinstance(value, dg.AssetSelection) else list(value)
    if not children:
        yield selection
        return
    for child in children:
        yield from _terms(child)


def _unmatched_terms(selection: dg.AssetSelection, graph) -> list[str]:
    """Every term that matches no asset, with what exists (a typo beside a valid term would
    otherwise just select fewer assets, silently)."""
    keys = sorted(node.key.to_user_string() for node in graph.asset_nodes)
    groups = _groups(graph)
    problems = []
    for term in _terms(selection):
        if isinstance(term, dg.AssetSelection.all().__class__):
            continue  # `*`, or the implicit "everything" of `not x`
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.BetaWarning)
            if term.resolve(graph, allow_missing=True):
                continue
        text = term.to_selection_str()
        known = groups if text.startswith("group:") else keys
        value = text.split(":", 1)[-1].strip('"')
        close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
        hint = f"; did you mean {text.split(':', 1)[0]}:{close[0]}?" if close else ""
        listing = f" (groups: {', '.join(groups)})" if text.startswith("group:") else ""
        fix = "fix it" if close else f"fix it (e.g. {SELECTION_EXAMPLES})"
        problems.append(f"the term {text} matches no asset{hint}{listing}; {fix} or remove it")
    return problems


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
