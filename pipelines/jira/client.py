"""HTTP for the Jira sources: dlt's retrying session, rate limits and quota, counters, clear errors.

- dlt's `Client` retries 429 (honouring `Retry-After`), 5xx and dropped connections with backoff,
  up to `http.max_attempts` attempts.
- One token bucket per run, shared by all worker threads (`http.max_requests_per_second`).
- OAuth requests draw on the deployment's shared points budget (`quota.QuotaBudget`): reserved
  before sending, settled with the real cost after, the pool corrected from Jira's headers. Waiting
  for the budget happens before a request is sent, so it never uses up a retry attempt.
- A 429 is handled by its `RateLimit-Reason`, as Atlassian advises: quota (`jira-quota-*`) pauses
  every request on the pool until the reset (through the shared budget, so every process
  pauses); burst (`jira-burst-based`) slows that endpoint only; per-issue writes
  (`jira-per-issue-on-write`) delay only that request; a 429 without a known reason pauses every
  worker of the run for its `Retry-After`.
- Any other 4xx fails naming the request (method, path, status, Jira's errorMessages); nothing is
  ever skipped silently.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
import requests
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from pipelines.config import HttpConfig
from pipelines.jira.quota.budget import BudgetStats, QuotaBudget
from pipelines.jira.quota.burst import EndpointPacer, endpoint_key
from pipelines.jira.quota.headers import (
    BURST_REASON,
    PER_ISSUE_REASON,
    RateLimitHeaders,
    parse_rate_limit_headers,
)

logger = logging.getLogger("pipelines.jira.http")
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504, 520, 522, 524})
# Exponential backoff base (seconds) when no Retry-After is given (0.5, 1, 2, ... s).
BACKOFF_FACTOR = 0.5
# Longest wait honoured: Atlassian's hourly points quota answers 429 with Retry-After up to the
# top of the hour, and every worker must wait it out (retrying earlier only burns attempts).
MAX_RETRY_DELAY = 3600.0
_WHAT_TO_DO = {
    400: "the request was rejected; check the site's `issues.jql` in the sync file",
    401: "the credentials were refused; re-connect the site (OAuth) or check the API token variables",
    403: "the account lacks a permission or OAuth scope for this; re-connect with the admin scopes "
    "or grant the permission in Jira",
    404: "the resource does not exist on this site; check the site's url / cloud_id",
    410: "Jira removed this API",
}


@dataclass
class HttpStats:
    """Counters shared by every request of one run (reported as run metadata)."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    connection_errors: int = 0
    burst_refusals: int = 0
    by_status: Counter = field(default_factory=Counter)
    budget: BudgetStats | None = None  # points spent and quota waits, when OAuth requests were charged
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, status: int | None) -> None:
        with self._lock:
            self.requests += 1
            if status is None:
                self.connection_errors += 1
                self.retries += 1
                return
            self.by_status[status] += 1
            if status == 429:
                self.throttled += 1
            if status in RETRYABLE_STATUS:
                self.retries += 1

    def burst_refused(self) -> None:
        with self._lock:
            self.burst_refusals += 1

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            counts: dict[str, Any] = {
                "requests": self.requests,
                "retries": self.retries,
                "throttled": self.throttled,
                "connection_errors": self.connection_errors,
                "burst_refusals": self.burst_refusals,
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            }
        if self.budget is not None:
            counts["quota"] = self.budget.as_dict()
        return counts


class RateLimiter:
    """Token bucket shared by threads; `pause` stops every caller until a deadline (429 quota)."""

    def __init__(self, rate_per_second: float, burst: float | None = None) -> None:
        self.rate = float(rate_per_second)
        self.capacity = max(1.0, burst if burst is not None else min(self.rate, 10.0))
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                if now < self._paused_until:
                    wait = self._paused_until - now
                else:
                    self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                    self._updated = now
                    if self._tokens >= 1.0:
                        self._tokens -= 1.0
                        return
                    wait = (1.0 - self._tokens) / self.rate
            time.sleep(wait)

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            self._tokens = 0.0


def retry_after_seconds(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, min(float(value), MAX_RETRY_DELAY))
    except ValueError:
        return 1.0


class ThrottledAdapter(HTTPAdapter):
    """Every attempt (first try and retries) takes a limiter token, the endpoint's pace and its
    points from the budget; it is counted, and its 429 handled by reason."""

    def __init__(
        self,
        limiter: RateLimiter,
        stats: HttpStats,
        pool_maxsize: int,
        budget: QuotaBudget | None = None,
        pacer: EndpointPacer | None = None,
    ) -> None:
        super().__init__(pool_connections=4, pool_maxsize=pool_maxsize)
        self.limiter = limiter
        self.stats = stats
        self.budget = budget
        self.pacer = pacer or EndpointPacer()

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        method, url = request.method or "GET", request.url or ""
        key = endpoint_key(method, url)
        waiting_since = time.monotonic()
        self.limiter.acquire()
        self.pacer.wait(key)
        ticket = None
        if self.budget is not None:
            body = request.body.encode() if isinstance(request.body, str) else request.body
            params = dict(parse_qsl(urlsplit(url).query))
            ticket = self.budget.acquire(method, url, params, body if isinstance(body, bytes) else None)
        waited = time.monotonic() - waiting_since
        if waited >= 1.0:
            # A quota pause can outlast the bearer token the request was prepared with (both an
            # hour at most): take the current one, and let a 401 after the wait refresh again.
            request._jira_waited = waited  # type: ignore[attr-defined]
            authorize = getattr(request, "_jira_authorize", None)
            if authorize is not None:
                authorize(request)
        try:
            response = super().send(request, *args, **kwargs)
        except (requests.ConnectionError, requests.Timeout):
            self.stats.record(None)
            if ticket is not None:  # it may have reached Jira: charge the base point
                self.budget.settle(ticket, method, url, None, b"", RateLimitHeaders())  # type: ignore[union-attr]
            raise
        except BaseException:
            if ticket is not None:
                self.budget.release(ticket)  # type: ignore[union-attr]
            raise
        self.stats.record(response.status_code)
        headers = (
            parse_rate_limit_headers(response.headers)
            if ticket is not None or response.status_code == 429
            else None
        )
        if ticket is not None:
            self.budget.settle(ticket, method, url, response.status_code, response.content, headers)  # type: ignore[union-attr,arg-type]
        if response.status_code == 429 and headers is not None:
            self._refused(key, headers, response)
        else:
            self.pacer.succeeded(key)
        return response

    def _refused(
        self, key: tuple[str, str, str], headers: RateLimitHeaders, response: requests.Response
    ) -> None:
        if headers.is_quota_refusal and self.budget is not None:
            return  # the shared budget holds every request on the pool until the reset
        if headers.reason == BURST_REASON:
            self.stats.burst_refused()
            self.pacer.refused(key, headers)
        elif headers.reason == PER_ISSUE_REASON:
            return  # only writes to that issue wait (dlt retries this one after Retry-After)
        else:
            seconds = retry_after_seconds(response)
            self.limiter.pause(seconds)
            until = datetime.now(UTC) + timedelta(seconds=seconds)
            logger.warning(
                f"{describe_request(response.request)}: Jira answered 429 (RateLimit-Reason "
                f"{headers.reason or 'not given'}): every worker of this run waits {seconds:.0f} s, "
                f"until {until:%Y-%m-%d %H:%M:%S} UTC (Retry-After), then retries",
                extra={
                    "jira_wait": {
                        "reason": headers.reason,
                        "seconds": seconds,
                        "until": f"{until:%Y-%m-%dT%H:%M:%SZ}",
                    }
                },
            )


class JiraRequestError(requests.HTTPError):
    """A request Jira refused; the message names the request and says what to do."""


def describe_request(request: requests.PreparedRequest | requests.Request) -> str:
    """METHOD /path (the host and query are left out: they may carry site or token details)."""
    return f"{request.method} {urlsplit(request.url or '').path}"


def jira_error_messages(response: requests.Response) -> str:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return ""
    if not isinstance(body, dict):
        return ""
    messages = [str(m) for m in body.get("errorMessages") or []]
    errors = body.get("errors") or {}
    if isinstance(errors, dict):
        messages += [f"{k}: {v}" for k, v in errors.items()]
    for key in ("message", "error_description", "error"):
        if not messages and body.get(key):
            messages.append(str(body[key]))
    return "; ".join(messages)[:500]


_parsing = 0
_parsing_lock = threading.Lock()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while a page is parsed (a page allocates ~100k containers at once).

    JSON trees hold no reference cycles, yet each burst of allocations triggers collections that
    walk every tracked object; pausing them roughly halves parse time. Re-enabled when the last
    parsing thread is done, and only if it was enabled before.
    """
    global _parsing
    with _parsing_lock:
        if _parsing == 0:
            gc_paused.was_enabled = gc.isenabled()  # type: ignore[attr-defined]
            gc.disable()
        _parsing += 1
    try:
        yield
    finally:
        with _parsing_lock:
            _parsing -= 1
            if _parsing == 0 and gc_paused.was_enabled:  # type: ignore[attr-defined]
                gc.enable()


def raise_for_jira_status(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Response hook: parse JSON once with orjson, or raise a JiraRequestError naming the request.

    It runs on every attempt; 429/5xx raised here are retried by dlt's retry policy (it reads the
    status from the HTTPError), other 4xx fail at once.
    """
    check_jira_status(response)
    with gc_paused():
        parsed = orjson.loads(response.content) if response.content else None
    response.json = lambda **_: parsed  # type: ignore[method-assign]


def check_jira_status(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Response hook: raise a JiraRequestError naming the request for a 4xx/5xx; no parsing
    (for answers the caller decodes itself, see `pages`)."""
    status = response.status_code
    if status < 400:
        return
    what = describe_request(response.request)
    messages = jira_error_messages(response)
    advice = _WHAT_TO_DO.get(status, "")
    if status == 429:
        advice = f"rate limited (Retry-After {response.headers.get('Retry-After', '?')} s) after all retries"
    elif status >= 500:
        advice = "Jira kept failing after all retries; run again later"
    text = f"{what} -> HTTP {status}"
    if messages:
        text += f": {messages}"
    if advice:
        text += f" ({advice})"
    raise JiraRequestError(text, response=response)


class JiraHttp:
    """The HTTP layer of one run: retrying sessions (one per thread), limiter and stats."""

    def __init__(self, config: HttpConfig | None = None, budget: QuotaBudget | None = None) -> None:
        self.config = config or HttpConfig()
        self.budget = budget
        self.stats = HttpStats(budget=budget.stats if budget is not None else None)
        self.limiter = RateLimiter(self.config.max_requests_per_second)
        self._client = Client(
            request_timeout=self.config.timeout_seconds,
            raise_for_status=False,
            request_max_attempts=self.config.max_attempts,
            request_backoff_factor=BACKOFF_FACTOR,
            request_max_retry_delay=MAX_RETRY_DELAY,
            respect_retry_after_header=True,
            status_codes=sorted(RETRYABLE_STATUS),
        )
        pool = max(4, self.config.concurrency * 2)
        self._client._adapter = ThrottledAdapter(self.limiter, self.stats, pool_maxsize=pool, budget=budget)

    @property
    def session(self) -> requests.Session:
        """This thread's retrying session (requests sessions are not shared across threads)."""
        return self._client.session

    def rest_client(self, base_url: str, auth: AuthBase | None) -> RESTClient:
        """A RESTClient for this thread; build one per worker thread."""
        return RESTClient(base_url=base_url, auth=auth, session=self.session)

    def get_json(self, client: RESTClient, path: str, params: dict | None = None) -> Any:
        response = client.get(path, params=params, hooks={"response": [raise_for_jira_status]})
        return response.json()

    def post_json(self, client: RESTClient, path: str, body: dict) -> Any:
        response = client.post(path, json=body, hooks={"response": [raise_for_jira_status]})
        return response.json()
