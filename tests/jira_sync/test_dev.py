"""`jira-sync dev` stops everything it started on SIGTERM, also when its shell ignored SIGINT."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ignore_sigint() -> None:
    # What a shell does for a background job (`make dev &`).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_dev_started_in_the_background_stops_all_children_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    log = tmp_path / "dev.log"
    ui_port, receiver_port = _free_port(), _free_port()
    with log.open("w") as out:
        dev = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jira_sync.cli",
                "dev",
                "--issues",
                "40",
                "--warehouse",
                str(tmp_path / "warehouse.duckdb"),
                "--port",
                str(ui_port),
                "--receiver-port",
                str(receiver_port),
            ],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_ignore_sigint,
        )
    try:
        deadline = time.monotonic() + 90
        while "Dagster UI on" not in log.read_text():
            assert dev.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        family = [dev.pid, *(child.pid for child in psutil.Process(dev.pid).children(recursive=True))]
        assert len(family) >= 3  # simulator, receiver, dagster dev (and its own children)
        dev.send_signal(signal.SIGTERM)
        assert dev.wait(timeout=60) == 0
        gone, alive = psutil.wait_procs(
            [psutil.Process(p) for p in family if psutil.pid_exists(p)], timeout=30
        )
        assert not alive, [p.cmdline() for p in alive]
        assert "stopping" in log.read_text()
    finally:
        if dev.poll() is None:
            dev.kill()
