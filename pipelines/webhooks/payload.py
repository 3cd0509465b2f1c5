"""A Jira issue-webhook delivery body, validated one way for the receiver (at the door) and the drain.

The receiver refuses (4xx) what this module refuses, before anything is stored; the drain runs
the same check on every stored delivery before applying it and quarantines what fails (an inbox
written by an older receiver, a hand edit). So "acknowledged" and "applicable" mean the same.

What is checked is what the drain reads (the issue columns of `jira_raw.issues`, the delivery's
changelog): shapes and types, strictly (no string for a number, no number for a string), and
Jira's timestamps and dates parse. Everything else in the body is kept as sent and not judged.
Duplicate object keys are refused: JSON readers disagree on which value counts (Python's and
msgspec's take the last, DuckDB's `json_extract` the first), so the stored payload would say one
thing to the drain and another to an analyst. So are integers beyond 64 bits (orjson cannot
write them back, e.g. into `extra_fields`).

Shapes: Atlassian's webhook page and public Cloud captures (reference/jira-cloud-api.md §6.1;
fixtures under tests/fixtures/webhook_deliveries cite theirs). Dynamic-webhook deliveries carry
`matchedWebhookIds`; admin-webhook deliveries do not (the receiver checks that per route).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

ACCEPTED_EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")
IssueEventName = Literal["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]
# Before year 10000: Python's datetime, which reads the inbox's `jira_timestamp`, ends there.
MAX_TIMESTAMP_MS = 253_402_300_800_000


class DeliveryError(ValueError):
    """Not an acceptable delivery: `status` 400 (not JSON, duplicate keys) or 422 (wrong shape)."""

    def __init__(self, status: int, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.problems = problems or [message]


def _jira_timestamp(value: str) -> str:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{value[:40]!r} is not a Jira timestamp (e.g. 2024-12-29T08:41:23.303+0530)"
        ) from None
    return value


def _jira_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not a date (yyyy-MM-dd)") from None
    return value


Timestamp = Annotated[str, AfterValidator(_jira_timestamp)]
JiraDate = Annotated[str, AfterValidator(_jira_date)]
Id = Annotated[str, Field(min_length=1, max_length=64)] | int
Scalar = str | int | float | bool | None  # changelog from/to: ids, mostly strings


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True, frozen=True)


class NamedRef(_Strict):
    """project / issuetype / priority / resolution / parent."""

    id: Id | None = None
    key: str | None = None
    name: str | None = None


class StatusCategoryRef(_Strict):
    id: Id | None = None
    key: str | None = None


class StatusRef(_Strict):
    id: Id | None = None
    name: str | None = None
    statusCategory: StatusCategoryRef | None = None


class UserRef(_Strict):
    accountId: str | None = None


class IssueFields(_Strict):
    summary: str | None = None
    issuetype: NamedRef | None = None
    status: StatusRef | None = None
    project: NamedRef | None = None
    priority: NamedRef | None = None
    resolution: NamedRef | None = None
    parent: NamedRef | None = None
    assignee: UserRef | None = None
    reporter: UserRef | None = None
    creator: UserRef | None = None
    created: Timestamp | None = None
    updated: Timestamp | None = None
    resolutiondate: Timestamp | None = None
    statuscategorychangedate: Timestamp | None = None
    duedate: JiraDate | None = None
    labels: list[str] | None = None


class DeliveryIssue(_Strict):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    key: Annotated[str, Field(min_length=1, max_length=255)]
    self_url: Annotated[str, Field(alias="self", min_length=1, max_length=2048)]
    fields: IssueFields | None = None


class ChangeItem(_Strict):
    field: str | None = None
    fieldId: str | None = None
    fieldtype: str | None = None
    from_: Scalar = Field(None, alias="from")
    fromString: str | None = None
    to: Scalar = None
    toString: str | None = None


class DeliveryChangelog(_Strict):
    id: Id | None = None
    items: list[ChangeItem] = Field(default_factory=list)


class IssueDelivery(_Strict):
    """A `jira:issue_*` delivery: what routing, keying and the drain rely on."""

    timestamp: Annotated[int, Field(gt=0, lt=MAX_TIMESTAMP_MS, description="epoch milliseconds")]
    webhook_event: IssueEventName = Field(alias="webhookEvent")
    issue: DeliveryIssue
    changelog: DeliveryChangelog | None = None
    user: UserRef | None = None
    matched_webhook_ids: Annotated[list[int], Field(min_length=1, max_length=1000)] | None = Field(
        None, alias="matchedWebhookIds"
    )


class DynamicIssueDelivery(IssueDelivery):
    """A dynamic (REST-registered) webhook's delivery: it names the webhooks it matched."""

    matched_webhook_ids: Annotated[list[int], Field(min_length=1, max_length=1000)] = Field(
        alias="matchedWebhookIds"
    )


D = TypeVar("D", bound=IssueDelivery)


def _unique_keys(pairs: list[tuple[str, Any]]) -> None:
    """object_pairs_hook: only checks (the parsed document is not needed, so nothing is built)."""
    if len(pairs) > 1 and len(pairs) != len(dict(pairs)):
        keys = [key for key, _ in pairs]
        duplicate = next(key for index, key in enumerate(keys) if key in keys[:index])
        raise DeliveryError(
            400,
            f"duplicate JSON key {duplicate[:60]!r}: every key of an object must be unique "
            "(readers disagree on which value counts)",
        )


def _no_constant(name: str) -> Any:
    raise DeliveryError(400, f"body is not valid JSON ({name} is not a JSON value)")


def _int64(text: str) -> int:
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise DeliveryError(422, f"number {text[:30]} is outside the 64-bit integer range JSON stores keep")
    return value


# Python's C scanner with a pairs hook: ~50 us for a 5 KB body, the price of seeing every key.
_KEY_CHECKER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_int=_int64)


def check_json(body: bytes | str) -> None:
    """Raise `DeliveryError` (400) for a body that is not JSON, has an object with a repeated key,
    or an integer beyond 64 bits (the drain's JSON encoder and DuckDB refuse those)."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        _KEY_CHECKER.decode(text)
    except DeliveryError:
        raise
    except (ValueError, RecursionError) as exc:
        raise DeliveryError(400, f"body is not valid JSON ({exc})") from None


def parse_delivery(body: bytes | str, kind: type[D] = IssueDelivery) -> D:  # type: ignore[assignment]
    """Validate a delivery body as `kind`; `DeliveryError` names every problem found."""
    check_json(body)
    try:
        return kind.model_validate_json(body)
    except ValidationError as exc:
        problems = [_describe(error) for error in exc.errors(include_url=False)]
        raise DeliveryError(422, "not a Jira issue webhook: " + "; ".join(problems), problems) from None


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "body"
    if error["loc"] == ("webhookEvent",) and error["type"] == "literal_error":
        return f"webhookEvent: unsupported event {error.get('input')!r}; this endpoint accepts " + ", ".join(
            ACCEPTED_EVENTS
        )
    if error["type"] == "missing":
        return f"{where}: required field is missing"
    return f"{where}: {error['msg']}"
