"""The SQLite inbox: idempotent stores, the drain API, WAL sharing between processes, failures."""

from __future__ import annotations

import multiprocessing
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.inbox import sqlite_inbox as inbox_module
from pipelines.inbox.events import EventKey
from pipelines.inbox.sqlite_inbox import SQLiteInbox
from pipelines.inbox.store import InboxUnavailable
from tests.pipelines.inbox.inbox_worker import write_many
from tests.webhook_receiver.receiver_testkit import make_event


@pytest.fixture
def inbox(tmp_path: Path):
    store = SQLiteInbox(tmp_path / "inbox.sqlite")
    yield store
    store.close()


def test_store_is_idempotent_per_site_identifier(inbox: SQLiteInbox) -> None:
    assert inbox.store([make_event("a"), make_event("b")]) == [True, True]
    assert inbox.store([make_event("a"), make_event("c")]) == [False, True]
    # the same identifier from another site is a different delivery
    assert inbox.store([make_event("a", cloud_id="cloud-b")]) == [True]
    # a duplicate inside one batch is stored once
    assert inbox.store([make_event("d"), make_event("d")]) == [True, False]
    assert inbox.stats().total == 5


@settings(max_examples=60, deadline=None)
@given(
    batches=st.lists(
        st.lists(st.tuples(st.sampled_from(["cloud-a", "cloud-b"]), st.sampled_from("abcdefg")), max_size=12),
        max_size=6,
    ),
    chunk=st.sampled_from([3, 400]),
)
def test_store_reports_exactly_the_first_delivery_of_each_key_as_new(
    batches: list[list[tuple[str, str]]], chunk: int
) -> None:
    """Whatever mix of new keys, stored keys and repeats within a batch (also across the chunks
    of one large batch): True exactly for the first delivery of each key, and it is stored."""
    seen: set[tuple[str, str]] = set()
    with tempfile.TemporaryDirectory() as directory, pytest.MonkeyPatch.context() as patch:
        patch.setattr(inbox_module, "_INSERT_CHUNK", chunk)
        store = SQLiteInbox(Path(directory) / "inbox.sqlite")
        try:
            for batch in batches:
                expected = []
                for key in batch:
                    expected.append(key not in seen)
                    seen.add(key)
                events = [make_event(identifier, cloud_id=cloud_id) for cloud_id, identifier in batch]
                assert store.store(events) == expected
            stored = {(event.cloud_id, event.identifier) for event in store.pending(limit=1000)}
            assert stored == seen
        finally:
            store.close()


def test_stored_event_round_trips_every_column(inbox: SQLiteInbox) -> None:
    original = make_event("round-trip", issue_id="10042")
    inbox.store([original])
    stored = inbox.get(original.key)
    assert stored is not None
    assert stored.key == EventKey("acme", "cloud-a", "round-trip")
    assert (stored.event, stored.issue_id, stored.issue_key) == ("jira:issue_updated", "10042", "ACME-1")
    assert stored.jira_timestamp_ms == 1_700_000_000_123
    assert stored.jira_timestamp == datetime(2023, 11, 14, 22, 13, 20, 123_000, tzinfo=UTC)
    assert stored.received_at == original.received_at
    assert stored.retry_count == 0
    assert stored.payload() == {"webhookEvent": "jira:issue_updated", "issue": {"id": "10042"}}
    assert stored.drained_at is None


def test_pending_and_mark_drained(inbox: SQLiteInbox) -> None:
    inbox.store([make_event(f"id-{n}") for n in range(5)])
    first = inbox.pending(limit=2)
    assert [event.identifier for event in first] == ["id-0", "id-1"]
    assert [e.identifier for e in inbox.pending(limit=10, after_seq=first[-1].seq)] == [
        "id-2",
        "id-3",
        "id-4",
    ]

    assert inbox.mark_drained([first[0], EventKey("acme", "cloud-a", "id-1")]) == 2
    assert inbox.mark_drained([first[0]]) == 0  # already drained
    assert inbox.mark_drained([]) == 0
    assert [event.identifier for event in inbox.pending()] == ["id-2", "id-3", "id-4"]
    drained = inbox.get(first[0].key)
    assert drained is not None and drained.drained_at is not None

    stats = inbox.stats()
    assert (stats.total, stats.pending, stats.drained, stats.last_seq) == (5, 3, 2, first[0].seq + 4)
    assert stats.oldest_pending_received_at == make_event("x").received_at


def test_quarantine_sets_deliveries_aside_with_reason_and_payload(inbox: SQLiteInbox) -> None:
    inbox.store([make_event(f"id-{n}") for n in range(4)])
    poison, good = inbox.pending(limit=2)
    assert inbox.quarantine([(poison, "could not be applied: ValueError: year out of range")]) == 1
    assert inbox.quarantine([(poison, "again, after a replay")]) == 1  # a replayed batch: one row
    assert [e.identifier for e in inbox.pending()] == ["id-1", "id-2", "id-3"]
    [waiting] = inbox.quarantined()
    assert waiting.key == poison.key and waiting.reason == "again, after a replay"
    assert waiting.event.payload_json == poison.payload_json and waiting.event.seq == poison.seq
    assert waiting.event.received_at == poison.received_at
    stats = inbox.stats()
    assert (stats.pending, stats.drained, stats.quarantined) == (3, 1, 1)
    inbox.store([make_event("id-0")])  # Jira retrying it is still a duplicate
    assert inbox.stats().total == 4


def test_release_puts_quarantined_deliveries_back_as_new_arrivals(inbox: SQLiteInbox) -> None:
    inbox.store([make_event(f"id-{n}") for n in range(3)])
    first, second, third = inbox.pending()
    inbox.mark_drained([third])
    inbox.quarantine([(first, "bad"), (second, "worse")])
    last_seq = inbox.stats().last_seq
    assert inbox.release_quarantined([EventKey("acme", "cloud-a", "nope")]) == 0
    assert inbox.release_quarantined([second.key]) == 1
    [back] = inbox.pending()
    assert back.key == second.key and back.seq > last_seq  # a sensor following the seq sees it
    assert (back.payload_json, back.received_at, back.retry_count) == (
        second.payload_json,
        second.received_at,
        second.retry_count,
    )
    assert [q.key for q in inbox.quarantined()] == [first.key]
    assert inbox.release_quarantined() == 1
    assert [e.key for e in inbox.pending()] == [second.key, first.key]
    assert inbox.stats().quarantined == 0 and inbox.stats().total == 3
    assert inbox.release_quarantined([]) == 0


def test_mark_drained_rejects_bare_identifiers(inbox: SQLiteInbox) -> None:
    with pytest.raises(TypeError, match="unique within one site"):
        inbox.mark_drained(["id-0"])  # type: ignore[list-item]


def test_purge_drained_keeps_pending(inbox: SQLiteInbox) -> None:
    inbox.store([make_event("old"), make_event("pending")])
    inbox.mark_drained([EventKey("acme", "cloud-a", "old")])
    assert inbox.purge_drained(timedelta(days=1)) == 0  # drained just now: kept
    assert inbox.purge_drained(timedelta(seconds=-1)) == 1
    assert [event.identifier for event in inbox.pending()] == ["pending"]
    assert inbox.stats().total == 1


def test_inbox_file_is_wal_with_synced_commits(inbox: SQLiteInbox) -> None:
    connection = sqlite3.connect(inbox.path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()


def test_unopenable_path_names_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    with pytest.raises(InboxUnavailable, match=r"not-a-directory/inbox\.sqlite.*webhooks\.inbox"):
        SQLiteInbox(blocker / "inbox.sqlite")


def test_store_fails_cleanly_while_another_writer_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "inbox.sqlite"
    inbox = SQLiteInbox(path, busy_timeout_ms=50)
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(InboxUnavailable, match="database is locked"):
            inbox.store([make_event("blocked")])
        blocker.execute("ROLLBACK")
        # the failed transaction left nothing behind and the inbox works again
        assert inbox.store([make_event("blocked")]) == [True]
    finally:
        blocker.close()
        inbox.close()


def test_processes_share_one_inbox_file_without_losing_or_doubling(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite")
    SQLiteInbox(path).close()
    identifiers = [f"evt-{n}" for n in range(150)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        # both processes write every identifier: each must be stored exactly once overall
        stored_counts = pool.starmap(write_many, [(path, identifiers), (path, list(reversed(identifiers)))])
    assert sum(stored_counts) == len(identifiers)
    inbox = SQLiteInbox(path)
    try:
        assert inbox.stats().total == len(identifiers)
        assert sorted(e.identifier for e in inbox.pending(limit=1000)) == sorted(identifiers)
    finally:
        inbox.close()
