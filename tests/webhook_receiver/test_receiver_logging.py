"""Structured JSON logs: one object per line, the fields operators need, never secrets or payloads."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient

from tests.webhook_receiver.receiver_testkit import (
    CLIENT_SECRET,
    bearer,
    delivery_headers,
    issue_payload,
    make_settings,
)
from webhook_receiver.app import create_app
from webhook_receiver.logging import JsonFormatter, configure_logging, log


@pytest.fixture
def json_logs(isolated_logging: None) -> io.StringIO:
    stream = io.StringIO()
    configure_logging("debug", secrets=[CLIENT_SECRET], stream=stream)
    return stream


def lines(stream: io.StringIO) -> tuple[str, list[dict]]:
    text = stream.getvalue()
    return text, [orjson.loads(line) for line in text.splitlines() if line.strip()]


def test_deliveries_are_logged_as_json_without_secrets_or_payloads(
    tmp_path: Path, json_logs: io.StringIO
) -> None:
    token = bearer()
    payload = issue_payload()
    with TestClient(create_app(make_settings(tmp_path))) as client:
        client.post(
            "/webhooks/jira/acme",
            content=orjson.dumps(payload),
            headers=delivery_headers("wh-log", authorization=token),
        )
        client.post(
            "/webhooks/jira/acme",
            content=orjson.dumps(payload),
            headers=delivery_headers(
                "wh-bad", authorization=bearer("wrong-secret-wrong-secret-wrong-secret")
            ),
        )
    text, records = lines(json_logs)
    accepted = next(r for r in records if r["event"] == "webhook.accepted")
    assert {
        key: accepted[key] for key in ("tenant", "cloud_id", "identifier", "webhook_event", "issue_key")
    } == {
        "tenant": "acme",
        "cloud_id": "cloud-alpha",
        "identifier": "wh-log",
        "webhook_event": "jira:issue_updated",
        "issue_key": "ACME-41",
    }
    assert accepted["level"] == "debug" and accepted["ts"].endswith("Z") and accepted["duplicate"] is False
    committed = next(r for r in records if r["event"] == "inbox.committed")
    assert (committed["level"], committed["events"], committed["stored"]) == ("info", 1, 1)
    rejected = next(r for r in records if r["event"] == "webhook.rejected")
    assert (rejected["status"], rejected["error"], rejected["tenant"]) == (401, "unauthorized", "acme")
    assert CLIENT_SECRET not in text
    assert token.split()[1] not in text  # the bearer JWT
    assert "Checkout fails" not in text  # payload content never logged


def test_a_secret_that_slips_into_a_message_is_masked(json_logs: io.StringIO) -> None:
    log(logging.getLogger("webhook_receiver.test"), "oops", detail=f"client_secret={CLIENT_SECRET}")
    text, [record] = lines(json_logs)
    assert record["detail"] == "client_secret=***"
    assert CLIENT_SECRET not in text


def test_formatter_renders_exceptions_in_one_line() -> None:
    formatter = JsonFormatter()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, "f", 1, "failed", None, sys.exc_info())
    document = orjson.loads(formatter.format(record))
    assert document["error"] == "RuntimeError: boom"
    assert "\n" not in formatter.format(record)
