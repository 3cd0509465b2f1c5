"""The same work launched from the UI (webserver + daemon) and run by `make run`: how much slower?

    .venv/bin/python benchmarks/ui_vs_make_run.py --issues 3000 [--rounds 2] [--latency-ms 0]

Starts `jira-simulator serve --issues N` and connects to it as `make run` does (OAuth consent).
Then, alternating the order each round, with a fresh warehouse and a fresh Dagster instance each:

- make run path: `jira_sync.main_job.run_steps` in this process, as `jira-sync demo` runs it
  (each of the main job's five steps executed in process);
- UI path: `dagster-webserver` and `dagster-daemon` started on the same code location; each of
  the same five jobs (`assets.main_steps`, the backfill over every month as one range run) is
  launched through the webserver's GraphQL API exactly as the UI's "Launch run" button does, and
  waits in the run queue until the daemon starts its run worker; the next step is launched when
  the previous one finished. A step's time is from the launch request to the run's end.

Schedules, sensors and automation are off in both sync files, so only the launched work runs.
CPU seconds: this process for the make run path; for the UI path the run workers, and all its
processes (webserver, daemon, code servers, workers; sampled every 0.1 s, so slightly low).
Prints one line per step and path, then a JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
BIN = Path(sys.executable).parent
QUIET = {"enabled": False}
NOTHING_BY_ITSELF = {"freshness": QUIET, "webhook_inbox": QUIET, "webhook_lifecycle": QUIET}


def dagster_home(root: Path) -> Path:
    """A fresh instance: the repo's dagster.yaml with its storage under `root`, schema created."""
    root.mkdir(parents=True)
    settings = yaml.safe_load((REPO / "dagster.yaml").read_text())
    settings["storage"]["sqlite"]["base_dir"] = str(root / "storage")
    settings["local_artifact_storage"]["config"]["base_dir"] = str(root)
    settings["compute_logs"]["config"]["base_dir"] = str(root / "compute_logs")
    (root / "dagster.yaml").write_text(yaml.safe_dump(settings))
    import dagster as dg

    with dg.DagsterInstance.from_config(str(root)):
        pass
    return root


def sync_file(template: Path, root: Path) -> Path:
    """The demo's sync file with its own warehouse and nothing that runs by itself."""
    body = yaml.safe_load(template.read_text())
    body["warehouse"]["path"] = str(root / "warehouse.duckdb")
    body["warehouse"]["publish_path"] = str(root / "jira_analytics.duckdb")
    body["webhooks"]["inbox"] = str(root / "inbox.sqlite")
    for job in body["jobs"]:
        job.pop("cron", None)
    body["automation"] = NOTHING_BY_ITSELF
    path = root / "jira_sync.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def make_run_path(root: Path, template: Path, environ: dict[str, str]) -> dict:
    """`jira-sync demo`'s steps, in this process, on a fresh instance and warehouse."""
    import dagster as dg

    from assets.definitions import build_definitions
    from jira_sync.main_job import run_steps
    from pipelines.config import load_sync_config

    home = dagster_home(root / "home")
    config = load_sync_config(sync_file(template, root))
    os.environ.update(environ)
    cpu = time.process_time()
    started = time.monotonic()
    defs = build_definitions(config)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        outcomes = run_steps(defs, instance, out=lambda line: None)
    if not all(o.success for o in outcomes):
        raise SystemExit(f"make run path failed: {[o.error for o in outcomes if o.error]}")
    return {
        "steps": {o.step.job_name: round(o.seconds, 2) for o in outcomes},
        "total_s": round(time.monotonic() - started, 2),
        "cpu_s": round(time.process_time() - cpu, 1),
    }


def _is_run_worker(process: psutil.Process) -> bool:
    """A run worker: spawned (`spawn_main`) by the default launcher, or forked from the preloaded
    launcher's forkserver (assets/run_launcher.py), whose command line it then shares."""
    if "spawn_main" in " ".join(process.cmdline()):
        return True
    parent = process.parent()
    return parent is not None and "forkserver" in " ".join(parent.cmdline())


class ProcessCpu:
    """CPU seconds of the UI path's processes (webserver, daemon, code servers, run workers),
    sampled every 0.1 s while they live; run workers are the spawned children of code servers."""

    def __init__(self, pids: list[int]) -> None:
        self.roots = [psutil.Process(pid) for pid in pids]
        self.start = {p.pid: sum(p.cpu_times()[:2]) for p in self.roots}
        self.seen: dict[int, tuple[bool, float]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.stop.wait(0.1):
            for root in self.roots:
                try:
                    family = [root, *root.children(recursive=True)]
                except psutil.Error:
                    continue
                for process in family:
                    try:
                        worker = _is_run_worker(process)
                        self.seen[process.pid] = (worker, sum(process.cpu_times()[:2]))
                    except psutil.Error:
                        continue

    def totals(self) -> tuple[float, float]:
        """(run workers, all processes) CPU seconds since the measurement began."""
        self.stop.set()
        self.thread.join()
        workers = sum(cpu for worker, cpu in self.seen.values() if worker)
        everything = sum(cpu - self.start.get(pid, 0.0) for pid, (_worker, cpu) in self.seen.items())
        return workers, everything


@contextmanager
def ui_processes(home: Path, env: dict[str, str], port: int):
    """`dagster-webserver` and `dagster-daemon` on the code location, stopped on exit."""
    target = ["-m", "assets.definitions"]
    log = open(home / "processes.log", "w")  # noqa: SIM115 (closed below)
    children = [
        subprocess.Popen(
            [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), *target],
            env=env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ),
        subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", *target],
            env=env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ),
    ]
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or any(c.poll() is not None for c in children):
                raise SystemExit(f"the webserver or daemon did not start; see {home / 'processes.log'}")
            time.sleep(0.5)
        yield [child.pid for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, 15)
        for child in children:
            child.wait(30)
        log.close()


def ui_path(root: Path, template: Path, environ: dict[str, str], port: int) -> dict:
    """The same five jobs launched through the webserver's GraphQL API; the daemon runs them."""
    import dagster as dg
    from dagster_graphql import DagsterGraphQLClient

    from assets.definitions import build_definitions
    from jira_sync.main_job import plan_steps
    from pipelines.config import load_sync_config

    home = dagster_home(root / "home")
    config_path = sync_file(template, root)
    steps = plan_steps(build_definitions(load_sync_config(config_path)))
    env = {**os.environ, **environ, "DAGSTER_HOME": str(home), "JIRA_SYNC_CONFIG": str(config_path)}
    timings: dict[str, float] = {}
    with ui_processes(home, env, port) as pids, dg.DagsterInstance.from_config(str(home)) as instance:
        client = DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=60)
        cpu = ProcessCpu(pids)
        started = time.monotonic()
        for step in steps:
            clicked = time.monotonic()
            run_id = client.submit_job_execution(step.job_name, tags=step.tags)
            while True:
                run = instance.get_run_by_id(run_id)
                if run is not None and run.is_finished:
                    break
                time.sleep(0.05)
            timings[step.job_name] = round(time.monotonic() - clicked, 2)
            if run.status != dg.DagsterRunStatus.SUCCESS:
                errors = [
                    entry.dagster_event.event_specific_data.error.to_string()
                    for entry in instance.all_logs(run_id)
                    if entry.dagster_event is not None
                    and entry.dagster_event.is_failure
                    and getattr(entry.dagster_event.event_specific_data, "error", None) is not None
                ]
                raise SystemExit(
                    f"UI path: {step.job_name} ended {run.status.value} (run {run_id}):\n" + "\n".join(errors)
                )
        total = time.monotonic() - started
        workers, everything = cpu.totals()
    return {
        "steps": timings,
        "total_s": round(total, 2),
        "cpu_s": round(workers, 1),
        "all_processes_cpu_s": round(everything, 1),
    }


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--issues", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1, help="each round runs both paths (order alternates)")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--port", type=int, default=0, help="the webserver's port (default: a free one)")
    args = parser.parse_args()

    from jira_sync.demo_world import DemoOptions, connected_demo

    work = Path(tempfile.mkdtemp(prefix="ui-vs-make-run-"))
    results: dict[str, list[dict]] = {"make_run": [], "ui": []}
    try:
        options = DemoOptions(
            issues=args.issues,
            seed=args.seed,
            latency_ms=args.latency_ms,
            warehouse=work / "unused.duckdb",
            demo_dir=work / "demo",
        )
        with connected_demo(options) as demo:
            print(f"simulator with {args.issues} issues ready; work dir {work}", flush=True)
            for number in range(args.rounds):
                order = ["make_run", "ui"] if number % 2 == 0 else ["ui", "make_run"]
                for path in order:
                    root = work / f"round{number}-{path}"
                    if path == "make_run":
                        figures = make_run_path(root, demo.sync_file, demo.environ)
                    else:
                        figures = ui_path(root, demo.sync_file, demo.environ, args.port or free_port())
                    results[path].append(figures)
                    steps = ", ".join(f"{name} {seconds:.1f}" for name, seconds in figures["steps"].items())
                    print(
                        f"round {number + 1} {path:<8} total {figures['total_s']:6.1f} s, "
                        f"CPU {figures['cpu_s']:5.1f} s; {steps}",
                        flush=True,
                    )
                    shutil.rmtree(root, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def median(path: str, key: str) -> float:
        return round(statistics.median(r[key] for r in results[path]), 2)

    steps = list(results["make_run"][0]["steps"])
    per_step = {
        step: {path: round(statistics.median(r["steps"][step] for r in results[path]), 2) for path in results}
        for step in steps
    }
    summary = {
        "issues": args.issues,
        "rounds": args.rounds,
        "make_run_total_s": median("make_run", "total_s"),
        "ui_total_s": median("ui", "total_s"),
        "ratio": round(median("ui", "total_s") / median("make_run", "total_s"), 2),
        "make_run_cpu_s": median("make_run", "cpu_s"),
        "ui_worker_cpu_s": median("ui", "cpu_s"),
        "ui_all_processes_cpu_s": median("ui", "all_processes_cpu_s"),
        "steps": per_step,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
