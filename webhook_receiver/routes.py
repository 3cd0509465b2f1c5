"""`POST /webhooks/jira/{tenant_id}` and `GET /healthz`.

A delivery is checked in this order, and nothing is stored unless every check passes:
unknown tenant 404; bearer JWT (when the app secret is configured) 401; content type 415;
`X-Atlassian-Webhook-Identifier` / `-Retry` headers 400; body over the limit 413 (Starlette's
`max_body_size`); malformed JSON 400; not a `jira:issue_*` delivery 422; site or webhook not
registered for the tenant 403. An accepted delivery is committed to the inbox before the 200;
if the inbox cannot be written the answer is 503, which Jira retries.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import anyio.to_thread
import orjson
from starlette.requests import Request
from starlette.responses import Response

from webhook_receiver.inbox import InboxUnavailable, WebhookEvent
from webhook_receiver.logging import log
from webhook_receiver.payloads import PayloadError, parse_payload, site_base_url
from webhook_receiver.security import DeliveryUnauthorized
from webhook_receiver.sites import SiteRejected
from webhook_receiver.state import ReceiverState

logger = logging.getLogger("webhook_receiver.webhooks")

IDENTIFIER_HEADER = "x-atlassian-webhook-identifier"
RETRY_HEADER = "x-atlassian-webhook-retry"


def json_response(status: int, document: dict, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(document), status_code=status, media_type="application/json", headers=headers
    )


def _reject(
    status: int, error: str, message: str, *, tenant_id: str, started: float, **fields: object
) -> Response:
    log(
        logger,
        "webhook.rejected",
        level=logging.WARNING,
        status=status,
        error=error,
        reason=message,
        tenant=tenant_id,
        ms=round((time.perf_counter() - started) * 1000, 2),
        **fields,
    )
    headers = {"WWW-Authenticate": 'Bearer realm="jira-webhooks"'} if status == 401 else None
    return json_response(status, {"error": error, "message": message}, headers)


_DELIVERY_HEADERS = frozenset(
    {b"authorization", b"content-type", IDENTIFIER_HEADER.encode(), RETRY_HEADER.encode()}
)


def _delivery_headers(request: Request) -> dict[str, str]:
    """The four headers a delivery is checked on, in one pass over the raw list (first value wins)."""
    found: dict[str, str] = {}
    for name, value in request.scope["headers"]:
        if name in _DELIVERY_HEADERS:
            found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


async def _validate(request: Request, receiver: ReceiverState, started: float) -> WebhookEvent | Response:
    """Every check of a delivery; the event to store, or the rejection to answer."""
    tenant_id = request.path_params["tenant_id"]
    if not receiver.sites.knows_tenant(tenant_id):
        return _reject(
            404,
            "unknown_tenant",
            f"tenant {tenant_id!r} is not in this receiver's sync file",
            tenant_id=tenant_id,
            started=started,
        )
    headers = _delivery_headers(request)
    if receiver.verifier is not None:
        try:
            receiver.verifier.verify(headers.get("authorization"))
        except DeliveryUnauthorized as exc:
            return _reject(401, "unauthorized", str(exc), tenant_id=tenant_id, started=started)

    content_type = headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        return _reject(
            415,
            "unsupported_media_type",
            f"Content-Type must be application/json, got {content_type or 'nothing'!r}",
            tenant_id=tenant_id,
            started=started,
        )
    identifier = headers.get(IDENTIFIER_HEADER, "").strip()
    if not identifier or len(identifier) > 255:
        return _reject(
            400,
            "missing_identifier",
            "header X-Atlassian-Webhook-Identifier is required (1-255 characters): it keys the delivery",
            tenant_id=tenant_id,
            started=started,
        )
    retry_text = headers.get(RETRY_HEADER, "0").strip()
    if not (retry_text.isascii() and retry_text.isdigit() and len(retry_text) <= 9):
        return _reject(
            400,
            "bad_retry_header",
            f"header X-Atlassian-Webhook-Retry must be a non-negative integer, got {retry_text[:40]!r}",
            tenant_id=tenant_id,
            started=started,
            identifier=identifier,
        )

    body = await request.body()  # over max_body_size: Starlette answers 413 from here
    try:
        payload = parse_payload(body)
        base_url = site_base_url(payload.issue.self_url)
    except PayloadError as exc:
        error = "malformed_json" if exc.status == 400 else "invalid_payload"
        return _reject(
            exc.status, error, str(exc), tenant_id=tenant_id, started=started, identifier=identifier
        )
    except ValueError as exc:
        return _reject(
            422, "invalid_payload", str(exc), tenant_id=tenant_id, started=started, identifier=identifier
        )

    try:
        site = await receiver.sites.authorize(tenant_id, base_url, payload.matched_webhook_ids)
    except SiteRejected as exc:
        return _reject(
            403, "site_not_registered", str(exc), tenant_id=tenant_id, started=started, identifier=identifier
        )

    return WebhookEvent(
        tenant_id=tenant_id,
        cloud_id=site.cloud_id,
        identifier=identifier,
        event=payload.webhook_event,
        issue_id=payload.issue.id,
        issue_key=payload.issue.key,
        jira_timestamp_ms=payload.timestamp,
        received_at=datetime.now(UTC),
        retry_count=int(retry_text),
        payload_json=body.decode("utf-8"),
    )


async def receive_webhook(request: Request) -> Response:
    started = time.perf_counter()
    receiver: ReceiverState = request.state.receiver
    accepted = await _validate(request, receiver, started)
    if isinstance(accepted, Response):
        return accepted
    event = accepted
    try:
        stored = await receiver.writer.write(event)
    except InboxUnavailable as exc:
        log(
            logger,
            "webhook.inbox_unavailable",
            level=logging.ERROR,
            tenant=event.tenant_id,
            cloud_id=event.cloud_id,
            identifier=event.identifier,
            reason=str(exc),
        )
        return json_response(
            503,
            {"error": "inbox_unavailable", "message": "the event could not be stored; retry later"},
            {"Retry-After": "30"},
        )
    log(
        logger,
        "webhook.accepted",
        level=logging.DEBUG,  # the writer logs each commit at info
        tenant=event.tenant_id,
        cloud_id=event.cloud_id,
        identifier=event.identifier,
        webhook_event=event.event,
        issue_key=event.issue_key,
        retry=event.retry_count,
        duplicate=not stored,
        ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return json_response(200, {"status": "stored" if stored else "duplicate", "identifier": event.identifier})


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
            "jwt_verification": receiver.verifier is not None,
            "connect_configured": receiver.oauth_client is not None,
            "tenants": receiver.sites.tenant_ids(),
        },
    )
