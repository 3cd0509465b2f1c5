"""The drain under fuzzing: anything acknowledged is applied or quarantined, and the drain never blocks.

Hypothesis builds batches of inbox rows of two kinds and drains them into a real DuckDB warehouse
(`jira_raw` tables as their writers make them, `jira.issues` built by its asset):
- deliveries the receiver would acknowledge (they pass the shared check,
  `pipelines.webhooks.payload`), with random ids, keys, texts (any Unicode), timestamps across the
  whole accepted range, labels, statuses, changelogs, extra fields;
- rows the receiver would never have stored (an older receiver's, a hand edit): any JSON, any text.

Properties, for every batch: the drain returns (no exception); every row ends applied or
quarantined, none is left pending; **every delivery the receiver accepts is applied** (receiver and
drain agree on validity); a quarantined row carries its reason; the warehouse stays queryable.

The fast run tries 60 batches with a fixed seed; `make chaos` runs 600 random ones.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import dagster as dg
import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.core.raw_views import create_contract_tables
from assets.definitions import build_definitions
from assets.resources import SyncConfigResource, WarehouseResource
from assets.webhooks.drain import drain_batch
from pipelines.config import load_sync_config
from pipelines.inbox.events import WebhookEvent
from pipelines.inbox.sqlite_inbox import SQLiteInbox
from pipelines.webhooks.payload import MAX_TIMESTAMP_MS, DeliveryError, IssueDelivery, parse_delivery
from tests.reliability.reliability_kit import report

SITE = "https://alpha.atlassian.net"
FAST = settings(
    max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
CHAOS = settings(FAST, max_examples=600, derandomize=False)

text = st.text(max_size=30)
ids = st.text(min_size=1, max_size=64)
jira_instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from([UTC, None])
).map(lambda moment: moment.isoformat(timespec="milliseconds").replace("+00:00", "+0000"))
refs = st.fixed_dictionaries({}, optional={"id": ids | st.integers(0, 2**63 - 1), "key": text, "name": text})
fields = st.fixed_dictionaries(
    {},
    optional={
        "summary": st.none() | st.text(max_size=300),
        "issuetype": st.none() | refs,
        "project": st.none() | refs,
        "priority": st.none() | refs,
        "resolution": st.none() | refs,
        "parent": st.none() | refs,
        "status": st.none()
        | st.fixed_dictionaries(
            {},
            optional={
                "id": ids,
                "name": text,
                "statusCategory": st.fixed_dictionaries({}, optional={"key": text}),
            },
        ),
        "assignee": st.none() | st.fixed_dictionaries({}, optional={"accountId": st.none() | text}),
        "created": st.none() | jira_instants,
        "updated": st.none() | jira_instants,
        "resolutiondate": st.none() | jira_instants,
        "statuscategorychangedate": st.none() | jira_instants,
        "duedate": st.none() | st.dates().map(str),
        "labels": st.none() | st.lists(text, max_size=4),
        "customfield_10016": st.none() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | text,
    },
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
items = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "field": text, "fieldId": st.none() | text, "fieldtype": text,
            "from": scalars, "fromString": st.none() | text, "to": scalars, "toString": st.none() | text,
        },
    ),
    max_size=4,
)  # fmt: skip
accepted_deliveries = st.fixed_dictionaries(
    {
        "timestamp": st.integers(1, MAX_TIMESTAMP_MS - 1),
        "webhookEvent": st.sampled_from(["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]),
        "issue": st.fixed_dictionaries(
            {
                "id": ids,
                "key": st.text(min_size=1, max_size=40),
                "self": st.just(f"{SITE}/rest/api/2/issue/1"),
            },
            optional={"fields": st.none() | fields},
        ),
    },
    optional={
        "changelog": st.none() | st.fixed_dictionaries({}, optional={"id": st.none() | ids, "items": items}),
        "user": st.none() | st.fixed_dictionaries({}, optional={"accountId": st.none() | text}),
        "matchedWebhookIds": st.lists(st.integers(0, 2**31), min_size=1, max_size=3),
    },
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=5),
    max_leaves=25,
)
never_accepted = st.one_of(json_values.map(json.dumps), st.text(max_size=200))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory):
    """A warehouse as an import leaves it (empty): jira_raw tables, then jira.issues by its asset."""
    base = tmp_path_factory.mktemp("drain-fuzz")
    sync_file = base / "jira_sync.yaml"
    sync_file.write_text(
        f"version: 1\nwarehouse: {{path: {base / 'warehouse.duckdb'}}}\nwebhooks: {{inbox: {base / 'inbox.sqlite'}}}\n"
        f"tenants:\n  - id: acme\n    sites:\n      - name: alpha\n        url: {SITE}\n        cloud_id: cloud-alpha\n"
        "        issues: {extra_fields: [customfield_10016]}\n"
    )
    config = load_sync_config(sync_file, environ={})
    with duckdb.connect(str(config.warehouse.path)) as con:
        create_contract_tables(
            con,
            ["sites", "issues", "issue_changelog", "issue_deletions", "issue_types", "statuses", "projects"],
        )
    defs = build_definitions(config)
    resources = {
        **defs.resources,
        "sync_config": SyncConfigResource(path=str(sync_file)),
        "warehouse": WarehouseResource(path=str(config.warehouse.path)),
    }
    selection = dg.AssetSelection.from_string(
        'key:"jira/issue_type_categories" or key:"jira/status_states" or key:"jira/issues"'
    )
    built = dg.materialize(
        list(defs.assets), selection=selection, resources=resources, instance=dg.DagsterInstance.ephemeral()
    )
    assert built.success
    return config


class Batches:
    """Stores fuzzed rows in the inbox and drains them as the ingest asset does."""

    def __init__(self, config) -> None:
        self.config = config
        self.inbox = SQLiteInbox(config.webhooks.inbox)
        self.count = 0
        self.applied = 0
        self.quarantined = 0
        self.started = time.monotonic()

    def run(self, bodies: list[tuple[str, bool]]) -> None:
        events = []
        for body, accepted in bodies:
            self.count += 1
            # the inbox columns are what the receiver read from the body; a hand edit's are made up
            head = parse_delivery(body, IssueDelivery) if accepted else None
            events.append(
                WebhookEvent(
                    "acme", "cloud-alpha", f"fuzz-{self.count}",
                    head.webhook_event if head else "jira:issue_updated",
                    head.issue.id if head else "1",
                    head.issue.key if head else "K-1",
                    head.timestamp if head else 1_700_000_000_000,
                    datetime.now(UTC), 0, body,
                )
            )  # fmt: skip
        self.inbox.store(events)
        pending = self.inbox.pending(10_000)
        with duckdb.connect(str(self.config.warehouse.path)) as con:
            con.execute("SET TimeZone = 'UTC'")
            drained = drain_batch(con, pending, self.config)
            con.execute("SELECT count(*) FROM jira.issues").fetchall()  # still queryable
        self.inbox.mark_drained(drained.applied)
        self.inbox.quarantine(drained.quarantined)
        assert self.inbox.stats().pending == 0
        assert len(drained.applied) + len(drained.quarantined) == len(pending)
        quarantined = {event.identifier: reason for event, reason in drained.quarantined}
        assert all(quarantined.values())
        by_identifier = {
            event.identifier: accepted for event, (_, accepted) in zip(events, bodies, strict=True)
        }
        wrongly = [(i, r) for i, r in quarantined.items() if by_identifier.get(i)]
        assert not wrongly, f"the receiver would accept these, the drain quarantined them: {wrongly[:3]}"
        self.applied += len(drained.applied)
        self.quarantined += len(quarantined)


def accepted_by_the_receiver(body: str) -> bool:
    try:
        parse_delivery(body, IssueDelivery)
    except DeliveryError:
        return False
    return True


batches_of_rows = st.lists(
    st.one_of(accepted_deliveries.map(json.dumps), never_accepted).map(
        lambda body: (body, accepted_by_the_receiver(body))
    ),
    min_size=1,
    max_size=12,
)


def fuzz(batches: Batches, profile: settings) -> None:
    @profile
    @given(rows=batches_of_rows)
    def check(rows: list[tuple[str, bool]]) -> None:
        batches.run(rows)

    check()


def test_every_acknowledged_delivery_is_applied_or_quarantined_and_the_drain_never_blocks(warehouse) -> None:
    batches = Batches(warehouse)
    fuzz(batches, FAST)
    report(
        "drain fuzz (fast)",
        rows=batches.count,
        applied=batches.applied,
        quarantined=batches.quarantined,
        seconds=time.monotonic() - batches.started,
    )
    assert batches.applied > 0 and batches.quarantined > 0


@pytest.mark.chaos
@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_drain_fuzz_at_length(warehouse) -> None:
    batches = Batches(warehouse)
    fuzz(batches, CHAOS)
    report(
        "drain fuzz (chaos)",
        rows=batches.count,
        applied=batches.applied,
        quarantined=batches.quarantined,
        seconds=time.monotonic() - batches.started,
    )
