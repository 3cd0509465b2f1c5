"""Replayed and out-of-order webhook deliveries end in Jira's state in `jira.issues`.

Jira (the simulator) delivers the real webhooks of a burst of changes to our receiver: several
updates and a transition of one issue, an update then a delete of another, a create then an update,
and changes on the second site. Those recorded deliveries are then replayed into fresh copies of
the pre-burst warehouse through the receiver, in orders hypothesis chooses: any permutation, some
deliveries sent again (Jira's retries, same identifier), drained by one to three ingest runs cut
at any point (the last with the jira assets that follow it). Whatever the order, every touched issue
in `jira.issues` and in the current raw state (`raw_issues`) has the summary and status Jira has now (the deleted one is gone, the created one
is there), and each delivery is stored once.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from assets.core.raw_views import create_raw_views
from jira_sync.demo_world import TENANT
from pipelines.config import load_sync_config
from pipelines.inbox.events import InboxEvent
from pipelines.inbox.registrations import WebhookRegistry
from pipelines.inbox.sqlite_inbox import SQLiteInbox
from tests.reliability.reliability_kit import failure_message, report, wait_until
from tests.reliability.webhook_world import WebhookWorld, webhook_world
from webhook_receiver.app import create_app
from webhook_receiver.settings import settings_from_sync_config

# a long scenario: `make chaos` runs it, `make test` (-m "not slow") does not
pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(900)]

EXAMPLES = settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@dataclass
class Recorded:
    world: WebhookWorld
    deliveries: list[InboxEvent]
    expected: dict[
        tuple[str, str], tuple[str, str] | None
    ]  # (cloud id, issue id) -> (summary, status) or gone
    baseline: Path  # the warehouse before any of the burst was drained


def rest(world: WebhookWorld, method: str, site: str, path: str) -> httpx.Response:
    sim = world.demo.simulator
    return httpx.request(
        method, f"{sim.site_url(site)}/rest/api/3{path}", auth=(sim.admin_email, sim.api_token), timeout=30
    )


def jira_state(world: WebhookWorld, site: str, issue_id: str) -> tuple[str, str] | None:
    response = rest(world, "GET", site, f"/issue/{issue_id}?fields=summary,status")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    fields = response.json()["fields"]
    return fields["summary"], fields["status"]["name"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    base = tmp_path_factory.mktemp("replay")
    with webhook_world(base, issues=40, seed=31) as world:
        sim = world.demo.simulator
        truth = sim.truth()["sites"]
        acme_ids = truth[sim.cloud_ids["acme"]]["issues"]["ids"]
        globex_ids = truth[sim.cloud_ids["globex"]]["issues"]["ids"]
        baseline = base / "baseline.duckdb"
        shutil.copy(world.warehouse, baseline)
        touched: list[tuple[str, str]] = []

        def change(method: str, path: str, body: dict | None = None) -> dict:
            answer = sim.admin(method, path, body)
            sim.admin("POST", "clock/advance", {"seconds": 1})  # people do not edit twice in a millisecond
            return answer

        def transition(site: str, issue_id: str) -> None:
            targets = rest(world, "GET", site, f"/issue/{issue_id}/transitions").json()["transitions"]
            change(
                "POST", f"sites/{site}/issues/{issue_id}/transition", {"status": targets[-1]["to"]["name"]}
            )

        with world.receiver():
            first, doomed, template = acme_ids[0], acme_ids[1], acme_ids[2]
            for text in ("first edit", "second edit"):
                change("PUT", f"sites/acme/issues/{first}", {"summary": text})
            transition("acme", first)
            change("PUT", f"sites/acme/issues/{first}", {"summary": "last edit"})
            change("PUT", f"sites/acme/issues/{doomed}", {"summary": "edited, then deleted"})
            change("DELETE", f"sites/acme/issues/{doomed}")
            issue = rest(world, "GET", "acme", f"/issue/{template}?fields=project,issuetype").json()["fields"]
            created = change(
                "POST",
                "sites/acme/issues",
                {
                    "project": issue["project"]["key"],
                    "issue_type": issue["issuetype"]["name"],
                    "summary": "born",
                },
            )
            change("PUT", f"sites/acme/issues/{created['id']}", {"summary": "born, then renamed"})
            change("PUT", f"sites/globex/issues/{globex_ids[0]}", {"summary": "globex edit"})
            transition("globex", globex_ids[0])
            touched = [("acme", first), ("acme", doomed), ("acme", created["id"]), ("globex", globex_ids[0])]
            inbox = SQLiteInbox(world.inbox)
            try:
                wait_until(
                    lambda: inbox.stats().pending >= 10,
                    timeout=60,
                    poll=0.1,
                    what="10 deliveries in the inbox",
                )
                wait_until(
                    lambda: sim.admin("GET", "webhooks/deliveries")["pending"] == 0,
                    timeout=60,
                    poll=0.1,
                    what="Jira's retries",
                )
                deliveries = inbox.pending(limit=1000)
            finally:
                inbox.close()
        expected = {
            (sim.cloud_ids[site], issue_id): jira_state(world, site, issue_id) for site, issue_id in touched
        }
        assert expected[(sim.cloud_ids["acme"], doomed)] is None
        yield Recorded(world, deliveries, expected, baseline)


def replay(recorded: Recorded, workdir: Path, order: list[tuple[int, int]], cuts: list[int]) -> dict:
    """Post `order` (delivery index, retry number) through a fresh receiver into a fresh inbox and
    a copy of the baseline warehouse, with an ingest run at each cut and at the end."""
    world = recorded.world
    warehouse, inbox_path = workdir / "warehouse.duckdb", workdir / "inbox.sqlite"
    shutil.copy(recorded.baseline, warehouse)
    body = yaml.safe_load(world.sync_file.read_text())
    body["warehouse"]["path"], body["webhooks"]["inbox"] = str(warehouse), str(inbox_path)
    body["warehouse"]["publish_path"] = str(workdir / "jira_analytics.duckdb")
    sync_file = workdir / "jira_sync.yaml"
    sync_file.write_text(yaml.safe_dump(body))
    registry = WebhookRegistry(inbox_path)
    for (tenant, cloud_id), ids in world.registered().items():
        registry.record(tenant, cloud_id, ids)
    registry.close()
    config = load_sync_config(sync_file)
    statuses: dict[int, int] = {}
    runs = 0
    with TestClient(create_app(settings_from_sync_config(config, world.demo.environ))) as receiver:
        for position, (index, retry) in enumerate(order, 1):
            event = recorded.deliveries[index]
            response = receiver.post(
                f"/webhooks/jira/{TENANT}",
                content=event.payload_json.encode(),
                headers=world.headers(event.identifier, retry=retry or None),
            )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code == 200, response.text
            if position in cuts or position == len(order):
                result = world.ingest(sync_file, follow=position == len(order))
                assert result.success, failure_message(result)
                runs += 1
    with duckdb.connect(str(warehouse), read_only=True) as con:
        create_raw_views(con, ["issues"])  # the current state the transforms derive jira.issues from
        for (cloud_id, issue_id), state in recorded.expected.items():
            for table, id_column in (("jira.issues", "issue_id"), ("raw_issues", "id")):
                rows = con.execute(
                    f"SELECT summary, status_name FROM {table} WHERE cloud_id = ? AND {id_column} = ?",
                    [cloud_id, issue_id],
                ).fetchall()
                assert rows == ([state] if state else []), (table, issue_id, order, cuts)
        stored = con.execute("SELECT count(*) FROM jira_raw.webhook_events").fetchone()[0]
    assert stored == len(recorded.deliveries)
    inbox = SQLiteInbox(inbox_path)
    assert inbox.stats().pending == 0
    inbox.close()
    return {"posts": len(order), "ingest_runs": runs}


def test_any_order_with_replays_ends_in_jiras_state(recorded: Recorded) -> None:
    count = len(recorded.deliveries)
    totals = {"examples": 0, "posts": 0, "ingest_runs": 0}
    started = time.monotonic()

    @EXAMPLES
    @given(
        order=st.permutations(range(count)),
        replays=st.lists(st.tuples(st.integers(0, count - 1), st.integers(1, 5)), max_size=6),
        cuts=st.lists(st.integers(1, count + 5), max_size=3, unique=True),
        mix=st.randoms(use_true_random=False),
    )
    def check(order: list[int], replays: list[tuple[int, int]], cuts: list[int], mix) -> None:
        sequence = [(index, 0) for index in order] + replays
        mix.shuffle(sequence)
        with tempfile.TemporaryDirectory(dir=recorded.baseline.parent) as workdir:
            figures = replay(recorded, Path(workdir), sequence, cuts)
        totals["examples"] += 1
        totals["posts"] += figures["posts"]
        totals["ingest_runs"] += figures["ingest_runs"]

    check()
    # and the plain worst case: newest first, every delivery twice, one ingest per post
    newest_first = [(i, 0) for i in reversed(range(count))] + [(i, 1) for i in range(count)]
    with tempfile.TemporaryDirectory(dir=recorded.baseline.parent) as workdir:
        replay(recorded, Path(workdir), newest_first, list(range(1, 2 * count)))
    report(
        "webhook replay and reordering",
        deliveries=count,
        touched_issues=len(recorded.expected),
        seconds=time.monotonic() - started,
        **totals,
    )
