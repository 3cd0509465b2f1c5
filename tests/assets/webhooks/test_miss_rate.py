"""The miss-rate check's judgement on hand-made warehouse tables: silent, missed, or not enough data.

Its text and its metadata describe the same set of changes (a fresh install once said "had 1
changes" next to `sweep_changes: 0`), and nothing is judged before the site's webhook is known
to exist: no webhook traffic yet is "not enough data yet", not an ERROR.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb
import pytest

from assets.webhooks.miss_rate import measure_miss_rate
from pipelines.config import SyncConfig
from tests.check_text import assert_evaluation_is_honest

CLOUD = "11111111-1111-1111-1111-111111111111"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def checked_miss_rate(con, config: SyncConfig) -> dg.AssetCheckResult:
    """The check's result, whose text must agree with its metadata."""
    result = measure_miss_rate(con, config)
    assert_evaluation_is_honest(result)
    return result


@pytest.fixture
def config() -> SyncConfig:
    return SyncConfig.model_validate(
        {
            "tenants": [
                {
                    "id": "t",
                    "sites": [
                        {
                            "name": "acme",
                            "cloud_id": CLOUD,
                            "url": "https://acme.atlassian.net",
                            "webhook": {"enabled": True},
                        }
                    ],
                }
            ]
        }
    )


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE SCHEMA jira_raw; CREATE SCHEMA jira")
    con.execute("CREATE TABLE jira_raw.sites (cloud_id VARCHAR, tenant_id VARCHAR, name VARCHAR)")
    con.execute("INSERT INTO jira_raw.sites VALUES (?, 't', 'acme')", [CLOUD])
    con.execute(
        "CREATE TABLE jira_raw.issues (cloud_id VARCHAR, id VARCHAR, key VARCHAR, project_key VARCHAR)"
    )
    con.execute(
        "CREATE TABLE jira_raw.issue_updates (cloud_id VARCHAR, id VARCHAR, updated TIMESTAMPTZ, detected_at TIMESTAMPTZ)"
    )
    return con


def sweep_found(con: duckdb.DuckDBPyConnection, issue_id: str, updated: datetime) -> None:
    con.execute("INSERT INTO jira_raw.issues VALUES (?, ?, ?, 'ACME')", [CLOUD, issue_id, f"ACME-{issue_id}"])
    con.execute("INSERT INTO jira_raw.issue_updates VALUES (?, ?, ?, ?)", [CLOUD, issue_id, updated, NOW])


def registered(con: duckdb.DuckDBPyConnection, at: datetime) -> None:
    con.execute(
        "CREATE TABLE jira.webhook_registrations (cloud_id VARCHAR, status VARCHAR, expires_at TIMESTAMPTZ)"
    )
    con.execute(
        "INSERT INTO jira.webhook_registrations VALUES (?, 'active', ?)", [CLOUD, at + timedelta(days=30)]
    )


def delivered(con: duckdb.DuckDBPyConnection, issue_id: str, updated: datetime) -> None:
    con.execute(
        'CREATE TABLE IF NOT EXISTS jira_raw.webhook_events (cloud_id VARCHAR, issue_id VARCHAR, "timestamp" TIMESTAMPTZ, payload JSON)'
    )
    payload = json.dumps({"issue": {"fields": {"updated": updated.isoformat()}}})
    con.execute(
        "INSERT INTO jira_raw.webhook_events VALUES (?, ?, ?, ?)", [CLOUD, issue_id, updated, payload]
    )


def test_no_sweep_yet_is_not_enough_data(config: SyncConfig) -> None:
    result = checked_miss_rate(duckdb.connect(), config)
    assert result.passed and result.description.startswith("not enough data yet")


def test_changes_before_any_webhook_existed_are_not_enough_data(con, config) -> None:
    sweep_found(con, "1", NOW - timedelta(hours=2))
    sweep_found(con, "2", NOW - timedelta(minutes=1))  # inside the grace period

    result = checked_miss_rate(con, config)

    assert result.passed
    assert result.description == "not enough data yet: t/acme: no webhook registered or delivered yet"
    assert result.metadata["sweep_changes"] == dg.MetadataValue.int(0)
    assert result.metadata["silent_sites"].value == []


def test_a_registered_webhook_with_no_delivery_is_silent_and_the_counts_agree(con, config) -> None:
    registered(con, at=NOW - timedelta(hours=3))
    sweep_found(con, "1", NOW - timedelta(hours=4))  # before the registration: not judged
    sweep_found(con, "2", NOW - timedelta(hours=2))
    sweep_found(con, "3", NOW - timedelta(minutes=1))  # inside the grace period: next sweep

    result = checked_miss_rate(con, config)

    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert "t/acme had 1 changes in the sweep" in result.description
    assert result.metadata["sweep_changes"].value == 1
    assert result.metadata["sites"].value[0]["sweep_changes"] == 1
    assert result.metadata["silent_sites"].value == ["t/acme"]


def test_delivered_and_missed_changes_give_the_rate(con, config) -> None:
    registered(con, at=NOW - timedelta(hours=10))
    for n in range(1, 11):
        at = NOW - timedelta(hours=n)
        sweep_found(con, str(n), at)
        if n != 4:
            delivered(con, str(n), at)

    result = checked_miss_rate(con, config)

    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.description.startswith("1 of 10 changes found by the sweep were not delivered")
    assert result.metadata["examples"].value[0].startswith("ACME-4 ")
    delivered(con, "4", NOW - timedelta(hours=4))
    assert checked_miss_rate(con, config).passed


def test_the_first_delivery_starts_the_watch_without_a_registration_row(con, config) -> None:
    delivered(con, "1", NOW - timedelta(hours=5))
    sweep_found(con, "1", NOW - timedelta(hours=5))
    sweep_found(con, "2", NOW - timedelta(hours=6))  # before the first delivery: not judged
    sweep_found(con, "3", NOW - timedelta(hours=1))  # missed

    result = checked_miss_rate(con, config)

    assert result.metadata["sweep_changes"].value == 2 and result.metadata["missed_changes"].value == 1
