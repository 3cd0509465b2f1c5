"""Runtime options of one simulator server: credentials, latency, faults and rate limits.

Built by the CLI (`cli.py`) or by tests, read by every surface. The fault middleware reads the
fault fields on every request, so the admin API can change them while the server runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DEFAULT_CLIENT_ID = "jira-sync-sim"
DEFAULT_CLIENT_SECRET = "sim-secret"
DEFAULT_API_TOKEN = "sim-api-token"


class OptionError(ValueError):
    """A command-line or admin option that cannot be used; the message says what to write instead."""


@dataclass
class RateLimit:
    """Atlassian-style limits: a token bucket per site x endpoint x method, and an hourly points budget.

    `None` disables a limit. The points budget applies to OAuth (3LO) traffic only, as Atlassian's
    2026 quotas do; API-token traffic is subject to the burst limit only.
    """

    burst_per_second: float | None = None
    points_per_hour: int | None = None


_RATE_LIMIT_PART = re.compile(r"^(burst|points)=(\d+(?:\.\d+)?)(?:/(s|h))?$")


def parse_rate_limit(spec: str | None) -> RateLimit:
    """Parse `--rate-limit`, e.g. `burst=100`, `points=65000` or `burst=100/s,points=65000/h`."""
    limit = RateLimit()
    if not spec:
        return limit
    for part in (p.strip() for p in spec.split(",")):
        match = _RATE_LIMIT_PART.match(part)
        if match is None:
            raise OptionError(
                f"--rate-limit: cannot read {part!r}; write burst=<requests per second> and/or "
                "points=<points per hour>, comma-separated, e.g. 'burst=100,points=65000'"
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

    def __post_init__(self) -> None:
        _probability("--fault-rate-5xx", self.fault_rate_5xx)
        _probability("--drop-rate", self.drop_rate)
        _probability("--rate-429", self.rate_429)
        if self.latency_ms < 0:
            raise OptionError(f"--latency-ms must be >= 0, got {self.latency_ms}")
