"""Webhook deliveries as a real network treats them: some lost, some late, some duplicated.

Jira delivers webhooks at least once and not in order; a delivery can fail for good after its
retries, arrive minutes late, or arrive twice with the same `X-Atlassian-Webhook-Identifier`
("Jira webhooks support retries", https://developer.atlassian.com/platform/marketplace/cloud-fortified-apps-program-webhook-delivery-success-rate;
receivers are told to deduplicate on the identifier). `schedule()` is the delivery queue's
planner (`webhooks/delivery.py`): it says when to send each new delivery: never (lost), after a
delay (late), or twice (duplicated).
The dice come from one `random.Random(seed)`; every decision is kept, so a client can tell
which changes reached it by webhook and which only a sweep could find.

`GET /_sim/webhooks/delivery-faults` (settings, counts, decisions), `PUT` (any subset of the
settings; the counts and decisions start over).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any, Protocol

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jira_simulator.admin import parse_admin_body


class DeliveryFaultSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loss_rate: float = Field(0.0, ge=0, le=1)  # never sent (as if every retry failed)
    late_rate: float = Field(0.0, ge=0, le=1)  # first attempt held back by late_seconds
    late_seconds: float = Field(30.0, ge=0, le=3600)
    duplicate_rate: float = Field(
        0.0, ge=0, le=1
    )  # sent again, same identifier, duplicate_after_seconds later
    duplicate_after_seconds: float = Field(2.0, ge=0, le=3600)
    seed: int = 1


class OutgoingDelivery(Protocol):
    identifier: str
    cloud_id: str
    event: str
    issue_key: str
    body: bytes
    state: str


class DeliveryFaults:
    """Decides the fate of each new delivery and remembers it."""

    def __init__(self, settings: DeliveryFaultSettings | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(settings or DeliveryFaultSettings())

    def configure(self, settings: DeliveryFaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._rng = random.Random(settings.seed)
            self.counts: Counter[str] = Counter()
            self.decisions: list[dict[str, Any]] = []

    def schedule(self, delivery: OutgoingDelivery) -> list[float]:
        """Seconds from now of each send of `delivery`: [] lost, [0] normal, [d] late, [0, d] duplicated."""
        with self._lock:
            s = self.settings
            if s.loss_rate == s.late_rate == s.duplicate_rate == 0:
                return [0.0]
            roll = self._rng.random()
            if roll < s.loss_rate:
                fate, sends = "lost", []
            elif roll < s.loss_rate + s.late_rate:
                fate, sends = "late", [s.late_seconds]
            elif roll < s.loss_rate + s.late_rate + s.duplicate_rate:
                fate, sends = "duplicated", [0.0, s.duplicate_after_seconds]
            else:
                fate, sends = "normal", [0.0]
            self.counts[fate] += 1
            self.decisions.append(
                {
                    "identifier": delivery.identifier,
                    "cloud_id": delivery.cloud_id,
                    "event": delivery.event,
                    "issue_key": delivery.issue_key,
                    "timestamp_ms": _event_time(delivery.body),
                    "fate": fate,
                    "sends_after_seconds": sends,
                }
            )
        if not sends:
            delivery.state = "lost"
        return sends

    def body(self) -> dict[str, Any]:
        with self._lock:
            return {
                "settings": self.settings.model_dump(),
                "counts": dict(self.counts),
                "decisions": list(self.decisions),
            }

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/_sim/webhooks/delivery-faults", self._show, methods=["GET"]),
            Route("/_sim/webhooks/delivery-faults", self._change, methods=["PUT"]),
        ]

    async def _show(self, request: Request) -> Response:
        return JSONResponse(self.body())

    async def _change(self, request: Request) -> Response:
        changes = await parse_admin_body(request, _PartialSettings)
        if isinstance(changes, JSONResponse):
            return changes
        merged = {**self.settings.model_dump(), **changes.model_dump(exclude_unset=True)}
        self.configure(DeliveryFaultSettings.model_validate(merged))
        return JSONResponse(self.body())


class _PartialSettings(DeliveryFaultSettings):
    """A PUT body: any subset of the settings."""


def _event_time(body: bytes) -> int | None:
    try:
        timestamp = orjson.loads(body).get("timestamp")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return timestamp if isinstance(timestamp, int) else None
