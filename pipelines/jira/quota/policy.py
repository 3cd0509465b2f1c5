"""Who may spend the pool's points now: the pure rules, given a pool's row and what is in flight.

- A pool's points are spent against one window (an hour, or what Jira's `w` and `t` say). Spent =
  the larger of our own accounting and what Jira last reported (`q - r`), plus the points
  reserved by requests in flight, so every process sees every other's spending.
- **Sweeps, censuses, reference syncs and webhook refreshes** (every purpose but `backfill`) may
  use the whole pool.
- **A backfill** leaves a reserve (`reserve_share` of the quota) for them, shrinking to zero as
  the window ends, so an idle hour's points are still used by the backfill, and a sweep never
  waits long: with R points reserved at the start of the window, a sweep needing c points waits
  at most c / R of a window.
- **Fair share**: while backfills of several tenants wait for points, the tenant whose backfill
  spent the least this window goes first (max-min fairness: no tenant's backfill gets more than
  one request ahead of another's that is waiting, and none idles while points are free).
- A quota 429 from Jira (`exhausted_until`) stops every purpose on the pool until the reset, as
  Atlassian advises ("pause all API requests until the window resets").
- Until Jira's first answer the configured quota applies; answers without any quota header
  (`unmetered_until`) mean there is nothing to pace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from pipelines.jira.quota.headers import RateLimitHeaders
from pipelines.jira.quota.store import PoolRow, Usage

Purpose = Literal["backfill", "sweep", "census", "reference", "webhooks", "plan"]
BULK_PURPOSES: frozenset[str] = frozenset({"backfill"})
HOUR_SECONDS = 3600.0
# Jira's `t` is whole seconds: a reset this close to ours is the same reset.
RESET_TOLERANCE_SECONDS = 1.5

WaitKind = Literal["exhausted", "spent", "reserve", "fair_share", "in_flight"]


@dataclass(frozen=True)
class Decision:
    """Granted, or when to ask again and why (`kind` and the figures that explain it)."""

    granted: bool
    until: float = 0.0
    kind: WaitKind | None = None
    spent: float = 0.0
    limit: float = 0.0
    reserve: float = 0.0
    waiting_tenants: int = 0
    share: float = 0.0
    tenant_spent: float = 0.0
    cost: float = 0.0


def next_hour(now: float) -> float:
    return (math.floor(now / HOUR_SECONDS) + 1) * HOUR_SECONDS


def rolled(row: PoolRow, now: float) -> PoolRow:
    """The row in the window that contains `now`.

    A new window starts with what was spent in the last `RESET_TOLERANCE_SECONDS` of the previous
    one: Jira's reset is known to the second only, so those points may already count in Jira's
    next window (a new window never starts more generous than Jira's).
    """
    if now < row.window_end:
        return row
    window = row.window_seconds if row.window_seconds > 0 else HOUR_SECONDS
    if row.learned_at is None:
        end = next_hour(now)
    else:
        end = row.window_end + math.ceil((now - row.window_end + 1e-9) / window) * window
        if end <= now:
            end += window
    carried = row.tail_used if end - row.window_end <= window + RESET_TOLERANCE_SECONDS else 0.0
    return replace(row, window_end=end, used=carried, tail_used=0.0, server_used=0.0)


def spend(row: PoolRow, points: float, now: float) -> PoolRow:
    """The row after `points` were spent at `now` (in the window containing `now`)."""
    tail = row.tail_used + points if row.window_end - now <= RESET_TOLERANCE_SECONDS else row.tail_used
    return replace(row, used=row.used + points, tail_used=tail)


def observed(row: PoolRow, headers: RateLimitHeaders, now: float, *, status: int | None = None) -> PoolRow:
    """The row corrected by what one answer's headers say about the pool.

    A successful answer without any quota header means Jira meters no points for this app (a
    simulator without a quota, or before Atlassian's 2026 quotas): nothing is paced for a window.
    """
    policy = headers.quota
    if policy is None:
        if status is not None and 200 <= status < 300 and not headers.is_quota_refusal:
            window = row.window_seconds if row.window_seconds > 0 else HOUR_SECONDS
            return replace(row, unmetered_until=now + window)
        return row
    quota = policy.quota if policy.quota else row.quota
    window = policy.window_seconds if policy.window_seconds else row.window_seconds
    updated = replace(
        row, quota=quota, window_seconds=window, learned_at=now, policy=policy.name, unmetered_until=0.0
    )
    if policy.reset_seconds is not None:
        end = now + policy.reset_seconds
        if end > updated.window_end + RESET_TOLERANCE_SECONDS:
            if end - updated.window_end >= window / 2:  # Jira's window already rolled over
                updated = replace(updated, used=updated.tail_used, tail_used=0.0, server_used=0.0)
            updated = replace(updated, window_end=end)
        elif end < updated.window_end - RESET_TOLERANCE_SECONDS:
            updated = replace(updated, window_end=end)
    remaining = headers.quota_remaining
    if remaining is not None:
        updated = replace(updated, server_used=max(updated.server_used, quota - remaining))
    if headers.is_quota_refusal:
        wait = headers.wait_seconds()
        until = now + (wait if wait is not None else max(updated.window_end - now, 1.0))
        updated = replace(
            updated,
            exhausted_until=max(updated.exhausted_until, until),
            server_used=max(updated.server_used, quota),
        )
        if wait is not None and abs(updated.window_end - until) > RESET_TOLERANCE_SECONDS:
            # a quota refusal waits for the pool's reset: that is when this window ends
            updated = replace(updated, window_end=until)
    return updated


@dataclass(frozen=True)
class Request:
    """What asks for points: how many (at most), for whom, for what."""

    points: float
    tenant: str
    purpose: str


def decide(
    row: PoolRow,
    request: Request,
    now: float,
    *,
    in_flight: float,
    usage: list[Usage],
    waiting_backfills: set[str],
    reserve_share: float,
) -> Decision:
    """May `request` spend the pool's points now (`row` already rolled to `now`)?"""
    spent = max(row.used, row.server_used) + in_flight
    limit = row.quota
    cost = min(request.points, limit)  # a request larger than the pool goes when the pool is fresh
    if now < row.exhausted_until:
        return Decision(False, row.exhausted_until, "exhausted", spent, limit)
    if now < row.unmetered_until:
        return Decision(True, spent=spent, limit=limit)
    if request.purpose not in BULK_PURPOSES:
        if spent + cost <= limit:
            return Decision(True, spent=spent, limit=limit)
        if max(row.used, row.server_used) + cost <= limit:
            return Decision(False, now, "in_flight", spent, limit)
        return Decision(False, row.window_end, "spent", spent, limit, cost=cost)
    window = row.window_seconds if row.window_seconds > 0 else HOUR_SECONDS
    reserve_total = reserve_share * limit
    left_fraction = min(max((row.window_end - now) / window, 0.0), 1.0)
    reserve = reserve_total * left_fraction
    if spent + cost > limit - reserve:
        if max(row.used, row.server_used) + cost <= limit - reserve:
            return Decision(False, now, "in_flight", spent, limit, reserve)
        # the ceiling limit - R * (window_end - t) / window reaches spent + cost at:
        excess = spent + cost - (limit - reserve_total)
        if reserve_total > 0 and excess <= reserve_total:
            until = row.window_end - window * (1 - excess / reserve_total)
        else:
            until = row.window_end
        kind: WaitKind = "reserve" if spent + cost <= limit else "spent"
        return Decision(False, max(until, now), kind, spent, limit, reserve, cost=cost)
    others = waiting_backfills - {request.tenant}
    if others:
        backfills = {t: 0.0 for t in (*others, request.tenant)}
        for u in usage:
            if u.purpose in BULK_PURPOSES and u.tenant in backfills:
                backfills[u.tenant] += u.points
        mine = backfills.pop(request.tenant)
        if mine > min(backfills.values()) + cost:  # another waiting tenant got less: it goes first
            priority = sum(u.points for u in usage if u.purpose not in BULK_PURPOSES)
            share = max(limit - reserve - priority, 0.0) / (len(others) + 1)
            return Decision(False, now, "fair_share", spent, limit, reserve, len(others) + 1, share, mine)
    return Decision(True, spent=spent, limit=limit, reserve=reserve)
