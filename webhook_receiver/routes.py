"""`GET /healthz`: proves the inbox is writable and reports its counts (deliveries: `webhook_endpoint`)."""

from __future__ import annotations

import anyio.to_thread
import orjson
from starlette.requests import Request
from starlette.responses import Response

from pipelines.inbox.store import InboxUnavailable
from webhook_receiver.slow_clients import DEADLINES
from webhook_receiver.state import ReceiverState


def json_response(status: int, document: dict) -> Response:
    return Response(orjson.dumps(document), status_code=status, media_type="application/json")


async def healthz(request: Request) -> Response:
    """Proves the inbox is writable right now (a committed heartbeat row) and reports its counts."""
    receiver: ReceiverState = request.state.receiver

    def check() -> dict:
        receiver.inbox.heartbeat(receiver.receiver_id)
        stats = receiver.inbox.stats()
        return {
            "writable": True,
            "path": str(receiver.inbox.path),
            "total": stats.total,
            "pending": stats.pending,
            "drained": stats.drained,
            "quarantined": stats.quarantined,
            "last_seq": stats.last_seq,
            "oldest_pending_received_at": stats.oldest_pending_received_at,
            "last_received_at": stats.last_received_at,
        }

    try:
        inbox = await anyio.to_thread.run_sync(check)
    except InboxUnavailable as exc:
        return json_response(
            503,
            {
                "status": "unavailable",
                "inbox": {"writable": False, "path": str(receiver.inbox.path), "error": str(exc)},
            },
        )
    writer = receiver.writer
    return json_response(
        200,
        {
            "status": "ok",
            "receiver": receiver.receiver_id,
            "inbox": inbox,
            "writer": {"commits": writer.commits, "events": writer.committed_events},
            "slow_clients": {
                "arriving": len(DEADLINES.arriving),
                "timed_out": DEADLINES.stats.timed_out,
                "evicted": DEADLINES.stats.evicted,
                "body_timeout_seconds": DEADLINES.body_timeout_seconds,
                "max_slow_connections": DEADLINES.max_slow_connections,
            },
            "jwt_verification": receiver.verifier is not None,
            "connect_configured": receiver.oauth_client is not None,
            "tenants": receiver.sites.tenant_ids(),
        },
    )
