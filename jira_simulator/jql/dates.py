"""JQL dates: local formats read in the caller's zone, periods, epoch ms and date functions."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from jira_simulator.jql.context import JqlContext
from jira_simulator.jql.errors import DATE_FORMATS_TEXT, JqlError
from jira_simulator.jql.syntax import Function, Operand
from jira_simulator.model import Issue, Site
from jira_simulator.timefmt import zone

_PERIOD = re.compile(r"^\s*([-+]?)\s*((?:\d+\s*[wdhm]\s*)+)$", re.IGNORECASE)
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm])", re.IGNORECASE)
_PERIOD_MS = {"w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000}
_LOCAL_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")


def _period_ms(text: str) -> int | None:
    match = _PERIOD.match(text)
    if match is None:
        return None
    total = sum(int(n) * _PERIOD_MS[u.lower()] for n, u in _PERIOD_PART.findall(match.group(2)))
    return -total if match.group(1) == "-" else total


def parse_date(value: Operand, field_name: str, context: JqlContext) -> int:
    """A JQL date operand to epoch ms: local formats in the caller's zone, periods, epoch ms, functions."""
    if isinstance(value, Function):
        return _date_function(value, context)
    text = value.strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    period = _period_ms(text)
    if period is not None:
        return context.now_ms + period
    for fmt in _LOCAL_FORMATS:
        try:
            local = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return int(local.replace(tzinfo=context.tz).timestamp() * 1000)
    raise JqlError(f"Date value '{value}' for field '{field_name}' is invalid. {DATE_FORMATS_TEXT}")


def _date_function(function: Function, context: JqlContext) -> int:
    name = function.name.casefold()
    now = datetime.fromtimestamp(context.now_ms / 1000, context.tz)
    if name in ("now", "currentlogin", "lastlogin"):
        return context.now_ms
    offset_text = function.args[0] if function.args else ""
    units = {"day": "d", "week": "w", "month": "d", "year": "d"}
    starts = {
        "startofday": ("day", False),
        "endofday": ("day", True),
        "startofweek": ("week", False),
        "endofweek": ("week", True),
        "startofmonth": ("month", False),
        "endofmonth": ("month", True),
        "startofyear": ("year", False),
        "endofyear": ("year", True),
    }
    if name not in starts:
        raise JqlError(f"Unable to find JQL function '{function.name}({', '.join(function.args)})'.")
    unit, end = starts[name]
    offset_ms = 0
    if offset_text:
        text = offset_text if offset_text[-1:].isalpha() else offset_text + units[unit]
        parsed = _period_ms(text)
        if parsed is None:
            raise JqlError(f"Invalid offset '{offset_text}' for JQL function '{function.name}'.")
        offset_ms = parsed
    moment = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        moment -= timedelta(days=(moment.weekday() + 1) % 7)  # Jira weeks start on Sunday
    elif unit == "month":
        moment = moment.replace(day=1)
    elif unit == "year":
        moment = moment.replace(month=1, day=1)
    if end:
        if unit == "day":
            moment += timedelta(days=1)
        elif unit == "week":
            moment += timedelta(days=7)
        elif unit == "month":
            moment = (moment.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            moment = moment.replace(year=moment.year + 1)
        return int(moment.timestamp() * 1000) - 1 + offset_ms
    return int(moment.timestamp() * 1000) + offset_ms


def date_getter(canonical: str, site: Site) -> Callable[[Issue], int | None]:
    if canonical == "created":
        return lambda i: i.created_ms
    if canonical == "updated":
        return lambda i: i.updated_ms
    if canonical == "resolved":
        return lambda i: i.resolved_ms
    if canonical == "statuscategorychangeddate":
        return lambda i: i.status_category_changed_ms
    tz = zone(site.time_zone)

    def due(issue: Issue) -> int | None:
        if issue.due_date is None:
            return None
        return int(datetime.strptime(issue.due_date, "%Y-%m-%d").replace(tzinfo=tz).timestamp() * 1000)
