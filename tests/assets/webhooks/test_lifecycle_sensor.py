"""The refresh sensor, ticked by hand on a real instance, with its runs executed as the daemon would.

The 90-day test moves the simulator's clock in 5-day steps (less than the 7-day refresh window)
with the sensor ticking and every requested run executed: no webhook ever expires, none is
duplicated, deliveries keep reaching the receiver's inbox.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from assets.webhooks.lifecycle_sensor import WORK_TAG, webhook_lifecycle_sensor
from assets.webhooks.registrations import webhook_registrations
from pipelines.inbox.sqlite_inbox import SQLiteInbox
from tests.assets.webhooks.dagster_kit import resources, run_request
from tests.pipelines.webhooks.webhook_lifecycle_kit import (
    ALL_SCOPES,
    Receiver,
    make_stack,
    simulator,
    wait_for,
)


@pytest.fixture(scope="module")
def sim():
    with simulator(issues=20) as running:
        yield running


@pytest.fixture
def stack(sim, tmp_path):
    built = make_stack(sim, tmp_path, sites={"acme": {"webhook": {"enabled": True}}})
    yield built
    built.delete_all_webhooks()


def tick(stack, instance) -> dg.SensorExecutionData:
    definitions = dg.Definitions(
        assets=[webhook_registrations], sensors=[webhook_lifecycle_sensor], resources=resources(stack)
    )
    with dg.build_sensor_context(
        instance=instance, definitions=definitions, resources=resources(stack)
    ) as context:
        return webhook_lifecycle_sensor.evaluate_tick(context)


def test_sensor_registers_once_retries_a_failed_run_then_only_observes_weekly(stack, sqlite_instance):
    cloud_id = stack.sim.cloud_ids["acme"]
    today = datetime.fromtimestamp(stack.jira_now_ms() / 1000, UTC).strftime("%Y-%m-%d")

    [register] = tick(stack, sqlite_instance).run_requests
    assert register.run_key == f"register:{cloud_id}:{today}"
    assert register.tags[WORK_TAG] == register.run_key
    assert register.run_config["ops"]["jira__webhook_registrations"]["config"] == {
        "action": "reconcile",
        "sites": ["acme"],
        "replace_url": False,
    }
    stack.connect([s for s in ALL_SCOPES if s != "manage:jira-webhook"])  # the run fails on the site
    assert not run_request([webhook_registrations], register, stack, sqlite_instance).success
    stack.connect()

    [retry] = tick(stack, sqlite_instance).run_requests
    assert retry.run_key == f"register:{cloud_id}:{today}:retry1"
    assert run_request([webhook_registrations], retry, stack, sqlite_instance).success
    assert len(stack.list_webhooks("acme")) == 1

    # Alive and a run already happened this (Jira) week: nothing to do.
    assert tick(stack, sqlite_instance).skip_message == "every webhook is alive beyond the refresh window"
    stack.advance_days(7)  # a new week, still 23 days left: one observe run keeps the check current
    [observe] = tick(stack, sqlite_instance).run_requests
    assert observe.run_key.startswith("observe:")
    assert observe.run_config["ops"]["jira__webhook_registrations"]["config"]["action"] == "observe"
    assert run_request([webhook_registrations], observe, stack, sqlite_instance).success
    assert tick(stack, sqlite_instance).run_requests == []


def test_a_vanished_webhook_is_registered_again_without_duplicates(stack, sqlite_instance):
    [register] = tick(stack, sqlite_instance).run_requests
    assert run_request([webhook_registrations], register, stack, sqlite_instance).success
    stack.delete_all_webhooks_of("acme")  # e.g. an admin removed it

    [again] = tick(stack, sqlite_instance).run_requests
    assert again.run_key.startswith(f"register:{stack.sim.cloud_ids['acme']}:")
    assert again.run_key != register.run_key
    assert run_request([webhook_registrations], again, stack, sqlite_instance).success
    assert len(stack.list_webhooks("acme")) == 1


def test_ninety_days_with_the_sensor_ticking(stack, sim):
    instance = dg.DagsterInstance.ephemeral()
    issue_id = sim.truth()["sites"][sim.cloud_ids["acme"]]["issues"]["ids"][0]
    executed: list[str] = []
    with Receiver(stack):
        expires_ms = None
        for day in range(0, 91, 5):
            if expires_ms is not None:
                assert expires_ms > stack.jira_now_ms(), f"day {day}: the webhook expired before the tick"
            for request in tick(stack, instance).run_requests:
                assert request.run_key not in executed, f"day {day}: {request.run_key} requested twice"
                assert run_request([webhook_registrations], request, stack, instance).success
                executed.append(request.run_key)
            [webhook] = stack.list_webhooks("acme")  # exactly one, alive beyond the refresh window
            expires_ms = webhook["expirationDate"]
            assert expires_ms - stack.jira_now_ms() > 7 * 86_400_000, f"day {day}: not refreshed in time"

            inbox = SQLiteInbox(stack.inbox)
            before = inbox.stats().last_seq
            sim.admin("PUT", f"sites/acme/issues/{issue_id}", {"summary": f"day {day}"})
            wait_for(lambda: inbox.stats().last_seq > before, what=f"the day-{day} delivery in the inbox")  # noqa: B023
            [event] = inbox.pending(10, after_seq=before)
            assert event.issue_id == issue_id and f'"day {day}"' in event.payload_json
            inbox.close()
            stack.advance_days(5)

    refreshes = [k for k in executed if k.startswith("refresh:")]
    registers = [k for k in executed if k.startswith("register:")]
    assert len(registers) == 1 and len(refreshes) == 3, executed
    assert all(":retry" not in k for k in executed)


def test_a_site_that_cannot_be_listed_still_gets_its_weekly_observe_run(stack):
    instance = dg.DagsterInstance.ephemeral()
    (stack.workdir / "tokens" / "acme.json").unlink()  # the grant is gone: re-connect needed

    result = tick(stack, instance)

    [observe] = result.run_requests
    assert observe.run_key.startswith("observe:")
    run = run_request([webhook_registrations], observe, stack, instance)
    assert not run.success  # the site failed: the run says so, and the check is red
    [evaluation] = run.get_asset_check_evaluations()
    assert (
        evaluation.severity == dg.AssetCheckSeverity.ERROR
        and "re-connect site acme" in evaluation.description
    )
    assert tick(stack, instance).run_requests == []  # once a week, not every hour
    stack.connect()
