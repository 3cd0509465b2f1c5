"""`jira-sync deploy --check`: prove every process of the running deployment does its part.

1. a job queued from the CLI is started by the daemon, run by a run worker of the code server,
   and loads the PostgreSQL warehouse;
2. a delivery signed as Jira signs it is acknowledged by a receiver, is in the PostgreSQL inbox,
   and the inbox sensor's run drains it into the warehouse.
"""

from __future__ import annotations

import argparse
import subprocess
import time
import uuid
import warnings

import httpx
import jwt
import orjson

from jira_sync.demo_world import TENANT, ConnectedDemo
from jira_sync.deploy import CHECK_JOB, LOCATION, Deployment, _bin, _environment, wait_for

RUN_TIMEOUT = 300


def check_deployment(
    deployment: Deployment, demo: ConnectedDemo, args: argparse.Namespace, warehouse_url: str
) -> int:
    try:
        queued = run_through_the_queue(deployment, args)
        print(
            f"check: job {CHECK_JOB} queued, run by the daemon and a run worker in {queued:.1f} s", flush=True
        )
        sites = _count(warehouse_url, "SELECT count(*) FROM jira_raw.sites")
        print(f"check: jira_raw.sites in the PostgreSQL warehouse: {sites} rows", flush=True)
        if sites < 1:
            raise RuntimeError("the run succeeded but jira_raw.sites is empty")
        acked, drained = deliver_and_drain(deployment, demo, args, warehouse_url)
        print(f"check: a delivery acknowledged in {acked * 1000:.0f} ms, drained by the inbox sensor's run "
              f"{drained:.1f} s later", flush=True)  # fmt: skip
    except RuntimeError as exc:
        print(f"check FAILED: {exc}", flush=True)
        return 1
    print("check: OK", flush=True)
    return 0


def run_through_the_queue(deployment: Deployment, args: argparse.Namespace) -> float:
    import dagster as dg

    run_id = str(uuid.uuid4())
    workspace = str(deployment.directory / "dagster_home" / "workspace.yaml")
    started = time.monotonic()
    launch = subprocess.run(
        [
            _bin("dagster"),
            "job",
            "launch",
            "-w",
            workspace,
            "-l",
            LOCATION,
            "-j",
            CHECK_JOB,
            "--run-id",
            run_id,
        ],
        env=deployment.env,
        capture_output=True,
        text=True,
    )
    if launch.returncode != 0:
        raise RuntimeError(f"dagster job launch failed:\n{launch.stderr[-3000:]}")

    def finished() -> bool:
        with _environment(deployment.env), dg.DagsterInstance.get() as instance:
            run = instance.get_run_by_id(run_id)
            if run is None or not run.is_finished:
                return False
            if run.status != dg.DagsterRunStatus.SUCCESS:
                raise RuntimeError(f"run {run_id} of {CHECK_JOB} ended {run.status.value}")
            return True

    wait_for(f"run {run_id} of {CHECK_JOB}", finished, deployment, timeout=RUN_TIMEOUT)
    return time.monotonic() - started


def deliver_and_drain(
    deployment: Deployment, demo: ConnectedDemo, args: argparse.Namespace, warehouse_url: str
) -> tuple[float, float]:
    """Post one delivery as Jira would; seconds to its acknowledgement and then to its drain."""
    from pipelines.inbox import open_registry

    sim = demo.simulator
    site = demo.sites[0]
    name = next(n for n, cloud in sim.cloud_ids.items() if cloud == site.id)
    issue_id = sim.truth()["sites"][site.id]["issues"]["ids"][0]
    issue = httpx.get(
        f"{sim.site_url(name)}/rest/api/2/issue/{issue_id}", auth=(sim.admin_email, sim.api_token), timeout=30
    )
    issue.raise_for_status()
    registry = open_registry(warehouse_url)
    try:
        recorded = registry.webhook_ids(TENANT, site.id)
    finally:
        registry.close()
    identifier = f"deploy-check-{uuid.uuid4()}"
    body = orjson.dumps(
        {
            "timestamp": int(time.time() * 1000),
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_updated",
            "user": {"accountId": "557058:deploy-check", "displayName": "deploy check"},
            "issue": issue.json(),
            "changelog": {"id": "1", "items": []},
            "matchedWebhookIds": [min(recorded) if recorded else 1],
        }
    )
    now = int(time.time())
    with warnings.catch_warnings():  # the simulator's client secret is shorter than a real app's
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        claims = {"iat": now, "exp": now + 300, "iss": sim.client_id}
        token = jwt.encode(claims, sim.client_secret, algorithm="HS256")
    started = time.monotonic()
    response = httpx.post(
        f"http://127.0.0.1:{args.receiver_port}/webhooks/jira/{TENANT}",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Atlassian-Webhook-Identifier": identifier,
            "Authorization": f"Bearer {token}",
        },
        timeout=30,
    )
    acked = time.monotonic() - started
    if response.status_code != 200:
        raise RuntimeError(f"the receiver answered {response.status_code}: {response.text[:500]}")
    query = "SELECT drained_at IS NOT NULL FROM jira_sync_inbox.inbox_events WHERE identifier = %s"
    if _rows(warehouse_url, query, [identifier]) == []:
        raise RuntimeError("the acknowledged delivery is not in the PostgreSQL inbox")
    drained = wait_for(
        "the inbox sensor's drain",
        lambda: _rows(warehouse_url, query, [identifier]) == [(True,)],
        deployment,
        timeout=RUN_TIMEOUT,
    )
    return acked, drained


def _rows(url: str, sql: str, params: list | None = None) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(url) as connection:
        cursor = connection.cursor()
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    connection.close()
    return rows


def _count(url: str, sql: str) -> int:
    return int(_rows(url, sql)[0][0])
