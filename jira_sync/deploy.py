"""`jira-sync deploy`: the production deployment of docs/deployment.md on one machine, on loopback.

Every process runs on its own, as in production, with every store in PostgreSQL:

  PostgreSQL        databases `<prefix>_warehouse` (jira_raw, the working and published schemas,
                    the inbox, the quota budget) and `<prefix>_dagster` (Dagster's instance) - on a
                    private cluster of Debian's server binaries, or on the server of --postgres-url
  Jira              the bundled simulator, connected as `jira-sync demo` connects
  code server       `dagster code-server start` (gRPC): the definitions, and the run workers it starts
  webserver         `dagster-webserver` on the UI port
  daemon            `dagster-daemon run`: the run queue, schedules, sensors, declarative automation
  receivers         `jira-sync-receiver --workers N` on the PostgreSQL inbox

It stays up until Ctrl-C. `--check` starts everything, proves each part (health of each process; a
job queued and run by the daemon through the code server into the PostgreSQL warehouse; a signed
delivery acknowledged by a receiver, then drained by the inbox sensor's run), prints the timings,
stops everything and exits 0, or 1 naming what failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import yaml

from jira_sync.demo import add_world_arguments, demo_options
from jira_sync.demo_world import ConnectedDemo, connected_demo, free_loopback_port
from jira_sync.deploy_postgres import PostgresSetupError, PrivateCluster, create_database, drop_database
from jira_sync.signals import stop_on_signals
from webhook_receiver.settings import CALLBACK_PATH

REPO = Path(__file__).resolve().parents[1]
INSTANCE_TEMPLATE = REPO / "deploy" / "postgres" / "dagster.yaml"
LOCATION = "jira_sync"
CHECK_JOB = "reference_sync"


def register(subparsers) -> None:
    command = subparsers.add_parser(
        "deploy",
        help="the production deployment on loopback: PostgreSQL, code server, webserver, daemon, receivers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_world_arguments(command)
    command.add_argument("--dir", type=Path, default=Path("data/deploy"), help="where the deployment lives")
    command.add_argument(
        "--postgres-url",
        default=os.environ.get("JIRA_SYNC_DEPLOY_POSTGRES_URL"),
        help="a role that may create databases (default: $JIRA_SYNC_DEPLOY_POSTGRES_URL, else a private "
        "cluster of Debian's PostgreSQL binaries)",
    )
    command.add_argument("--database-prefix", default="jira_sync", help="prefix of the two database names")
    command.add_argument("--ui-port", type=int, default=3000, help="Dagster UI port (3000)")
    command.add_argument("--code-server-port", type=int, default=4000, help="code server port (4000)")
    command.add_argument("--receiver-port", type=int, default=8000, help="webhook receivers' port (8000)")
    command.add_argument("--receiver-workers", type=int, default=2, help="receiver processes (2)")
    command.add_argument("--check", action="store_true", help="start, prove every part works, stop")
    command.set_defaults(handler=run)


@dataclass
class Deployment:
    """The running processes, in start order; stopped in reverse."""

    directory: Path
    env: dict[str, str]
    children: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = (self.directory / "logs" / f"{name.replace(' ', '_')}.log").open("ab")
        child = subprocess.Popen(
            command, env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.children.append((name, child))
        return child

    def dead(self) -> list[str]:
        return [
            f"{name} (exit {child.returncode})" for name, child in self.children if child.poll() is not None
        ]

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.directory / "logs" / f"{name.replace(' ', '_')}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM each process group (the daemon and the code server have children), then SIGKILL."""
        for _name, child in reversed(self.children):
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _name, child in reversed(self.children):
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(timeout=10)


def _bin(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit(f"error: {name} is not installed in this environment; run `make install`")
    return found


def wait_for(what: str, ready: Callable[[], bool], deployment: Deployment, timeout: float = 120) -> float:
    """Seconds until `ready()`; fails naming `what` (and a dead process's log) on timeout."""
    started = time.monotonic()
    while True:
        try:
            if ready():
                return time.monotonic() - started
        except (httpx.HTTPError, OSError):
            pass
        dead = deployment.dead()
        if dead or time.monotonic() - started > timeout:
            logs = "\n".join(f"--- {name}\n{deployment.log_tail(name)}" for name, _ in deployment.children)
            reason = f"exited: {', '.join(dead)}" if dead else f"not ready after {timeout:.0f} s"
            raise RuntimeError(f"{what}: {reason}\n{logs}")
        time.sleep(0.25)


def postgres_sync_file(demo: ConnectedDemo) -> None:
    """The demo's sync file on PostgreSQL: warehouse, inbox and quota budget, named by variables."""
    body = yaml.safe_load(demo.sync_file.read_text())
    body["warehouse"] = {"destination": "postgres", "credentials_env": "JIRA_SYNC_POSTGRES_URL"}
    body["webhooks"]["inbox_url_env"] = "JIRA_SYNC_INBOX_URL"
    body.setdefault("quota", {})["store_url_env"] = "JIRA_SYNC_QUOTA_URL"
    demo.sync_file.write_text(
        "# Written by `jira-sync deploy`: the demo tenant with every store in PostgreSQL.\n"
        + yaml.safe_dump(body, sort_keys=False)
    )


def dagster_home(directory: Path, code_server_port: int) -> Path:
    """DAGSTER_HOME with the production instance (deploy/postgres/dagster.yaml) and a workspace
    that loads the code location from the code server."""
    home = directory / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(INSTANCE_TEMPLATE, home / "dagster.yaml")
    (home / "workspace.yaml").write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {
                        "grpc_server": {
                            "host": "127.0.0.1",
                            "port": code_server_port,
                            "location_name": LOCATION,
                        }
                    }
                ]
            }
        )
    )
    return home


def environment(
    demo: ConnectedDemo, warehouse_url: str, dagster_url: str, home: Path, receiver_url: str
) -> dict:
    parts = urlsplit(dagster_url)
    return {
        **os.environ,
        **demo.environ,
        "JIRA_SYNC_CONFIG": str(demo.sync_file.resolve()),
        "JIRA_SYNC_POSTGRES_URL": warehouse_url,
        "JIRA_SYNC_INBOX_URL": warehouse_url,
        "JIRA_SYNC_QUOTA_URL": warehouse_url,
        # the receivers' connect pages send the browser back to the receivers
        "JIRA_REDIRECT_URI": f"{receiver_url}{CALLBACK_PATH}",
        "DAGSTER_HOME": str(home.resolve()),
        "DAGSTER_PG_USERNAME": parts.username or "",
        "DAGSTER_PG_PASSWORD": parts.password or "",
        "DAGSTER_PG_HOST": parts.hostname or "127.0.0.1",
        "DAGSTER_PG_PORT": str(parts.port or 5432),
        "DAGSTER_PG_DB": parts.path.lstrip("/"),
        "DAGSTER_COMPUTE_LOGS_DIR": str((home / "compute_logs").resolve()),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DO_NOT_TRACK": "1",
    }


def start_processes(deployment: Deployment, args: argparse.Namespace, home: Path) -> dict[str, float]:
    """Code server, webserver, daemon, receivers, each waited for; seconds each took to be ready."""
    workspace = str(home / "workspace.yaml")
    ready: dict[str, float] = {}
    deployment.start(
        "code server",
        [_bin("dagster"), "code-server", "start", "-h", "127.0.0.1", "-p", str(args.code_server_port),
         "-m", "assets.definitions", "--location-name", LOCATION],
    )  # fmt: skip
    health = [_bin("dagster"), "api", "grpc-health-check", "-p", str(args.code_server_port)]
    ready["code server"] = wait_for(
        "code server", lambda: subprocess.run(health, capture_output=True).returncode == 0, deployment
    )
    deployment.start(
        "webserver",
        [_bin("dagster-webserver"), "-h", "127.0.0.1", "-p", str(args.ui_port), "-w", workspace],
    )
    ui = f"http://127.0.0.1:{args.ui_port}"
    ready["webserver"] = wait_for(
        "webserver", lambda: httpx.get(f"{ui}/server_info", timeout=5).status_code == 200, deployment
    )
    deployment.start("daemon", [_bin("dagster-daemon"), "run", "-w", workspace])
    ready["daemon"] = wait_for("daemon", lambda: _daemons_alive(deployment.env), deployment)
    deployment.start(
        "receivers",
        [_bin("jira-sync-receiver"), "--host", "127.0.0.1", "--port", str(args.receiver_port),
         "--workers", str(args.receiver_workers)],
    )  # fmt: skip
    receiver = f"http://127.0.0.1:{args.receiver_port}"
    ready["receivers"] = wait_for(
        "receivers", lambda: httpx.get(f"{receiver}/healthz", timeout=5).status_code == 200, deployment
    )
    return ready


def _daemons_alive(env: dict[str, str]) -> bool:
    """The daemon's heartbeats in the instance: scheduler, sensors, run queue, automation."""
    import dagster as dg

    with _environment(env), dg.DagsterInstance.get() as instance:
        beats = instance.get_daemon_heartbeats()
    return {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR"} <= set(beats)


class _environment:
    """This process's environment set to the deployment's for a moment (the Dagster instance reads it)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __enter__(self) -> None:
        self.saved = dict(os.environ)
        os.environ.update(self.env)

    def __exit__(self, *exc: object) -> None:
        os.environ.clear()
        os.environ.update(self.saved)


def run(args: argparse.Namespace) -> int:
    stop_on_signals()
    directory: Path = args.dir
    (directory / "logs").mkdir(parents=True, exist_ok=True)
    options = demo_options(args)
    options.demo_dir = directory / "demo"
    options.receiver_url = f"http://127.0.0.1:{args.receiver_port}"
    cluster = None if args.postgres_url else PrivateCluster(directory / "postgres", port=free_loopback_port())
    deployment = None
    names = [f"{args.database_prefix}_warehouse", f"{args.database_prefix}_dagster"]
    try:
        if cluster is not None:
            print(f"starting a private PostgreSQL ({cluster.directory}) ...", flush=True)
            cluster.start()
        admin_url = args.postgres_url or cluster.admin_url
        warehouse_url, dagster_url = (create_database(admin_url, name) for name in names)
        print(f"PostgreSQL databases {', '.join(names)}", flush=True)
        print("starting the Jira Cloud simulator ...", flush=True)
        with connected_demo(options) as demo:
            postgres_sync_file(demo)
            home = dagster_home(directory, args.code_server_port)
            env = environment(demo, warehouse_url, dagster_url, home, options.receiver_url)
            deployment = Deployment(directory, env)
            ready = start_processes(deployment, args, home)
            for name, seconds in ready.items():
                print(f"  {name:<12} ready in {seconds:5.1f} s", flush=True)
            print(
                f"Dagster UI http://127.0.0.1:{args.ui_port}; receivers {options.receiver_url}; logs {directory}/logs"
            )
            if args.check:
                from jira_sync.deploy_check import check_deployment

                return check_deployment(deployment, demo, args, warehouse_url)
            print("up; Ctrl-C stops everything", flush=True)
            while not deployment.dead() and demo.simulator.running:
                time.sleep(0.5)
            print(f"stopped: {', '.join(deployment.dead()) or 'the simulator'}; stopping the rest")
            return 1
    except KeyboardInterrupt:
        print("\nstopping ...")
        return 0
    except (PostgresSetupError, RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if deployment is not None:
            deployment.stop()
        if args.check and args.postgres_url:
            for name in names:
                drop_database(args.postgres_url, name)
        if cluster is not None:
            cluster.stop()
