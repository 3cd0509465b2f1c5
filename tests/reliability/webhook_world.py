"""A synced demo whose webhooks point at a receiver of ours, for the webhook reliability scenarios.

The simulator's dynamic webhooks are registered by the main job (its webhook registrations
asset) for `webhooks.receiver_url`, a free loopback port here; the receiver runs there under
uvicorn (`jira-sync-receiver`) when a scenario asks for it, and the ingest asset drains its inbox
into the warehouse as the inbox sensor's runs do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx
import pytest

from assets.definitions import build_definitions
from assets.resources import JiraSecretsResource, SecretValue
from assets.webhooks.ingest import WEBHOOK_DRAIN_KEYS
from jira_sync.demo_world import TENANT, ConnectedDemo, DemoOptions, connected_demo, free_loopback_port
from jira_sync.main_job import QUIET
from pipelines.config import load_sync_config
from pipelines.inbox.registrations import WebhookRegistry
from tests.assets.webhooks.dagster_kit import TRANSFORMS_AFTER_DRAIN
from tests.reliability.reliability_kit import REPO, dagster_home, main_job_in_process, scenario_sync_file
from tests.webhook_receiver.receiver_testkit import bearer, delivery_headers


@dataclass
class WebhookWorld:
    demo: ConnectedDemo
    workdir: Path
    sync_file: Path
    port: int

    @property
    def warehouse(self) -> Path:
        return self.workdir / "scenario" / "warehouse.duckdb"

    @property
    def inbox(self) -> Path:
        return self.workdir / "scenario" / "inbox.sqlite"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def registered(self) -> dict[tuple[str, str], frozenset[int]]:
        """(tenant, cloud id) -> the webhook ids the registrations asset recorded."""
        registry = WebhookRegistry(self.inbox)
        try:
            return registry.all()
        finally:
            registry.close()

    def headers(self, identifier: str, retry: int | None = None) -> dict[str, str]:
        """Headers of a Jira delivery, with the JWT Jira signs with the app's client secret."""
        sim = self.demo.simulator
        return delivery_headers(
            identifier, retry=retry, authorization=bearer(sim.client_secret, issuer=sim.client_id)
        )

    @contextmanager
    def receiver(self, sync_file: Path | None = None) -> Iterator[str]:
        """`jira-sync-receiver` under uvicorn on the registered port; its base URL."""
        sync_file = sync_file or self.sync_file
        log = self.workdir / "receiver.log"
        command = [sys.executable, "-m", "webhook_receiver.cli", "--config", str(sync_file)]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning", "--no-connect"]
        with log.open("ab") as out:
            process = subprocess.Popen(
                command,
                cwd=REPO,
                env={**os.environ, **self.demo.environ},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the receiver did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.05)
            yield self.url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def ingest(self, sync_file: Path | None = None, *, follow: bool = False) -> dg.ExecuteInProcessResult:
        """One run of the webhook ingest asset (what the inbox sensor asks for); with `follow`, the
        jira assets the automation runs after it (through jira.issues) in the same run."""
        sync_file = sync_file or self.sync_file
        config = load_sync_config(sync_file)
        defs = build_definitions(config)
        secrets = [SecretValue(env=name, value=value) for name, value in self.demo.environ.items()]
        return dg.materialize(
            list(defs.assets),
            selection=[*WEBHOOK_DRAIN_KEYS, *(TRANSFORMS_AFTER_DRAIN if follow else ())],
            resources={**defs.resources, "jira_secrets": JiraSecretsResource(secrets=secrets)},
            instance=dg.DagsterInstance.ephemeral(),
            run_config=QUIET,
            raise_on_error=False,
        )


@contextmanager
def webhook_world(base: Path, *, issues: int, seed: int) -> Iterator[WebhookWorld]:
    """The simulator, an operator's consent, and one run of the main job (import, transforms,
    webhooks registered for our receiver's URL)."""
    port = free_loopback_port()
    options = DemoOptions(
        issues=issues,
        seed=seed,
        warehouse=base / "unused.duckdb",
        demo_dir=base / "demo",
        receiver_url=f"http://127.0.0.1:{port}",
        simulator_args=["--webhook-retry-backoff", "0.2"],
    )
    monkeypatch = pytest.MonkeyPatch()
    try:
        with connected_demo(options) as demo:
            sync_file = scenario_sync_file(demo, base / "scenario")
            world = WebhookWorld(demo, base, sync_file, port)
            outcomes = main_job_in_process(demo, sync_file, dagster_home(base / "home"), monkeypatch)
            assert all(o.success for o in outcomes), [o.error for o in outcomes if not o.success]
            assert {tenant for tenant, _ in world.registered()} == {TENANT}
            yield world
    finally:
        monkeypatch.undo()
