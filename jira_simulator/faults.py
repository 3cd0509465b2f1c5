"""Latency, rate limits and failures, as Jira Cloud inflicts them on clients (never on `/_sim/`).

An ASGI middleware reads `SimulatorOptions` on every request, so `PUT /_sim/faults` changes it
while the server runs. In order, per request:

1. latency: `await asyncio.sleep`, so concurrent requests overlap as they do over a WAN;
2. a dropped connection (`drop_rate`): the socket is closed with no response at all;
3. the hourly points quota (OAuth gateway traffic `/ex/jira/...` only; API-token traffic is
   exempt, as in Atlassian's 2026 model): once the hour's points are spent every request gets
   429 `jira-quota-global-based` until the top of the next UTC hour of the simulated clock.
   Cost: 1 point per request, plus 1 per issue/project/other object returned, 2 per user or
   group-member object (paths with `/user`, `/group`, `/myself`, `/role`);
4. the burst limit (`burst_per_second`): a token bucket per site x endpoint template x method,
   GET and POST at the limit, PUT and DELETE at half of it (Atlassian's 100/100/50/50), in
   wall-clock time; a refusal is 429 `jira-burst-based`;
5. random 429 (`rate_429`) and random 5xx (`fault_rate_5xx`: 500/502/503/504, JSON body).

The dice come from one `random.Random(seed)`, so a sequential client sees the same faults on
every run with the same seed.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jira_simulator.admin import parse_admin_body
from jira_simulator.model import World
from jira_simulator.options import OptionError, RateLimit, SimulatorOptions
from jira_simulator.requestlog import ADMIN_PREFIX, endpoint_of

HOUR_MS = 3_600_000
NEAR_LIMIT_SHARE = 0.2
_JIRA_REST = re.compile(r"^/(?:site/(?P<site>[^/]+)|ex/jira/(?P<cloud>[^/]+))/rest/")
_IDENTITY_PATH = re.compile(r"/(user|users|group|groups|myself|role)\b")
_LISTS = ("issues", "values", "entities", "results", "issueChangeLogs")
_5XX_MESSAGES = {
    500: "Internal server error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


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


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class FaultState:
    """Mutable runtime state of the injector: dice, buckets, the hour's points."""

    options: SimulatorOptions
    world: World
    rng: random.Random = field(init=False)
    buckets: dict[tuple[str, str, str], _Bucket] = field(default_factory=dict)
    points_hour: int = -1
    points_used: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.options.seed)

    def roll(self) -> tuple[float, float, float, int]:
        """One set of dice per request: drop, 429, 5xx, and which 5xx."""
        with self.lock:
            return (
                self.rng.random(),
                self.rng.random(),
                self.rng.random(),
                self.rng.choice(tuple(_5XX_MESSAGES)),
            )

    # -- points quota (simulated clock) --

    def _hour(self) -> int:
        hour = self.world.clock.now_ms() // HOUR_MS
        if hour != self.points_hour:
            self.points_hour, self.points_used = hour, 0
        return hour

    def points_left(self) -> int | None:
        quota = self.options.rate_limit.points_per_hour
        if quota is None:
            return None
        with self.lock:
            self._hour()
            return max(quota - self.points_used, 0)

    def charge(self, points: int) -> None:
        with self.lock:
            self._hour()
            self.points_used += points

    def seconds_to_reset(self) -> int:
        now = self.world.clock.now_ms()
        return max(1, math.ceil(((now // HOUR_MS + 1) * HOUR_MS - now) / 1000))

    # -- burst (wall clock) --

    def take_burst_token(self, key: tuple[str, str, str], rate: float) -> float:
        """0 when a token was taken, else the seconds until the next one."""
        now = time.monotonic()
        with self.lock:
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = _Bucket(tokens=rate, stamp=now)
            bucket.tokens = min(rate, bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / rate


def _burst_rate(limit: float, method: str) -> float:
    return limit / 2 if method in ("PUT", "DELETE", "PATCH") else limit


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(status: int, body: object, headers: dict[str, str]) -> Response:
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json;charset=UTF-8")


def _rate_limited(
    reason: str, retry_after: int, limit: int, reset_ms: int, extra: dict[str, str]
) -> Response:
    headers = {
        "Retry-After": str(retry_after),
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": _iso(reset_ms),
        "RateLimit-Reason": reason,
        **extra,
    }
    body = {"errorMessages": [f"Rate limit exceeded ({reason}). Retry after {retry_after} s."], "errors": {}}
    return _json(429, body, headers)


class FaultInjector:
    """ASGI middleware injecting the configured faults into every Jira-facing request."""

    def __init__(self, app: ASGIApp, state: FaultState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        state, options = self.state, self.state.options
        if options.latency_ms > 0:
            await asyncio.sleep(options.latency_ms / 1000)
        drop, throttle, fail, status_5xx = state.roll()
        if drop < options.drop_rate:
            await _drop_connection(receive)
            return
        rest = _JIRA_REST.match(scope["path"])
        oauth = rest is not None and rest.group("cloud") is not None
        quota = options.rate_limit.points_per_hour
        quota_headers: dict[str, str] = {}
        if oauth and quota is not None:
            left = state.points_left() or 0
            quota_headers = self._quota_headers(quota, left)
            if left <= 0:
                reset = state.seconds_to_reset()
                reset_ms = state.world.clock.now_ms() + reset * 1000
                await _rate_limited("jira-quota-global-based", reset, quota, reset_ms, quota_headers)(
                    scope, receive, send
                )
                return
        burst = options.rate_limit.burst_per_second
        if rest is not None and burst:
            rate = _burst_rate(burst, scope["method"])
            site = rest.group("site") or rest.group("cloud")
            wait = state.take_burst_token((site, endpoint_of(scope), scope["method"]), rate)
            if wait > 0:
                retry = max(1, math.ceil(wait))
                policy = {"RateLimit-Policy": f'"jira-burst-based";q={int(rate)};w=1'}
                reset_ms = int(time.time() * 1000 + wait * 1000)
                await _rate_limited("jira-burst-based", retry, int(rate), reset_ms, policy)(
                    scope, receive, send
                )
                return
        if throttle < options.rate_429:
            retry = options.retry_after_seconds
            limit = int(burst or 100)
            reset_ms = int(time.time() * 1000) + retry * 1000
            await _rate_limited("jira-burst-based", retry, limit, reset_ms, {})(scope, receive, send)
            return
        if fail < options.fault_rate_5xx:
            headers = {"Retry-After": str(options.retry_after_seconds)} if status_5xx == 503 else {}
            body = {"errorMessages": [_5XX_MESSAGES[status_5xx]], "errors": {}}
            await _json(status_5xx, body, headers)(scope, receive, send)
            return
        if oauth and quota is not None:
            await self._charged(scope, receive, send, quota)
        else:
            await self.app(scope, receive, send)

    def _quota_headers(self, quota: int, left: int) -> dict[str, str]:
        headers = {
            "RateLimit-Policy": f'"global-app-quota";q={quota};w=3600',
            "X-RateLimit-Limit": str(quota),
            "X-RateLimit-Remaining": str(left),
        }
        if left < quota * NEAR_LIMIT_SHARE:
            headers["RateLimit"] = f'"global-app-quota";r={left};t={self.state.seconds_to_reset()}'
            headers["X-RateLimit-NearLimit"] = "true"
        return headers

    async def _charged(self, scope: Scope, receive: Receive, send: Send, quota: int) -> None:
        """Run the request with its response held back, charge its points, then send it."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        self.state.charge(1 + objects_returned(scope["path"], body))
        left = self.state.points_left() or 0
        extra = [(k.lower().encode(), v.encode()) for k, v in self._quota_headers(quota, left).items()]
        for message in held:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)


async def _drop_connection(receive: Receive) -> None:
    """Close the client's connection without a response (under uvicorn: abort the transport).

    uvicorn answers 500 when an app returns without a response, so the transport is taken from
    its request cycle (the owner of `receive`) and aborted; the client sees the connection reset
    or closed with no status line. Other servers get an exception, which they turn into a reset
    or a 500.
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionAbortedError("fault injection: dropped connection")
    transport.abort()
    await asyncio.sleep(0)  # let uvicorn see the connection lost before the app returns


class FaultSettings(BaseModel):
    """`PUT /_sim/faults`: any subset of the fault options (null turns a limit off)."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: int | None = Field(default=None, ge=0, le=60_000)
    fault_rate_5xx: float | None = Field(default=None, ge=0, le=1)
    drop_rate: float | None = Field(default=None, ge=0, le=1)
    rate_429: float | None = Field(default=None, ge=0, le=1)
    retry_after_seconds: int | None = Field(default=None, ge=0, le=3600)
    burst_per_second: float | None = Field(default=None, gt=0)
    points_per_hour: int | None = Field(default=None, gt=0)
    seed: int | None = None


class FaultAdmin:
    """`GET /_sim/faults` (settings and the hour's points) and `PUT /_sim/faults`."""

    def __init__(self, state: FaultState) -> None:
        self.state = state

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/_sim/faults", self.show, methods=["GET"]),
            Route("/_sim/faults", self.change, methods=["PUT"]),
        ]

    def body(self) -> dict:
        o = self.state.options
        left = self.state.points_left()
        reset_ms = self.state.world.clock.now_ms() + self.state.seconds_to_reset() * 1000
        return {
            "latency_ms": o.latency_ms,
            "fault_rate_5xx": o.fault_rate_5xx,
            "drop_rate": o.drop_rate,
            "rate_429": o.rate_429,
            "retry_after_seconds": o.retry_after_seconds,
            "burst_per_second": o.rate_limit.burst_per_second,
            "points_per_hour": o.rate_limit.points_per_hour,
            "seed": o.seed,
            "points": None
            if left is None
            else {"used": self.state.points_used, "left": left, "resets_at": _iso(reset_ms)},
        }

    async def show(self, request: Request) -> Response:
        return JSONResponse(self.body())

    async def change(self, request: Request) -> Response:
        settings = await parse_admin_body(request, FaultSettings)
        if isinstance(settings, JSONResponse):
            return settings
        given = settings.model_fields_set
        o = self.state.options
        with self.state.lock:
            for name in ("latency_ms", "fault_rate_5xx", "drop_rate", "rate_429", "retry_after_seconds"):
                if name in given:
                    value = getattr(settings, name)
                    if value is None:
                        return JSONResponse({"error": f"PUT /_sim/faults: {name} cannot be null"}, 400)
                    setattr(o, name, value)
            limits = o.rate_limit
            o.rate_limit = RateLimit(
                burst_per_second=settings.burst_per_second
                if "burst_per_second" in given
                else limits.burst_per_second,
                points_per_hour=settings.points_per_hour
                if "points_per_hour" in given
                else limits.points_per_hour,
            )
            if "burst_per_second" in given:
                self.state.buckets.clear()
            if "points_per_hour" in given:
                self.state.points_used = 0
            if "seed" in given and settings.seed is not None:
                o.seed = settings.seed
                self.state.rng = random.Random(settings.seed)
        try:
            o.__post_init__()
        except OptionError as exc:
            return JSONResponse({"error": f"PUT /_sim/faults: {exc}"}, 400)
        return JSONResponse(self.body())
