"""`jira-sync deploy --check`: the production deployment on loopback starts, every part works
(a job through the daemon's queue into the PostgreSQL warehouse, a delivery through a receiver
drained by the inbox sensor's run), and everything stops again.

On a private cluster of Debian's PostgreSQL binaries (what .ci/run installs). Gated with the other
PostgreSQL tests on `JIRA_SYNC_TEST_POSTGRES_URL`, so `make test` stays fast without a server.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from jira_sync.deploy_postgres import PostgresSetupError, debian_binaries
from tests.postgres_server import requires_postgres
from tests.webhook_receiver.receiver_servers import free_port

pytestmark = [requires_postgres, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def deploy_dir() -> Iterator[Path]:
    """A directory PostgreSQL's server user can reach when the tests run as root (pytest's own
    temporary directories are private to their owner)."""
    directory = Path(tempfile.mkdtemp(prefix="jira-sync-deploy-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_the_loopback_deployment_starts_works_and_stops(deploy_dir: Path) -> None:
    try:
        debian_binaries()
    except PostgresSetupError as exc:
        pytest.skip(str(exc))
    tmp_path = deploy_dir
    ports = [str(free_port()) for _ in range(3)]
    command = [
        sys.executable, "-m", "jira_sync.cli", "deploy", "--check", "--issues", "40", "--dir", str(tmp_path / "deploy"),
        "--ui-port", ports[0], "--code-server-port", ports[1], "--receiver-port", ports[2],
    ]  # fmt: skip
    before = {p.pid for p in psutil.process_iter()}
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=840)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    for line in ("code server  ready", "webserver    ready", "daemon       ready", "receivers    ready"):
        assert line in output
    assert "check: job reference_sync queued, run by the daemon" in output
    assert "drained by the inbox sensor's run" in output and "check: OK" in output
    # nothing of the deployment is left running: not a process, not the private PostgreSQL
    left = [
        p.info["cmdline"]
        for p in psutil.process_iter(["cmdline"])
        if p.pid not in before and str(tmp_path) in " ".join(p.info["cmdline"] or [])
    ]
    assert left == []
    assert not (tmp_path / "deploy" / "postgres" / "data" / "postmaster.pid").exists()
