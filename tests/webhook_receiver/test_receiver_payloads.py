"""Payload validation and the site base URL a delivery's `issue.self` names."""

from __future__ import annotations

import orjson
import pytest

from tests.webhook_receiver.receiver_testkit import issue_payload
from webhook_receiver.payloads import PayloadError, normalise_site_url, parse_payload, site_base_url


@pytest.mark.parametrize(
    ("issue_self", "base"),
    [
        ("https://acme.atlassian.net/rest/api/2/issue/10040", "https://acme.atlassian.net"),
        ("HTTPS://Acme.Atlassian.NET:443/rest/api/3/issue/1", "https://acme.atlassian.net"),
        ("http://127.0.0.1:8080/site/acme/rest/api/2/issue/1", "http://127.0.0.1:8080/site/acme"),
        ("http://localhost:80/rest/api/2/issue/1", "http://localhost"),
    ],
)
def test_site_base_url_is_normalised(issue_self: str, base: str) -> None:
    assert site_base_url(issue_self) == base


@pytest.mark.parametrize(
    "issue_self",
    [
        "https://acme.atlassian.net/browse/ACME-1",
        "ftp://acme.atlassian.net/rest/api/2/issue/1",
        "/rest/api/2/issue/1",
        "https://acme.atlassian.net/x?next=/rest/api/2/issue/1",
    ],
)
def test_non_rest_urls_are_refused(issue_self: str) -> None:
    with pytest.raises(ValueError, match="is not a Jira REST URL"):
        site_base_url(issue_self)


def test_normalise_keeps_non_default_ports_and_paths() -> None:
    assert normalise_site_url("https://Jira.Example.com:8443/jira/") == "https://jira.example.com:8443/jira"


def test_parse_keeps_what_routing_needs() -> None:
    payload = parse_payload(orjson.dumps(issue_payload(event="jira:issue_deleted", matched=[3, 4])))
    assert payload.webhook_event == "jira:issue_deleted"
    assert (payload.issue.id, payload.issue.key) == ("10040", "ACME-41")
    assert payload.matched_webhook_ids == [3, 4]


def test_every_problem_is_listed() -> None:
    body = orjson.dumps({"timestamp": "soon", "webhookEvent": "sprint_started", "issue": {"id": 5}})
    with pytest.raises(PayloadError) as caught:
        parse_payload(body)
    assert caught.value.status == 422
    problems = caught.value.problems
    assert any(problem.startswith("timestamp:") for problem in problems)
    assert any("unsupported event 'sprint_started'" in problem for problem in problems)
    assert "issue.key: required field is missing" in problems
    assert "matchedWebhookIds: required field is missing" in problems
