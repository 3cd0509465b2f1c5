"""Hands windows to fetch workers, and splits a busy window when a worker runs out of work.

Issue creation is uneven (quiet years, busy months), so equal time windows leave one worker
paging a dense window alone while the others idle. A window's pages come in ascending order of
its field, so its end can move down at any time: an idle worker takes the far half of the
remaining span as a new window, and the owner drops what lies beyond its new end and stops
there. No extra requests for quiet windows (only a window that keeps returning full pages is
split), no gaps, no overlaps (the split point is always past what the owner has kept).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from pipelines.jira.windows import Window

# A window with less than this left is not split (each new window costs at least a request).
# One second, not a minute: a bulk edit touches hundreds of issues within seconds, and a sweep
# after one pages them in parallel only if such a short span can still be split (1000 changes
# at 100k issues: 0.54-0.80 s of fetch with 11 requests -> 0.46-0.64 s with 16-18).
MIN_SPLIT_SPAN_MS = 1_000

T = TypeVar("T")


def jira_epoch_ms(text: str) -> int:
    """Jira's `2019-02-15T19:01:52.971-0800` (or ISO with Z) as epoch milliseconds."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


@dataclass
class WindowRun:
    """A window being paged: its current (possibly reduced) end and how far it has come."""

    window: Window
    end_ms: int | None
    position_ms: int
    dense: bool = False  # its last page was full: more pages follow
    done: bool = False


class WindowScheduler:
    def __init__(self, windows: list[Window], now_ms: int, min_split_ms: int = MIN_SPLIT_SPAN_MS) -> None:
        self._pending = deque(windows)
        self._running: list[WindowRun] = []
        self._changed = threading.Condition()
        self._now_ms = now_ms
        self._min_split_ms = min_split_ms
        self.splits = 0

    def _remaining(self, run: WindowRun) -> int:
        end = run.end_ms if run.end_ms is not None else max(self._now_ms, run.position_ms)
        return end - run.position_ms

    def _splittable(self) -> WindowRun | None:
        runs = [
            r for r in self._running if not r.done and r.dense and self._remaining(r) >= self._min_split_ms
        ]
        return max(runs, key=self._remaining, default=None)

    def next(self) -> WindowRun | None:
        """A pending window, else the far half of a busy one; None once every window is done."""
        with self._changed:
            while True:
                if self._pending:
                    window = self._pending.popleft()
                    run = WindowRun(window, window.end_ms, window.start_ms)
                    break
                busiest = self._splittable()
                if busiest is not None:
                    middle = busiest.position_ms + self._remaining(busiest) // 2
                    window = Window(busiest.window.field, middle, busiest.end_ms)
                    busiest.end_ms = middle
                    run = WindowRun(window, window.end_ms, middle)
                    self.splits += 1
                    break
                if all(r.done for r in self._running):
                    return None
                self._changed.wait(timeout=1.0)
            self._running.append(run)
            return run

    def accept(
        self,
        run: WindowRun,
        issues: list[T],
        *,
        full_page: bool,
        moment: Callable[[T], int],
    ) -> tuple[list[T], bool]:
        """The page's issues below the run's current end, and whether the page passed that end.

        `full_page` marks the window as dense (worth splitting); the end of the cursor itself is
        the paginator's business (Jira may return short pages before the last one). `moment`
        gives an issue's value of the window's field in epoch ms.
        """
        moments = [moment(i) for i in issues]  # outside the lock: it parses timestamps
        with self._changed:
            kept = issues
            passed_end = False
            if run.end_ms is not None:
                end_ms = run.end_ms
                kept = [i for i, at in zip(issues, moments, strict=True) if at < end_ms]
                moments = [at for at in moments if at < end_ms]
                passed_end = len(kept) < len(issues)
            if kept:
                run.position_ms = max(run.position_ms, max(moments))
            run.dense = full_page and not passed_end
            self._changed.notify_all()
            return kept, passed_end

    def finish(self, run: WindowRun) -> None:
        with self._changed:
            run.done = True
            self._changed.notify_all()
