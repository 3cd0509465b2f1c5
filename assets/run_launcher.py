"""A run launcher whose run workers start with Dagster, dlt and DuckDB already imported.

Dagster's default launcher asks the code server to start each run in a freshly spawned Python
(`multiprocessing` "spawn"), which imports Dagster, dlt, DuckDB, pyarrow and the definitions
again: seconds of start-up for every run a schedule, sensor, the automation or the UI launches,
more than a sweep or a webhook drain takes to run. This launcher keeps one forkserver (the
standard library's) that imported those libraries once; each run forks from it and then imports
our own packages and loads the definitions as any run worker does (`dagster api execute_run`'s
body), so code and sync-file changes are picked up by the next run as before.

Configured in dagster.yaml (`run_launcher`). Runs execute on this host, as with the default
launcher. Terminating a run (UI "Terminate") marks it canceling and interrupts its worker.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Mapping, Sequence
from typing import Any

import dagster._check as check
from dagster import Field
from dagster._core.launcher import LaunchRunContext, RunLauncher
from dagster._core.storage.tags import HIDDEN_TAG_PREFIX
from dagster._serdes import ConfigurableClass, ConfigurableClassData

# Third-party libraries only: our packages are imported by each run, so edits take effect.
DEFAULT_PRELOAD = [
    "dagster",
    "dagster._cli.api",
    "dagster._core.definitions.antlr_asset_selection.antlr_asset_selection",
    "dagster._core.storage.event_log.sqlite.sqlite_event_log",
    "dagster_dlt",
    "dlt",
    "dlt.destinations.impl.duckdb.duck",
    "duckdb",
    "pyarrow",
    "httpx",
    "pydantic",
    "msgspec",
    "orjson",
    "yaml",
    "requests",
]
WORKER_PID_TAG = f"{HIDDEN_TAG_PREFIX}jira_sync_run_worker_pid"

_forkserver: multiprocessing.context.ForkServerContext | None = None


def _context(preload: Sequence[str]) -> multiprocessing.context.ForkServerContext:
    """This process's forkserver (started on the first launch; it ends with this process)."""
    global _forkserver
    if _forkserver is None:
        _forkserver = multiprocessing.get_context("forkserver")
        _forkserver.set_forkserver_preload(list(preload))
    return _forkserver


def run_worker(run_id: str, instance_ref) -> None:
    """What `dagster api execute_run` does for one run, in a process forked from the forkserver."""
    from dagster._cli.api import _execute_run_command_body
    from dagster._core.instance import DagsterInstance
    from dagster._utils.interrupts import capture_interrupts

    with capture_interrupts(), DagsterInstance.from_ref(instance_ref) as instance:
        _execute_run_command_body(run_id, instance, lambda _event: None, set_exit_code_on_failure=False)


class PreloadedRunLauncher(RunLauncher, ConfigurableClass):
    """Launches each run in a process forked from a forkserver with the heavy imports done."""

    def __init__(self, inst_data: ConfigurableClassData | None = None, preload: Sequence[str] | None = None):
        self._inst_data = inst_data
        self._preload = list(preload) if preload is not None else DEFAULT_PRELOAD
        self._workers: dict[str, multiprocessing.process.BaseProcess] = {}
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict[str, Field]:
        return {"preload": Field([str], is_required=False, description="modules the forkserver imports once")}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]):
        return cls(inst_data=inst_data, **config_value)

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        check.invariant(
            run.job_code_origin is not None, f"run {run.run_id} has no code origin to load it from"
        )
        worker = _context(self._preload).Process(
            target=run_worker,
            args=(run.run_id, self._instance.get_ref()),
            name=f"dagster-run-{run.run_id[:8]}",
        )
        worker.start()
        self._workers[run.run_id] = worker
        self._instance.add_run_tags(run.run_id, {WORKER_PID_TAG: str(worker.pid)})

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return False
        self._instance.report_run_canceling(run)
        pid = run.tags.get(WORKER_PID_TAG)
        if pid is None:
            return False
        try:
            os.kill(int(pid), signal.SIGINT)  # the worker's capture_interrupts turns it into a cancellation
        except ProcessLookupError:
            return False
        return True

    def join(self, timeout: int = 30) -> None:
        for worker in list(self._workers.values()):
            worker.join(timeout)

    def dispose(self) -> None:
        self._workers = {worker_id: w for worker_id, w in self._workers.items() if w.is_alive()}
