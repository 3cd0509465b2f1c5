"""Time windows for parallel fetching, as JQL bounds in epoch milliseconds.

JQL reads a date without a zone in the *searching user's* time zone, which made peers skip
issues. Epoch milliseconds are absolute, so no zone can skew a window. Windows are half-open
[start, end), so adjacent windows neither overlap nor leave gaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

# Below this span a window is not split further: each sub-window costs at least one request.
MIN_SPLIT_MS = 24 * 3600 * 1000


def epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone; pass an aware datetime (UTC)")
    return int(moment.timestamp() * 1000)


def from_epoch_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


@dataclass(frozen=True)
class Window:
    """A half-open range [start_ms, end_ms) on an issue date field; end None = open-ended."""

    field: str  # created | updated
    start_ms: int
    end_ms: int | None

    def where(self, scope: str | None = None) -> str:
        bounds = f"{self.field} >= {self.start_ms}"
        if self.end_ms is not None:
            bounds += f" AND {self.field} < {self.end_ms}"
        return f"({scope}) AND {bounds}" if scope else bounds

    def jql(self, scope: str | None = None) -> str:
        return f"{self.where(scope)} ORDER BY {self.field} ASC"

    def label(self) -> str:
        """The range for people, in UTC: `2021-01-01 00:00 .. 2021-04-01 00:00` (`.. now` when open)."""
        end = "now" if self.end_ms is None else f"{from_epoch_ms(self.end_ms):%Y-%m-%d %H:%M}"
        return f"{from_epoch_ms(self.start_ms):%Y-%m-%d %H:%M} .. {end} UTC"


def split(window: Window, parts: int, min_span_ms: int = MIN_SPLIT_MS) -> list[Window]:
    """Up to `parts` equal sub-windows of at least `min_span_ms`; an open end stays open."""
    if window.end_ms is None or parts <= 1:
        return [window]
    span = window.end_ms - window.start_ms
    if span <= 0:
        return []
    count = max(1, min(parts, span // max(1, min_span_ms)))
    bounds = [window.start_ms + span * i // count for i in range(count)] + [window.end_ms]
    return [Window(window.field, lo, hi) for lo, hi in zip(bounds, bounds[1:], strict=False) if hi > lo]


def sweep_windows(
    field: str, start_ms: int, now_ms: int, parts: int, min_span_ms: int = MIN_SPLIT_MS
) -> list[Window]:
    """[start, now) split for parallel fetching, the last window left open-ended.

    The open end means an issue updated after `now` (or on a server clock ahead of ours) is still
    found; a short span stays one open window (one request for a quiet sweep).
    """
    if now_ms - start_ms < 2 * min_span_ms or parts <= 1:
        return [Window(field, start_ms, None)]
    closed = split(Window(field, start_ms, now_ms), parts, min_span_ms)
    last = closed[-1]
    return [*closed[:-1], Window(field, last.start_ms, None)]


# Pages per sub-window: each window ends on a partial page, so smaller windows cost requests.
PAGES_PER_WINDOW = 4


def parts_for(issue_count: int, page_size: int, max_parts: int) -> int:
    """Sub-windows worth fetching in parallel: about PAGES_PER_WINDOW pages each, at most `max_parts`."""
    pages = -(-issue_count // page_size)
    return max(1, min(max_parts, -(-pages // PAGES_PER_WINDOW)))
