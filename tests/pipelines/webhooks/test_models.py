"""Jira's webhook shapes: both expirationDate encodings, and what counts as the same registration."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipelines.webhooks.models import ALL_ISSUES_JQL, RegisteredWebhook, WebhookSpec, parse_jira_instant

EXPECTED = datetime(2019, 6, 1, 12, 42, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        1559392950000,
        "1559392950000",
        "2019-06-01T12:42:30.000+0000",
        "2019-06-01T14:42:30+02:00",
        "2019-06-01T12:42:30Z",
    ],
)
def test_expiration_date_accepts_epoch_ms_and_iso(value):
    assert parse_jira_instant(value) == EXPECTED


@pytest.mark.parametrize("value", ["2019-06-01T12:42:30", "next week", True, None, [1]])
def test_expiration_date_rejects_ambiguous_or_garbage(value):
    with pytest.raises(ValueError, match="expected|UTC offset"):
        parse_jira_instant(value)


def _listed(**overrides) -> RegisteredWebhook:
    body = {
        "id": 10000,
        "events": ["jira:issue_updated", "jira:issue_created"],
        "jqlFilter": "project  =  ACME",
        "url": "https://sync.example.com/webhooks/jira/acme",
        "expirationDate": 1559392950000,
        "fieldIdsFilter": ["summary"],
    }
    return RegisteredWebhook.model_validate(body | overrides)


def test_spec_matches_same_url_events_any_order_and_filter_modulo_whitespace():
    spec = WebhookSpec(
        url="https://sync.example.com/webhooks/jira/acme",
        events=("jira:issue_created", "jira:issue_updated"),
        jql_filter="project = ACME",
    )
    assert spec.matches(_listed())
    assert not spec.matches(_listed(url="https://other.example.com/webhooks/jira/acme"))
    assert not spec.matches(_listed(events=["jira:issue_created"]))
    assert not spec.matches(_listed(jqlFilter="project = OPS"))


def test_register_body_has_one_webhook_with_events_and_filter():
    spec = WebhookSpec(
        url="https://x.example/webhooks/jira/t", events=("jira:issue_deleted",), jql_filter=ALL_ISSUES_JQL
    )
    assert spec.request_body() == {
        "url": "https://x.example/webhooks/jira/t",
        "webhooks": [{"events": ["jira:issue_deleted"], "jqlFilter": "project != null"}],
    }


def test_days_left_is_measured_on_the_given_jira_clock():
    webhook = _listed()
    assert webhook.days_left(datetime(2019, 5, 25, 12, 42, 30, tzinfo=UTC)) == pytest.approx(7.0)
