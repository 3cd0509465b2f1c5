"""`jira-sync dev` (`make dev`): simulator + webhook receiver + `dg dev`, all stopped on Ctrl-C.

The simulator is connected as in `jira-sync demo` and the demo sync file is loaded into Dagster
(`JIRA_SYNC_CONFIG`), so the UI shows every asset, job, schedule and sensor of the demo tenant.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from jira_sync.demo import add_world_arguments, demo_options, prepare_process_environment, print_connection
from jira_sync.demo_world import TENANT, ConnectedDemo, connected_demo
from jira_sync.signals import stop_on_signals
from webhook_receiver.settings import CALLBACK_PATH


def register(subparsers) -> None:
    command = subparsers.add_parser(
        "dev", help="simulator + webhook receiver + `dg dev` on http://127.0.0.1:3000 (Ctrl-C stops all)"
    )
    add_world_arguments(command)
    command.add_argument("--port", type=int, default=3000, help="Dagster UI port (3000)")
    command.add_argument("--receiver-port", type=int, default=8000, help="webhook receiver port (8000)")
    command.set_defaults(handler=run)


def _receiver_command(receiver_port: int) -> list[str] | None:
    if importlib.util.find_spec("webhook_receiver.cli") is None:
        return None
    script = shutil.which("jira-sync-receiver", path=str(Path(sys.executable).parent))
    base = [script] if script else [sys.executable, "-m", "webhook_receiver.cli"]
    return [*base, "--host", "127.0.0.1", "--port", str(receiver_port)]


def _dg() -> str:
    """`dg` (dagster-dg-cli) of this environment: what Dagster 1.13 recommends over `dagster dev`."""
    script = shutil.which("dg", path=str(Path(sys.executable).parent))
    if script is None:
        raise SystemExit("error: `dg` is not installed in this environment; run `make install`")
    return script


def _target() -> list[str]:
    """Nothing in the repository (`dg` finds the project in pyproject.toml); elsewhere the module,
    so `dg dev` stays in this directory, where the demo's relative paths point."""
    pyproject = Path("pyproject.toml")
    if pyproject.exists() and "[tool.dg]" in pyproject.read_text():
        return []
    return ["-m", "assets.definitions"]


def _stop(children: list[tuple[str, subprocess.Popen]]) -> None:
    """Interrupt each child's process group (dagster dev has its own children), then wait."""
    for _name, child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGINT)
    deadline = time.monotonic() + 20
    for name, child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop on SIGINT; terminating it")
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop on SIGTERM; killing it")
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(timeout=10)


def dev_environment(demo: ConnectedDemo, receiver_url: str, dagster_home: str) -> dict[str, str]:
    """The children's environment: the demo's, with the receiver's own callback as JIRA_REDIRECT_URI.

    The demo connected through a loopback callback of its own; the receiver's connect page must
    send the browser back to the receiver (`{APP_URL}/auth/jira/callback`), or it refuses to start
    ("Wrong callback URL")."""
    return {
        **os.environ,
        **demo.environ,
        "JIRA_REDIRECT_URI": f"{receiver_url}{CALLBACK_PATH}",
        "DAGSTER_HOME": dagster_home,
    }


def run(args: argparse.Namespace) -> int:
    stop_on_signals()
    dagster_home = prepare_process_environment()
    options = demo_options(args)
    options.receiver_url = f"http://127.0.0.1:{args.receiver_port}"
    print("starting the Jira Cloud simulator ...", flush=True)
    children: list[tuple[str, subprocess.Popen]] = []
    try:
        with connected_demo(options) as demo:
            print_connection(demo, dagster_home)
            env = dev_environment(demo, options.receiver_url, dagster_home)
            receiver = _receiver_command(args.receiver_port)
            if receiver is None:
                print("webhook receiver: not available yet (webhook_receiver/cli.py is missing); skipped")
            else:
                children.append(("receiver", subprocess.Popen(receiver, env=env, start_new_session=True)))
                print(f"webhook receiver on {options.receiver_url}")
                print(f"  connect page: {options.receiver_url}/auth/jira/connect?tenant={TENANT}")
            dagster = [_dg(), "dev", *_target(), "-h", "127.0.0.1", "-p", str(args.port)]
            children.append(("dg dev", subprocess.Popen(dagster, env=env, start_new_session=True)))
            print(f"Dagster UI on http://127.0.0.1:{args.port} — Ctrl-C stops everything", flush=True)
            while all(child.poll() is None for _name, child in children) and demo.simulator.running:
                time.sleep(0.5)
            for name, child in children:
                if child.poll() is not None:
                    print(f"{name} exited with code {child.returncode}; stopping the rest")
            if not demo.simulator.running:
                print("the simulator stopped; stopping the rest")
            return 1
    except KeyboardInterrupt:
        print("\nstopping ...")
        return 0
    finally:
        _stop(children)
