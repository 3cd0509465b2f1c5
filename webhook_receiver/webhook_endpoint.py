"""`POST /webhooks/jira/{tenant_id}[/admin/{site_name}]`: validate a Jira delivery, commit it, answer.

A delivery is checked in this order, and nothing is stored unless every check passes:
declared body over the limit 413; unknown tenant 404 (admin: unknown admin site 404); bearer JWT
(dynamic, when the app secret is configured) 401; content type 415;
`X-Atlassian-Webhook-Identifier` / `-Retry` headers 400; body read beyond the limit (chunked
uploads) 413; admin: `X-Hub-Signature` of the raw body 401; not JSON or duplicate keys 400; not a
`jira:issue_*` delivery the drain can apply 422; site or webhook not registered for the tenant
(admin: `issue.self` not the signing site) 403. An accepted delivery is committed to the inbox
before the 200; if the inbox cannot be written the answer is 503, which Jira retries.

This is a plain ASGI endpoint mounted in the Starlette app's router (which still matches the path,
answers 405 for other methods and wraps it in the app's error handling). It runs on every
delivery, so it reads the raw header list once, reads the body from `receive` against the limit
itself and sends pre-encoded answers: Starlette's Request/Response objects, the function-endpoint
wrapper and the per-request body-limit responder cost more CPU than the validation itself.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import orjson
from starlette.types import Message, Receive, Scope, Send

from pipelines.inbox.events import WebhookEvent
from pipelines.inbox.store import InboxUnavailable
from webhook_receiver.admin_sites import UnknownAdminSite
from webhook_receiver.logging import log
from webhook_receiver.payloads import PayloadError, parse_payload, site_base_url
from webhook_receiver.security import DeliveryUnauthorized
from webhook_receiver.sites import SiteRejected
from webhook_receiver.state import ReceiverState

logger = logging.getLogger("webhook_receiver.webhooks")

IDENTIFIER_HEADER = b"x-atlassian-webhook-identifier"
RETRY_HEADER = b"x-atlassian-webhook-retry"
SIGNATURE_HEADER = b"x-hub-signature"

_JSON = (b"content-type", b"application/json")


class DeliveryRejected(Exception):
    """A delivery that fails a check: the status and the `{"error", "message"}` answer."""

    def __init__(self, status: int, error: str, message: str, *, identifier: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.identifier = identifier


class ClientGone(Exception):
    """The client disconnected before its body arrived: nothing to store, nobody to answer."""


def _header(headers: dict[bytes, bytes], name: bytes) -> str:
    value = headers.get(name)
    return "" if value is None else value.decode("latin-1")


async def _send_json(
    send: Send, status: int, document: dict, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    body = orjson.dumps(document)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON, (b"content-length", b"%d" % len(body)), *extra],
        }
    )
    await send({"type": "http.response.body", "body": body})


class WebhookEndpoint:
    """The ASGI app behind a webhook route; `max_body_bytes` is the receiver's body limit.

    `admin=False`: `/webhooks/jira/{tenant_id}`, dynamic webhooks (JWT, `matchedWebhookIds`).
    `admin=True`: `/webhooks/jira/{tenant_id}/admin/{site_name}`, admin webhooks (the raw body's
    `X-Hub-Signature` verified with the site's secret before anything parses it)."""

    def __init__(self, max_body_bytes: int, *, admin: bool = False) -> None:
        self.max_body_bytes = max_body_bytes
        self.admin = admin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        receiver: ReceiverState = scope["state"]["receiver"]
        tenant_id: str = scope["path_params"]["tenant_id"]
        try:
            event = await self._validated_event(scope, receive, receiver, tenant_id)
        except DeliveryRejected as rejection:
            await self._reject(send, rejection, tenant_id, started)
            return
        except ClientGone:
            log(logger, "webhook.client_disconnected", tenant=tenant_id)
            return
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
            await _send_json(
                send,
                503,
                {"error": "inbox_unavailable", "message": "the event could not be stored; retry later"},
                ((b"retry-after", b"30"),),
            )
            return
        if logger.isEnabledFor(logging.DEBUG):  # the writer logs each commit at info
            log(
                logger,
                "webhook.accepted",
                level=logging.DEBUG,
                tenant=event.tenant_id,
                cloud_id=event.cloud_id,
                identifier=event.identifier,
                webhook_event=event.event,
                issue_key=event.issue_key,
                retry=event.retry_count,
                duplicate=not stored,
                ms=round((time.perf_counter() - started) * 1000, 2),
            )
        await _send_json(
            send, 200, {"status": "stored" if stored else "duplicate", "identifier": event.identifier}
        )

    async def _validated_event(
        self, scope: Scope, receive: Receive, receiver: ReceiverState, tenant_id: str
    ) -> WebhookEvent:
        """Every check of a delivery, in the documented order; the event to store."""
        headers: dict[bytes, bytes] = dict(reversed(scope["headers"]))  # a repeated header: first wins
        declared_length = _header(headers, b"content-length")
        if declared_length.isdigit() and int(declared_length) > self.max_body_bytes:
            raise self._too_large()
        if not receiver.sites.knows_tenant(tenant_id):
            raise DeliveryRejected(
                404, "unknown_tenant", f"tenant {tenant_id!r} is not in this receiver's sync file"
            )
        admin_site = None
        if self.admin:
            try:
                admin_site = receiver.admin_sites.declared(tenant_id, scope["path_params"]["site_name"])
            except UnknownAdminSite as exc:
                raise DeliveryRejected(404, "unknown_site", str(exc)) from None
            except SiteRejected as exc:
                raise DeliveryRejected(403, "site_not_registered", str(exc)) from None
        elif receiver.verifier is not None:
            try:
                receiver.verifier.verify(_header(headers, b"authorization"))
            except DeliveryUnauthorized as exc:
                raise DeliveryRejected(401, "unauthorized", str(exc)) from None

        content_type = _header(headers, b"content-type")
        if content_type.split(";", 1)[0].strip().lower() != "application/json":
            raise DeliveryRejected(
                415,
                "unsupported_media_type",
                f"Content-Type must be application/json, got {content_type or 'nothing'!r}",
            )
        identifier = _header(headers, IDENTIFIER_HEADER).strip()
        if not identifier or len(identifier) > 255:
            raise DeliveryRejected(
                400,
                "missing_identifier",
                "header X-Atlassian-Webhook-Identifier is required (1-255 characters): it keys the delivery",
            )
        retry_header = headers.get(RETRY_HEADER)
        retry_text = "0" if retry_header is None else retry_header.decode("latin-1").strip()
        if not (retry_text.isascii() and retry_text.isdigit() and len(retry_text) <= 9):
            raise DeliveryRejected(
                400,
                "bad_retry_header",
                f"header X-Atlassian-Webhook-Retry must be a non-negative integer, got {retry_text[:40]!r}",
                identifier=identifier,
            )

        body = await self._read_body(receive, identifier)
        if admin_site is not None:  # the signature, on the raw bytes, before any parsing
            try:
                site = receiver.admin_sites.verify(
                    tenant_id, admin_site, body, headers.get(SIGNATURE_HEADER, b"").decode("latin-1") or None
                )
            except DeliveryUnauthorized as exc:
                raise DeliveryRejected(401, "unauthorized", str(exc), identifier=identifier) from None
        try:
            payload = parse_payload(body, admin=admin_site is not None)
            base_url = site_base_url(payload.issue.self_url)
        except PayloadError as exc:
            error = "malformed_json" if exc.status == 400 else "invalid_payload"
            raise DeliveryRejected(exc.status, error, str(exc), identifier=identifier) from None
        except ValueError as exc:
            raise DeliveryRejected(422, "invalid_payload", str(exc), identifier=identifier) from None

        if admin_site is not None:
            if base_url != admin_site.normalised_url:
                raise DeliveryRejected(
                    403,
                    "site_not_registered",
                    f"issue.self names {base_url}, not site {admin_site.name} ({admin_site.normalised_url}) "
                    "whose secret signed it",
                    identifier=identifier,
                )
        else:
            matched = payload.matched_webhook_ids or []
            site = receiver.sites.recently_accepted(tenant_id, base_url, matched)
            if site is None:
                try:
                    site = await receiver.sites.authorize(tenant_id, base_url, matched)
                except SiteRejected as exc:
                    raise DeliveryRejected(
                        403, "site_not_registered", str(exc), identifier=identifier
                    ) from None

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

    async def _read_body(self, receive: Receive, identifier: str) -> bytes:
        """The whole body, refused as soon as it grows past the limit (uploads without a length)."""
        message: Message = await receive()
        chunks: list[bytes] = []
        size = 0
        while True:
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large(identifier)
            if not message.get("more_body", False):
                if not chunks:
                    return chunk
                chunks.append(chunk)
                return b"".join(chunks)
            chunks.append(chunk)
            message = await receive()

    def _too_large(self, identifier: str | None = None) -> DeliveryRejected:
        return DeliveryRejected(
            413,
            "body_too_large",
            f"the body is larger than the receiver's limit of {self.max_body_bytes} bytes (--max-body-bytes)",
            identifier=identifier,
        )

    @staticmethod
    async def _reject(send: Send, rejection: DeliveryRejected, tenant_id: str, started: float) -> None:
        fields: dict[str, object] = {"identifier": rejection.identifier} if rejection.identifier else {}
        log(
            logger,
            "webhook.rejected",
            level=logging.WARNING,
            status=rejection.status,
            error=rejection.error,
            reason=rejection.message,
            tenant=tenant_id,
            ms=round((time.perf_counter() - started) * 1000, 2),
            **fields,
        )
        extra = ((b"www-authenticate", b'Bearer realm="jira-webhooks"'),) if rejection.status == 401 else ()
        await _send_json(
            send, rejection.status, {"error": rejection.error, "message": rejection.message}, extra
        )
