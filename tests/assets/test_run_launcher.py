"""The preloaded run launcher: runs fork from a forkserver that imported the heavy libraries once,
succeed as any run does, and can be terminated."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.launcher import LaunchRunContext

from assets.run_launcher import WORKER_PID_TAG, PreloadedRunLauncher
from tests.assets.run_launcher_jobs import napping_job, quick_job

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    settings = yaml.safe_load((REPO / "dagster.yaml").read_text())
    settings["storage"]["sqlite"]["base_dir"] = str(tmp_path / "storage")
    settings["local_artifact_storage"]["config"]["base_dir"] = str(tmp_path)
    settings["compute_logs"]["config"]["base_dir"] = str(tmp_path / "logs")
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(settings))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert isinstance(instance.run_launcher, PreloadedRunLauncher)  # the repo's dagster.yaml says so
        yield instance


def _launch(
    instance: dg.DagsterInstance, job: dg.JobDefinition, run_config: dict | None = None
) -> dg.DagsterRun:
    origin = dg.reconstructable(job).get_python_origin()
    run = instance.create_run_for_job(job_def=job, job_code_origin=origin, run_config=run_config)
    instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
    return run


def _finished(instance: dg.DagsterInstance, run_id: str, timeout: float = 120) -> dg.DagsterRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.is_finished:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


def test_runs_fork_from_the_preloaded_server_and_succeed(instance: dg.DagsterInstance) -> None:
    runs = [_launch(instance, quick_job) for _ in range(2)]
    for run in runs:
        done = _finished(instance, run.run_id)
        assert done.status == dg.DagsterRunStatus.SUCCESS
        worker = int(done.tags[WORKER_PID_TAG])
        assert worker != os.getpid()
        started = [e for e in instance.all_logs(run.run_id) if "Started process for run" in (e.message or "")]
        assert started and f"pid: {worker}" in started[0].message
        outputs = [
            e
            for e in instance.all_logs(run.run_id)
            if e.dagster_event_type == dg.DagsterEventType.STEP_OUTPUT
        ]
        assert outputs


def test_a_terminated_run_is_canceled(instance: dg.DagsterInstance) -> None:
    run = _launch(instance, napping_job, {"ops": {"nap": {"config": {"seconds": 60.0}}}})
    deadline = time.monotonic() + 60
    while not any(
        e.dagster_event_type == dg.DagsterEventType.STEP_START for e in instance.all_logs(run.run_id)
    ):
        assert time.monotonic() < deadline, "the step never started"
        time.sleep(0.1)
    assert instance.run_launcher.terminate(run.run_id)
    done = _finished(instance, run.run_id, timeout=30)
    assert done.status == dg.DagsterRunStatus.CANCELED
    assert not instance.run_launcher.terminate(run.run_id)  # already finished
