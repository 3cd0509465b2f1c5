"""Jira's timestamp formats: the model keeps epoch milliseconds, the wire shows local ISO strings."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def format_timestamp(ms: int, tz: ZoneInfo) -> str:
    """`yyyy-MM-dd'T'HH:mm:ss.SSS+hhmm`, Jira's rendering of a date-time in the site's zone."""
    seconds, millis = divmod(ms, 1000)
    local = datetime.fromtimestamp(seconds, tz)
    offset = int(local.utcoffset().total_seconds()) // 60  # type: ignore[union-attr]
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset), 60)
    return (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d}T{local.hour:02d}:{local.minute:02d}:"
        f"{local.second:02d}.{millis:03d}{sign}{hours:02d}{minutes:02d}"
    )


def format_date(ms: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ms // 1000, tz).strftime("%Y-%m-%d")


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone")
    return int(moment.timestamp() * 1000)


def utc_ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return to_ms(datetime(year, month, day, hour, minute, tzinfo=UTC))


def parse_iso(text: str) -> int:
    """An ISO 8601 date-time with a zone (`2024-01-02T10:00:00Z`, `...+01:00`, `...+0100`) to epoch ms."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; add Z or an offset such as +01:00")
    return to_ms(moment)
