"""Run the simulator as a subprocess: for tests, benchmarks and the demo job.

    with SimulatorProcess(issues=500) as sim:
        httpx.get(f"{sim.base_url}/site/acme/rest/api/3/myself", auth=(sim.admin_email, sim.api_token))
        sim.truth()["sites"]

The server binds a free port itself (no race between picking and binding), prints its base URL,
and exits on its own if this process dies, so no simulator outlives its owner.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from jira_simulator.cli import PARENT_PID_ENV, READY_PREFIX
from jira_simulator.options import DEFAULT_API_TOKEN, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

_READY = re.compile(re.escape(READY_PREFIX) + r"(http://\S+)")


class SimulatorError(RuntimeError):
    """The simulator did not start, or an admin call failed."""


def _option(args: Sequence[str], name: str, default: str) -> str:
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


class SimulatorProcess:
    def __init__(
        self,
        issues: int | None = None,
        seed: int | None = None,
        scenario: str | Path | None = None,
        latency_ms: int = 0,
        extra_args: Sequence[str] = (),
        port: int | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.args = ["serve", "--host", "127.0.0.1", "--port", str(port or 0)]
        if issues is not None:
            self.args += ["--issues", str(issues)]
        if seed is not None:
            self.args += ["--seed", str(seed)]
        if scenario is not None:
            self.args += ["--scenario", str(scenario)]
        if latency_ms:
            self.args += ["--latency-ms", str(latency_ms)]
        self.args += list(extra_args)
        self.client_id = _option(extra_args, "--client-id", DEFAULT_CLIENT_ID)
        self.client_secret = _option(extra_args, "--client-secret", DEFAULT_CLIENT_SECRET)
        self.api_token = _option(extra_args, "--api-token", DEFAULT_API_TOKEN)
        self.startup_timeout = startup_timeout
        self.base_url = ""
        self.admin_email = ""
        self.cloud_ids: dict[str, str] = {}  # site name -> cloud id
        self.start_seconds = 0.0
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> SimulatorProcess:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self._process is not None:
            raise SimulatorError("this simulator is already running")
        started = time.monotonic()
        handle, log_name = tempfile.mkstemp(prefix="jira-simulator-", suffix=".log")
        self._log_path = Path(log_name)
        env = {**os.environ, PARENT_PID_ENV: str(os.getpid()), "PYTHONUNBUFFERED": "1"}
        with os.fdopen(handle, "wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "jira_simulator", *self.args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        try:
            self.base_url = self._wait_for_banner(started)
            health = self._wait_for_health(started)
        except BaseException:
            self.stop()
            raise
        self.admin_email = health["admin_email"]
        self.cloud_ids = {name: cloud_id for cloud_id, name in health["sites"].items()}
        self.start_seconds = time.monotonic() - started

    def _log_text(self) -> str:
        return (
            self._log_path.read_text(errors="replace") if self._log_path and self._log_path.exists() else ""
        )

    def _wait_for_banner(self, started: float) -> str:
        assert self._process is not None
        while time.monotonic() - started < self.startup_timeout:
            match = _READY.search(self._log_text())
            if match:
                return match.group(1)
            if self._process.poll() is not None:
                raise SimulatorError(
                    f"the simulator exited with code {self._process.returncode} before serving:\n{self._log_text()[-2000:]}"
                )
            time.sleep(0.05)
        raise SimulatorError(
            f"the simulator did not start within {self.startup_timeout} s:\n{self._log_text()[-2000:]}"
        )

    def _wait_for_health(self, started: float) -> dict[str, Any]:
        while time.monotonic() - started < self.startup_timeout:
            try:
                response = httpx.get(f"{self.base_url}/_sim/health", timeout=5)
                if response.status_code == 200:
                    return response.json()
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise SimulatorError(f"{self.base_url}/_sim/health did not answer within {self.startup_timeout} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._log_path is not None:
            self._log_path.unlink(missing_ok=True)
            self._log_path = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- conveniences --------------------------------------------------------------------------

    def site_url(self, name: str) -> str:
        return f"{self.base_url}/site/{name}"

    def truth(self) -> dict[str, Any]:
        return self.admin("GET", "truth")

    def admin(self, method: str, path: str, json: Any = None) -> dict[str, Any]:
        """Call the admin API (`/_sim/<path>`); a non-2xx answer raises `SimulatorError` with its body."""
        response = httpx.request(method, f"{self.base_url}/_sim/{path.lstrip('/')}", json=json, timeout=60)
        if response.status_code >= 400:
            raise SimulatorError(
                f"{method} /_sim/{path.lstrip('/')} answered {response.status_code}: {response.text}"
            )
        if not response.content:
            return {}
        return response.json()
