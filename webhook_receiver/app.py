"""The receiver's Starlette application: routes, body limit and lifespan, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from webhook_receiver import connect, routes
from webhook_receiver.settings import CALLBACK_PATH, ReceiverSettings
from webhook_receiver.state import ReceiverState


def create_app(settings: ReceiverSettings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, ReceiverState]]:
        receiver = ReceiverState.open(settings)
        try:
            yield {"receiver": receiver}
        finally:
            receiver.close()

    webhook_routes = [
        Route("/webhooks/jira/{tenant_id}", routes.receive_webhook, methods=["POST"], name="webhook"),
        Route("/healthz", routes.healthz, methods=["GET"], name="healthz"),
    ]
    connect_routes = [
        Route("/auth/jira/connect", connect.connect, methods=["GET"], name="connect"),
        Route(CALLBACK_PATH, connect.callback, methods=["GET"], name="callback"),
    ]
    return Starlette(
        routes=webhook_routes + (connect_routes if settings.connect_enabled else []),
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
