"""Windows (epoch-ms JQL, no gaps or overlaps), the shared rate limiter and the task streamer."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipelines.jira.client import RateLimiter
from pipelines.jira.parallel import stream_tasks
from pipelines.jira.windows import MIN_SPLIT_MS, Window, epoch_ms, split, sweep_windows

DAY = 24 * 3600 * 1000


def test_window_jql_uses_epoch_milliseconds_and_scope() -> None:
    window = Window("created", 1_704_067_200_000, 1_706_745_600_000)
    assert window.jql() == "created >= 1704067200000 AND created < 1706745600000 ORDER BY created ASC"
    assert window.jql("project in (A, B)") == (
        "(project in (A, B)) AND created >= 1704067200000 AND created < 1706745600000 ORDER BY created ASC"
    )
    assert Window("updated", 5, None).jql() == "updated >= 5 ORDER BY updated ASC"


def test_epoch_ms_is_zone_independent() -> None:
    utc = datetime(2024, 1, 1, 0, 0, tzinfo=UTC)
    kiritimati = utc.astimezone(timezone(timedelta(hours=14)))
    assert epoch_ms(utc) == epoch_ms(kiritimati) == 1_704_067_200_000
    with pytest.raises(ValueError, match="no time zone"):
        epoch_ms(datetime(2024, 1, 1))


@pytest.mark.parametrize(("span_days", "parts"), [(31, 32), (365, 8), (3, 32), (0.5, 8)])
def test_split_covers_the_window_exactly(span_days: float, parts: int) -> None:
    window = Window("created", 1_000_000, 1_000_000 + int(span_days * DAY))
    pieces = split(window, parts)
    assert pieces[0].start_ms == window.start_ms and pieces[-1].end_ms == window.end_ms
    assert all(a.end_ms == b.start_ms for a, b in zip(pieces, pieces[1:], strict=False))
    assert len(pieces) == max(1, min(parts, int(span_days * DAY) // MIN_SPLIT_MS))


def test_sweep_windows_stay_open_ended() -> None:
    now = 100 * DAY
    assert sweep_windows("updated", now - 3600_000, now, 32) == [Window("updated", now - 3600_000, None)]
    pieces = sweep_windows("updated", now - 40 * DAY, now, 8)
    assert len(pieces) == 8 and pieces[-1].end_ms is None
    assert all(a.end_ms == b.start_ms for a, b in zip(pieces, pieces[1:], strict=False))


def test_rate_limiter_holds_the_rate_across_threads() -> None:
    limiter = RateLimiter(rate_per_second=50, burst=1)
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(10)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 39 / 50 * 0.95


def test_rate_limiter_pause_stops_every_caller() -> None:
    limiter = RateLimiter(rate_per_second=1000)
    limiter.pause(0.3)
    started = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - started >= 0.28


def test_stream_tasks_yields_everything_and_reraises_failures() -> None:
    def task(n: int):
        return lambda emit: [emit((n, i)) for i in range(5)]

    assert sorted(stream_tasks([task(n) for n in range(6)], workers=3, max_pending=2)) == sorted(
        (n, i) for n in range(6) for i in range(5)
    )

    def broken(emit):
        emit("first")
        raise RuntimeError("window 3 failed")

    with pytest.raises(RuntimeError, match="window 3 failed"):
        list(stream_tasks([task(1), broken], workers=2))


def test_stream_tasks_stops_workers_when_the_consumer_leaves() -> None:
    produced = []

    def endless(emit):
        for i in range(10_000):
            emit(i)
            produced.append(i)

    stream = stream_tasks([endless], workers=1, max_pending=2)
    assert next(stream) == 0
    stream.close()
    assert len(produced) < 10
