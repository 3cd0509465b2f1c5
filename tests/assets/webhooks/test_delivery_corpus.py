"""The delivery corpus (tests/fixtures/webhook_deliveries: created, updated and deleted issues from
both kinds of webhook, in the shapes Jira Cloud sends today) replayed through the whole path: the
receiver under uvicorn (JWT for the dynamic ones on `/webhooks/jira/acme`, X-Hub-Signature for the
admin ones on `/webhooks/jira/acme/admin/globex`), the inbox, the drain's `jira_raw` tables and
the `jira.issues` derived from them. Every delivery is sent twice (Jira retries with the same identifier).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import pytest

from assets.core.raw_views import create_raw_views
from assets.definitions import build_definitions
from pipelines.auth.webhook_secrets import AdminWebhookSecret, WebhookSecretStore
from pipelines.inbox.sqlite_inbox import SQLiteInbox
from tests.assets.webhooks.dagster_kit import drain, drain_metadata, initial_import
from tests.pipelines.webhooks.webhook_lifecycle_kit import Receiver, make_stack, simulator
from tests.webhook_receiver.receiver_testkit import bearer

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "webhook_deliveries"
CORPUS_SITE = "https://corpus.atlassian.net"
SECRET = "corpus-admin-webhook-secret"


def corpus() -> list[tuple[str, dict]]:
    """(file name, body) in the order Jira sent them (by `timestamp`)."""
    bodies = [(path.name, json.loads(path.read_text())) for path in sorted(CORPUS.glob("*.json"))]
    return sorted(bodies, key=lambda item: item[1]["timestamp"])


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    with simulator(issues=10) as sim:
        sites = {
            "acme": {"webhook": {"enabled": True}},
            "globex": {
                "auth": {"method": "api_token", "email_env": "GLOBEX_EMAIL", "api_token_env": "GLOBEX_TOKEN"},
                "webhook": {"enabled": True, "mode": "admin"},
            },
        }
        stack = make_stack(sim, tmp_path_factory.mktemp("corpus"), sites=sites)
        stack.extra_environ.update(GLOBEX_EMAIL=sim.admin_email, GLOBEX_TOKEN=sim.api_token)
        WebhookSecretStore(stack.workdir / "tokens").put(
            "acme",
            "globex",
            AdminWebhookSecret(secret=SECRET, cloud_id=sim.cloud_ids["globex"], webhook_id=1),
        )
        defs = build_definitions(stack.config())
        instance = dg.DagsterInstance.ephemeral()
        with Receiver(stack):
            initial_import(defs, stack, instance)
            answers = []
            for name, body in corpus():
                admin = name.startswith("admin-")
                target = sim.site_url("globex" if admin else "acme")
                raw = json.dumps(body).replace(CORPUS_SITE, target).encode()
                headers = {
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Atlassian Webhook HTTP Client",
                    "X-Atlassian-Webhook-Identifier": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
                    "X-Atlassian-Webhook-Flow": "Primary",
                }
                if admin:
                    url = f"{stack.receiver_url}/webhooks/jira/acme/admin/globex"
                    headers["X-Hub-Signature"] = (
                        "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
                    )
                else:
                    url = f"{stack.receiver_url}/webhooks/jira/acme"
                    headers["Authorization"] = bearer(sim.client_secret, issuer=sim.client_id)
                for retry in (None, "1"):  # Jira's retry carries the same identifier
                    if retry:
                        headers["X-Atlassian-Webhook-Retry"] = retry
                    answers.append((name, httpx.post(url, content=raw, headers=headers, timeout=10)))
            yield stack, answers, drain(defs, stack, instance)


def rows(stack, sql: str, params: list) -> list[tuple]:
    with duckdb.connect(str(stack.warehouse), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def test_every_delivery_is_accepted_once(replayed) -> None:
    stack, answers, drained = replayed
    assert len(answers) == 2 * len(list(CORPUS.glob("*.json"))) == 22
    assert [(a.status_code, a.json()["status"]) for _, a in answers] == [
        (200, "stored"),
        (200, "duplicate"),
    ] * 11
    inbox = SQLiteInbox(stack.inbox)
    try:
        stats = inbox.stats()
    finally:
        inbox.close()
    assert (stats.total, stats.pending, stats.quarantined) == (11, 0, 0)
    metadata = drain_metadata(drained, "webhook_events")
    assert (metadata["events"], metadata["quarantined"], metadata["deletion_events"]) == (11, 0, 2)


def test_jira_issues_end_in_the_state_the_deliveries_describe(replayed) -> None:
    stack, _, _ = replayed
    acme, globex = stack.sim.cloud_ids["acme"], stack.sim.cloud_ids["globex"]
    issues = {
        (cloud, key): rest
        for cloud, key, *rest in rows(
            stack,
            "SELECT cloud_id, issue_key, summary, status_name, status_category_key, assignee_account_id, "
            "resolution_name, parent_key, issue_type_name FROM jira.issues WHERE issue_key LIKE 'CORP-%'",
            [],
        )
    }
    assert issues == {
        (acme, "CORP-1"): [
            "Checkout fails on Safari",
            "In Progress",
            "indeterminate",
            "5b10ac8d82e05b22cc7d4ef5",
            None,
            None,
            "Story",
        ],
        (globex, "CORP-3"): [
            "Add back button to pages",
            "Done",
            "done",
            "712020:8c1f0a4e-3b5d-4f6e-9a7b-2c3d4e5f6a7b",
            "Done",
            None,
            "Story",
        ],
        (globex, "CORP-4"): [
            "Back button on the create pages",
            "To Do",
            "new",
            None,
            None,
            "CORP-3",
            "Subtask",
        ],
    }  # CORP-2 and CORP-5 were deleted
    deletions = rows(
        stack,
        "SELECT cloud_id, issue_key FROM jira_raw.webhook_events "
        "WHERE event = 'jira:issue_deleted' AND issue_key LIKE 'CORP-%' ORDER BY issue_key",
        [],
    )
    assert deletions == [(acme, "CORP-2"), (globex, "CORP-5")]


def test_changelogs_of_both_kinds_are_kept_item_by_item(replayed) -> None:
    stack, _, _ = replayed
    with duckdb.connect(str(stack.warehouse), read_only=True) as con:
        create_raw_views(con, ["issue_changelog"])  # the current changelog, as the transforms read it
        histories = con.execute(
            "SELECT c.history_id, c.item_index, c.field_id, c.to_id, c.to_string FROM raw_issue_changelog c "
            "WHERE c.issue_id IN ('70001', '70003') ORDER BY c.history_id, c.item_index"
        ).fetchall()
    by_history = {}
    for history_id, index, field_id, to_id, to_string in histories:
        by_history.setdefault(history_id, []).append((index, field_id, to_id, to_string))
    assert set(by_history) == {"200001", "200002", "200003", "200005", "200006", "200007"}
    assert by_history["200002"] == [(0, "status", "3", "In Progress")]  # the dynamic transition
    assert by_history["200007"] == [
        (0, "resolution", "10000", "Done"),
        (1, "status", "10002", "Done"),
    ]  # admin
    assert by_history["200003"][0][1:3] == ("assignee", "5b10ac8d82e05b22cc7d4ef5")
