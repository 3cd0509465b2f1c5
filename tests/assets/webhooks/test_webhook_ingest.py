"""Webhooks into the warehouse, end to end: the simulator changes an issue, delivers to the receiver
under uvicorn, the inbox sensor asks for the ingest asset, the run stores the event in the drain's
raw tables, and the jira assets that follow it (the automation's run, tests/assets/test_automation.py)
derive jira.issues. Then the miss-rate check of the incremental sweep.

One module-scoped stack (an initial import into a real DuckDB file, the acme webhook registered)
serves the tests in file order.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
import duckdb
import orjson
import pytest

from assets.core.raw_views import create_raw_views
from assets.definitions import build_definitions
from assets.resources import WarehouseResource
from assets.webhooks.apply import DRAIN_TABLES, apply_events
from assets.webhooks.inbox_sensor import webhook_inbox_sensor
from assets.webhooks.ingest import QUARANTINE_CHECK, RETRY_COMMAND, WEBHOOK_DRAIN_KEYS
from assets.webhooks.miss_rate import MISS_RATE_CHECK
from jira_sync.webhooks_cli import main as webhooks_cli
from pipelines.inbox.events import EventKey, WebhookEvent
from pipelines.inbox.sqlite_inbox import SQLiteInbox
from tests.assets.webhooks.dagster_kit import (
    INITIAL_IMPORT,
    check_result,
    drain_metadata,
    failure,
    resources,
    run_request,
    transforms_after_drain,
)
from tests.pipelines.webhooks.webhook_lifecycle_kit import Receiver, Stack, make_stack, simulator, wait_for


@dataclass
class Synced:
    stack: Stack
    defs: dg.Definitions
    instance: dg.DagsterInstance
    receiver: Receiver
    cursor: str | None = None  # the inbox sensor's cursor, kept between ticks as the daemon keeps it

    def materialize(self, keys: list[str], **kwargs) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            list(self.defs.assets) + list(self.defs.asset_checks),
            selection=dg.AssetSelection.from_string(" or ".join(f'key:"{k}"' for k in keys)),
            resources={**self.defs.resources, **resources(self.stack)},
            instance=self.instance,
            **kwargs,
        )

    def tick(self) -> dg.SensorExecutionData:
        with dg.build_sensor_context(
            instance=self.instance, definitions=self.defs, resources=resources(self.stack), cursor=self.cursor
        ) as context:
            result = webhook_inbox_sensor.evaluate_tick(context)
        self.cursor = result.cursor if result.cursor is not None else self.cursor
        return result

    def run(self, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        """Execute a sensor's run request as the daemon would; it must succeed."""
        result = run_request(list(self.defs.assets), request, self.stack, self.instance, self.defs.resources)
        assert result.success, failure(result)
        return result

    def follow(self) -> None:
        """The jira assets after a drain, as the automation's run materializes them."""
        transforms_after_drain(self.defs, self.stack, self.instance)

    def drain(self) -> dg.ExecuteInProcessResult:
        """One sensor tick, the run it requests, and the transforms that follow."""
        [request] = self.tick().run_requests
        result = self.run(request)
        self.follow()
        return result

    @property
    def acme(self) -> str:
        """Issue ids are unique per site only (both simulated sites have an issue 10000)."""
        return self.stack.sim.cloud_ids["acme"]

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.stack.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def issue(self, issue_id: str) -> tuple | None:
        rows = self.query(
            "SELECT summary, status_name, state, type_category, updated FROM jira.issues WHERE cloud_id = ? AND issue_id = ?",
            [self.acme, issue_id],
        )
        return rows[0] if rows else None

    def change(self, method: str, path: str, body: dict | None = None, deliveries: int = 1) -> dict:
        """Change the simulator's world and wait until its deliveries are in the inbox."""
        inbox = SQLiteInbox(self.stack.inbox)
        try:
            before = inbox.stats().total
            answer = self.stack.sim.admin(method, path, body)
            wait_for(lambda: inbox.stats().total >= before + deliveries, what=f"{deliveries} delivery(ies)")
            return answer
        finally:
            inbox.close()


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    with simulator(issues=30) as sim:
        sites = {"acme": {"webhook": {"enabled": True}}}
        stack = make_stack(sim, tmp_path_factory.mktemp("ingest"), sites=sites)
        defs = build_definitions(stack.config())
        with Receiver(stack) as receiver:
            synced = Synced(stack, defs, dg.DagsterInstance.ephemeral(), receiver)
            assert synced.materialize(INITIAL_IMPORT).success
            assert synced.materialize(["jira/webhook_registrations"]).success
            yield synced


def _acme_issue_ids(synced: Synced) -> list[str]:
    cloud_id = synced.stack.sim.cloud_ids["acme"]
    return [
        r[0]
        for r in synced.query("SELECT id FROM jira_raw.issues WHERE cloud_id = ? ORDER BY id", [cloud_id])
    ]


def test_sensor_waits_for_the_receiver_then_asks_for_one_ingest_run(synced):
    result = synced.tick()
    assert result.run_requests == [] and result.skip_message == "inbox fully drained"
    issue_id = _acme_issue_ids(synced)[0]
    synced.change("PUT", f"sites/acme/issues/{issue_id}", {"summary": "sensor sees me"})

    [request] = synced.tick().run_requests
    assert request.run_key.startswith("inbox:") and request.asset_selection == WEBHOOK_DRAIN_KEYS
    synced.run(request)
    assert synced.query(
        "SELECT summary FROM jira_raw.webhook_issues WHERE cloud_id = ? AND id = ?", [synced.acme, issue_id]
    ) == [("sensor sees me",)]
    synced.follow()
    assert synced.issue(issue_id)[0] == "sensor sees me"
    assert synced.tick().run_requests == []


def test_update_transition_and_create_reach_jira_issues_with_mappings(synced):
    first, second = _acme_issue_ids(synced)[1:3]
    changelog_before = synced.query(
        "SELECT count(*) FROM jira_raw.issue_changelog WHERE cloud_id = ? AND issue_id = ?",
        [synced.acme, second],
    )[0][0]
    synced.change("PUT", f"sites/acme/issues/{first}", {"summary": "Checkout fails on Safari"})
    transitions = synced.stack._jira("GET", "acme", f"/issue/{second}/transitions").json()["transitions"]
    target = transitions[-1]["to"]
    moved = synced.change("POST", f"sites/acme/issues/{second}/transition", {"status": target["name"]})
    project, issue_type = synced.query(
        "SELECT project_key, issue_type_name FROM jira_raw.issues WHERE cloud_id = ? AND id = ?",
        [synced.acme, first],
    )[0]
    created = synced.change(
        "POST",
        "sites/acme/issues",
        {"project": project, "issue_type": issue_type, "summary": "Born by webhook"},
    )

    result = synced.drain()

    assert synced.issue(first)[0] == "Checkout fails on Safari"
    summary, status_name, state, _category, _updated = synced.issue(second)
    expected_state = {"new": "open", "indeterminate": "in_progress", "done": "closed"}[
        target["statusCategory"]["key"]
    ]
    assert (status_name, state) == (target["name"], expected_state)
    born = synced.issue(created["id"])
    assert born is not None and born[0] == "Born by webhook"
    same_type = synced.query(
        "SELECT DISTINCT type_category FROM jira.issues WHERE cloud_id = ? AND project_key = ? "
        "AND issue_type_name = ? AND issue_id <> ?",
        [synced.acme, project, issue_type, created["id"]],
    )
    assert same_type == [(born[3],)]  # mapped like the imported issues of its project and type
    # the transition's history is in the drain's changelog; the REST changelog is not touched, and
    # the current changelog is both
    delivered = synced.query(
        "SELECT history_id, field_id, to_id FROM jira_raw.webhook_changelog WHERE cloud_id = ? AND issue_id = ?",
        [synced.acme, second],
    )
    assert delivered == [(moved["history_id"], "status", moved["status_id"])]
    assert synced.query(
        "SELECT count(*) FROM jira_raw.issue_changelog WHERE cloud_id = ? AND issue_id = ?",
        [synced.acme, second],
    ) == [(changelog_before,)]
    assert len(current_changelog(synced, second)) == changelog_before + 1
    assert drain_metadata(result, "webhook_events")["events"] == 3
    assert drain_metadata(result, "webhook_issues")["issues_upserted"] == 3
    assert drain_metadata(result, "webhook_events")["still_pending"] == 0
    assert synced.query("SELECT count(*) FROM jira_raw.webhook_events")[0][0] == 4


def current_changelog(synced: Synced, issue_id: str) -> list[tuple]:
    """The issue's changelog as the transforms read it (`raw_issue_changelog`, the current state)."""
    with duckdb.connect(str(synced.stack.warehouse), read_only=True) as con:
        create_raw_views(con, ["issue_changelog"])
        return con.execute(
            "SELECT history_id, item_index FROM raw_issue_changelog WHERE cloud_id = ? AND issue_id = ?",
            [synced.acme, issue_id],
        ).fetchall()


def test_delete_removes_the_issue_from_the_current_state_and_records_why(synced):
    victim = _acme_issue_ids(synced)[3]
    key = synced.query(
        "SELECT key FROM jira_raw.issues WHERE cloud_id = ? AND id = ?", [synced.acme, victim]
    )[0][0]
    assert current_changelog(synced, victim)
    synced.change("DELETE", f"sites/acme/issues/{victim}")

    result = synced.drain()

    assert synced.issue(victim) is None
    assert current_changelog(synced, victim) == []
    # the REST load's row stays as it was loaded (the drain writes only its own tables)
    assert synced.query(
        "SELECT count(*) FROM jira_raw.issues WHERE cloud_id = ? AND id = ?", [synced.acme, victim]
    ) == [(1,)]
    [(event, deleted_key)] = synced.query(
        "SELECT event, issue_key FROM jira_raw.webhook_events WHERE cloud_id = ? AND issue_id = ?",
        [synced.acme, victim],
    )
    assert (event, deleted_key) == ("jira:issue_deleted", key)
    assert drain_metadata(result, "webhook_events")["deletion_events"] == 1


def test_old_or_out_of_order_events_never_overwrite_newer_data(synced):
    issue_id = _acme_issue_ids(synced)[4]
    inbox = SQLiteInbox(synced.stack.inbox)
    mark = inbox.stats().last_seq
    synced.change("PUT", f"sites/acme/issues/{issue_id}", {"summary": "older"})
    synced.change("PUT", f"sites/acme/issues/{issue_id}", {"summary": "newer"})
    older, newer = inbox.pending(10, after_seq=mark)
    inbox.mark_drained([older, newer])  # as if lost: re-delivered below, newest first

    def again(event, identifier: str) -> WebhookEvent:
        return WebhookEvent(
            event.tenant_id, event.cloud_id, identifier, event.event, event.issue_id, event.issue_key,
            event.jira_timestamp_ms, event.received_at, 1, event.payload_json,
        )  # fmt: skip

    inbox.store([again(newer, "replay-newer")])
    synced.drain()
    assert synced.issue(issue_id)[0] == "newer"

    inbox.store([again(older, "replay-older")])
    result = synced.drain()
    inbox.close()
    assert synced.issue(issue_id)[0] == "newer"
    assert synced.query(
        "SELECT summary FROM jira_raw.webhook_issues WHERE cloud_id = ? AND id = ?", [synced.acme, issue_id]
    ) == [("newer",)]
    assert drain_metadata(result, "webhook_issues")["stale_events_skipped"] == 1


def test_a_batch_applied_twice_changes_nothing(synced):
    """A crash after the warehouse commit and before the inbox is marked replays the batch."""
    keys = synced.query(
        "SELECT tenant_id, cloud_id, webhook_identifier FROM jira_raw.webhook_events ORDER BY received_at"
    )
    inbox = SQLiteInbox(synced.stack.inbox)
    events = [inbox.get(EventKey(*key)) for key in keys]
    inbox.close()
    tables = [f"jira_raw.{table}" for table in DRAIN_TABLES]
    before = {t: synced.query(f"SELECT * FROM {t} ORDER BY ALL") for t in tables}

    with WarehouseResource(path=str(synced.stack.warehouse)).connect() as con:
        con.execute("BEGIN TRANSACTION")
        summary = apply_events(con, events, synced.stack.config())
        con.execute("COMMIT")

    assert (summary.events, summary.new_events, summary.upserted, summary.changelog_rows) == (
        len(keys),
        0,
        0,
        0,
    )
    assert summary.stale_skipped > 0
    for table in tables:
        assert synced.query(f"SELECT * FROM {table} ORDER BY ALL") == before[table], table


def test_a_failed_ingest_run_is_retried_with_a_new_run_key(synced):
    issue_id = _acme_issue_ids(synced)[5]
    synced.change("PUT", f"sites/acme/issues/{issue_id}", {"summary": "after a failure"})
    [request] = synced.tick().run_requests
    broken = {
        **synced.defs.resources,
        **resources(synced.stack),
        "warehouse": WarehouseResource(path=str(synced.stack.workdir)),
    }
    failed = dg.materialize(
        list(synced.defs.assets),
        selection=request.asset_selection,
        resources=broken,
        instance=synced.instance,
        tags={**request.tags, "dagster/run_key": request.run_key},
        raise_on_error=False,
    )
    assert not failed.success

    [retry] = synced.tick().run_requests
    assert retry.run_key == f"{request.run_key}:retry1"
    synced.run(retry)
    synced.follow()
    assert synced.issue(issue_id)[0] == "after a failure"


def _stored_as(event, identifier: str, **changes) -> WebhookEvent:
    """A copy of a stored delivery under another identifier, as an older receiver or a hand edit left it."""
    values = {
        "tenant_id": event.tenant_id,
        "cloud_id": event.cloud_id,
        "identifier": identifier,
        "event": event.event,
        "issue_id": event.issue_id,
        "issue_key": event.issue_key,
        "jira_timestamp_ms": event.jira_timestamp_ms,
        "received_at": event.received_at,
        "retry_count": 0,
        "payload_json": event.payload_json,
    }
    return WebhookEvent(**{**values, **changes})


def test_poison_deliveries_are_quarantined_and_the_deliveries_around_them_apply(synced, capsys):
    ids = _acme_issue_ids(synced)
    inbox = SQLiteInbox(synced.stack.inbox)
    mark = inbox.stats().last_seq
    synced.change("PUT", f"sites/acme/issues/{ids[9]}", {"summary": "before the poison"})
    [template] = inbox.pending(1, after_seq=mark)
    body = template.payload()
    body["issue"]["fields"]["project"] = "PLAT"  # a string where Jira sends an object
    inbox.store(
        [
            _stored_as(template, "poison-shape", payload_json=orjson.dumps(body).decode()),
            _stored_as(template, "poison-time", jira_timestamp_ms=10**17),  # year 3170000
        ]
    )
    synced.change("PUT", f"sites/acme/issues/{ids[10]}", {"summary": "after the poison"})

    result = synced.drain()

    assert synced.issue(ids[9])[0] == "before the poison"
    assert synced.issue(ids[10])[0] == "after the poison"
    reasons = {q.event.identifier: q.reason for q in inbox.quarantined()}
    assert set(reasons) == {"poison-shape", "poison-time"}
    assert reasons["poison-shape"].startswith("refused by the delivery check")
    assert "issue.fields.project: Input should be an object" in reasons["poison-shape"]
    assert (
        reasons["poison-time"].startswith("could not be applied: ValueError")
        and "year" in reasons["poison-time"]
    )
    metadata = drain_metadata(result, "webhook_events")
    assert (metadata["quarantined"], metadata["still_pending"], metadata["events"]) == (2, 0, 2)
    evaluation = check_result(result, QUARANTINE_CHECK)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert RETRY_COMMAND in evaluation.description and evaluation.metadata["quarantined"].value == 2
    assert "poison-time" in evaluation.metadata["examples"].value

    config = ["--config", str(synced.stack.sync_file)]
    assert webhooks_cli(["quarantined", *config]) == 1
    listed = capsys.readouterr().out
    assert "poison-shape" in listed and "issue.fields.project" in listed and RETRY_COMMAND in listed
    assert webhooks_cli(["retry-quarantined", "--identifier", "poison-time", *config]) == 0
    assert "1 deliveries put back in line" in capsys.readouterr().out
    assert inbox.stats().quarantined == 1 and inbox.stats().pending == 1
    retried = synced.drain()  # the sensor sees it as a new arrival; still poison, so back in quarantine
    assert check_result(retried, QUARANTINE_CHECK).metadata["quarantined"].value == 2
    assert inbox.stats().pending == 0
    inbox.close()


def test_miss_rate_check_passes_when_every_change_was_delivered(synced):
    synced.stack.advance_days(0.01)  # ~15 min: the changes above leave the 5-minute grace
    synced.change("PUT", f"sites/acme/issues/{_acme_issue_ids(synced)[6]}", {"summary": "later traffic"})
    synced.drain()

    result = synced.materialize(["jira_raw/issue_updates"])

    evaluation = check_result(result, MISS_RATE_CHECK)
    assert evaluation.passed, evaluation.description
    assert evaluation.metadata["sweep_changes"].value >= 5
    assert evaluation.metadata["missed_changes"].value == 0


def test_miss_rate_check_warns_with_examples_when_webhooks_missed_changes(synced):
    ids = _acme_issue_ids(synced)
    missed_key = synced.query(
        "SELECT key FROM jira_raw.issues WHERE cloud_id = ? AND id = ?", [synced.acme, ids[7]]
    )[0][0]
    synced.receiver.__exit__()  # the receiver is down: Jira's retries fail, the delivery is lost
    synced.stack.sim.admin("PUT", f"sites/acme/issues/{ids[7]}", {"summary": "nobody heard this"})
    wait_for(
        lambda: synced.stack.sim.admin("GET", "webhooks/deliveries")["pending"] == 0, what="retries to end"
    )
    synced.receiver.__enter__()
    synced.stack.advance_days(0.01)
    synced.change("PUT", f"sites/acme/issues/{ids[8]}", {"summary": "heard again"})
    synced.drain()

    result = synced.materialize(["jira_raw/issue_updates"])

    evaluation = check_result(result, MISS_RATE_CHECK)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["missed_changes"].value == 1
    assert any(missed_key in example for example in evaluation.metadata["examples"].value)
    assert "1 of " in evaluation.description and "not delivered by a webhook" in evaluation.description


def test_miss_rate_check_errors_when_a_sites_webhooks_are_silent(synced):
    synced.stack.sites["globex"] = {"webhook": {"enabled": True}}
    synced.stack.write_sync_file()
    globex = synced.stack.sim.cloud_ids["globex"]
    first, second = (
        row[0]
        for row in synced.query(
            "SELECT id FROM jira_raw.issues WHERE cloud_id = ? ORDER BY id LIMIT 2", [globex]
        )
    )
    synced.stack.sim.admin("PUT", f"sites/globex/issues/{first}", {"summary": "before any webhook"})
    result = synced.materialize(["jira_raw/issue_updates"])
    evaluation = check_result(result, MISS_RATE_CHECK)
    assert evaluation.severity != dg.AssetCheckSeverity.ERROR, evaluation.description
    before = next(s for s in evaluation.metadata["sites"].value if s["site"] == "acme/globex")
    assert before["watching_since"] is None and before["sweep_changes"] == 0  # no webhook yet: not judged

    assert synced.materialize(["jira/webhook_registrations"]).success  # globex's webhook exists now
    synced.receiver.__exit__()  # ... but nothing it sends arrives
    synced.stack.advance_days(0.001)
    synced.stack.sim.admin("PUT", f"sites/globex/issues/{second}", {"summary": "globex never calls"})
    synced.stack.advance_days(0.01)  # the change leaves the 5-minute grace
    synced.stack.sim.admin("PUT", f"sites/globex/issues/{first}", {"summary": "still nothing"})
    wait_for(
        lambda: synced.stack.sim.admin("GET", "webhooks/deliveries")["pending"] == 0, what="retries to end"
    )
    synced.receiver.__enter__()

    result = synced.materialize(["jira_raw/issue_updates"])

    evaluation = check_result(result, MISS_RATE_CHECK)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["silent_sites"].value == ["acme/globex"]
    assert "webhook traffic is silent: acme/globex had 1 changes" in evaluation.description
    globex_row = next(s for s in evaluation.metadata["sites"].value if s["site"] == "acme/globex")
    assert globex_row["sweep_changes"] == 1 and globex_row["deliveries"] == 0
