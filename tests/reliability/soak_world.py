"""A deployment left alone for many simulated days: the real Dagster daemon, the receiver and the
simulator running together while people change issues in Jira, nobody running anything by hand.

After `make run`'s main job (the README's first command), the daemon runs what the sync file
turns on (schedules, the inbox and webhook lifecycle sensors, declarative automation) and the
receiver takes the simulator's webhook deliveries, some of them lost, late or duplicated
(`/_sim/webhooks/delivery-faults`). Each period the simulated clock jumps some days ahead
(webhooks near their 30-day expiry must be refreshed in time), then the simulator's activity
driver creates, edits, transitions and deletes issues for a while (`/_sim/activity`), then all
is quiet until the analyst snapshot equals the simulator's truth. A watcher records when each
change first shows in the snapshot.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import psutil
import pytest

from jira_sync.demo_world import ConnectedDemo, DemoOptions, connected_demo, free_loopback_port
from pipelines.config import load_sync_config
from tests.reliability.reliability_kit import (
    REPO,
    dagster_home,
    main_job_in_process,
    report,
    run_environment,
    scenario_sync_file,
    wait_until,
)

BIN = Path(sys.executable).parent
STATES = {"new": "open", "indeterminate": "in_progress", "done": "closed"}
# What runs by itself, at a soak's pace: the sweep every two minutes and the census every three
# (what a lost delivery waits for), the sensors and the automation every few seconds (what a
# delivered change waits for).
SOAK_JOBS = [
    {"name": "reference_sync", "select": 'tag:"jira_sync/kind"="reference"', "cron": "0 2 * * *"},
    {"name": "incremental_sync", "select": 'key:"jira_raw/issue_updates"+', "cron": "*/2 * * * *"},
    {"name": "issue_census", "select": 'key:"jira_raw/issue_deletions"+', "cron": "*/3 * * * *"},
    {"name": "transforms", "select": "group:jira or group:analytics or group:publish"},
]
SOAK_AUTOMATION = {
    "freshness": {"interval_seconds": 10},
    "webhook_inbox": {"interval_seconds": 5},
    "webhook_lifecycle": {"interval_seconds": 10},
}


@dataclass
class SoakPlan:
    issues: int = 300
    periods: int = 2
    jump_days: float = 12  # each period starts with the clock this far ahead
    active_seconds: float = 15
    changes_per_second: float = 1.0
    quiet_timeout: float = 240
    # A jump compresses days into an instant: the lifecycle sensor (every 10 s) and its run need
    # this long to refresh a webhook that a jump brought near its expiry, before the next jump.
    min_period_seconds: float = 50
    loss_rate: float = 0.1
    late_rate: float = 0.1
    late_seconds: float = 15
    duplicate_rate: float = 0.1
    seed: int = 11


@dataclass
class Seen:
    change: dict
    latency: float | None = None  # seconds from the change to the first snapshot showing it
    superseded: bool = False  # deleted before any snapshot showed it
    webhook: bool = True  # its delivery was not lost


class SnapshotWatcher:
    """Polls the analyst snapshot and notes when each change of the activity log first shows."""

    def __init__(self, snapshot: Path, demo: ConnectedDemo) -> None:
        self.snapshot = snapshot
        self.demo = demo
        self.changes: list[Seen] = []
        self.pending: list[Seen] = []
        self.fates: dict[tuple[str, str], list[tuple[int, str]]] = {}
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.stop.wait(0.5):
            try:
                self.poll()
            except Exception as exc:
                self.errors.append(repr(exc))

    def poll(self) -> None:
        new = self.demo.simulator.admin("GET", f"activity?since={len(self.changes)}")["changes"]
        for change in new:
            seen = Seen(change)
            self.changes.append(seen)
            self.pending.append(seen)
        if not self.pending or not self.snapshot.exists():
            return
        now = time.time()
        with duckdb.connect(str(self.snapshot), read_only=True) as con:
            rows = con.execute("SELECT cloud_id, issue_id, epoch_ms(updated) FROM jira.issues").fetchall()
        updated = {(cloud, issue): ms for cloud, issue, ms in rows}
        deleted_later = {
            (s.change["cloud_id"], issue)
            for s in self.changes
            if s.change["kind"] == "delete" and s.latency is not None
            for issue in s.change["deleted_ids"]
        }
        still = []
        for seen in self.pending:
            change = seen.change
            cloud = change["cloud_id"]
            if change["kind"] == "delete":
                shown = all((cloud, issue) not in updated for issue in change["deleted_ids"])
            else:
                shown = updated.get((cloud, change["issue_id"]), -1) >= change["at_ms"]
                if not shown and (cloud, change["issue_id"]) in deleted_later:
                    seen.superseded = True
                    continue
            if shown:
                seen.latency = now - change["wall_ms"] / 1000
            else:
                still.append(seen)
        self.pending = still

    def classify(self) -> None:
        """Which changes reached us by webhook (their delivery was not lost)."""
        decisions = self.demo.simulator.admin("GET", "webhooks/delivery-faults")["decisions"]
        fates: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for d in decisions:
            fates.setdefault((d["cloud_id"], d["issue_key"]), []).append((d["timestamp_ms"] or 0, d["fate"]))
        for seen in self.changes:
            change = seen.change
            matches = [
                fate
                for at, fate in fates.get((change["cloud_id"], change["issue_key"]), [])
                if abs(at - change["at_ms"]) <= 2000
            ]
            seen.webhook = bool(matches) and "lost" not in matches

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)


@dataclass
class Soak:
    """The running deployment and what the soak measured."""

    plan: SoakPlan
    demo: ConnectedDemo
    workdir: Path
    sync_file: Path
    home: Path
    processes: dict[str, psutil.Process] = field(default_factory=dict)
    rss: list[dict[str, float]] = field(default_factory=list)

    @property
    def snapshot(self) -> Path:
        return self.workdir / "scenario" / "jira_analytics.duckdb"

    def activity(self, method: str, path: str = "", body: dict | None = None) -> dict:
        return self.demo.simulator.admin(method, f"activity{path}", body)

    def expected(self) -> dict[tuple[str, str], tuple[str, str, str]]:
        """Per issue in Jira now: (status, type category, state) by the seed's rules."""
        keywords = load_sync_config(self.sync_file).mappings.type_keywords
        truth = self.demo.simulator.admin("GET", "truth/issues")

        def category(type_name: str) -> str:
            lowered = type_name.lower()
            return next((c for c, words in keywords.items() if any(w in lowered for w in words)), "other")

        return {
            (cloud, issue_id): (
                i["status"],
                category(i["issue_type"]),
                STATES.get(i["status_category"], "open"),
            )
            for cloud, issues in truth.items()
            for issue_id, i in issues.items()
        }

    def published(self) -> dict[tuple[str, str], tuple[str, str, str]]:
        with duckdb.connect(str(self.snapshot), read_only=True) as con:
            rows = con.execute(
                "SELECT cloud_id, issue_id, status_name, type_category, state FROM jira.issues"
            ).fetchall()
        return {(cloud, issue): (status, category, state) for cloud, issue, status, category, state in rows}

    def differences(self) -> list[str]:
        expected, published = self.expected(), self.published()
        problems = [f"missing {key}" for key in expected.keys() - published.keys()]
        problems += [f"not in Jira {key}" for key in published.keys() - expected.keys()]
        problems += [
            f"{key}: snapshot {published[key]} != Jira {value}"
            for key, value in expected.items()
            if key in published and published[key] != value
        ]
        return problems

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home))

    def runs(self) -> list[dg.DagsterRun]:
        with self.instance() as instance:
            return list(instance.get_runs())

    def sample_memory(self) -> dict[str, float]:
        """RSS (MB) of each long-lived process. The daemon counts with its code server (the newest
        one: the daemon replaces it now and then, and the old one lingers while it stops), not with
        run workers."""
        sample: dict[str, float] = {}
        for name, process in self.processes.items():
            family = [process]
            if name == "daemon":
                family += _newest_code_server(process)
            sample[name] = round(sum(_rss(p) for p in family) / 2**20, 1)
        self.rss.append(sample)
        return sample


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


def _newest_code_server(daemon: psutil.Process) -> list[psutil.Process]:
    servers = []
    for child in daemon.children(recursive=True):
        with contextlib.suppress(psutil.Error):  # a run worker may end (or be a zombie) meanwhile
            if " api grpc " in " ".join(child.cmdline()):
                servers.append((child.create_time(), child))
    return [max(servers, key=lambda pair: pair[0])[1]] if servers else []


def _start(name: str, command: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, 15)
    for child in children:
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, 9)
            child.wait(10)


@contextmanager
def deployment(base: Path, plan: SoakPlan) -> Iterator[Soak]:
    """`make run`, then the daemon and the receiver (as `make dev` starts them), left alone."""
    port = free_loopback_port()
    options = DemoOptions(
        issues=plan.issues,
        seed=plan.seed,
        warehouse=base / "unused.duckdb",
        demo_dir=base / "demo",
        receiver_url=f"http://127.0.0.1:{port}",
        simulator_args=["--webhook-retry-backoff", "0.5"],
    )
    monkeypatch = pytest.MonkeyPatch()
    children: list[subprocess.Popen] = []
    try:
        with connected_demo(options) as demo:
            sync_file = scenario_sync_file(
                demo, base / "scenario", jobs=SOAK_JOBS, automation=SOAK_AUTOMATION
            )
            home = dagster_home(base / "home")
            outcomes = main_job_in_process(demo, sync_file, home, monkeypatch)
            assert all(o.success for o in outcomes), [o.error for o in outcomes if not o.success]
            env = run_environment(demo, sync_file, home)
            receiver = [sys.executable, "-m", "webhook_receiver.cli", "--config", str(sync_file)]
            receiver += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-connect"]
            children.append(_start("receiver", receiver, env, REPO, base / "receiver.log"))
            daemon = [str(BIN / "dagster-daemon"), "run", "-m", "assets.definitions"]
            children.append(_start("daemon", daemon, env, home, base / "daemon.log"))
            soak = Soak(plan, demo, base, sync_file, home)
            soak.processes = {
                "receiver": psutil.Process(children[0].pid),
                "daemon": psutil.Process(children[1].pid),
                "simulator": psutil.Process(demo.simulator.pid),
            }
            demo.simulator.admin(
                "PUT",
                "webhooks/delivery-faults",
                {
                    "loss_rate": plan.loss_rate,
                    "late_rate": plan.late_rate,
                    "late_seconds": plan.late_seconds,
                    "duplicate_rate": plan.duplicate_rate,
                    "seed": plan.seed,
                },
            )
            yield soak
    finally:
        _stop(children)
        monkeypatch.undo()


def run_soak(soak: Soak, name: str) -> dict:
    """The periods, their assertions, and the figures (printed as one `[reliability]` line)."""
    plan = soak.plan
    watcher = SnapshotWatcher(soak.snapshot, soak.demo)
    started = time.monotonic()
    try:
        for period in range(1, plan.periods + 1):
            period_started = time.monotonic()
            soak.activity("POST", "/advance", {"days": plan.jump_days})
            soak.activity(
                "POST",
                "/start",
                {
                    "changes_per_day": 86_400 * plan.changes_per_second,
                    "seconds_per_day": 86_400,  # the clock runs at wall speed while people work
                    "days": plan.active_seconds / 86_400,
                    "seed": plan.seed + period,
                },
            )
            wait_until(
                lambda: not soak.activity("GET")["running"],
                timeout=plan.active_seconds + 60,
                poll=0.5,
                what="activity",
            )
            quiet = time.monotonic()
            wait_until(
                lambda: not soak.differences(),
                timeout=plan.quiet_timeout,
                poll=2,
                what=f"the snapshot to equal Jira after period {period}: {soak.differences()[:10]}",
            )
            watcher.poll()
            converged = time.monotonic() - quiet
            time.sleep(max(0.0, plan.min_period_seconds - (time.monotonic() - period_started)))
            assert not watcher.errors, watcher.errors
            assert not watcher.pending, [s.change for s in watcher.pending][:5]
            assert soak.activity("GET")["expiries"] == []
            failed = [r for r in soak.runs() if r.status == dg.DagsterRunStatus.FAILURE]
            assert not failed, [(r.job_name, r.run_id, r.tags.get("jira_sync/step")) for r in failed]
            memory = soak.sample_memory()
            print(
                f"[soak] period {period}: converged {converged:.1f} s after the activity; RSS MB {memory}",
                flush=True,
            )
        # The last jump: a webhook not refreshed in time expires on the way.
        soak.activity("POST", "/advance", {"days": plan.jump_days})
        final = soak.activity("GET")
        assert final["expiries"] == [], final["expiries"]
    finally:
        watcher.close()
    watcher.classify()
    return figures(soak, watcher, final, time.monotonic() - started, name)


def _percentiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return round(values[0], 1), round(values[0], 1)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return round(cuts[49], 1), round(cuts[94], 1)


def figures(soak: Soak, watcher: SnapshotWatcher, final: dict, seconds: float, name: str) -> dict:
    runs = soak.runs()
    triggers = Counter(run.tags.get("jira_sync/trigger", "other") for run in runs)
    timed = [s for s in watcher.changes if s.latency is not None]
    with_webhook = _percentiles([s.latency for s in timed if s.webhook])
    without_webhook = _percentiles([s.latency for s in timed if not s.webhook])
    memory = {process: [sample[process] for sample in soak.rss] for process in soak.processes}
    result = {
        "periods": soak.plan.periods,
        "simulated_days": round((final["clock_ms"] - watcher.changes[0].change["at_ms"]) / 86_400_000, 1)
        if watcher.changes
        else 0,
        "changes": final["changes_made"],
        "changes_seen": len(timed),
        "superseded": sum(s.superseded for s in watcher.changes),
        "latency_webhook_p50_p95_s": with_webhook,
        "latency_no_webhook_p50_p95_s": without_webhook,
        "no_webhook_changes": sum(not s.webhook for s in timed),
        "runs": dict(sorted(triggers.items())),
        "failed_runs": sum(r.status == dg.DagsterRunStatus.FAILURE for r in runs),
        "expiries": len(final["expiries"]),
        "refreshes": sum(1 for r in runs if r.tags.get("jira_sync/webhook_work", "").startswith("refresh:")),
        "rss_mb": memory,
        "seconds": round(seconds, 1),
    }
    report(name, **result)
    return result


def assert_memory_flat(soak: Soak, *, share: float, slack_mb: float) -> None:
    """Each long-lived process ends within `share` (plus `slack_mb`) of its first sample."""
    first, last = soak.rss[0], soak.rss[-1]
    grown = {
        name: (first[name], last[name]) for name in first if last[name] > first[name] * (1 + share) + slack_mb
    }
    assert not grown, f"RSS MB first -> last: {grown}"
