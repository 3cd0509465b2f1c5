"""The parts of a Jira issue-webhook delivery the receiver relies on (pydantic, validated from bytes).

Only what the receiver needs to route and key a delivery is modelled; the rest of the body is kept
as Jira sent it (the inbox stores the raw JSON) and is interpreted by the drain.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ACCEPTED_EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")

IssueEventName = Literal["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]


class WebhookIssue(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str = Field(min_length=1, max_length=64)
    key: str = Field(min_length=1, max_length=255)
    self_url: str = Field(alias="self", min_length=1, max_length=2048)


class IssueWebhookPayload(BaseModel):
    """Envelope of `jira:issue_*` deliveries from a dynamic (REST-registered) webhook."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    # epoch milliseconds; bounded so that it always fits SQLite's 64-bit INTEGER
    timestamp: int = Field(gt=0, lt=10**15, description="epoch milliseconds")
    webhook_event: IssueEventName = Field(alias="webhookEvent")
    issue: WebhookIssue
    matched_webhook_ids: list[int] = Field(alias="matchedWebhookIds", min_length=1, max_length=1000)


class PayloadError(ValueError):
    """The body is not an acceptable delivery; `status` is 400 (not JSON) or 422 (wrong shape)."""

    def __init__(self, status: int, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.problems = problems or []


def parse_payload(body: bytes) -> IssueWebhookPayload:
    """Validate a delivery body, raising `PayloadError` that names every problem."""
    try:
        return IssueWebhookPayload.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(error["type"] in ("json_invalid", "json_type") for error in errors):
            detail = errors[0]["msg"]
            raise PayloadError(400, f"body is not valid JSON ({detail})") from None
        problems = [_describe(error) for error in errors]
        raise PayloadError(422, "not a Jira issue webhook: " + "; ".join(problems), problems) from None


def _describe(error: dict) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "body"
    if error["loc"] == ("webhookEvent",) and error["type"] == "literal_error":
        return f"webhookEvent: unsupported event {error.get('input')!r}; this endpoint accepts " + ", ".join(
            ACCEPTED_EVENTS
        )
    if error["type"] == "missing":
        return f"{where}: required field is missing"
    return f"{where}: {error['msg']}"


def site_base_url(issue_self: str) -> str:
    """The Jira site a delivery came from: `issue.self` up to `/rest/api/...`, normalised.

    `https://Acme.atlassian.net:443/rest/api/2/issue/10040` -> `https://acme.atlassian.net`.
    Raises ValueError when the URL is not a Jira REST URL.
    """
    marker = issue_self.find("/rest/api/")
    base = _site_prefix(issue_self[:marker]) if marker > 0 else None
    if base is None:
        raise ValueError(f"issue.self {issue_self!r} is not a Jira REST URL (https://<site>/rest/api/...)")
    return base


@lru_cache(maxsize=1024)
def _site_prefix(prefix: str) -> str | None:
    """Normalised site URL for the part of `issue.self` before `/rest/api/` (None if it is not one)."""
    parts = urlsplit(prefix)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return None
    return normalise_site_url(prefix)


def normalise_site_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no trailing slash: comparable site URLs."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path.rstrip("/"), "", ""))
