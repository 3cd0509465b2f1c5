"""Jira's dynamic-webhook shapes (REST v3 `/webhook`) and the registration we want per site."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Jira rejects an empty `jqlFilter` ("Empty JQL search not supported") and its dynamic-webhook
# validator refuses `IS NOT EMPTY`; `project != null` is the all-issues filter Jira accepts
# (ShipfoxHQ/shipfox#1272, verified against a live site).
ALL_ISSUES_JQL = "project != null"

# Webhooks registered through the REST API expire 30 days after creation or refresh.
WEBHOOK_LIFETIME = timedelta(days=30)


def parse_jira_instant(value: object) -> datetime:
    """An instant as Jira writes it: epoch milliseconds (the schema) or ISO 8601 (the examples)."""
    if isinstance(value, bool):
        raise ValueError(f"expected epoch milliseconds or an ISO 8601 date-time, got {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+", text):
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"expected epoch milliseconds or an ISO 8601 date-time, got {value!r}") from exc
        if parsed.tzinfo is None:
            raise ValueError(f"date-time {value!r} has no UTC offset")
        return parsed.astimezone(UTC)
    raise ValueError(f"expected epoch milliseconds or an ISO 8601 date-time, got {value!r}")


def normalize_jql(jql: str) -> str:
    """Whitespace-insensitive form used to compare a listed filter with the configured one."""
    return " ".join(jql.split())


class RegisteredWebhook(BaseModel):
    """One webhook of this app as `GET /rest/api/3/webhook` lists it."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    id: int
    events: tuple[str, ...]
    jql_filter: str = Field(alias="jqlFilter")
    url: str
    field_ids_filter: tuple[str, ...] | None = Field(default=None, alias="fieldIdsFilter")
    expires_at: datetime = Field(alias="expirationDate")

    @field_validator("expires_at", mode="before")
    @classmethod
    def _expiration(cls, value: object) -> datetime:
        return parse_jira_instant(value)

    def days_left(self, jira_now: datetime) -> float:
        return (self.expires_at - jira_now).total_seconds() / 86400


class WebhookSpec(BaseModel):
    """The registration a site should have: built from the sync file's webhook settings."""

    model_config = ConfigDict(frozen=True)

    url: str
    events: tuple[str, ...]
    jql_filter: str

    def request_body(self) -> dict:
        return {"url": self.url, "webhooks": [{"events": list(self.events), "jqlFilter": self.jql_filter}]}

    def matches(self, webhook: RegisteredWebhook) -> bool:
        """Same URL, same events (any order), same filter (whitespace aside)."""
        return (
            webhook.url == self.url
            and set(webhook.events) == set(self.events)
            and normalize_jql(webhook.jql_filter) == normalize_jql(self.jql_filter)
        )
