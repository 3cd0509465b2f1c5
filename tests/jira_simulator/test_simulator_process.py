"""The CLI and `SimulatorProcess`: a real subprocess, its banner, truth, admin calls and clean-up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from jira_simulator.cli import main
from jira_simulator.process import SimulatorError, SimulatorProcess

SMALL = Path(__file__).resolve().parents[2] / "jira_simulator" / "scenarios" / "small.yaml"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jira_simulator", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in state


def test_process_serves_the_same_truth_as_the_cli() -> None:
    printed = _cli("truth", "--issues", "150", "--seed", "3")
    assert printed.returncode == 0, printed.stderr
    with SimulatorProcess(issues=150, seed=3) as sim:
        assert sim.start_seconds < 30
        assert sim.admin_email == "admin@jira-sim.example" and set(sim.cloud_ids) == {"acme", "globex"}
        assert sim.truth() == json.loads(printed.stdout)
        myself = httpx.get(f"{sim.site_url('acme')}/rest/api/3/myself", auth=(sim.admin_email, sim.api_token))
        assert myself.status_code == 200
        assert sim.admin("GET", "clock")
        with pytest.raises(SimulatorError, match="answered 4"):
            sim.admin("POST", "sites/acme/issues", json={"project": "NOPE"})
        pid = sim._process.pid
    assert not _alive(pid)


def test_process_passes_credentials_and_scenarios() -> None:
    with SimulatorProcess(
        scenario=SMALL, extra_args=("--api-token", "t0k3n", "--client-id", "cid", "--client-secret", "sec")
    ) as sim:
        assert (sim.api_token, sim.client_id, sim.client_secret) == ("t0k3n", "cid", "sec")
        assert sim.admin_email == "alice@small.example"
        response = httpx.get(
            f"{sim.site_url('alpha')}/rest/api/2/issue/ALPHA-1", auth=(sim.admin_email, "t0k3n")
        )
        assert response.json()["fields"]["status"]["name"] == "Done"


def test_simulator_exits_when_its_owner_is_killed(tmp_path: Path) -> None:
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from jira_simulator.process import SimulatorProcess\n"
            "import time\n"
            "sim = SimulatorProcess(issues=20)\n"
            "sim.start()\n"
            "print(sim._process.pid, flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    simulator_pid = int(owner.stdout.readline())
    assert _alive(simulator_pid)
    os.kill(owner.pid, signal.SIGKILL)
    owner.wait(10)
    deadline = time.monotonic() + 15
    while _alive(simulator_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(simulator_pid)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--rate-limit", "lots"], "--rate-limit: cannot read 'lots'"),
        (["serve", "--rate-limit", "burst=5/h"], "burst is per second"),
        (["serve", "--drop-rate", "2"], "--drop-rate must be a probability between 0 and 1"),
        (["truth", "--scenario", str(SMALL), "--issues", "5"], "--issues cannot be combined with --scenario"),
        (["truth", "--issues", "-3"], "--issues must be >= 0"),
    ],
)
def test_bad_options_are_explained(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_failed_start_reports_the_servers_output() -> None:
    with pytest.raises(SimulatorError, match="cannot read the scenario file"):
        SimulatorProcess(scenario="/nonexistent.yaml").start()
