"""End to end over loopback: connect a tenant, register a dynamic webhook in the simulator pointing at
the receiver (uvicorn, real process), mutate issues, and find Jira's deliveries in the inbox."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from jira_simulator.process import SimulatorProcess
from pipelines.auth.oauth import ADMIN_SCOPES, REQUIRED_SCOPES
from pipelines.auth.token_store import TokenStore
from pipelines.inbox.events import InboxEvent
from pipelines.inbox.registrations import WebhookRegistry
from pipelines.inbox.sqlite_inbox import SQLiteInbox
from tests.webhook_receiver.receiver_servers import ReceiverProcess, write_sync_file


def wait_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def connect_tenant(receiver: ReceiverProcess, sim: SimulatorProcess) -> None:
    """The operator's connect flow, with the consent page's Accept done through /_sim/oauth/grant."""
    start = httpx.get(f"{receiver.base_url}/auth/jira/connect?tenant=acme&admin=1", follow_redirects=False)
    assert start.status_code == 303, start.text
    query = parse_qs(urlsplit(start.headers["location"]).query)
    grant = sim.admin(
        "POST",
        "oauth/grant",
        {
            "scopes": REQUIRED_SCOPES + ADMIN_SCOPES,
            "state": query["state"][0],
            "redirect_uri": query["redirect_uri"][0],
        },
    )
    page = httpx.get(
        f"{receiver.base_url}/auth/jira/callback", params={"code": grant["code"], "state": grant["state"]}
    )
    assert page.status_code == 200, page.text


def events_for(inbox_path: Path, issue_key: str) -> list[InboxEvent]:
    inbox = SQLiteInbox(inbox_path)
    try:
        return [event for event in inbox.pending(limit=10_000) if event.issue_key == issue_key]
    finally:
        inbox.close()


def test_simulator_deliveries_land_in_the_inbox_once_even_across_a_receiver_outage(tmp_path: Path) -> None:
    with SimulatorProcess(issues=10, seed=3, extra_args=["--webhook-retry-backoff", "2"]) as sim:
        inbox_path = tmp_path / "inbox.sqlite"
        receiver = ReceiverProcess(write_sync_file(tmp_path, sim), inbox_path, {}, tmp_path / "receiver.log")
        receiver.env = {
            "JIRA_CLIENT_ID": sim.client_id,
            "JIRA_SECRET": sim.client_secret,  # deliveries' JWTs are verified
            "JIRA_REDIRECT_URI": f"{receiver.base_url}/auth/jira/callback",
        }
        with receiver:
            connect_tenant(receiver, sim)
            cloud_id = sim.cloud_ids["acme"]
            api = f"{sim.base_url}/ex/jira/{cloud_id}/rest/api/3"
            token = TokenStore(tmp_path / "tokens").token_set("acme")
            assert token is not None
            auth = {"Authorization": f"Bearer {token.access_token}"}
            issue = httpx.get(f"{api}/issue/10000", headers=auth).json()
            project = issue["fields"]["project"]["key"]
            registered = httpx.post(
                f"{api}/webhook",
                headers=auth,
                json={
                    "url": f"{receiver.base_url}/webhooks/jira/acme",
                    "webhooks": [
                        {
                            "events": ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"],
                            "jqlFilter": f"project = {project}",
                        }
                    ],
                },
            ).json()
            webhook_id = registered["webhookRegistrationResult"][0]["createdWebhookId"]
            # what the webhook lifecycle records, so the receiver also checks matchedWebhookIds
            registry = WebhookRegistry(inbox_path)
            registry.record("acme", cloud_id, [webhook_id])
            registry.close()

            sim.admin("PUT", f"sites/acme/issues/{issue['key']}", {"summary": "Changed by the e2e test"})
            [updated] = wait_for(lambda: events_for(inbox_path, issue["key"]), what="the update delivery")
            assert (updated.tenant_id, updated.cloud_id, updated.event) == (
                "acme",
                cloud_id,
                "jira:issue_updated",
            )
            assert updated.payload()["issue"]["fields"]["summary"] == "Changed by the e2e test"
            assert updated.payload()["matchedWebhookIds"] == [webhook_id]
            assert updated.issue_id == issue["id"]

            created = sim.admin(
                "POST",
                "sites/acme/issues",
                {
                    "project": project,
                    "issue_type": issue["fields"]["issuetype"]["name"],
                    "summary": "Born in e2e",
                },
            )
            new_key = created["key"]
            wait_for(lambda: events_for(inbox_path, new_key), what="the created delivery")

            # outage: the receiver is down when the delete happens; Jira retries with the same identifier
            receiver.stop()
            sim.admin("DELETE", f"sites/acme/issues/{new_key}")

            def failed_attempt() -> bool:
                deliveries = sim.admin("GET", "webhooks/deliveries")["deliveries"]
                return any(d["event"] == "jira:issue_deleted" and d["attempts"] for d in deliveries)

            wait_for(failed_attempt, what="a failed delivery attempt")
            receiver.start()
            wait_for(
                lambda: any(e.event == "jira:issue_deleted" for e in events_for(inbox_path, new_key)),
                what="the retried delete",
            )
            deliveries = sim.admin("GET", "webhooks/deliveries")["deliveries"]

        events = events_for(inbox_path, new_key)
        assert sorted(event.event for event in events) == ["jira:issue_created", "jira:issue_deleted"]
        [deleted] = [event for event in events if event.event == "jira:issue_deleted"]
        assert deleted.retry_count >= 1
        delete_delivery = next(d for d in deliveries if d["identifier"] == deleted.identifier)
        assert delete_delivery["attempts"][0]["status"] != 200
        assert delete_delivery["attempts"][-1]["status"] == 200
        log = (tmp_path / "receiver.log").read_text()
        assert sim.client_secret not in log
        assert token.access_token not in log
