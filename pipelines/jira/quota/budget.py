"""The shared points budget as one run uses it: reserve before a request, settle after, wait aloud.

Every OAuth request of a run goes through `QuotaBudget.acquire` (the HTTP adapter calls it): the
store decides in one transaction whether its upper-bound cost fits (`policy.decide`); if it does
the points are reserved, else the thread sleeps until the decision can change, saying so in the
log. After the answer, `settle` replaces the reservation with the real cost and corrects the pool
from Jira's headers (`policy.observed`). API-token requests are not charged and never wait here.

Waits are logged on the `pipelines.jira.quota` logger: INFO for waits of a second or more (once per
pool, purpose and tenant while the wait lasts, and a "resumed" line after it), DEBUG for shorter
ones. Each record carries `extra={"jira_quota": {...}}` with the same facts for tools.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipelines.jira.quota.costs import actual_points, request_cost
from pipelines.jira.quota.headers import RateLimitHeaders
from pipelines.jira.quota.policy import (
    BULK_PURPOSES,
    Decision,
    Request,
    decide,
    next_hour,
    observed,
    rolled,
    spend,
)
from pipelines.jira.quota.store import BudgetStore, PoolRow, PoolTransaction

logger = logging.getLogger("pipelines.jira.quota")

_GATEWAY = re.compile(r"/ex/jira/(?P<cloud>[^/]+)/")
# Waits shorter than this are DEBUG (pacing); longer ones INFO.
ANNOUNCE_SECONDS = 1.0
# Reservations outlive the request by this much (a killed process frees its points after it).
RESERVATION_MARGIN_SECONDS = 30.0


def utc(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def said_utc(moment: float) -> str:
    """A moment as people read it in a log line: `2026-03-26 16:00:00 UTC`."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def app_key(client_id: str) -> str:
    """A stable, non-reversible name for an OAuth app (its pools are the app's, across deployments)."""
    return hashlib.sha256(client_id.encode()).hexdigest()[:12]


def gateway_cloud_id(url: str) -> str | None:
    """The cloud id of an OAuth gateway URL (`.../ex/jira/<cloudId>/rest/...`); None for site URLs."""
    match = _GATEWAY.search(url)
    return match.group("cloud") if match else None


@dataclass(frozen=True)
class QuotaSettings:
    """The sync file's `quota:` section, as the budget uses it."""

    points_per_hour: float = 65_000
    pool: str = "global"  # global | tenant
    reserve_share: float = 0.1
    request_timeout_seconds: float = 60.0


@dataclass(frozen=True)
class Ticket:
    """Points reserved for one request in flight."""

    id: str
    pool: str
    tenant: str
    points: float


@dataclass
class BudgetStats:
    """What one run spent and waited (run metadata; summed over threads)."""

    points: float = 0.0
    requests: int = 0
    waits: int = 0
    wait_seconds: float = 0.0
    quota_refusals: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **deltas: float) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def as_dict(self) -> dict[str, float]:
        with self._lock:
            return {
                "points": round(self.points),
                "charged_requests": self.requests,
                "waits": self.waits,
                "wait_seconds": round(self.wait_seconds, 1),
                "quota_refusals": self.quota_refusals,
            }


class WaitAnnouncer:
    """Says each wait once (per process, pool, purpose and tenant) and when it ended."""

    def __init__(self, log: logging.Logger = logger, clock: Callable[[], float] = time.time) -> None:
        self.log = log
        self.clock = clock
        self._open: dict[tuple, tuple[float, float]] = {}  # key -> (until, started)
        self._lock = threading.Lock()

    def waiting(self, key: tuple, seconds: float, until: float, message: str, facts: dict) -> None:
        level = logging.INFO if seconds >= ANNOUNCE_SECONDS else logging.DEBUG
        with self._lock:
            previous = self._open.get(key)
            if previous is not None and abs(previous[0] - until) < max(1.0, seconds / 10):
                return
            self._open[key] = (until, previous[1] if previous else self.clock())
        self.log.log(
            level,
            f"{message} waits {seconds:.0f} s, until {said_utc(until)}: {facts['why']}",
            extra={
                "jira_quota": {"event": "wait", "seconds": round(seconds, 1), "until": utc(until), **facts}
            },
        )

    def resumed(self, key: tuple, message: str, facts: dict) -> None:
        with self._lock:
            opened = self._open.pop(key, None)
        if opened is None:
            return
        waited = self.clock() - opened[1]
        level = logging.INFO if waited >= ANNOUNCE_SECONDS else logging.DEBUG
        self.log.log(
            level,
            f"{message} resumed after {waited:.0f} s of waiting",
            extra={"jira_quota": {"event": "resumed", "waited_seconds": round(waited, 1), **facts}},
        )


def _points(value: float) -> str:
    return f"{value:,.0f}"


def explain(decision: Decision, row: PoolRow, tenant: str) -> str:
    """Why a request waits, in the pool's figures."""
    pool = (
        f"{row.policy} pool ({_points(decision.spent)} of {_points(decision.limit)} points spent this window"
    )
    if decision.kind == "exhausted":
        return f"Jira refused the {row.policy} pool (429 quota): every request on it waits for the reset"
    if decision.kind == "spent":
        left = max(decision.limit - decision.spent, 0)
        return (
            f"the {pool}) has {_points(left)} left, fewer than the next request may cost "
            f"({_points(decision.cost)}); it resets at {said_utc(row.window_end)}"
        )
    if decision.kind == "reserve":
        return (
            f"the {pool}); backfills leave {_points(decision.reserve)} points for sweeps, censuses and "
            "webhook-driven refreshes, a reserve that shrinks to 0 by the window's end"
        )
    if decision.kind == "fair_share":
        return (
            f"{decision.waiting_tenants} tenants' backfills are waiting for the {row.policy} pool; tenant "
            f"{tenant} spent {_points(decision.tenant_spent)} points this window (an even share is "
            f"{_points(decision.share)}), so the others go first"
        )
    return f"points reserved by requests in flight fill the {pool})"


class QuotaBudget:
    """One run's view of the deployment's shared budget (thread-safe)."""

    def __init__(
        self,
        store: BudgetStore,
        settings: QuotaSettings,
        *,
        app: str,
        purpose: str,
        tenants: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        announcer: WaitAnnouncer | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.app = app
        self.purpose = purpose
        self.tenants = dict(tenants or {})  # cloud id -> tenant id
        self.clock = clock
        self.sleep = sleep
        self.announcer = announcer or WaitAnnouncer(clock=clock)
        self.stats = BudgetStats()
        self._pool_mode = settings.pool
        self._mode_lock = threading.Lock()

    # -- pools --------------------------------------------------------------------------------

    def pool_name(self, cloud_id: str) -> str:
        if self._pool_mode == "tenant":
            return f"{self.app}/tenant-app-quota/{cloud_id}"
        return f"{self.app}/global-app-quota"

    def _defaults(self, pool: str, now: float) -> PoolRow:
        policy = "tenant-app-quota" if "/tenant-app-quota/" in pool else "global-app-quota"
        return PoolRow(
            pool=pool,
            quota=float(self.settings.points_per_hour),
            window_seconds=3600.0,
            window_end=next_hour(now),
            policy=policy,
        )

    def _learn_mode(self, headers: RateLimitHeaders) -> None:
        """A tenant-pool configuration meeting a global pool falls back to the global pool (safe)."""
        policy = headers.quota
        if policy is None or self._pool_mode != "tenant" or policy.name != "global-app-quota":
            return
        with self._mode_lock:
            if self._pool_mode == "tenant":
                self._pool_mode = "global"
                logger.warning(
                    "quota: the sync file says quota.pool: tenant, but Jira charges this app's global pool "
                    "(global-app-quota); the budget of this run uses one pool for every tenant. "
                    "Set quota.pool: global."
                )

    def tenant_of(self, cloud_id: str) -> str:
        return self.tenants.get(cloud_id, cloud_id)

    # -- requests -------------------------------------------------------------------------------

    def acquire(self, method: str, url: str, params: dict, body: bytes | None) -> Ticket | None:
        """Reserve a request's points, waiting until the budget allows it; None when not charged."""
        cloud_id = gateway_cloud_id(url)
        if cloud_id is None:
            return None
        cost = request_cost(method, url, params, body)
        tenant = self.tenant_of(cloud_id)
        what = f"quota: {self.purpose} of tenant {tenant}"
        while True:
            pool = self.pool_name(cloud_id)
            now = self.clock()
            ticket = Ticket(uuid.uuid4().hex, pool, tenant, float(cost.points))
            with self.store.transaction(self._defaults(pool, now)) as tx:
                self._roll(tx, now)
                bulk = self.purpose in BULK_PURPOSES
                decision = decide(
                    tx.row,
                    Request(min(ticket.points, tx.row.quota), tenant, self.purpose),
                    now,
                    in_flight=tx.in_flight(now),
                    usage=tx.usage() if bulk else [],
                    waiting_backfills=tx.waiting_tenants("backfill", now) if bulk else set(),
                    reserve_share=self.settings.reserve_share,
                )
                if decision.granted:
                    points = min(ticket.points, tx.row.quota)
                    expires = now + self.settings.request_timeout_seconds + RESERVATION_MARGIN_SECONDS
                    tx.reserve(ticket.id, points, tenant, self.purpose, expires)
                    if bulk:
                        tx.clear_waiting(tenant, self.purpose)
                elif bulk:
                    tx.mark_waiting(tenant, self.purpose, now)
                row = tx.row
            key = (pool, self.purpose, tenant)
            facts = {"purpose": self.purpose, "tenant": tenant, "pool": row.policy, "kind": decision.kind}
            if decision.granted:
                self.announcer.resumed(key, what, facts)
                return Ticket(ticket.id, pool, tenant, min(ticket.points, row.quota))
            until = max(decision.until, now)
            facts["why"] = explain(decision, row, tenant)
            self.announcer.waiting(key, until - now, until, what, facts)
            pause = min(max(until - now, 0.05), self._poll_seconds(row))
            self.stats.add(waits=1, wait_seconds=pause)
            self.sleep(pause)

    @staticmethod
    def _roll(tx: PoolTransaction, now: float) -> None:
        """Move the pool into the window of `now`; a new window prunes stale rows."""
        before = tx.row.window_end
        tx.row = rolled(tx.row, now)
        if tx.row.window_end != before:
            tx.prune(now)

    @staticmethod
    def _poll_seconds(row: PoolRow) -> float:
        """How often a waiting thread asks again (other processes settle meanwhile)."""
        return min(1.0, max(row.window_seconds / 120, 0.1))

    def settle(
        self,
        ticket: Ticket,
        method: str,
        url: str,
        status: int | None,
        body: bytes,
        headers: RateLimitHeaders,
    ) -> None:
        """Replace the reservation with the answer's cost; correct the pool from its headers."""
        points = 1.0 if status is None else float(actual_points(method, url, status, body))
        now = self.clock()
        self._learn_mode(headers)
        with self.store.transaction(self._defaults(ticket.pool, now)) as tx:
            self._roll(tx, now)
            tx.release(ticket.id)
            if points:
                tx.row = spend(tx.row, points, now)
                tx.add_usage(ticket.tenant, self.purpose, points)
            tx.row = observed(tx.row, headers, now, status=status)
            row = tx.row
        self.stats.add(points=points, requests=1)
        if headers.is_quota_refusal:
            self.stats.add(quota_refusals=1)
            facts = {
                "purpose": "every request",
                "tenant": ticket.tenant,
                "pool": row.policy,
                "kind": "exhausted",
                "reason": headers.reason,
                "why": f"Jira answered 429 {headers.reason} (Retry-After "
                f"{headers.retry_after if headers.retry_after is not None else '?'} s); Atlassian's advice: pause "
                "every request on the pool until it resets",
            }
            self.announcer.waiting(
                (ticket.pool, "every request", "*"),
                max(row.exhausted_until - now, 0),
                row.exhausted_until,
                f"quota: every request on the {row.policy} pool",
                facts,
            )

    def release(self, ticket: Ticket) -> None:
        """A request that never reached Jira: give its points back."""
        now = self.clock()
        with self.store.transaction(self._defaults(ticket.pool, now)) as tx:
            self._roll(tx, now)
            tx.release(ticket.id)
