"""Burst limits: after a `jira-burst-based` 429, slow that endpoint only, as Atlassian advises.

"Burst API rate limiting ... is enforced per tenant and per API/resource path"; "For
jira-burst-based: Reduce your request rate to the specific endpoint. Requests to other endpoints
are unaffected. ... design your app around the steady-state rate."
(https://developer.atlassian.com/cloud/jira/platform/rate-limiting/, "Burst API rate limits" and
"Best practices for handling rate limit responses").

An endpoint is (host and site, path template with ids and keys blanked, method). After a refusal
it pauses for `Retry-After`, then keeps to 90 % of the bucket's rate when the 429 said it
(`RateLimit-Policy: "jira-burst-based";q=100;w=1`), else to half the pace it had; each success
then eases the pace back by 2 %. Process-local: burst buckets refill within a second, so sharing
them across processes would cost more than it saves.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipelines.jira.quota.budget import said_utc
from pipelines.jira.quota.headers import BURST_POLICY, RateLimitHeaders

logger = logging.getLogger("pipelines.jira.quota")

_ID_SEGMENT = re.compile(r"^(\d+|[A-Z][A-Z0-9_]*-\d+|[0-9a-f-]{36})$")
SAFE_SHARE = 0.9
RECOVERY = 0.98
FIRST_SLOWDOWN_INTERVAL = 0.02  # 50 requests/s when the refusal did not state the bucket's rate
FORGET_INTERVAL = 0.001


def endpoint_key(method: str, url: str) -> tuple[str, str, str]:
    """(host, path template, method): `/rest/api/3/issue/ABC-1` -> `/rest/api/3/issue/{}`."""
    parts = urlsplit(url)
    path = "/".join("{}" if _ID_SEGMENT.match(s) else s for s in parts.path.split("/"))
    return (parts.netloc, path, method.upper())


@dataclass
class _Pace:
    interval: float = 0.0  # seconds between requests
    next_at: float = 0.0  # monotonic
    announced_until: float = 0.0  # the pause already said in the log (one line per pause, not per worker)


class EndpointPacer:
    """Per-endpoint pauses and pace after burst refusals (thread-safe)."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._paces: dict[tuple[str, str, str], _Pace] = {}
        self._lock = threading.Lock()
        self.clock = clock
        self.sleep = sleep
        self.refusals = 0

    def wait(self, key: tuple[str, str, str]) -> None:
        """Block until `key` may send (a no-op for endpoints never refused)."""
        if key not in self._paces:
            return
        announced = False
        while True:
            with self._lock:
                pace = self._paces.get(key)
                if pace is None:
                    return
                now = self.clock()
                if now >= pace.next_at:
                    pace.next_at = now + pace.interval
                    return
                delay = pace.next_at - now
                say = delay >= 1.0 and not announced and pace.announced_until < pace.next_at
                if say:
                    pace.announced_until = pace.next_at
            if say:
                announced = True
                logger.info(
                    f"burst: {key[2]} {key[1]} on {key[0]} waits {delay:.0f} s, until "
                    f"{said_utc(time.time() + delay)}: Jira refused it with 429 jira-burst-based; "
                    "other endpoints go on",
                    extra={
                        "jira_quota": {"event": "wait", "kind": "burst", "endpoint": key[1], "seconds": delay}
                    },
                )
            self.sleep(delay)

    def refused(self, key: tuple[str, str, str], headers: RateLimitHeaders) -> None:
        """A `jira-burst-based` 429: pause the endpoint for Retry-After and slow it down."""
        wait = headers.retry_after if headers.retry_after is not None else 1.0
        bucket = headers.policies.get(BURST_POLICY)
        with self._lock:
            self.refusals += 1
            pace = self._paces.setdefault(key, _Pace())
            if bucket is not None and bucket.quota:
                window = bucket.window_seconds or 1.0
                pace.interval = max(pace.interval, window / (bucket.quota * SAFE_SHARE))
            else:
                pace.interval = max(pace.interval * 2, FIRST_SLOWDOWN_INTERVAL)
            pace.next_at = max(pace.next_at, self.clock() + wait)
            pace.announced_until = pace.next_at  # said below; waiting workers need not repeat it
            interval = pace.interval
        logger.info(
            f"burst: {key[2]} {key[1]} on {key[0]} waits {wait:.0f} s, until {said_utc(time.time() + wait)}: "
            f"Jira answered 429 jira-burst-based; this endpoint then keeps to {1 / interval:.0f} requests/s, "
            "other endpoints go on",
            extra={"jira_quota": {"event": "wait", "kind": "burst", "endpoint": key[1], "seconds": wait}},
        )

    def succeeded(self, key: tuple[str, str, str]) -> None:
        if key not in self._paces:
            return
        with self._lock:
            pace = self._paces.get(key)
            if pace is None:
                return
            pace.interval *= RECOVERY
            if pace.interval < FORGET_INTERVAL and self.clock() >= pace.next_at:
                del self._paces[key]
