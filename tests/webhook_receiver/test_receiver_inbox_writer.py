"""Group commit: concurrent requests share commits, and each still awaits its own durable commit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from pipelines.inbox.events import WebhookEvent
from pipelines.inbox.sqlite_inbox import SQLiteInbox
from pipelines.inbox.store import InboxUnavailable
from tests.webhook_receiver.receiver_testkit import make_event
from webhook_receiver.inbox_writer import InboxWriter


class FlakyInbox(SQLiteInbox):
    """A real inbox whose next transaction fails, as a full disk or a stuck lock would."""

    fail_next = False

    def store(self, events: Sequence[WebhookEvent]) -> list[bool]:
        if self.fail_next:
            self.fail_next = False
            raise InboxUnavailable("disk I/O error")
        return super().store(events)


def test_concurrent_writes_share_commits_and_are_all_durable(tmp_path: Path) -> None:
    inbox = SQLiteInbox(tmp_path / "inbox.sqlite")
    writer = InboxWriter(inbox)
    writer.start()

    async def scenario() -> list[bool]:
        return await asyncio.gather(*(writer.write(make_event(f"evt-{n}")) for n in range(300)))

    try:
        results = asyncio.run(scenario())
    finally:
        writer.stop()
    assert results == [True] * 300
    assert writer.committed_events == 300
    assert writer.commits < 300  # batched: fewer synced transactions than requests
    # durable: a fresh connection (as after a restart) sees every acknowledged event
    reopened = SQLiteInbox(inbox.path)
    assert reopened.stats().total == 300
    reopened.close()
    inbox.close()


def test_duplicates_resolve_false_even_within_one_batch(tmp_path: Path) -> None:
    inbox = SQLiteInbox(tmp_path / "inbox.sqlite")
    writer = InboxWriter(inbox)
    writer.start()

    async def scenario() -> list[bool]:
        return await asyncio.gather(*(writer.write(make_event("same")) for _ in range(20)))

    try:
        results = asyncio.run(scenario())
    finally:
        writer.stop()
        inbox.close()
    assert sorted(results) == [False] * 19 + [True]


def test_failed_transaction_fails_every_waiting_request_then_recovers(tmp_path: Path) -> None:
    inbox = FlakyInbox(tmp_path / "inbox.sqlite")
    writer = InboxWriter(inbox)
    writer.start()
    inbox.fail_next = True

    async def first() -> None:
        with pytest.raises(InboxUnavailable, match="disk I/O error"):
            await writer.write(make_event("lost"))

    try:
        asyncio.run(first())
        assert asyncio.run(writer.write(make_event("kept"))) is True
    finally:
        writer.stop()
    assert [event.identifier for event in inbox.pending()] == ["kept"]
    inbox.close()


def test_a_value_the_database_refuses_fails_only_its_own_request(tmp_path: Path) -> None:
    inbox = SQLiteInbox(tmp_path / "inbox.sqlite")
    writer = InboxWriter(inbox)
    writer.start()
    poison = make_event("poison")._replace(jira_timestamp_ms=2**70)  # no SQLite INTEGER holds it

    async def scenario() -> list[bool | BaseException]:
        writes = [writer.write(make_event(f"good-{n}")) for n in range(10)] + [writer.write(poison)]
        return await asyncio.gather(*writes, return_exceptions=True)

    try:
        results = asyncio.run(scenario())
    finally:
        writer.stop()
    assert results[:10] == [True] * 10
    assert isinstance(results[10], InboxUnavailable)
    assert sorted(event.identifier for event in inbox.pending()) == sorted(f"good-{n}" for n in range(10))
    inbox.close()


def test_write_after_stop_is_refused(tmp_path: Path) -> None:
    inbox = SQLiteInbox(tmp_path / "inbox.sqlite")
    writer = InboxWriter(inbox)
    writer.start()
    writer.stop()
    with pytest.raises(InboxUnavailable, match="not running"):
        asyncio.run(writer.write(make_event("late")))
    inbox.close()
