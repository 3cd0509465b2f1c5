"""The receiver under uvicorn (a real process) and sync files that point at the bundled simulator."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from jira_simulator.process import SimulatorProcess
from tests.webhook_receiver.receiver_testkit import ALPHA_URL

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_sync_file(tmp_path: Path, sim: SimulatorProcess) -> Path:
    """Tenant `acme` with the simulator's two sites: `acme` declared by URL only (its cloud id
    comes from the connect step), `globex` by URL and cloud id; webhooks enabled on both."""
    path = tmp_path / "jira_sync.yaml"
    path.write_text(
        f"""
version: 1
atlassian:
  auth_url: {sim.base_url}
  api_url: {sim.base_url}
oauth:
  token_dir: {tmp_path / "tokens"}
webhooks:
  receiver_url: http://127.0.0.1:1
  inbox: {tmp_path / "inbox.sqlite"}
tenants:
  - id: acme
    sites:
      - name: acme
        url: {sim.site_url("acme")}
        team_sync: {{method: none}}
        webhook: {{enabled: true}}
      - name: globex
        url: {sim.site_url("globex")}
        cloud_id: {sim.cloud_ids["globex"]}
        team_sync: {{method: none}}
        webhook: {{enabled: true}}
"""
    )
    return path


def write_alpha_sync_file(tmp_path: Path) -> Path:
    """Tenant `acme` with one site (`alpha`, declared by URL and cloud id, webhooks on)."""
    path = tmp_path / "jira_sync.yaml"
    path.write_text(
        f"""
version: 1
oauth:
  token_dir: {tmp_path / "tokens"}
tenants:
  - id: acme
    sites:
      - name: alpha
        url: {ALPHA_URL}
        cloud_id: cloud-alpha
        team_sync: {{method: none}}
        webhook: {{enabled: true}}
"""
    )
    return path


class ReceiverProcess:
    """`jira-sync-receiver` in a subprocess on a free loopback port; stopped (or killed) by PID."""

    def __init__(
        self, sync_file: Path, inbox: Path | None, env: dict[str, str], log_path: Path, *options: str
    ) -> None:
        """`inbox` None: the sync file's (its SQLite file, or the PostgreSQL inbox of webhooks.inbox_url_env)."""
        self.options = options  # more command-line options
        self.sync_file = sync_file
        self.inbox = inbox
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ReceiverProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 20.0) -> None:
        command = [
            sys.executable,
            "-m",
            "webhook_receiver.cli",
            "--config",
            str(self.sync_file),
            *(["--inbox", str(self.inbox)] if self.inbox is not None else []),
            "--port",
            str(self.port),
            *self.options,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the receiver did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush; as a crash or an OOM kill."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
