"""A real stack for the webhook lifecycle tests: the simulator, an operator's OAuth grant, a sync
file, and (when deliveries matter) the receiver under uvicorn in its own process.

Shared by tests/pipelines/webhooks, tests/assets/webhooks and tests/jira_sync/test_webhooks_cli.py
(their conftest/test puts this directory on sys.path).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from jira_simulator.process import SimulatorProcess
from pipelines.auth.oauth import ADMIN_SCOPES, REQUIRED_SCOPES, AtlassianOAuthClient
from pipelines.auth.token_store import TokenStore
from pipelines.config import SyncConfig, load_sync_config

ROOT = Path(__file__).resolve().parents[3]
TENANT = "acme"
REDIRECT_URI = "http://127.0.0.1:9/auth/jira/callback"
ALL_SCOPES = REQUIRED_SCOPES + ADMIN_SCOPES


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def simulator(issues: int = 30, seed: int = 7) -> Iterator[SimulatorProcess]:
    """The simulator with fast webhook retries (Jira waits minutes; tests cannot)."""
    with SimulatorProcess(issues=issues, seed=seed, extra_args=["--webhook-retry-backoff", "0.2"]) as sim:
        yield sim


@dataclass
class Stack:
    sim: SimulatorProcess
    workdir: Path
    receiver_url: str
    scopes: list[str]
    sites: dict[str, dict] = field(default_factory=dict)
    extra_environ: dict[str, str] = field(default_factory=dict)  # e.g. an API-token site's credentials

    @property
    def sync_file(self) -> Path:
        return self.workdir / "jira_sync.yaml"

    @property
    def inbox(self) -> Path:
        return self.workdir / "inbox.sqlite"

    @property
    def warehouse(self) -> Path:
        return self.workdir / "warehouse.duckdb"

    @property
    def environ(self) -> dict[str, str]:
        return {
            "JIRA_CLIENT_ID": self.sim.client_id,
            "JIRA_SECRET": self.sim.client_secret,
            "JIRA_REDIRECT_URI": REDIRECT_URI,
            **self.extra_environ,
        }

    def config(self) -> SyncConfig:
        return load_sync_config(self.sync_file, environ={})

    def callback_url(self) -> str:
        return f"{self.receiver_url}/webhooks/jira/{TENANT}"

    def connect(self, scopes: list[str] | None = None) -> None:
        """Consent (as the consent page does), exchange the code, store tokens and sites."""
        client = AtlassianOAuthClient(
            self.sim.base_url, self.sim.base_url, self.sim.client_id, self.sim.client_secret, REDIRECT_URI
        )
        grant = self.sim.admin(
            "POST", "oauth/grant", {"scopes": scopes or self.scopes, "redirect_uri": REDIRECT_URI}
        )
        tokens = client.exchange_code(grant["code"])
        TokenStore(self.workdir / "tokens").save(
            TENANT, tokens, client.accessible_resources(tokens.access_token)
        )

    def write_sync_file(self, **webhooks: object) -> Path:
        site_entries = []
        for name, cloud_id in sorted(self.sim.cloud_ids.items()):
            entry = {
                "name": name,
                "url": self.sim.site_url(name),
                "cloud_id": cloud_id,
                "team_sync": {"method": "none"},
                "entities": ["issues", "projects", "issue_types", "statuses"],
                "webhook": {"enabled": False},
            }
            entry.update(self.sites.get(name, {}))
            site_entries.append(entry)
        document = {
            "version": 1,
            "warehouse": {
                "path": str(self.warehouse),
                "publish_path": str(self.workdir / "jira_analytics.duckdb"),
            },
            "atlassian": {"auth_url": self.sim.base_url, "api_url": self.sim.base_url},
            "oauth": {"token_dir": str(self.workdir / "tokens")},
            "http": {
                "max_requests_per_second": 500,
                "concurrency": 2,
                "max_attempts": 4,
                "timeout_seconds": 20,
            },
            "webhooks": {"receiver_url": self.receiver_url, "inbox": str(self.inbox), **webhooks},
            "tenants": [{"id": TENANT, "sites": site_entries}],
        }
        self.sync_file.write_text(yaml.safe_dump(document, sort_keys=False))
        return self.sync_file

    def _jira(self, method: str, site: str, path: str, json: object = None) -> httpx.Response:
        """Straight HTTP to the site's REST API through the OAuth gateway (not our client)."""
        client = AtlassianOAuthClient(
            self.sim.base_url, self.sim.base_url, self.sim.client_id, self.sim.client_secret, REDIRECT_URI
        )
        store = TokenStore(self.workdir / "tokens")
        for force in (False, True):  # after Jira's clock moved, the stored token is stale there
            token = store.access_token(TENANT, client, margin_seconds=10 * 365 * 86400.0 if force else 300.0)
            response = httpx.request(
                method,
                f"{self.sim.base_url}/ex/jira/{self.sim.cloud_ids[site]}/rest/api/3{path}",
                headers={"Authorization": f"Bearer {token}"},
                json=json,
                timeout=10,
            )
            if response.status_code != 401:
                break
        response.raise_for_status()
        return response

    def list_webhooks(self, site: str) -> list[dict]:
        return self._jira("GET", site, "/webhook").json()["values"]

    def project_keys(self, site: str) -> list[str]:
        return sorted(
            p["key"] for p in self._jira("GET", site, "/project/search?maxResults=100").json()["values"]
        )

    def register_raw(self, site: str, url: str, events: list[str], jql: str) -> int:
        body = {"url": url, "webhooks": [{"events": events, "jqlFilter": jql}]}
        result = self._jira("POST", site, "/webhook", body).json()["webhookRegistrationResult"][0]
        return int(result["createdWebhookId"])

    def delete_all_webhooks(self) -> None:
        for site in self.sim.cloud_ids:
            self.delete_all_webhooks_of(site)

    def delete_all_webhooks_of(self, site: str) -> None:
        ids = [w["id"] for w in self.list_webhooks(site)]
        if ids:
            self._jira("DELETE", site, "/webhook", {"webhookIds": ids})

    def webhook_requests(self) -> dict[str, int]:
        """How many dynamic-webhook calls the simulator served, by method (its request log)."""
        counts: dict[str, int] = {}
        for row in self.sim.admin("GET", "requests")["requests"]:
            if row["endpoint"].rstrip("/").endswith("/webhook"):
                counts[row["method"]] = counts.get(row["method"], 0) + row["count"]
        return counts

    def jira_now_ms(self) -> int:
        return int(self.sim.admin("GET", "clock")["now_ms"])

    def advance_days(self, days: float) -> None:
        self.sim.admin("POST", "clock/advance", {"seconds": days * 86_400})


def make_stack(
    sim: SimulatorProcess, workdir: Path, *, sites: dict[str, dict], scopes: list[str] | None = None
) -> Stack:
    workdir.mkdir(parents=True, exist_ok=True)
    stack = Stack(sim, workdir, f"http://127.0.0.1:{free_port()}", scopes or ALL_SCOPES, sites)
    stack.connect()
    stack.write_sync_file()
    return stack


class Receiver:
    """`webhook_receiver.cli` in a subprocess on the stack's receiver port (stopped by its PID)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.process: subprocess.Popen[bytes] | None = None
        self.log = stack.workdir / "receiver.log"

    def __enter__(self) -> Receiver:
        port = self.stack.receiver_url.rsplit(":", 1)[1]
        command = [sys.executable, "-m", "webhook_receiver.cli", "--config", str(self.stack.sync_file)]
        command += ["--inbox", str(self.stack.inbox), "--port", port, "--log-level", "warning"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**os.environ, **self.stack.environ},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.stack.receiver_url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"the receiver did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def wait_for(predicate, *, timeout: float = 20.0, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)
