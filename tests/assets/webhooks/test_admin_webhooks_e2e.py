"""Admin webhooks end to end, for an API-token site: `jira-sync webhooks create` registers one through
the simulator's `/rest/webhooks/1.0/webhook` with a generated secret, the simulator signs each
delivery, the receiver (uvicorn, own process) verifies the raw body and stores it, the drain applies
it to `jira.issues`. A forged signature is 401 and stores nothing; `rotate-secret` switches
secrets without losing a delivery; `delete` removes the webhook and forgets the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import stat

import dagster as dg
import duckdb
import httpx
import pytest

from assets.definitions import build_definitions
from jira_sync.webhooks_cli import main as webhooks_cli
from pipelines.auth.webhook_secrets import WebhookSecretStore
from pipelines.inbox.sqlite_inbox import SQLiteInbox
from tests.assets.webhooks.dagster_kit import drain, initial_import
from tests.pipelines.webhooks.webhook_lifecycle_kit import Receiver, make_stack, simulator, wait_for

SITE = "globex"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with simulator(issues=20) as sim:
        admin_site = {
            "auth": {"method": "api_token", "email_env": "GLOBEX_EMAIL", "api_token_env": "GLOBEX_TOKEN"},
            "webhook": {"enabled": True, "mode": "admin"},
        }
        stack = make_stack(sim, tmp_path_factory.mktemp("admin"), sites={SITE: admin_site})
        stack.extra_environ.update(GLOBEX_EMAIL=sim.admin_email, GLOBEX_TOKEN=sim.api_token)
        defs = build_definitions(stack.config())
        instance = dg.DagsterInstance.ephemeral()
        with Receiver(stack):
            initial_import(defs, stack, instance)
            yield stack, defs, instance


def cli(stack, monkeypatch, capsys, *args: str) -> tuple[int, str]:
    for name, value in stack.environ.items():
        monkeypatch.setenv(name, value)
    code = webhooks_cli([*args, "--config", str(stack.sync_file)])
    out, err = capsys.readouterr()
    return code, out + err


def summary(stack, issue_id: str) -> str:
    with duckdb.connect(str(stack.warehouse), read_only=True) as con:
        return con.execute(
            "SELECT summary FROM jira.issues WHERE cloud_id = ? AND issue_id = ?",
            [stack.sim.cloud_ids[SITE], issue_id],
        ).fetchall()[0][0]


def change_and_wait(stack, issue_id: str, text: str) -> None:
    inbox = SQLiteInbox(stack.inbox)
    try:
        before = inbox.stats().total
        stack.sim.admin("PUT", f"sites/{SITE}/issues/{issue_id}", {"summary": text})
        wait_for(lambda: inbox.stats().total > before, what="the signed delivery in the inbox")
    finally:
        inbox.close()


def test_an_api_token_site_gets_signed_admin_webhook_deliveries_into_jira_issues(world, monkeypatch, capsys):
    stack, defs, instance = world
    code, out = cli(stack, monkeypatch, capsys, "create", "--site", SITE)
    assert code == 0, out
    row = out.splitlines()[1].split()
    assert row[3:6] == ["admin", "active", "created"] and row[-2:] == ["never", "-"]
    secrets = WebhookSecretStore(stack.workdir / "tokens")
    entry = secrets.get("acme", SITE)
    assert entry is not None and entry.cloud_id == stack.sim.cloud_ids[SITE]
    assert stat.S_IMODE(secrets.path("acme").stat().st_mode) == 0o600
    assert entry.secret not in stack.sync_file.read_text()
    listed = httpx.get(
        f"{stack.sim.site_url(SITE)}/rest/webhooks/1.0/webhook",
        auth=(stack.sim.admin_email, stack.sim.api_token),
    ).json()
    assert [(w["url"], w["isSigned"]) for w in listed] == [
        (f"{stack.receiver_url}/webhooks/jira/acme/admin/{SITE}", True)
    ]

    with duckdb.connect(str(stack.warehouse), read_only=True) as con:
        issue_id = con.execute(
            "SELECT id FROM jira_raw.issues WHERE cloud_id = ? ORDER BY id LIMIT 1",
            [stack.sim.cloud_ids[SITE]],
        ).fetchall()[0][0]
    change_and_wait(stack, issue_id, "signed by the admin webhook")
    drain(defs, stack, instance)
    assert summary(stack, issue_id) == "signed by the admin webhook"

    # the same body with a wrong signature: 401, nothing stored
    inbox = SQLiteInbox(stack.inbox)
    total = inbox.stats().total
    delivery = stack.sim.admin("GET", "webhooks/deliveries")["deliveries"][-1]
    assert (delivery["kind"], delivery["signed"], delivery["matched_webhook_ids"]) == ("admin", True, [1])
    raw = b'{"timestamp": 1, "webhookEvent": "jira:issue_updated"}'
    forged = httpx.post(
        f"{stack.receiver_url}/webhooks/jira/acme/admin/{SITE}",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Atlassian-Webhook-Identifier": "forged-1",
            "X-Hub-Signature": "sha256=" + hmac.new(b"guess", raw, hashlib.sha256).hexdigest(),
        },
    )
    assert forged.status_code == 401 and inbox.stats().total == total
    inbox.close()

    # rotate: the new secret signs the next delivery, which is stored and applied
    code, out = cli(stack, monkeypatch, capsys, "rotate-secret", "--site", SITE)
    assert code == 0 and " rotated " in out, out
    rotated = secrets.get("acme", SITE)
    assert rotated is not None and rotated.secret != entry.secret and rotated.previous_secret == entry.secret
    change_and_wait(stack, issue_id, "after the rotation")
    drain(defs, stack, instance)
    assert summary(stack, issue_id) == "after the rotation"

    code, out = cli(stack, monkeypatch, capsys, "refresh", "--site", SITE)
    assert code == 0 and "admin webhooks do not expire" in out
    code, out = cli(stack, monkeypatch, capsys, "delete", "--site", SITE)
    assert code == 0 and "deleted webhooks" in out
    assert secrets.get("acme", SITE) is None
    code, out = cli(stack, monkeypatch, capsys, "list", "--site", SITE)
    assert code == 1 and " missing " in out
