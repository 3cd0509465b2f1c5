"""The window scheduler: busy windows are split for idle workers with no gap and no overlap."""

from __future__ import annotations

import threading

from pipelines.jira.scheduler import WindowScheduler, jira_epoch_ms
from pipelines.jira.windows import Window

MINUTE = 60_000


def issue(ms: int) -> dict:
    return {"fields": {"created": f"{ms}", "updated": f"{ms}"}}


def moment(issue: dict) -> int:
    return int(issue["fields"]["created"])  # the same as "updated" in these issues


def test_jira_timestamps_to_epoch_ms() -> None:
    assert jira_epoch_ms("2019-02-15T19:01:52.971-0800") == 1550286112971
    assert jira_epoch_ms("2024-01-02T10:00:00Z") == 1704189600000


def test_an_idle_worker_takes_the_far_half_of_a_dense_window() -> None:
    scheduler = WindowScheduler([Window("created", 0, 100 * MINUTE)], now_ms=200 * MINUTE)
    owner = scheduler.next()
    assert owner is not None
    kept, passed = scheduler.accept(
        owner, [issue(m * MINUTE) for m in range(10)], full_page=True, moment=moment
    )
    assert len(kept) == 10 and not passed
    thief = scheduler.next()  # nothing pending: splits the owner's remaining [9, 100) minutes
    assert thief is not None and scheduler.splits == 1
    middle = thief.window.start_ms
    assert owner.end_ms == middle and thief.window.end_ms == 100 * MINUTE
    assert 9 * MINUTE < middle < 100 * MINUTE
    # The owner's next page runs past the new end: it keeps what is below and stops.
    page = [issue(m * MINUTE) for m in range(10, 100, 5)]
    kept, passed = scheduler.accept(owner, page, full_page=True, moment=moment)
    assert passed and all(int(i["fields"]["created"]) < middle for i in kept)
    assert {int(i["fields"]["created"]) for i in page} - {int(i["fields"]["created"]) for i in kept} == {
        int(i["fields"]["created"]) for i in page if int(i["fields"]["created"]) >= middle
    }


def test_quiet_windows_are_never_split_and_workers_finish() -> None:
    scheduler = WindowScheduler([Window("updated", 0, None)], now_ms=60 * MINUTE)
    owner = scheduler.next()
    assert owner is not None
    results: list = []
    waiter = threading.Thread(target=lambda: results.append(scheduler.next()))
    waiter.start()  # waits: the owner's window may still turn out dense
    scheduler.accept(owner, [issue(5 * MINUTE)], full_page=False, moment=moment)
    scheduler.finish(owner)
    waiter.join(timeout=5)
    assert results == [None] and scheduler.splits == 0
