"""The delivery check the receiver and the drain share: strict shapes, unique keys, Jira's timestamps."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import orjson
import pytest

from pipelines.webhooks.payload import DeliveryError, DynamicIssueDelivery, IssueDelivery, parse_delivery
from tests.webhook_receiver.receiver_testkit import issue_payload


def _with(change) -> bytes:
    body = copy.deepcopy(issue_payload())
    change(body)
    return json.dumps(body).encode()  # the standard library writes integers of any size


def _problems(body: bytes, kind=DynamicIssueDelivery) -> tuple[int, str]:
    with pytest.raises(DeliveryError) as caught:
        parse_delivery(body, kind)
    return caught.value.status, str(caught.value)


def test_a_jira_delivery_parses_with_what_the_drain_reads() -> None:
    body = issue_payload()
    body["issue"]["fields"].update(
        {
            "updated": "2024-12-29T08:43:45.214+0530",
            "duedate": "2025-01-31",
            "labels": ["web"],
            "project": {"id": "10000", "key": "KAN", "name": "My Kanban Project"},
            "customfield_10016": 5.0,  # custom fields are kept as sent, never judged
        }
    )
    delivery = parse_delivery(orjson.dumps(body), DynamicIssueDelivery)
    assert delivery.issue.fields is not None and delivery.issue.fields.project.key == "KAN"
    assert delivery.matched_webhook_ids == [1000]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        # the four poison deliveries that stopped every drain run before (issue #12)
        (lambda b: b["issue"].__setitem__("fields", "oops"), "issue.fields: Input should be an object"),
        (
            lambda b: b["changelog"].__setitem__("items", {"0": 1}),
            "changelog.items: Input should be a valid array",
        ),
        (
            lambda b: b["issue"]["fields"].__setitem__("project", "KAN"),
            "issue.fields.project: Input should be an object",
        ),
        (
            lambda b: b["issue"]["fields"].__setitem__("updated", "yesterday"),
            "issue.fields.updated: Value error",
        ),
        (lambda b: b.__setitem__("timestamp", "1764331200000"), "timestamp: Input should be a valid integer"),
        (lambda b: b.__setitem__("timestamp", 1764331200000.0), "timestamp: Input should be a valid integer"),
        (lambda b: b.__setitem__("timestamp", True), "timestamp: Input should be a valid integer"),
        (lambda b: b["issue"].__setitem__("id", 10040), "issue.id: Input should be a valid string"),
        (
            lambda b: b["issue"]["fields"].__setitem__("labels", "web"),
            "issue.fields.labels: Input should be a valid array",
        ),
        (
            lambda b: b["issue"]["fields"].__setitem__("duedate", "31/01/2025"),
            "issue.fields.duedate: Value error",
        ),
        (lambda b: b["issue"]["fields"].__setitem__("summary", {"text": "x"}), "issue.fields.summary"),
        (lambda b: b.pop("matchedWebhookIds"), "matchedWebhookIds: required field is missing"),
    ],
)
def test_what_the_drain_could_not_apply_is_refused(change, where: str) -> None:
    status, message = _problems(_with(change))
    assert status == 422 and where in message


def test_admin_deliveries_need_no_matched_webhook_ids() -> None:
    body = _with(lambda b: b.pop("matchedWebhookIds"))
    assert parse_delivery(body, IssueDelivery).matched_webhook_ids is None


def test_duplicate_keys_anywhere_are_refused_before_the_shape() -> None:
    raw = orjson.dumps(issue_payload()).decode()
    twice = raw.replace('"key":"ACME-41"', '"key":"ACME-41","key":"ACME-99"', 1)
    status, message = _problems(twice.encode())
    assert status == 400 and "duplicate JSON key 'key'" in message
    top = raw[:-1] + ',"timestamp":1}'
    assert _problems(top.encode())[0] == 400


@pytest.mark.parametrize("body", [b"", b"{", b"[1, 2]x", b'{"timestamp": NaN}', b"\xff\xfe", b"[" * 100_000])
def test_not_json_is_400(body: bytes) -> None:
    assert _problems(body)[0] == 400


def test_integers_beyond_64_bits_are_refused() -> None:
    body = _with(lambda b: b["issue"]["fields"].__setitem__("customfield_10016", 2**70))
    status, message = _problems(body)
    assert status == 422 and "64-bit" in message


CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "webhook_deliveries"


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.json")), ids=lambda path: path.name)
def test_the_delivery_corpus_passes_the_check_of_its_kind(path: Path) -> None:
    kind = IssueDelivery if path.name.startswith("admin-") else DynamicIssueDelivery
    delivery = parse_delivery(path.read_bytes(), kind)
    assert (delivery.matched_webhook_ids is None) == path.name.startswith("admin-")
    assert delivery.issue.key.startswith("CORP-")
