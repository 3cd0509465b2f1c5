"""What Jira's rate-limit headers say about a response, in every form Atlassian sends them.

Sources: https://developer.atlassian.com/cloud/jira/platform/rate-limiting/ (header table, examples);
CHANGE-3045 (`Beta-` prefixed `RateLimit`/`RateLimit-Policy` until enforcement, "mixes of prefixed
and unprefixed can appear"); CHANGE-3080 (enforcement from March 2, 2026; quota values in
`X-RateLimit-*` to be discontinued); Atlassian staff in
https://community.developer.atlassian.com/t/2026-point-based-rate-limits/97828 (#145: X-RateLimit-*
stay for burst and per-issue limits; #146: X-RateLimit-NearLimit under 20 % of the hourly quota).

- `RateLimit-Policy: "global-app-quota";q=65000;w=3600, "jira-burst-based";q=100;w=1`
  (quota and window seconds per policy; entries in any number and order);
- `RateLimit: "global-app-quota";r=11000;t=600` (`r` points left, only near the limit; `t`
  seconds to the reset);
- `X-RateLimit-Limit`, `-Remaining`, `-NearLimit`, `-Reset` (ISO 8601, 429 only, seconds may be
  missing: `2026-03-26T16:00Z`), `RateLimit-Reason`, `Retry-After` — and the `Beta-` /
  `X-Beta-` variants of all of them, which describe limits Jira does not enforce yet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

QUOTA_POLICIES = ("global-app-quota", "tenant-app-quota")
BURST_POLICY = "jira-burst-based"
QUOTA_REASONS = ("jira-quota-global-based", "jira-quota-tenant-based")
BURST_REASON = "jira-burst-based"
PER_ISSUE_REASON = "jira-per-issue-on-write"

_ENTRY = re.compile(r'\s*"(?P<name>[^"]*)"(?P<params>(?:\s*;\s*[A-Za-z][\w-]*\s*=\s*[^;,]*)*)\s*')
_PARAM = re.compile(r";\s*(?P<key>[A-Za-z][\w-]*)\s*=\s*(?P<value>[^;,]*)")


def structured_entries(value: str) -> dict[str, dict[str, str]]:
    """`"a";q=1;w=2, "b";r=3` -> {"a": {"q": "1", "w": "2"}, "b": {"r": "3"}} (unreadable parts skipped)."""
    entries: dict[str, dict[str, str]] = {}
    for part in value.split(","):
        match = _ENTRY.fullmatch(part)
        if match is None:
            continue
        params = {
            m.group("key").lower(): m.group("value").strip() for m in _PARAM.finditer(match.group("params"))
        }
        entries[match.group("name")] = params
    return entries


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip().strip('"'))
    except ValueError:
        return None
    return number if number >= 0 else None


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: delay-seconds or an HTTP-date (RFC 9110 allows both)."""
    seconds = _number(value)
    if seconds is not None or not value:
        return seconds
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def parse_instant(value: str | None) -> datetime | None:
    """ISO 8601 with or without seconds (`2026-03-26T16:00Z`), or epoch seconds; None if unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Policy:
    """One policy of `RateLimit-Policy` joined with its `RateLimit` entry."""

    name: str
    quota: float | None = None  # q
    window_seconds: float | None = None  # w
    remaining: float | None = None  # r (quota policies: only near the limit)
    reset_seconds: float | None = None  # t
    enforced: bool = True  # False for Beta- prefixed headers

    @property
    def is_quota(self) -> bool:
        return self.name in QUOTA_POLICIES


@dataclass(frozen=True)
class RateLimitHeaders:
    """The rate-limit state one response reports."""

    policies: dict[str, Policy] = field(default_factory=dict)
    limit: float | None = None  # X-RateLimit-Limit
    remaining: float | None = None  # X-RateLimit-Remaining
    near_limit: bool = False
    reset_at: datetime | None = None  # X-RateLimit-Reset
    reason: str | None = None  # RateLimit-Reason
    retry_after: float | None = None  # seconds
    beta_reason: str | None = None  # a limit that would have refused this request once enforced
    beta_retry_after: float | None = None

    @property
    def quota(self) -> Policy | None:
        """The points-quota policy (global or tenant pool), if the response names one."""
        return next((p for p in self.policies.values() if p.is_quota), None)

    @property
    def quota_remaining(self) -> float | None:
        """Points left in the quota pool: `r`, else `X-RateLimit-Remaining` when its limit is the quota's."""
        policy = self.quota
        if policy is None:
            return None
        if policy.remaining is not None:
            return policy.remaining
        if self.remaining is not None and self.limit is not None and self.limit == policy.quota:
            return self.remaining
        return None

    @property
    def is_quota_refusal(self) -> bool:
        return self.reason in QUOTA_REASONS

    def wait_seconds(self, now: datetime | None = None) -> float | None:
        """How long Jira asks to wait: Retry-After, else the quota's `t`, else until X-RateLimit-Reset."""
        if self.retry_after is not None:
            return self.retry_after
        policy = self.quota
        if self.is_quota_refusal and policy is not None and policy.reset_seconds is not None:
            return policy.reset_seconds
        if self.reset_at is not None:
            return max(0.0, (self.reset_at - (now or datetime.now(UTC))).total_seconds())
        return None


def _get(headers: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            return value
    return None


def _policies(headers: Mapping[str, str]) -> dict[str, Policy]:
    policies: dict[str, Policy] = {}
    for prefix, enforced in (("Beta-", False), ("", True)):  # unprefixed (enforced) wins a tie
        declared = structured_entries(headers.get(f"{prefix}RateLimit-Policy") or "")
        current = structured_entries(headers.get(f"{prefix}RateLimit") or "")
        for name in {*declared, *current}:
            d, c = declared.get(name, {}), current.get(name, {})
            policies[name] = Policy(
                name=name,
                quota=_number(d.get("q")),
                window_seconds=_number(d.get("w")),
                remaining=_number(c.get("r")),
                reset_seconds=_number(c.get("t")),
                enforced=enforced,
            )
    return policies


def parse_rate_limit_headers(headers: Mapping[str, str]) -> RateLimitHeaders:
    """Read every rate-limit header of a response (`headers` must be case-insensitive, as requests'
    and httpx's are)."""
    return RateLimitHeaders(
        policies=_policies(headers),
        limit=_number(headers.get("X-RateLimit-Limit")),
        remaining=_number(headers.get("X-RateLimit-Remaining")),
        near_limit=str(_get(headers, "X-RateLimit-NearLimit", "X-Beta-RateLimit-NearLimit")).lower()
        == "true",
        reset_at=parse_instant(headers.get("X-RateLimit-Reset")),
        reason=(headers.get("RateLimit-Reason") or "").strip() or None,
        retry_after=retry_after_seconds(headers.get("Retry-After")),
        beta_reason=(_get(headers, "X-Beta-RateLimit-Reason", "Beta-RateLimit-Reason") or "").strip() or None,
        beta_retry_after=retry_after_seconds(headers.get("Beta-Retry-After")),
    )
