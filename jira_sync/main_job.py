"""Materialize every asset in a sensible order, with a real Dagster instance, one line per step.

Order: reference + teams, then the issues backfill over all partitions as ONE single-run range
run, then the incremental sweep, then the census, then everything else (transforms, webhooks,
publish) in dependency order. Each step is a run of the definitions' job for it
(`assets.main_steps`: `main_incremental_sweep_and_worklogs`, ...) tagged with the step and its trigger, visible
in `dagster dev`; every asset check the step evaluated is reported with its outcome.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import dagster as dg

from assets.automation import STEP_TAG, TRIGGER_TAG
from assets.main_steps import ISSUES_BACKFILL_JOB, main_steps

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PID_TAG = "jira_sync/pid"
# Steps run in this process; Dagster's own event log goes to the instance, not the terminal.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


TRIGGER = "make run"


@dataclass
class Step:
    title: str
    job_name: str  # a job of the definitions (assets.main_steps)
    keys: list[dg.AssetKey]
    tags: dict[str, str] = field(default_factory=dict)


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


def plan_steps(defs: dg.Definitions) -> list[Step]:
    """The main job's steps (`assets.main_steps`); the backfill step covers every month, as one run."""
    graph = defs.resolve_asset_graph()
    steps = []
    for step in main_steps(graph):
        title, tags = step.title, {}
        if step.job_name == ISSUES_BACKFILL_JOB:
            partitions = graph.get(step.keys[0]).partitions_def
            assert partitions is not None
            first, last = partitions.get_first_partition_key(), partitions.get_last_partition_key()
            count = len(partitions.get_partition_keys())
            title = f"issues backfill {first[:7]}..{last[:7]} ({count} monthly partitions, one run)"
            tags = {RANGE_START_TAG: str(first), RANGE_END_TAG: str(last)}
        steps.append(Step(title, step.job_name, list(step.keys), {**tags, STEP_TAG: title}))
    return steps


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
        prefix = "run_" if "run_http_requests" in metadata else ""  # a partition range names them so
        if f"{prefix}http_requests" in metadata:
            per_step[event.step_key or ""] = {
                "requests": int(metadata[f"{prefix}http_requests"].value),
                "retries": int(metadata[f"{prefix}http_retries"].value),
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


def _failure(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            error = event.step_failure_data.error
            while error.cause is not None and error.cls_name in ("DagsterExecutionStepExecutionError",):
                error = error.cause
            return f"{event.step_key}: {error.message.strip()}"
    return "the run failed (see the run in the Dagster UI)"


class _ProgressToTerminal(logging.Handler):
    """Our packages' progress and wait lines (`pipelines.*`, INFO and up) on the terminal, indented
    under the step that logs them; the run log in the UI gets the same records from Dagster."""

    def __init__(self, out: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        self.out(f"    {record.getMessage()}")


@contextmanager
def progress_on_terminal(out: Callable[[str], None]) -> Iterator[None]:
    package = logging.getLogger("pipelines")
    handler, level = _ProgressToTerminal(out), package.level
    package.addHandler(handler)
    if package.getEffectiveLevel() > logging.INFO:
        package.setLevel(logging.INFO)
    try:
        yield
    finally:
        package.removeHandler(handler)
        package.setLevel(level)


def run_steps(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    *,
    out: Callable[[str], None] = print,
    stop_on_failure: bool = True,
) -> list[StepOutcome]:
    steps = plan_steps(defs)
    outcomes: list[StepOutcome] = []
    for number, step in enumerate(steps, 1):
        out(f"[{number}/{len(steps)}] {step.title}: {len(step.keys)} asset(s) ...")
        started = time.monotonic()
        with progress_on_terminal(out):
            result = defs.resolve_job_def(step.job_name).execute_in_process(
                instance=instance,
                tags={**step.tags, TRIGGER_TAG: TRIGGER, PID_TAG: str(os.getpid())},
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
            f"({http['requests']} requests, {http['retries']} retries; run {result.run_id})"
        )
        if outcome.error:
            out(f"    {outcome.error}")
            if stop_on_failure:
                break
    return outcomes
