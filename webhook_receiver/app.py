"""The receiver's Starlette application: routes, body limit and lifespan, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from webhook_receiver import connect, routes
from webhook_receiver.settings import CALLBACK_PATH, ReceiverSettings
from webhook_receiver.state import ReceiverState
from webhook_receiver.webhook_endpoint import WebhookEndpoint


def create_app(settings: ReceiverSettings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, ReceiverState]]:
        receiver = ReceiverState.open(settings)
        try:
            yield {"receiver": receiver}
        finally:
            receiver.close()

    # The webhook endpoint enforces the body limit itself (see webhook_endpoint); every other
    # route gets Starlette's.
    limit = settings.max_body_bytes
    webhook_routes = [
        Route("/webhooks/jira/{tenant_id}", WebhookEndpoint(limit), methods=["POST"], name="webhook"),
        Route(
            "/webhooks/jira/{tenant_id}/admin/{site_name}",
            WebhookEndpoint(limit, admin=True),
            methods=["POST"],
            name="admin_webhook",
        ),
        Route("/healthz", routes.healthz, methods=["GET"], name="healthz", max_body_size=limit),
    ]
    connect_routes = [
        Route("/auth/jira/connect", connect.connect, methods=["GET"], name="connect", max_body_size=limit),
        Route(CALLBACK_PATH, connect.callback, methods=["GET"], name="callback", max_body_size=limit),
    ]
    return Starlette(
        routes=webhook_routes + (connect_routes if settings.connect_enabled else []),
        lifespan=lifespan,
    )
