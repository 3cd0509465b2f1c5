"""Atlassian's rate limits on Jira Cloud: the hourly points quota and the per-endpoint burst buckets.

What is simulated, and where it comes from:

- **Points** (OAuth 2.0 3LO traffic only; API-token traffic is exempt): 1 per request plus 1 per
  core object returned (issues, projects, ...), 2 per identity object (users, groups). Quotas are
  per UTC hour (of the simulated clock). Tier 1 `global-app-quota`: one pool shared by every site
  the app serves; Tier 2 `tenant-app-quota`: one pool per site. Once a pool is spent every request
  on it is refused until the hour rolls over ("there is no gradual throttling").
  https://developer.atlassian.com/cloud/jira/platform/rate-limiting/ (points, tiers, FAQ).
- **Burst**: a token bucket per site x endpoint x method; steady state GET/POST 100/s, PUT/DELETE
  50/s, with Atlassian's per-endpoint overrides (GET issue 150, GET issue changelog 200, GET user
  150, POST approximate-count 150), all scaled by `burst_per_second / 100`; the bucket holds one
  second of its rate (Atlassian does not publish bucket sizes). Wall-clock seconds: a burst limit
  protects the server's real throughput. Same page, "Burst API rate limits".
- **Headers**. On every quota-charged answer: `RateLimit-Policy: "global-app-quota";q=Q;w=W` and
  `RateLimit: "global-app-quota";t=T`, with `r=R` (points left) only under 20 % left, as the page's
  examples show; `X-RateLimit-NearLimit: true` under 20 %; in the `enforced` style (Jira since the
  enforcement of March 2, 2026, CHANGE-3080) also `X-RateLimit-Limit`/`X-RateLimit-Remaining`
  with the quota's values; the `structured` style drops those (Atlassian "plan to discontinue
  sending quota rate limit values via the X-RateLimit-* headers", CHANGE-3080); the `beta` style is
  the time before enforcement (CHANGE-3045): `Beta-RateLimit-Policy`, `Beta-RateLimit`,
  `X-Beta-RateLimit-NearLimit`, and where a 429 would come, a normal answer with `Beta-Retry-After`,
  `X-Beta-RateLimit-Reset` and `X-Beta-RateLimit-Reason`. With a burst limit, its entry joins the
  structured headers (`"jira-burst-based";q=100;w=1` / `r=..;t=1`; unprefixed even when the quota
  is beta: "a combination of Beta- prefixed and non-prefixed headers"). A 429 carries
  `Retry-After`, `X-RateLimit-Reset` (ISO 8601), `X-RateLimit-Limit`, `X-RateLimit-Remaining: 0`
  and `RateLimit-Reason` (`jira-quota-global-based`, `jira-quota-tenant-based`,
  `jira-burst-based`).
- Durations (`Retry-After`, `t`, `w`) are wall seconds, what a client must wait; instants
  (`X-RateLimit-Reset`) are on the simulated clock (see clock.py). With a fast clock the quota
  window lasts `3600 / speed` wall seconds, and `w` says so.

Not simulated: per-issue write limits (`jira-per-issue-on-write`): the simulator's REST surface
has no issue writes.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from jira_simulator.clock import Clock
from jira_simulator.options import RateLimit

HOUR_MS = 3_600_000
NEAR_LIMIT_SHARE = 0.2
GLOBAL_POLICY = "global-app-quota"
TENANT_POLICY = "tenant-app-quota"
BURST_POLICY = "jira-burst-based"
QUOTA_REASONS = {GLOBAL_POLICY: "jira-quota-global-based", TENANT_POLICY: "jira-quota-tenant-based"}
HISTORY_LIMIT = 1000

_IDENTITY_PATH = re.compile(r"/(user|users|group|groups|myself|role)\b")
_LISTS = ("issues", "values", "entities", "results", "issueChangeLogs")

# Atlassian's default steady-state burst rates (requests/s) by method, and its per-endpoint
# overrides (path after /rest/api/{version}), at the default scale of 100.
ATLASSIAN_BURST_BASE = 100.0
METHOD_RATES = {"GET": 100.0, "POST": 100.0, "PUT": 50.0, "DELETE": 50.0, "PATCH": 50.0}
ENDPOINT_RATES: tuple[tuple[str, re.Pattern[str], float], ...] = (
    ("GET", re.compile(r"/issue/\{[^}/]+\}$"), 150.0),
    ("GET", re.compile(r"/issue/\{[^}/]+\}/changelog$"), 200.0),
    ("GET", re.compile(r"/user$"), 150.0),
    ("POST", re.compile(r"/search/approximate-count$"), 150.0),
)
_REST_SUFFIX = re.compile(r"/rest/api/[^/]+(?P<rest>/.*)$")


def objects_returned(path: str, body: bytes) -> int:
    """The points cost of a response body beyond the base point (1 or 2 per object returned)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return 0
    if isinstance(data, list):
        count = len(data)
    elif isinstance(data, dict):
        found = next((data[k] for k in _LISTS if isinstance(data.get(k), list)), None)
        if found is not None:
            count = len(found)
        else:
            count = 1 if any(k in data for k in ("id", "key", "accountId", "groupId")) else 0
    else:
        count = 0
    return count * (2 if _IDENTITY_PATH.search(path) else 1)


def iso_instant(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def burst_rate(limit: float, method: str, endpoint: str) -> float:
    """Requests per second of one bucket: Atlassian's table scaled by `limit / 100`."""
    rest = _REST_SUFFIX.search(endpoint)
    path = rest.group("rest") if rest else endpoint
    base = METHOD_RATES.get(method, ATLASSIAN_BURST_BASE)
    for override_method, pattern, rate in ENDPOINT_RATES:
        if method == override_method and pattern.search(path):
            base = rate
            break
    return limit * base / ATLASSIAN_BURST_BASE


@dataclass
class QuotaWindow:
    """One pool's use in one simulated hour (kept for `GET /_sim/quota`)."""

    policy: str
    pool: str  # "global", or the site's cloud id for a tenant pool
    start_ms: int  # simulated
    quota: int
    used: int = 0
    requests: int = 0
    refused: int = 0
    by_site: Counter = field(default_factory=Counter)  # cloud id -> points

    def as_dict(self) -> dict:
        return {
            "policy": self.policy,
            "pool": self.pool,
            "start": iso_instant(self.start_ms),
            "quota": self.quota,
            "used": self.used,
            "requests": self.requests,
            "refused": self.refused,
            "by_site": dict(self.by_site),
        }


@dataclass(frozen=True)
class Pool:
    """The quota pool a request is charged to."""

    policy: str
    key: str
    quota: int


@dataclass
class QuotaLedger:
    """The points each pool spent in the current simulated hour, and a history of past hours."""

    clock: Clock
    windows: dict[str, QuotaWindow] = field(default_factory=dict)
    history: deque = field(default_factory=lambda: deque(maxlen=HISTORY_LIMIT))
    refusals: deque = field(default_factory=lambda: deque(maxlen=10 * HISTORY_LIMIT))
    first_headers_wall_ms: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pool_for(self, limits: RateLimit, cloud_id: str, site_name: str | None) -> Pool | None:
        if limits.points_per_hour is None:
            return None
        if limits.quota_pool == "global":
            return Pool(GLOBAL_POLICY, "global", limits.points_per_hour)
        quota = limits.tenant_points.get(cloud_id) or limits.tenant_points.get(site_name or "")
        return Pool(TENANT_POLICY, cloud_id, quota or limits.points_per_hour)

    def _window(self, pool: Pool) -> QuotaWindow:
        start = self.clock.now_ms() // HOUR_MS * HOUR_MS
        window = self.windows.get(pool.key)
        if window is None or window.start_ms != start or window.policy != pool.policy:
            if window is not None and window.requests:
                self.history.append(window)
            window = self.windows[pool.key] = QuotaWindow(pool.policy, pool.key, start, pool.quota)
        window.quota = pool.quota
        return window

    def left(self, pool: Pool) -> int:
        with self.lock:
            return max(pool.quota - self._window(pool).used, 0)

    def charge(self, pool: Pool, cloud_id: str, points: int) -> int:
        """Record a served request's points; the points left afterwards."""
        with self.lock:
            window = self._window(pool)
            window.used += points
            window.requests += 1
            window.by_site[cloud_id] += points
            if self.first_headers_wall_ms is None:
                self.first_headers_wall_ms = int(time.time() * 1000)
            return max(pool.quota - window.used, 0)

    def refuse(self, pool: Pool, cloud_id: str) -> None:
        with self.lock:
            self._window(pool).refused += 1
            self.refusals.append(
                {
                    "at": iso_instant(time.time() * 1000),
                    "simulated_at": iso_instant(self.clock.now_ms()),
                    "reason": QUOTA_REASONS[pool.policy],
                    "pool": pool.key,
                    "cloud_id": cloud_id,
                }
            )

    def simulated_ms_to_reset(self) -> int:
        now = self.clock.now_ms()
        return (now // HOUR_MS + 1) * HOUR_MS - now

    def seconds_to_reset(self) -> int:
        """Wall seconds until the pools reset (at least 1)."""
        return max(1, math.ceil(self.clock.wall_seconds(self.simulated_ms_to_reset())))

    def reset_instant(self) -> str:
        return iso_instant(self.clock.now_ms() + self.simulated_ms_to_reset())

    def window_seconds(self) -> int:
        return max(1, round(self.clock.wall_seconds(HOUR_MS)))

    def clear(self) -> None:
        with self.lock:
            self.windows.clear()

    def snapshot(self) -> dict:
        with self.lock:
            current = [w.as_dict() for w in self.windows.values()]
            past = [w.as_dict() for w in self.history]
            first = self.first_headers_wall_ms
            refusals = list(self.refusals)
        return {
            "window_seconds": self.window_seconds(),
            "first_headers_at": None if first is None else iso_instant(first),
            "windows": past + current,
            "refusals": refusals,
        }


def quota_headers(
    style: str, pool: Pool, left: int, ledger: QuotaLedger, *, would_refuse: bool = False
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """(plain headers, structured entries) describing a quota pool after a request.

    The structured entries are (header name, entry) pairs for `RateLimit-Policy`/`RateLimit`
    (or their `Beta-` names), joined with other policies' entries by the caller.
    """
    near = left < pool.quota * NEAR_LIMIT_SHARE
    reset = ledger.seconds_to_reset()
    prefix = "Beta-" if style == "beta" else ""
    remaining = f";r={left}" if near else ""
    entries = [
        (f"{prefix}RateLimit-Policy", f'"{pool.policy}";q={pool.quota};w={ledger.window_seconds()}'),
        (f"{prefix}RateLimit", f'"{pool.policy}"{remaining};t={reset}'),
    ]
    headers: dict[str, str] = {}
    if style == "enforced":
        headers["X-RateLimit-Limit"] = str(pool.quota)
        headers["X-RateLimit-Remaining"] = str(left)
    if near:
        headers["X-Beta-RateLimit-NearLimit" if style == "beta" else "X-RateLimit-NearLimit"] = "true"
    if style == "beta" and would_refuse:
        headers["Beta-Retry-After"] = str(reset)
        headers["X-Beta-RateLimit-Reset"] = ledger.reset_instant()
        headers["X-Beta-RateLimit-Reason"] = QUOTA_REASONS[pool.policy]
    return headers, entries


def refusal_headers(
    reason: str, retry_after: int, limit: int, reset: str, extra: dict[str, str]
) -> dict[str, str]:
    return {
        "Retry-After": str(retry_after),
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset,
        "RateLimit-Reason": reason,
        **extra,
    }


def joined(entries: list[tuple[str, str]]) -> dict[str, str]:
    """Structured-header entries joined per header name (comma-separated, in order)."""
    headers: dict[str, str] = {}
    for name, entry in entries:
        headers[name] = f"{headers[name]},{entry}" if name in headers else entry
    return headers


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class BurstBuckets:
    """Token buckets per site x endpoint template x method, on the wall clock."""

    buckets: dict[tuple[str, str, str], _Bucket] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: tuple[str, str, str], rate: float) -> tuple[float, int]:
        """(0, tokens left) when a token was taken, else (seconds until the next one, 0)."""
        now = time.monotonic()
        with self.lock:
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = _Bucket(tokens=rate, stamp=now)
            bucket.tokens = min(rate, bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0, int(bucket.tokens)
            return (1 - bucket.tokens) / rate, 0

    def clear(self) -> None:
        with self.lock:
            self.buckets.clear()


def burst_entries(rate: float, tokens_left: int) -> list[tuple[str, str]]:
    return [
        ("RateLimit-Policy", f'"{BURST_POLICY}";q={rate:g};w=1'),
        ("RateLimit", f'"{BURST_POLICY}";r={tokens_left};t=1'),
    ]
