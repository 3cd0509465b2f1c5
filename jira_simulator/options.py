"""Runtime options of one simulator server: credentials, latency, faults and rate limits.

Built by the CLI (`cli.py`) or by tests, read by every surface. The fault middleware reads the
fault fields on every request, so the admin API can change them while the server runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from jira_simulator.clock import ClockError, check_speed

DEFAULT_CLIENT_ID = "jira-sync-sim"
DEFAULT_CLIENT_SECRET = "sim-secret"
DEFAULT_API_TOKEN = "sim-api-token"


class OptionError(ValueError):
    """A command-line or admin option that cannot be used; the message says what to write instead."""


QuotaPool = Literal["global", "tenant"]
QuotaHeaders = Literal["enforced", "structured", "beta"]
QUOTA_POOLS: tuple[QuotaPool, ...] = ("global", "tenant")
QUOTA_HEADERS: tuple[QuotaHeaders, ...] = ("enforced", "structured", "beta")


@dataclass
class RateLimit:
    """Atlassian-style limits: a token bucket per site x endpoint x method, and an hourly points budget.

    `None` disables a limit. The points budget applies to OAuth (3LO) traffic only, as Atlassian's
    2026 quotas do; API-token traffic is subject to the burst limit only.

    - `quota_pool`: `global` (Tier 1: one pool shared by every site the app serves) or `tenant`
      (Tier 2: one pool per site, `points_per_hour` each unless `tenant_points` names the site).
    - `quota_headers`: which headers describe the quota. `enforced` (Jira since March 2026):
      `RateLimit-Policy`/`RateLimit` plus the `X-RateLimit-*` values; `structured`: only
      `RateLimit-Policy`/`RateLimit` (Atlassian announced the end of quota values in
      `X-RateLimit-*`), so the remaining points show only near the limit; `beta`: before
      enforcement, `Beta-`/`X-Beta-` prefixed and never a quota 429.
    """

    burst_per_second: float | None = None
    points_per_hour: int | None = None
    quota_pool: QuotaPool = "global"
    tenant_points: dict[str, int] = field(default_factory=dict)  # site name or cloud id -> points/hour
    quota_headers: QuotaHeaders = "enforced"


_RATE_LIMIT_PART = re.compile(r"^(burst|points)=(\d+(?:\.\d+)?)(?:/(s|h))?$")
_RATE_LIMIT_CHOICE = re.compile(r"^(pool|headers)=([a-z]+)$")
_RATE_LIMIT_TENANT = re.compile(r"^points\[([A-Za-z0-9_.-]+)\]=(\d+)(?:/h)?$")


def parse_rate_limit(spec: str | None) -> RateLimit:
    """Parse `--rate-limit`, e.g. `burst=100,points=65000`, `points=65000,pool=tenant,points[acme]=120000`,
    `points=65000,headers=beta`."""
    limit = RateLimit()
    if not spec:
        return limit
    for part in (p.strip() for p in spec.split(",")):
        choice = _RATE_LIMIT_CHOICE.match(part)
        tenant = _RATE_LIMIT_TENANT.match(part)
        match = _RATE_LIMIT_PART.match(part)
        if choice is not None:
            name, value = choice.groups()
            allowed = QUOTA_POOLS if name == "pool" else QUOTA_HEADERS
            if value not in allowed:
                raise OptionError(f"--rate-limit: {name}={value!r}; write one of {', '.join(allowed)}")
            if name == "pool":
                limit.quota_pool = value  # type: ignore[assignment]
            else:
                limit.quota_headers = value  # type: ignore[assignment]
            continue
        if tenant is not None:
            limit.tenant_points[tenant.group(1)] = int(tenant.group(2))
            continue
        if match is None:
            raise OptionError(
                f"--rate-limit: cannot read {part!r}; write burst=<requests per second>, points=<points per "
                "hour>, pool=global|tenant, points[<site>]=<points per hour> (tenant pools), "
                "headers=enforced|structured|beta, comma-separated, e.g. 'burst=100,points=65000'"
            )
        kind, number, unit = match.groups()
        if kind == "burst" and unit not in (None, "s"):
            raise OptionError(f"--rate-limit: burst is per second ('burst={number}/s'), not per {unit!r}")
        if kind == "points" and unit not in (None, "h"):
            raise OptionError(f"--rate-limit: points are per hour ('points={number}/h'), not per {unit!r}")
        if kind == "burst":
            limit.burst_per_second = float(number)
        else:
            limit.points_per_hour = int(float(number))
    if limit.tenant_points and limit.quota_pool != "tenant":
        raise OptionError("--rate-limit: points[<site>] sets a per-tenant pool; add pool=tenant")
    return limit


def _probability(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise OptionError(f"{name} must be a probability between 0 and 1, got {value}")
    return value


@dataclass
class SimulatorOptions:
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    api_token: str = DEFAULT_API_TOKEN  # the admin (operator) user's API token
    seed: int = 1  # also seeds the fault dice, so a faulty run is reproducible
    latency_ms: int = 0
    fault_rate_5xx: float = 0.0
    drop_rate: float = 0.0
    rate_429: float = 0.0
    retry_after_seconds: int = 1
    rate_limit: RateLimit = field(default_factory=RateLimit)
    # Seconds between webhook delivery retries (Jira waits minutes; tests want seconds).
    webhook_retry_backoff_seconds: float = 1.0
    # Simulated seconds per wall second (60: a quota hour passes in a wall minute), see clock.py.
    clock_speed: float = 1.0

    def __post_init__(self) -> None:
        _probability("--fault-rate-5xx", self.fault_rate_5xx)
        _probability("--drop-rate", self.drop_rate)
        _probability("--rate-429", self.rate_429)
        if self.latency_ms < 0:
            raise OptionError(f"--latency-ms must be >= 0, got {self.latency_ms}")
        try:
            check_speed(self.clock_speed)
        except ClockError as exc:
            raise OptionError(f"--clock-speed: {exc}") from None
