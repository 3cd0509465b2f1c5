"""Progress of long operations, said on the `pipelines.progress` logger at a bounded rate.

An import of a million issues takes minutes to hours, and a quota pause up to an hour: without
these lines a run log says nothing between its start and its end. Each operation logs:

- a first line when it starts (with Jira's approximate total when there is one),
- at most one line every `interval` seconds while it runs (not one per page): what is done of
  the total, the other counts so far, the rate, and the time left at that rate,
- a last line with the totals and the elapsed time.

Python logging is the mechanism: Dagster shows these records in the run log through
`python_logs.managed_python_loggers` (dagster.yaml), the CLI prints them on the terminal. Each
record carries `extra={"jira_progress": {...}}` with the same facts as numbers, for tools.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

logger = logging.getLogger("pipelines.progress")

# Seconds between two progress lines of one operation.
PROGRESS_INTERVAL_SECONDS = 5.0


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 90:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _count(value: int) -> str:
    return f"{value:,}"


class Progress:
    """The progress of one operation (`what`, e.g. "issues of acme created 2021-01..2021-04").

    Thread-safe: fetch workers may call `add` at once. `unit` is what `done` and `total` count;
    `estimated` says the total is Jira's approximate count rather than an exact one.
    """

    def __init__(
        self,
        what: str,
        *,
        unit: str = "issues",
        total: int | None = None,
        estimated: bool = True,
        interval: float | None = None,
        log: logging.Logger = logger,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.unit = unit
        self.total = total
        self.estimated = estimated
        self.interval = PROGRESS_INTERVAL_SECONDS if interval is None else interval
        self.log = log
        self.clock = clock
        self.done = 0
        self.counts: dict[str, int] = {}
        self._started = clock()
        self._last_line = self._started
        self._lock = threading.Lock()
        self._finished = False
        if not total:
            total_text = ""
        elif estimated:
            total_text = f": about {_count(total)} {unit} to fetch (Jira's approximate count)"
        else:
            total_text = f": {_count(total)} {unit} to go"
        self._emit(f"{what} started{total_text}", event="started")

    def add(self, done: int = 0, **counts: int) -> None:
        """Count work done (`done` in the unit, other counts by name); log if a line is due."""
        with self._lock:
            self.done += done
            for name, value in counts.items():
                self.counts[name] = self.counts.get(name, 0) + value
            now = self.clock()
            if now - self._last_line < self.interval:
                return
            self._last_line = now
            line, facts = self._status(now)
        self._emit(f"{self.what}: {line}", event="progress", **facts)

    def finish(self, *, failed: bool = False) -> None:
        """The last line: totals and elapsed time (once)."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            now = self.clock()
            elapsed = now - self._started
            rate = self.done / elapsed if elapsed > 0 else 0.0
            others = "".join(f", {_count(v)} {k.replace('_', ' ')}" for k, v in self.counts.items())
        verb = "stopped after" if failed else "finished:"
        self._emit(
            f"{self.what} {verb} {_count(self.done)} {self.unit}{others} in {_duration(elapsed)} "
            f"({rate:,.0f} {self.unit}/s)",
            event="failed" if failed else "finished",
            done=self.done,
            elapsed_seconds=round(elapsed, 1),
            rate_per_second=round(rate, 1),
            **self.counts,
        )

    def _status(self, now: float) -> tuple[str, dict]:
        elapsed = now - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        facts: dict = {
            "done": self.done,
            "elapsed_seconds": round(elapsed, 1),
            "rate_per_second": round(rate, 1),
        }
        facts.update(self.counts)
        parts = [f"{_count(self.done)} {self.unit}"]
        if self.total:
            share = min(self.done / self.total, 1.0)
            about = "about " if self.estimated else ""
            parts[0] = f"{_count(self.done)} of {about}{_count(self.total)} {self.unit} ({share:.0%})"
            facts["total"] = self.total
        parts += [f"{_count(v)} {k.replace('_', ' ')}" for k, v in self.counts.items()]
        line = ", ".join(parts) + f"; {rate:,.0f} {self.unit}/s"
        if self.total and rate > 0 and self.done < self.total:
            left = (self.total - self.done) / rate
            finish = datetime.now(UTC) + timedelta(seconds=left)
            line += f"; about {_duration(left)} left (done near {finish:%H:%M:%S} UTC)"
            facts["seconds_left"] = round(left, 1)
        return line, facts

    def _emit(self, message: str, *, event: str, **facts: object) -> None:
        self.log.info(message, extra={"jira_progress": {"what": self.what, "event": event, **facts}})

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.finish(failed=exc_type is not None)
