"""Materialize every asset in a sensible order, with a real Dagster instance, one line per step.

Order: reference + teams, then the issues backfill over all partitions as ONE single-run range
run, then the incremental sweep, then the census, then everything else (transforms, webhooks,
publish) in dependency order. Each step is a run of a job named after it (`main_incremental_sweep`,
...) tagged with the step and its trigger, visible in `dagster dev`; every asset check the step
evaluated is reported with its outcome.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from assets.automation import STEP_TAG, TRIGGER_TAG

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PID_TAG = "jira_sync/pid"
# Steps run in this process; Dagster's own event log goes to the instance, not the terminal.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


TRIGGER = "make run"


@dataclass
class Step:
    title: str
    keys: list[dg.AssetKey]
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def job_name(self) -> str:
        """`main_<title>`: the name the step's runs carry in the UI."""
        words = "".join(c if c.isalnum() else " " for c in self.title.split("(")[0].lower()).split()
        if words[:2] == ["issues", "backfill"]:
            words = words[:2]
        return "main_" + "_".join(words)


@dataclass
class CheckOutcome:
    """One asset check a step evaluated."""

    target: str  # asset key / check name
    passed: bool
    severity: str  # ERROR or WARN (what a failure means)
    description: str

    @property
    def label(self) -> str:
        return "passed" if self.passed else self.severity

    @property
    def real_failure(self) -> bool:
        return not self.passed and self.severity == "ERROR"


@dataclass
class StepOutcome:
    step: Step
    seconds: float
    success: bool
    run_id: str
    http: dict[str, int]
    checks: list[CheckOutcome] = field(default_factory=list)
    error: str | None = None


def _raw(*tables: str) -> set[dg.AssetKey]:
    return {dg.AssetKey(["jira_raw", t]) for t in tables}


def plan_steps(defs: dg.Definitions) -> list[Step]:
    """The main job's steps over the materializable assets these definitions have."""
    graph = defs.resolve_asset_graph()
    todo = {node.key for node in graph.asset_nodes if node.is_materializable}

    def take(keys: set[dg.AssetKey]) -> list[dg.AssetKey]:
        chosen = sorted(keys & todo, key=lambda k: k.to_user_string())
        todo.difference_update(chosen)
        return chosen

    reference = dg.AssetSelection.tag("jira_sync/kind", "reference").resolve(graph)
    steps = [Step("reference data and teams", take(set(reference)))]
    issue_keys = take(_raw("issues", "issue_changelog"))
    if issue_keys:
        partitions = graph.get(issue_keys[0]).partitions_def
        assert partitions is not None
        first, last = partitions.get_first_partition_key(), partitions.get_last_partition_key()
        count = len(partitions.get_partition_keys())
        steps.append(
            Step(
                f"issues backfill {first[:7]}..{last[:7]} ({count} monthly partitions, one run)",
                issue_keys,
                {RANGE_START_TAG: str(first), RANGE_END_TAG: str(last)},
            )
        )
    steps.append(Step("incremental sweep", take(_raw("issue_updates"))))
    steps.append(Step("issue census", take(_raw("issue_deletions", "project_access"))))
    steps.append(Step("transforms, webhooks and publish", take(set(todo))))
    return [step for step in steps if step.keys]


def release_stale_pool_slots(instance: dg.DagsterInstance) -> list[str]:
    """Fail main-job runs whose process is gone, and free pool slots held by runs that ended.

    A killed or interrupted process leaves its run unfinished with the warehouse slot claimed, and
    the next run would wait for that slot forever.
    """
    unfinished = [
        dg.DagsterRunStatus.NOT_STARTED,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
    ]
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=unfinished)):
        pid = run.tags.get(PID_TAG)
        if pid is not None and not _alive(int(pid)):
            instance.report_run_failed(run, "the jira-sync process running it is gone")
    storage = instance.event_log_storage
    freed: list[str] = []
    for pool in storage.get_concurrency_keys():
        info = storage.get_concurrency_info(pool)
        for run_id in info.active_run_ids | {step.run_id for step in info.pending_steps}:
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
                freed.append(run_id)
    return freed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _http_counts(result: dg.ExecuteInProcessResult) -> dict[str, int]:
    """Requests and retries of the run: each op reports its HTTP stats once (on every asset)."""
    per_step: dict[str, dict[str, int]] = {}
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        if "http_requests" in metadata:
            per_step[event.step_key or ""] = {
                "requests": int(metadata["http_requests"].value),
                "retries": int(metadata["http_retries"].value),
            }
    return {
        "requests": sum(v["requests"] for v in per_step.values()),
        "retries": sum(v["retries"] for v in per_step.values()),
    }


def _checks(result: dg.ExecuteInProcessResult) -> list[CheckOutcome]:
    return [
        CheckOutcome(
            target=f"{evaluation.asset_key.to_user_string()} {evaluation.check_name}",
            passed=evaluation.passed,
            severity=evaluation.severity.value,
            description=evaluation.description or "",
        )
        for evaluation in result.get_asset_check_evaluations()
    ]


def step_jobs(defs: dg.Definitions, steps: list[Step]) -> dg.Definitions:
    """`defs` plus one asset job per step, so every run has a name that says what it did."""
    jobs = [
        dg.define_asset_job(
            step.job_name,
            selection=dg.AssetSelection.assets(*step.keys),
            description=f"make run (jira-sync demo): {step.title}",
            tags={STEP_TAG: step.title, TRIGGER_TAG: TRIGGER},
        )
        for step in steps
    ]
    return dg.Definitions.merge(defs, dg.Definitions(jobs=jobs))


def _failure(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            error = event.step_failure_data.error
            while error.cause is not None and error.cls_name in ("DagsterExecutionStepExecutionError",):
                error = error.cause
            return f"{event.step_key}: {error.message.strip()}"
    return "the run failed (see the run in the Dagster UI)"


def run_steps(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    *,
    out: Callable[[str], None] = print,
    stop_on_failure: bool = True,
) -> list[StepOutcome]:
    steps = plan_steps(defs)
    with_jobs = step_jobs(defs, steps)
    outcomes: list[StepOutcome] = []
    for number, step in enumerate(steps, 1):
        out(f"[{number}/{len(steps)}] {step.title}: {len(step.keys)} asset(s) ...")
        started = time.monotonic()
        result = with_jobs.get_job_def(step.job_name).execute_in_process(
            instance=instance,
            tags={**step.tags, PID_TAG: str(os.getpid())},
            raise_on_error=False,
            run_config=QUIET,
        )
        seconds = time.monotonic() - started
        outcome = StepOutcome(
            step, seconds, result.success, result.run_id, _http_counts(result), _checks(result)
        )
        if not result.success:
            outcome.error = _failure(result)
        outcomes.append(outcome)
        status = "done" if result.success else "FAILED"
        http = outcome.http
        out(
            f"[{number}/{len(steps)}] {step.title}: {status} in {seconds:.1f} s "
            f"({http['requests']} requests, {http['retries']} retries; run {result.run_id[:8]})"
        )
        if outcome.error:
            out(f"    {outcome.error}")
            if stop_on_failure:
                break
    return outcomes
