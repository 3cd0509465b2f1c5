"""Error shapes of Jira Cloud: the REST `ErrorCollection` and the API gateway's `{code, message}`."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response


class OrjsonResponse(Response):
    media_type = "application/json;charset=UTF-8"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class JiraError(Exception):
    """A Jira REST error: `{"errorMessages": [...], "errors": {...}}` (plus `warningMessages` for JQL)."""

    def __init__(
        self,
        status: int,
        *messages: str,
        errors: dict[str, str] | None = None,
        warnings: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__("; ".join(messages) or str(errors))
        self.status = status
        self.messages = list(messages)
        self.errors = errors or {}
        self.warnings = warnings
        self.headers = headers

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"errorMessages": self.messages, "errors": self.errors}
        if self.warnings is not None:
            body["warningMessages"] = self.warnings
        return body


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


EXCEPTION_HANDLERS = {JiraError: jira_error_response, GatewayError: gateway_error_response}
