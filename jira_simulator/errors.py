"""Error shapes of Jira Cloud: the REST `ErrorCollection`, the API gateway's `{code, message}`, and
the RFC 7807 problem Jira answers for a path or method no REST endpoint serves.

The RFC 7807 shapes were measured on a live Jira Cloud site (brekkylab/backlot,
`backlot/errors/atlassian.py`, 2026-09-17..30): an unknown path under `/rest/` (also an unknown API
version, or a path extending a served one) is 404 `{"type":"about:blank","title":"Not Found",
"status":404,"detail":"No endpoint GET /rest/api/3/nope.","instance":"/rest/api/3/nope"}` whatever the
credential or `Accept`; a method the path does not take is 405 with `detail` `Method 'PUT' is not
supported.` and an `Allow` header; an `OPTIONS` is 200 with an empty body and `Allow` (no spaces).
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match

PROBLEM_JSON = "application/problem+json;charset=UTF-8"
# The REST surfaces: what follows the site (`/site/<name>`) or gateway (`/ex/jira/<cloudId>`) prefix
# is the path Jira itself sees, which the problem's `instance` names.
_REST_PATH = re.compile(r"^/(?:site/[^/]+|ex/jira/[^/]+)(/rest(?:/.*)?)$")


class OrjsonResponse(Response):
    media_type = "application/json;charset=UTF-8"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class JiraError(Exception):
    """A Jira REST error, Atlassian's `ErrorCollection`: `{"errorMessages": [...], "errors": {...}}`."""

    def __init__(
        self,
        status: int,
        *messages: str,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__("; ".join(messages) or str(errors))
        self.status = status
        self.messages = list(messages)
        self.errors = errors or {}
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return {"errorMessages": self.messages, "errors": self.errors}


class GatewayError(Exception):
    """An error answered by the API gateway (api.atlassian.com) before Jira sees the request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(*messages: str, errors: dict[str, str] | None = None) -> JiraError:
    return JiraError(400, *messages, errors=errors)


def not_found(message: str) -> JiraError:
    return JiraError(404, message)


async def jira_error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, JiraError)
    return OrjsonResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def gateway_error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return OrjsonResponse({"code": exc.status, "message": exc.message}, status_code=exc.status)


def vendor_rest_path(path: str) -> str | None:
    """The path Jira sees (`/rest/api/3/...`) for a path under a REST surface, else None."""
    match = _REST_PATH.match(path)
    return match.group(1) if match else None


class ProblemResponse(OrjsonResponse):
    media_type = PROBLEM_JSON


def problem(status: int, detail: str, instance: str, headers: dict[str, str] | None = None) -> Response:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    return ProblemResponse(body, status_code=status, headers=headers)


def no_endpoint(method: str, vendor_path: str) -> Response:
    return problem(404, f"No endpoint {method} {vendor_path}.", vendor_path)


def allowed_methods(request: Request) -> list[str]:
    """Every method some REST route takes at this path (Starlette's 405 names only the first route)."""
    routes: list[BaseRoute] = getattr(request.app.state, "rest_routes", [])
    scope = dict(request.scope)
    methods: list[str] = []
    for route in routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            methods += [m for m in getattr(route, "methods", None) or () if m != "HEAD" and m not in methods]
    return methods


async def http_error_response(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 as Jira answers them on the REST surfaces; plain text elsewhere."""
    assert isinstance(exc, HTTPException)
    vendor_path = vendor_rest_path(request.url.path)
    method = request.method
    if vendor_path is not None and exc.status_code == 404:
        return no_endpoint(method, vendor_path)
    if vendor_path is not None and exc.status_code == 405:
        allowed = allowed_methods(request) or (exc.headers or {}).get("Allow", "").split(", ")
        if method == "OPTIONS":
            return Response(
                b"",
                status_code=200,
                media_type="text/html;charset=UTF-8",
                headers={"Allow": ",".join([*allowed, "HEAD", "OPTIONS"])},
            )
        return problem(
            405, f"Method '{method}' is not supported.", vendor_path, {"Allow": ", ".join(allowed)}
        )
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


EXCEPTION_HANDLERS = {
    JiraError: jira_error_response,
    GatewayError: gateway_error_response,
    HTTPException: http_error_response,
}
