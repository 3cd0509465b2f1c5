"""The PostgreSQL inbox: the SQLite inbox's contract (imported below and run against PostgreSQL),
writers in several processes storing each delivery once, and drains claiming disjoint batches.

Needs `JIRA_SYNC_TEST_POSTGRES_URL` (CI sets it); skips without it.
"""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.inbox import open_inbox, open_registry
from pipelines.inbox.postgres_inbox import PostgresInbox
from pipelines.inbox.store import InboxUnavailable
from tests.pipelines.inbox.inbox_worker import write_many
from tests.pipelines.inbox.test_sqlite_inbox import (  # noqa: F401 - the contract, run on PostgreSQL
    test_mark_drained_rejects_bare_identifiers,
    test_pending_and_mark_drained,
    test_purge_drained_keeps_pending,
    test_quarantine_sets_deliveries_aside_with_reason_and_payload,
    test_release_puts_quarantined_deliveries_back_as_new_arrivals,
    test_store_is_idempotent_per_site_identifier,
    test_stored_event_round_trips_every_column,
)
from tests.postgres_server import psycopg2_module, requires_postgres, scratch_database
from tests.webhook_receiver.receiver_testkit import make_event

pytestmark = requires_postgres


@pytest.fixture(scope="module")
def database():
    with scratch_database() as url:
        yield url


def empty(url: str) -> None:
    psycopg2 = psycopg2_module()
    with psycopg2.connect(url) as connection:
        connection.cursor().execute("DROP SCHEMA IF EXISTS jira_sync_inbox CASCADE")
    connection.close()


@pytest.fixture
def inbox(database):
    empty(database)
    store = PostgresInbox(database)
    yield store
    store.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(
        st.lists(st.tuples(st.sampled_from(["cloud-a", "cloud-b"]), st.sampled_from("abcdefg")), max_size=12),
        max_size=6,
    )
)
def test_store_reports_exactly_the_first_delivery_of_each_key_as_new(database, batches) -> None:
    empty(database)
    store = PostgresInbox(database)
    try:
        seen: set[tuple[str, str]] = set()
        for batch in batches:
            expected = []
            for key in batch:
                expected.append(key not in seen)
                seen.add(key)
            events = [make_event(identifier, cloud_id=cloud_id) for cloud_id, identifier in batch]
            assert store.store(events) == expected
        assert {(e.cloud_id, e.identifier) for e in store.pending(limit=1000)} == seen
    finally:
        store.close()


def test_processes_storing_the_same_deliveries_store_each_once(database) -> None:
    empty(database)
    PostgresInbox(database).close()
    identifiers = [f"evt-{n}" for n in range(150)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        # four processes write every identifier, in different orders: each stored exactly once overall
        orders = [identifiers, list(reversed(identifiers)), identifiers[75:] + identifiers[:75], identifiers]
        stored_counts = pool.starmap(write_many, [(database, order) for order in orders])
    assert sum(stored_counts) == len(identifiers)
    inbox = open_inbox(database)
    try:
        assert inbox.stats().total == len(identifiers)
        assert sorted(e.identifier for e in inbox.pending(limit=1000)) == sorted(identifiers)
    finally:
        inbox.close()


def test_concurrent_drains_claim_disjoint_batches_and_a_failed_drain_releases_its_own(inbox) -> None:
    inbox.store([make_event(f"id-{n:02d}") for n in range(10)])
    first_claimed = threading.Event()
    release_first = threading.Event()
    claims: dict[str, list[str]] = {}

    def first_drain() -> None:
        with inbox.claim(4) as claim:
            claims["first"] = [e.identifier for e in claim.events]
            first_claimed.set()
            release_first.wait(10)
            claim.mark_drained(claim.events)

    thread = threading.Thread(target=first_drain)
    thread.start()
    assert first_claimed.wait(10)
    with inbox.claim(4) as claim:  # does not wait for the first drain: skips what it holds
        claims["second"] = [e.identifier for e in claim.events]
        claim.quarantine([(claim.events[0], "bad data")])
        claim.mark_drained(claim.events[1:])
    with pytest.raises(RuntimeError), inbox.claim(4) as claim:
        claims["failed"] = [e.identifier for e in claim.events]
        claim.mark_drained(claim.events)
        raise RuntimeError("the warehouse apply failed")
    release_first.set()
    thread.join()

    assert claims["first"] == [f"id-{n:02d}" for n in range(4)]
    assert claims["second"] == [f"id-{n:02d}" for n in range(4, 8)]
    assert claims["failed"] == ["id-08", "id-09"]
    assert [e.identifier for e in inbox.pending()] == ["id-08", "id-09"]  # released, not drained
    stats = inbox.stats()
    assert (stats.pending, stats.drained, stats.quarantined) == (2, 8, 1)


def test_registrations_and_connect_states_live_beside_the_inbox(inbox, database) -> None:
    from webhook_receiver.oauth_states import open_oauth_states

    registry = open_registry(database)
    try:
        registry.record("acme", "cloud-a", [3, 1, 3])
        assert registry.webhook_ids("acme", "cloud-a") == {1, 3}
        registry.record("acme", "cloud-a", [])
        assert registry.all() == {}
    finally:
        registry.close()
    states = open_oauth_states(database, ttl_seconds=60)
    try:
        state = states.issue("acme", admin=True)
        assert states.consume(state).tenant_id == "acme"
        assert states.consume(state) is None  # single use
    finally:
        states.close()


def test_an_unreachable_database_is_a_clear_error_without_the_password() -> None:
    url = "postgresql://someone:hunter2secret@127.0.0.1:1/nowhere"
    with pytest.raises(InboxUnavailable) as failure:
        PostgresInbox(url)
    assert "hunter2secret" not in str(failure.value) and "webhooks.inbox_url_env" in str(failure.value)
