"""The dynamic-webhook admin client against the simulator over loopback HTTP (OAuth, Jira's rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipelines.config import SyncConfigError, load_sync_config
from pipelines.webhooks.client import MissingWebhookScope, WebhookUrlConflict
from pipelines.webhooks.lifecycle import delete_registered, ensure_registered, inspect
from pipelines.webhooks.operations import run_action
from pipelines.webhooks.settings import webhook_spec
from pipelines.webhooks.sites import UnknownSite, open_webhook_sites
from tests.pipelines.webhooks.webhook_lifecycle_kit import ALL_SCOPES, make_stack, simulator

WEEK = timedelta(days=7)
EVENTS = ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]


@pytest.fixture(scope="module")
def sim():
    with simulator() as running:
        yield running


@pytest.fixture
def stack(sim, tmp_path):
    built = make_stack(sim, tmp_path, sites={"acme": {"webhook": {"enabled": True}}})
    built.sites["acme"]["webhook"]["jql_filter"] = f"project = {built.project_keys('acme')[0]}"
    built.write_sync_file()
    yield built
    built.delete_all_webhooks()


@pytest.fixture
def acme(stack):
    with open_webhook_sites(stack.config(), stack.environ) as selected:
        assert selected.problems == []
        yield selected.sites[0]


def _jira_now(stack) -> datetime:
    return datetime.fromtimestamp(stack.jira_now_ms() / 1000, UTC)


def test_register_is_idempotent_one_webhook_with_our_url_events_and_filter(stack, acme):
    first = ensure_registered(acme.client, acme.spec, refresh_before=WEEK)
    second = ensure_registered(acme.client, acme.spec, refresh_before=WEEK)

    assert (first.action, second.action) == ("created", "unchanged")
    assert first.webhook_id == second.webhook_id
    [listed] = stack.list_webhooks("acme")
    assert listed["id"] == first.webhook_id
    assert listed["url"] == stack.callback_url()
    assert sorted(listed["events"]) == sorted(EVENTS)
    assert listed["jqlFilter"] == acme.spec.jql_filter
    assert first.days_left() == pytest.approx(30, abs=0.01)
    assert stack.webhook_requests().get("POST") == 1
    assert stack.list_webhooks("globex") == []  # webhook.enabled is false there


def test_duplicates_and_outdated_registrations_are_removed_keeping_one(stack, acme):
    kept = stack.register_raw("acme", stack.callback_url(), EVENTS, acme.spec.jql_filter)
    duplicate = stack.register_raw("acme", stack.callback_url(), EVENTS, acme.spec.jql_filter)
    outdated = stack.register_raw("acme", stack.callback_url(), ["jira:issue_created"], acme.spec.jql_filter)

    outcome = ensure_registered(acme.client, acme.spec, refresh_before=WEEK)

    assert outcome.action == "unchanged"
    assert outcome.webhook_id in (kept, duplicate)
    assert set(outcome.deleted_ids) == {kept, duplicate, outdated} - {outcome.webhook_id}
    assert [w["id"] for w in stack.list_webhooks("acme")] == [outcome.webhook_id]


def test_registration_for_another_url_is_reported_never_duplicated(stack, acme):
    old_url = "http://127.0.0.1:1/webhooks/jira/acme"
    old = stack.register_raw("acme", old_url, EVENTS, acme.spec.jql_filter)

    with pytest.raises(WebhookUrlConflict) as error:
        ensure_registered(acme.client, acme.spec, refresh_before=WEEK)
    message = str(error.value)
    assert str(old) in message and old_url in message and "--replace-url" in message
    assert [w["id"] for w in stack.list_webhooks("acme")] == [old]
    assert run_action(acme, "observe", refresh_before=WEEK).status == "url_conflict"

    replaced = ensure_registered(acme.client, acme.spec, refresh_before=WEEK, replace_other_url=True)
    assert replaced.action == "created" and replaced.deleted_ids == (old,)
    assert [(w["id"], w["url"]) for w in stack.list_webhooks("acme")] == [
        (replaced.webhook_id, stack.callback_url())
    ]


def test_bad_jql_filter_is_rejected_before_anything_is_sent(stack):
    valid = stack.config()
    sent_before = stack.webhook_requests().get("POST", 0)
    stack.sites["acme"]["webhook"]["jql_filter"] = "project = ACME AND updated > -1d"
    stack.write_sync_file()

    with pytest.raises(SyncConfigError) as error:
        load_sync_config(stack.sync_file, environ={})
    assert "tenants[0].sites[0].webhook.jql_filter" in str(error.value)
    assert "updated" in str(error.value)

    # A filter that skipped file validation (a site built in code) fails when the spec is built.
    tenant = valid.tenants[0]
    site = tenant.sites[0]
    unchecked = site.model_copy(
        update={"webhook": site.webhook.model_copy(update={"jql_filter": "watchCount = 3"})}
    )
    with pytest.raises(ValueError, match=r"site acme: webhook\.jql_filter: .*watchCount"):
        webhook_spec(valid, tenant, unchecked)
    assert stack.webhook_requests().get("POST", 0) == sent_before


def test_expiry_is_judged_on_jiras_clock_and_refresh_extends_by_30_days(stack, acme):
    created = ensure_registered(acme.client, acme.spec, refresh_before=WEEK)
    stack.advance_days(24)  # our clock did not move; Jira's did

    state = inspect(acme.client, acme.spec)
    assert state.status(WEEK) == "expiring"
    assert state.days_left() == pytest.approx(6, abs=0.01)
    assert created.expires_at - datetime.now(UTC) > timedelta(days=29)  # locally it looks fine

    refreshed = ensure_registered(acme.client, acme.spec, refresh_before=WEEK)
    assert refreshed.action == "refreshed" and refreshed.webhook_id == created.webhook_id
    assert refreshed.expires_at - _jira_now(stack) == pytest.approx(
        timedelta(days=30), abs=timedelta(seconds=5)
    )
    [listed] = stack.list_webhooks("acme")
    assert listed["expirationDate"] == int(refreshed.expires_at.timestamp() * 1000)


def test_an_expired_webhook_is_revived_not_replaced(stack, acme):
    created = ensure_registered(acme.client, acme.spec, refresh_before=WEEK)
    stack.advance_days(31)
    assert inspect(acme.client, acme.spec).status(WEEK) == "expired"

    revived = ensure_registered(acme.client, acme.spec, refresh_before=WEEK)
    assert (revived.action, revived.webhook_id) == ("refreshed", created.webhook_id)
    assert inspect(acme.client, acme.spec).status(WEEK) == "active"


def test_delete_removes_this_apps_webhooks_for_our_url(stack, acme):
    created = ensure_registered(acme.client, acme.spec, refresh_before=WEEK)
    assert delete_registered(acme.client, acme.spec) == (created.webhook_id,)
    assert stack.list_webhooks("acme") == []
    assert run_action(acme, "observe", refresh_before=WEEK).status == "missing"


def test_missing_webhook_scope_says_reauthenticate_with_admin_scopes(stack):
    stack.connect([s for s in ALL_SCOPES if s != "manage:jira-webhook"])
    before = stack.webhook_requests()
    with open_webhook_sites(stack.config(), stack.environ) as selected:
        [site] = selected.sites
        row = run_action(site, "reconcile", refresh_before=WEEK)
        assert row.status == "error"
        assert "manage:jira-webhook" in row.detail and "Re-authenticate with admin scopes" in row.detail
        assert stack.webhook_requests() == before  # known from the stored grant: nothing sent

        site.client._granted_scopes = None  # a grant stored without scopes: Jira itself refuses
        with pytest.raises(MissingWebhookScope, match="Re-authenticate with admin scopes"):
            site.client.list()
    stack.connect()


def test_unknown_or_disabled_site_is_a_clear_error(stack):
    with (
        pytest.raises(UnknownSite, match="site 'nope' is not in"),
        open_webhook_sites(stack.config(), stack.environ, site="nope"),
    ):
        pass
    with (
        pytest.raises(UnknownSite, match="globex.*webhook.enabled: false"),
        open_webhook_sites(stack.config(), stack.environ, site="globex"),
    ):
        pass
