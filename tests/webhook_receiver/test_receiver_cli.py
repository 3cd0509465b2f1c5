"""`jira-sync-receiver`: clear start-up errors, and several worker processes sharing one inbox."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import psutil
import pytest
from starlette.testclient import TestClient

from pipelines.inbox.sqlite_inbox import SQLiteInbox
from tests.webhook_receiver.receiver_servers import ROOT, free_port, write_alpha_sync_file
from tests.webhook_receiver.receiver_testkit import (
    ALPHA_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    delivery_headers,
    issue_payload,
)
from webhook_receiver import cli
from webhook_receiver.cli import main, worker_app


def test_missing_sync_file_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(tmp_path / "nope.yaml")]) == 2
    assert f"{tmp_path / 'nope.yaml'}: file not found" in capsys.readouterr().err


def test_invalid_sync_file_exits_2_with_the_key_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\ntenants:\n  - id: acme\n    sites:\n      - name: a\n        urll: https://x\n"
    )
    assert main(["--config", str(bad)]) == 2
    assert "tenants[0].sites[0]" in capsys.readouterr().err


def test_unwritable_inbox_exits_2_saying_what_to_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert (
        main(["--config", str(write_alpha_sync_file(tmp_path)), "--inbox", str(blocker / "inbox.sqlite")])
        == 2
    )
    error = capsys.readouterr().err
    assert "webhook inbox unavailable" in error
    assert "a-file/inbox.sqlite" in error


def test_worker_app_factory_rebuilds_the_app_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_logging: None
) -> None:
    """What each `--workers` process runs: the sync file and environment are read again there."""
    monkeypatch.setenv("JIRA_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("JIRA_SECRET", CLIENT_SECRET)
    monkeypatch.setenv(
        "JIRA_SYNC_RECEIVER_ARGS",
        orjson.dumps(
            {
                "config": str(write_alpha_sync_file(tmp_path)),
                "inbox": str(tmp_path / "workers.sqlite"),
                "options": {"max_body_bytes": 4096, "body_timeout": 3.5, "max_slow_connections": 7},
                "connect_enabled": False,
                "log_level": "warning",
            }
        ).decode(),
    )
    prepared: list[bool] = []  # each worker process freezes its loaded objects (not this test process)
    monkeypatch.setattr(cli, "prepare_process", lambda: prepared.append(True))
    with TestClient(worker_app()) as client:
        assert prepared == [True]
        accepted = client.post(
            "/webhooks/jira/acme", content=orjson.dumps(issue_payload()), headers=delivery_headers("w-1")
        )
        assert accepted.status_code == 200
        assert client.get("/auth/jira/connect?tenant=acme").status_code == 404  # --no-connect
        big = orjson.dumps(issue_payload() | {"padding": "x" * 5000})
        too_big = client.post("/webhooks/jira/acme", content=big, headers=delivery_headers("w-2"))
        assert too_big.status_code == 413  # --max-body-bytes 4096
        health = client.get("/healthz").json()
        assert health["inbox"]["path"] == str(tmp_path / "workers.sqlite")
        assert health["slow_clients"]["body_timeout_seconds"] == 3.5  # --body-timeout
        assert health["slow_clients"]["max_slow_connections"] == 7  # --max-slow-connections


@pytest.mark.slow
def test_workers_share_one_inbox(tmp_path: Path) -> None:
    """`--workers 2`: two receiver processes behind one socket commit to the same WAL file."""
    port = free_port()
    inbox_path = tmp_path / "inbox.sqlite"
    command = [
        sys.executable, "-m", "webhook_receiver.cli", "--config", str(write_alpha_sync_file(tmp_path)),
        "--inbox", str(inbox_path), "--port", str(port), "--workers", "2",
    ]  # fmt: skip
    env = {**os.environ, "JIRA_CLIENT_ID": CLIENT_ID, "JIRA_SECRET": CLIENT_SECRET}
    log = (tmp_path / "receiver.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (
                tmp_path / "receiver.log"
            ).read_text()
            time.sleep(0.1)
        assert len(psutil.Process(process.pid).children()) >= 2

        async def deliver_all() -> list[int]:
            async with httpx.AsyncClient(timeout=10) as http:
                return [
                    response.status_code
                    for response in await asyncio.gather(
                        *(
                            http.post(
                                f"{base}/webhooks/jira/acme",
                                content=orjson.dumps(issue_payload(site_url=ALPHA_URL, issue_id=str(n))),
                                headers=delivery_headers(f"worker-{n % 150}"),  # 50 retried twice
                            )
                            for n in range(250)
                        )
                    )
                ]

        assert set(asyncio.run(deliver_all())) == {200}
    finally:
        children = psutil.Process(process.pid).children(recursive=True) if process.poll() is None else []
        process.terminate()
        process.wait(20)
        for child in children:  # the workers this test started, should the supervisor leave any
            if child.is_running():
                child.kill()
        log.close()
    inbox = SQLiteInbox(inbox_path)
    try:
        assert inbox.stats().total == 150
    finally:
        inbox.close()
