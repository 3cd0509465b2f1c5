"""Counts of requests served, per method, endpoint template and status (`GET /_sim/requests`).

Tests and benchmarks read these to prove how a client behaved (how many search pages, how many
retries after a 429). Counting is one dict increment on the event loop, cheap enough for the
100k-issue benchmark. `/_sim/...` calls are not counted. A connection the fault injector dropped
is counted with status `dropped`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ADMIN_PREFIX = "/_sim/"


def template_from_params(path: str, path_params: dict[str, object]) -> str:
    """`/site/acme/rest/api/3/issue/ABC-1` -> `/site/{site_name}/rest/api/{version}/issue/{issue}`.

    Path params are in template order (outer mount first), so each segment takes the first
    unused parameter whose value it equals.
    """
    if not path_params:
        return path
    remaining = [(name, str(value)) for name, value in path_params.items()]
    segments = path.split("/")
    for index, segment in enumerate(segments):
        for position, (name, value) in enumerate(remaining):
            if segment == value:
                segments[index] = f"{{{name}}}"
                del remaining[position]
                break
    return "/".join(segments)


def route_template(routes: Iterable[BaseRoute], scope: Scope) -> str | None:
    """The template of the route that will serve `scope` (mounts followed), before routing runs."""
    for route in routes:
        match, child = route.matches(scope)
        if match is not Match.FULL:
            continue
        if isinstance(route, Mount):
            inner = route_template(route.routes, {**scope, **child})
            return route.path + inner if inner is not None else None
        if isinstance(route, Route):
            return route.path
        return scope["path"]
    return None


def endpoint_of(scope: Scope) -> str:
    """The endpoint template after routing ran; the raw path when no route matched."""
    if "route" in scope:
        return template_from_params(scope["path"], scope.get("path_params") or {})
    app = scope.get("app")
    routes = getattr(app, "routes", None)
    found = route_template(routes, scope) if routes is not None else None
    return found or scope["path"]


class RequestLog:
    """The counters, shared by the middleware and the `/_sim/requests` endpoints."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str]] = Counter()

    def record(self, method: str, endpoint: str, status: str) -> None:
        self.counts[(method, endpoint, status)] += 1

    def snapshot(self) -> dict:
        rows = [
            {"method": m, "endpoint": e, "status": s, "count": c}
            for (m, e, s), c in sorted(self.counts.items())
        ]
        return {"total": sum(self.counts.values()), "requests": rows}

    def reset(self) -> None:
        self.counts.clear()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/_sim/requests", self._list, methods=["GET"]),
            Route("/_sim/requests/reset", self._reset, methods=["POST"]),
        ]

    async def _list(self, request: Request) -> Response:
        return JSONResponse(self.snapshot())

    async def _reset(self, request: Request) -> Response:
        self.reset()
        return JSONResponse({"total": 0, "requests": []})


class RequestLogMiddleware:
    """Outermost middleware: sees every answer, including the fault injector's 429s and 5xx."""

    def __init__(self, app: ASGIApp, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        status = "dropped"

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.log.record(scope["method"], endpoint_of(scope), status)
