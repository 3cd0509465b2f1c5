"""`WebhookService`: one per world; listens to its issue events and delivers them to webhooks.

It wires the concerns of this package together: the registration routes of both kinds
(`dynamic.py`, `admin_registration.py`), matching (`matching.py`), the delivery queue
(`delivery.py`), and the simulator's own `/_sim/webhooks/deliveries` routes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jira_simulator.delivery_faults import DeliveryFaults
from jira_simulator.model import IssueEvent, World
from jira_simulator.options import SimulatorOptions
from jira_simulator.webhooks.admin_registration import AdminWebhookRoutes
from jira_simulator.webhooks.delivery import Delivery, DeliveryQueue
from jira_simulator.webhooks.dynamic import DynamicWebhookRoutes
from jira_simulator.webhooks.matching import candidates, deliveries


class WebhookService:
    """Registrations (REST), matching, and delivery workers for one world."""

    def __init__(
        self,
        world: World,
        options: SimulatorOptions | None = None,
        *,
        timeout_seconds: float = 20.0,
        workers: int = 2,
    ) -> None:
        self.world = world
        self.options = options or SimulatorOptions()
        self.queue = DeliveryQueue(
            lambda: world.app.client_secret,
            lambda: self.options.webhook_retry_backoff_seconds,
            timeout_seconds=timeout_seconds,
            workers=workers,
        )
        self.delivery_faults = DeliveryFaults()  # lost, late, duplicated sends (off by default)
        self.queue.planner = self.delivery_faults.schedule
        self.dynamic = DynamicWebhookRoutes(world)
        self.admin = AdminWebhookRoutes(world)
        world.listeners.append(self.on_event)

    @property
    def deliveries(self) -> list[Delivery]:
        return self.queue.deliveries

    def start(self) -> None:
        self.queue.start()

    def stop(self) -> None:
        self.queue.stop()

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Starlette lifespan: delivery workers run while the app serves."""
        self.start()
        try:
            yield
        finally:
            self.stop()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        return self.queue.wait_idle(timeout)

    def on_event(self, event: IssueEvent) -> None:
        """Listener on `world.listeners`: capture the webhooks alive at the event, queue the matching."""
        found = candidates(self.world, event)
        if found:
            self.queue.put(lambda: deliveries(self.world, found))

    def rest_routes(self) -> list[BaseRoute]:
        """`/webhook` routes for the site and gateway REST mounts (`/rest/api/{2,3}`)."""
        return self.dynamic.routes()

    def admin_webhook_routes(self) -> list[BaseRoute]:
        """`/webhook` routes for the site's `/rest/webhooks/1.0` mount."""
        return self.admin.routes()

    def sim_routes(self) -> list[BaseRoute]:
        return [
            Route("/_sim/webhooks/deliveries", self.list_deliveries, methods=["GET"]),
            Route("/_sim/webhooks/deliveries/reset", self.reset_deliveries, methods=["POST"]),
        ]

    async def list_deliveries(self, request: Request) -> Response:
        with self.queue.lock:
            rows = [d.summary() for d in self.queue.deliveries]
        return JSONResponse({"pending": self.queue.pending, "deliveries": rows})

    async def reset_deliveries(self, request: Request) -> Response:
        with self.queue.lock:
            self.queue.deliveries[:] = [d for d in self.queue.deliveries if d.state == "pending"]
            return JSONResponse({"deliveries": len(self.queue.deliveries)})


def service(world: World, options: SimulatorOptions | None = None) -> WebhookService:
    """The world's webhook service (one per world: it listens to the world's events)."""
    for listener in world.listeners:
        existing = getattr(listener, "__self__", None)
        if isinstance(existing, WebhookService):
            if options is not None:
                existing.options = options
            return existing
    return WebhookService(world, options)
