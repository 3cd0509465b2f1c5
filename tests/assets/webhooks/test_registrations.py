"""`jira.webhook_registrations` and its expiry check, materialized for real against the simulator."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from assets.webhooks.registrations import EXPIRY_CHECK, webhook_registrations
from pipelines.inbox.registrations import WebhookRegistry
from tests.assets.webhooks.dagster_kit import check_result, resources
from tests.pipelines.webhooks.webhook_lifecycle_kit import ALL_SCOPES, make_stack, simulator


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with simulator() as sim:
        sites = {"acme": {"webhook": {"enabled": True}}, "globex": {"webhook": {"enabled": True}}}
        built = make_stack(sim, tmp_path_factory.mktemp("registrations"), sites=sites)
        yield built


def materialize(stack, instance, action: str = "reconcile", **config) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [webhook_registrations],
        resources=resources(stack),
        instance=instance,
        run_config={"ops": {"jira__webhook_registrations": {"config": {"action": action, **config}}}},
        raise_on_error=False,
    )


def table(stack) -> dict[str, tuple]:
    with duckdb.connect(str(stack.warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT site_name, status, action, webhook_ids, days_left, url, events, jql_filter "
            "FROM jira.webhook_registrations ORDER BY site_name"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_reconcile_registers_every_enabled_site_and_the_check_passes(stack, instance):
    result = materialize(stack, instance)

    assert result.success
    rows = table(stack)
    assert set(rows) == {"acme", "globex"}
    for site, (status, action, ids, days_left, url, events, jql) in rows.items():
        [listed] = stack.list_webhooks(site)
        assert (status, action, ids) == ("active", "created", [listed["id"]])
        assert days_left == pytest.approx(30, abs=0.01)
        assert url == stack.callback_url() and jql == "project != null" and len(events) == 3
    evaluation = check_result(result, EXPIRY_CHECK)
    assert evaluation.passed
    registry = WebhookRegistry(stack.inbox)
    assert registry.webhook_ids("acme", stack.sim.cloud_ids["acme"]) == {rows["acme"][2][0]}
    registry.close()

    again = materialize(stack, instance)
    assert [r[1] for r in table(stack).values()] == ["unchanged", "unchanged"]
    assert check_result(again, EXPIRY_CHECK).passed
    assert all(len(stack.list_webhooks(site)) == 1 for site in ("acme", "globex"))


def test_check_warns_within_refresh_window(stack, instance):
    stack.advance_days(25)
    result = materialize(stack, instance, action="observe")

    evaluation = check_result(result, EXPIRY_CHECK)
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert "acme: expires in 5.0 days" in evaluation.description
    assert {r[0] for r in table(stack).values()} == {"expiring"}


def test_check_errors_when_expired_or_missing(stack, instance):
    stack.advance_days(6)  # day 31: both expired
    stack.delete_all_webhooks_of("globex")
    result = materialize(stack, instance, action="observe")

    evaluation = check_result(result, EXPIRY_CHECK)
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "acme/acme: expired" in evaluation.description
    assert "acme/globex: missing" in evaluation.description
    rows = table(stack)
    assert (rows["acme"][0], rows["globex"][0]) == ("expired", "missing")
    assert rows["acme"][3] < 0


def test_reconcile_revives_the_expired_and_reregisters_the_missing(stack, instance):
    acme_id = stack.list_webhooks("acme")[0]["id"]
    result = materialize(stack, instance, sites=["acme", "globex"])

    assert result.success and check_result(result, EXPIRY_CHECK).passed
    rows = table(stack)
    assert rows["acme"][:3] == ("active", "refreshed", [acme_id])
    assert rows["globex"][:2] == ("active", "created")
    assert all(len(stack.list_webhooks(site)) == 1 for site in ("acme", "globex"))


def test_a_site_that_fails_fails_the_run_and_errors_the_check(stack, instance):
    stack.connect([s for s in ALL_SCOPES if s != "manage:jira-webhook"])
    try:
        result = materialize(stack, instance, action="observe")
    finally:
        stack.connect()

    assert not result.success
    evaluation = check_result(result, EXPIRY_CHECK)
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR and not evaluation.passed
    assert "Re-authenticate with admin scopes" in evaluation.description
    assert {r[0] for r in table(stack).values()} == {"error"}
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "manage:jira-webhook" in failure.step_failure_data.error.message
    assert stack.sim.client_secret not in str(result.all_events)


def test_unknown_site_in_run_config_fails_clearly(stack, instance):
    result = materialize(stack, instance, action="refresh", sites=["nope"])
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "['nope'] are not webhook-enabled sites" in failure.step_failure_data.error.message
