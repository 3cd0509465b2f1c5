"""Latency, rate limits and failures, as Jira Cloud inflicts them on clients (never on `/_sim/`).

An ASGI middleware reads `SimulatorOptions` on every request, so `PUT /_sim/faults` changes it
while the server runs. In order, per request:

1. latency: `await asyncio.sleep`, so concurrent requests overlap as they do over a WAN;
2. a dropped connection (`drop_rate`): the socket is closed with no response at all;
3. the hourly points quota (OAuth gateway traffic `/ex/jira/...` only; API-token traffic is
   exempt, as in Atlassian's 2026 model): once the pool's points are spent every request on it
   gets 429 `jira-quota-global-based` (or `-tenant-based`) until the top of the next UTC hour of
   the simulated clock; pools, costs and headers are `ratelimit.py`'s;
4. the burst limit (`burst_per_second`): a token bucket per site x endpoint template x method
   (Atlassian's per-method and per-endpoint rates, scaled), in wall-clock time; a refusal is
   429 `jira-burst-based`;
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
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jira_simulator.admin import parse_admin_body
from jira_simulator.model import World
from jira_simulator.options import OptionError, RateLimit, SimulatorOptions
from jira_simulator.ratelimit import (
    QUOTA_REASONS,
    BurstBuckets,
    Pool,
    QuotaLedger,
    burst_entries,
    burst_rate,
    iso_instant,
    joined,
    objects_returned,
    quota_headers,
    refusal_headers,
)
from jira_simulator.requestlog import ADMIN_PREFIX, endpoint_of

_JIRA_REST = re.compile(r"^/(?:site/(?P<site>[^/]+)|ex/jira/(?P<cloud>[^/]+))/rest/")
_5XX_MESSAGES = {
    500: "Internal server error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
# An unauthenticated request cannot be told apart from anyone's: it is not charged to the app.
_UNCHARGED_STATUS = frozenset({401})


@dataclass
class FaultState:
    """Mutable runtime state of the injector: dice, burst buckets, the quota ledger."""

    options: SimulatorOptions
    world: World
    rng: random.Random = field(init=False)
    buckets: BurstBuckets = field(default_factory=BurstBuckets)
    ledger: QuotaLedger = field(init=False)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.options.seed)
        self.ledger = QuotaLedger(self.world.clock)

    def roll(self) -> tuple[float, float, float, int]:
        """One set of dice per request: drop, 429, 5xx, and which 5xx."""
        with self.lock:
            return (
                self.rng.random(),
                self.rng.random(),
                self.rng.random(),
                self.rng.choice(tuple(_5XX_MESSAGES)),
            )

    def pool_for(self, cloud_id: str) -> Pool | None:
        site = self.world.sites.get(cloud_id)
        return self.ledger.pool_for(self.options.rate_limit, cloud_id, site.name if site else None)


def _json(status: int, body: object, headers: dict[str, str]) -> Response:
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json;charset=UTF-8")


def _rate_limited(reason: str, headers: dict[str, str]) -> Response:
    body = {
        "errorMessages": [f"Rate limit exceeded ({reason}). Retry after {headers['Retry-After']} s."],
        "errors": {},
    }
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
        limits = options.rate_limit
        rest = _JIRA_REST.match(scope["path"])
        cloud_id = rest.group("cloud") if rest is not None else None
        pool = state.pool_for(cloud_id) if cloud_id is not None else None
        style = limits.quota_headers
        if pool is not None and style != "beta" and state.ledger.left(pool) <= 0:
            state.ledger.refuse(pool, cloud_id or "")
            headers, entries = quota_headers(style, pool, 0, state.ledger)
            reset = state.ledger.seconds_to_reset()
            refusal = refusal_headers(
                QUOTA_REASONS[pool.policy], reset, pool.quota, state.ledger.reset_instant(), headers
            )
            await _rate_limited(QUOTA_REASONS[pool.policy], {**joined(entries), **refusal})(
                scope, receive, send
            )
            return
        burst = limits.burst_per_second
        burst_info: tuple[float, int] | None = None
        if rest is not None and burst:
            endpoint = endpoint_of(scope)
            rate = burst_rate(burst, scope["method"], endpoint)
            site = rest.group("site") or cloud_id or ""
            wait, tokens = state.buckets.take((site, endpoint, scope["method"]), rate)
            if wait > 0:
                retry = max(1, math.ceil(wait))
                reset = iso_instant(time.time() * 1000 + wait * 1000)
                policy = {"RateLimit-Policy": f'"jira-burst-based";q={rate:g};w=1'}
                await _rate_limited(
                    "jira-burst-based", refusal_headers("jira-burst-based", retry, int(rate), reset, policy)
                )(scope, receive, send)
                return
            burst_info = (rate, tokens)
        if throttle < options.rate_429:
            retry = options.retry_after_seconds
            limit = int(burst or 100)
            reset = iso_instant(time.time() * 1000 + retry * 1000)
            await _rate_limited(
                "jira-burst-based", refusal_headers("jira-burst-based", retry, limit, reset, {})
            )(scope, receive, send)
            return
        if fail < options.fault_rate_5xx:
            headers = {"Retry-After": str(options.retry_after_seconds)} if status_5xx == 503 else {}
            body = {"errorMessages": [_5XX_MESSAGES[status_5xx]], "errors": {}}
            await _json(status_5xx, body, headers)(scope, receive, send)
            return
        if pool is not None:
            await self._charged(scope, receive, send, pool, cloud_id or "", burst_info)
        elif burst_info is not None:
            await self._with_burst_headers(scope, receive, send, *burst_info)
        else:
            await self.app(scope, receive, send)

    async def _with_burst_headers(
        self, scope: Scope, receive: Receive, send: Send, rate: float, tokens: int
    ) -> None:
        """API-token traffic under a burst limit: the bucket's headers on the answer."""
        extra = {
            **joined(burst_entries(rate, tokens)),
            "X-RateLimit-Limit": f"{int(rate)}",
            "X-RateLimit-Remaining": str(tokens),
        }

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_encoded(extra)]}
            await send(message)

        await self.app(scope, receive, tagged)

    async def _charged(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        pool: Pool,
        cloud_id: str,
        burst_info: tuple[float, int] | None,
    ) -> None:
        """Run the request with its response held back, charge its points, then send it."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        ledger = self.state.ledger
        status = next((m["status"] for m in held if m["type"] == "http.response.start"), 200)
        if status in _UNCHARGED_STATUS:
            left = ledger.left(pool)
        else:
            body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
            before = ledger.left(pool)
            left = ledger.charge(pool, cloud_id, 1 + objects_returned(scope["path"], body))
        style = self.state.options.rate_limit.quota_headers
        headers, entries = quota_headers(
            style,
            pool,
            left,
            ledger,
            would_refuse=style == "beta" and status not in _UNCHARGED_STATUS and before <= 0,
        )
        if burst_info is not None:
            entries += burst_entries(*burst_info)
        extra = _encoded({**joined(entries), **headers})
        for message in held:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode()) for k, v in headers.items()]


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
    quota_pool: Literal["global", "tenant"] | None = None
    tenant_points_per_hour: dict[str, int] | None = None
    quota_headers: Literal["enforced", "structured", "beta"] | None = None
    seed: int | None = None


_NOT_NULL = ("latency_ms", "fault_rate_5xx", "drop_rate", "rate_429", "retry_after_seconds")
_NOT_NULL_LIMITS = ("quota_pool", "quota_headers")


class FaultAdmin:
    """`GET /_sim/faults` (settings and the hour's points), `PUT /_sim/faults`, and the quota
    ledger: `GET /_sim/quota` (points per pool, site and simulated hour, every quota refusal),
    `POST /_sim/quota/reset` (forget both)."""

    def __init__(self, state: FaultState) -> None:
        self.state = state

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/_sim/faults", self.show, methods=["GET"]),
            Route("/_sim/faults", self.change, methods=["PUT"]),
            Route("/_sim/quota", self.quota, methods=["GET"]),
            Route("/_sim/quota/reset", self.reset_quota, methods=["POST"]),
        ]

    def _points(self) -> dict | None:
        limits = self.state.options.rate_limit
        if limits.points_per_hour is None:
            return None
        ledger = self.state.ledger
        resets_at = ledger.reset_instant()
        if limits.quota_pool == "global":
            pool = self.state.ledger.pool_for(limits, "", None)
            assert pool is not None
            left = ledger.left(pool)
            return {"used": pool.quota - left, "left": left, "resets_at": resets_at}
        pools = {}
        for cloud_id in self.state.world.sites:
            pool = self.state.pool_for(cloud_id)
            assert pool is not None
            left = ledger.left(pool)
            pools[cloud_id] = {"quota": pool.quota, "used": pool.quota - left, "left": left}
        return {"pools": pools, "resets_at": resets_at}

    def body(self) -> dict:
        o = self.state.options
        limits = o.rate_limit
        return {
            "latency_ms": o.latency_ms,
            "fault_rate_5xx": o.fault_rate_5xx,
            "drop_rate": o.drop_rate,
            "rate_429": o.rate_429,
            "retry_after_seconds": o.retry_after_seconds,
            "burst_per_second": limits.burst_per_second,
            "points_per_hour": limits.points_per_hour,
            "quota_pool": limits.quota_pool,
            "tenant_points_per_hour": dict(limits.tenant_points),
            "quota_headers": limits.quota_headers,
            "seed": o.seed,
            "points": self._points(),
        }

    async def show(self, request: Request) -> Response:
        return JSONResponse(self.body())

    async def quota(self, request: Request) -> Response:
        return JSONResponse(self.state.ledger.snapshot())

    async def reset_quota(self, request: Request) -> Response:
        ledger = self.state.ledger
        with ledger.lock:
            ledger.windows.clear()
            ledger.history.clear()
            ledger.refusals.clear()
            ledger.first_headers_wall_ms = None
        return JSONResponse(ledger.snapshot())

    async def change(self, request: Request) -> Response:
        settings = await parse_admin_body(request, FaultSettings)
        if isinstance(settings, JSONResponse):
            return settings
        given = settings.model_fields_set
        for name in (*_NOT_NULL, *_NOT_NULL_LIMITS):
            if name in given and getattr(settings, name) is None:
                return JSONResponse({"error": f"PUT /_sim/faults: {name} cannot be null"}, 400)
        o = self.state.options
        with self.state.lock:
            for name in _NOT_NULL:
                if name in given:
                    setattr(o, name, getattr(settings, name))
            limits = o.rate_limit

            def pick(name: str, current: object) -> object:
                return getattr(settings, name) if name in given else current

            o.rate_limit = RateLimit(
                burst_per_second=pick("burst_per_second", limits.burst_per_second),  # type: ignore[arg-type]
                points_per_hour=pick("points_per_hour", limits.points_per_hour),  # type: ignore[arg-type]
                quota_pool=pick("quota_pool", limits.quota_pool),  # type: ignore[arg-type]
                tenant_points=dict(pick("tenant_points_per_hour", limits.tenant_points) or {}),  # type: ignore[call-overload]
                quota_headers=pick("quota_headers", limits.quota_headers),  # type: ignore[arg-type]
            )
            if "burst_per_second" in given:
                self.state.buckets.clear()
            if given & {"points_per_hour", "quota_pool", "tenant_points_per_hour"}:
                self.state.ledger.clear()
            if "seed" in given and settings.seed is not None:
                o.seed = settings.seed
                self.state.rng = random.Random(settings.seed)
        try:
            o.__post_init__()
        except OptionError as exc:
            return JSONResponse({"error": f"PUT /_sim/faults: {exc}"}, 400)
        return JSONResponse(self.body())
