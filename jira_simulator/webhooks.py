"""Dynamic webhooks: `/rest/api/{2,3}/webhook` for OAuth 2.0 apps, and their delivery.

Registration follows Jira's rules: OAuth apps only (Basic auth gets 403), scopes
`read:jira-work` + `manage:jira-webhook`, one callback URL per app per site (a different URL is
refused), at most 5 webhooks per app per user per site, per-item `errors` for a JQL filter
outside the dynamic-webhook subset (fields issueKey, project, issuetype, status, assignee,
reporter, issue.property[...], cf[id]; operators =, !=, IN, NOT IN; AND, OR, parentheses).

Webhooks expire 30 days after registration or refresh, by `world.clock`. An expired webhook
delivers nothing but stays listed (with its past `expirationDate`) until deleted, counts toward
the limits, and `PUT /webhook/refresh` brings it back: Atlassian does not document whether it
purges expired registrations, so clients must look at `expirationDate`, not at presence.

Delivery: every `IssueEvent` (see `mutations.py`) is matched against each unexpired webhook of
its site (events, JQL filter, `fieldIdsFilter` for updates); one POST per app URL carries
`matchedWebhookIds`. Headers: `X-Atlassian-Webhook-Identifier` (a UUID, the same on every
retry), `X-Atlassian-Webhook-Retry: <n>` on retries only, `X-Atlassian-Webhook-Flow: Primary`,
`Authorization: Bearer <JWT>`: HS256 signed with the app's client secret, claims `iss` (client
id), `iat` and `exp` (iat + 5 min) in **wall-clock** seconds, so receivers verify with their own
clock even when the simulated clock was advanced. Retries follow 408, 409, 425, 429, 5xx,
timeouts and connection errors, at most 5, each after `webhook_retry_backoff_seconds` (Jira
waits minutes). Worker threads deliver, so admin calls return at once;
`GET /_sim/webhooks/deliveries` lists every delivery with its attempts.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jira_simulator.errors import JiraError, OrjsonResponse
from jira_simulator.jql import (
    Clause,
    JqlContext,
    JqlError,
    Node,
    Not,
    compile_query,
    issue_matches,
    parse_jql,
)
from jira_simulator.model import IssueEvent, Principal, Site, Webhook, World
from jira_simulator.oauth import public_base_url
from jira_simulator.options import SimulatorOptions
from jira_simulator.render import ALL_FIELDS, Renderer
from jira_simulator.security import require_scopes

LIFETIME_MS = 30 * 86_400_000
MAX_PER_APP_USER_SITE = 5
MAX_RETRIES = 5
JWT_SECONDS = 300
RETRY_STATUSES = {408, 409, 425, 429}
EVENTS = (
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
    "issue_property_set",
    "issue_property_deleted",
)
_SUBSET_FIELDS = {"issuekey", "project", "issuetype", "status", "assignee", "reporter"}
_SUBSET_OPERATORS = {"=", "!=", "in", "not in"}
ONLY_OAUTH = "Only Connect and OAuth 2.0 apps can use this operation."
SINGLE_URL = "Only a single URL per app is allowed to be registered."


# --- registration rules -----------------------------------------------------------------------


def _walk(node: Node) -> list[Node]:
    if isinstance(node, Clause):
        return [node]
    if isinstance(node, Not):
        return [node, *_walk(node.part)]
    return [node, *(n for part in node.parts for n in _walk(part))]


def _special_field(name: str) -> bool:
    lower = name.lower()
    return lower.startswith("issue.property[") or (lower.startswith("cf[") and lower.endswith("]"))


def filter_errors(jql: str, site: Site, world: World, account_id: str) -> list[str]:
    """Why Jira would refuse `jql` as a dynamic-webhook filter on `site` (empty: accepted)."""
    if not jql or not jql.strip():
        return ["Empty JQL search not supported"]
    try:
        query = parse_jql(jql)
    except JqlError as exc:
        return exc.messages
    errors: list[str] = []
    if query.order_by:
        errors.append("The clause ORDER BY is unsupported")
    special = False
    for node in _walk(query.where) if query.where is not None else []:
        if isinstance(node, Not):
            errors.append("The operator NOT is unsupported")
        elif isinstance(node, Clause):
            if _special_field(node.field):
                special = True
            elif node.field.lower() not in _SUBSET_FIELDS:
                errors.append(f"The clause {node.field} is unsupported")
                continue
            if node.operator not in _SUBSET_OPERATORS:
                errors.append(
                    f"The operator {node.operator.upper()} is unsupported in the clause {node.field}"
                )
    if errors or special:
        return list(dict.fromkeys(errors))  # properties and cf[] are not modelled: accepted as written
    try:
        compile_query(query, JqlContext(site, world, account_id, world.clock.now_ms()))
    except JqlError as exc:
        return exc.messages
    return []


def _item_errors(item: object, site: Site, world: World, principal: Principal) -> list[str]:
    if not isinstance(item, dict):
        return ["A webhook must be an object with events and jqlFilter."]
    errors: list[str] = []
    events = item.get("events")
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        errors.append("events must be a non-empty list of event names")
    else:
        errors += [f"The event {e} is not supported" for e in events if e not in EVENTS]
    jql = item.get("jqlFilter")
    if not isinstance(jql, str):
        errors.append("jqlFilter is required")
    else:
        errors += filter_errors(jql, site, world, principal.account_id)
    field_ids = item.get("fieldIdsFilter")
    if field_ids is not None and (
        not isinstance(field_ids, list) or not all(isinstance(f, str) for f in field_ids)
    ):
        errors.append("fieldIdsFilter must be a list of field ids")
    return errors


def webhook_body(webhook: Webhook) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": webhook.id,
        "jqlFilter": webhook.jql_filter,
        "events": list(webhook.events),
        "url": webhook.url,
        "expirationDate": webhook.expiration_ms,
    }
    if webhook.field_ids_filter is not None:
        body["fieldIdsFilter"] = list(webhook.field_ids_filter)
    return body


# --- delivery ---------------------------------------------------------------------------------


@dataclass
class Attempt:
    at_ms: int  # wall clock
    retry: int
    status: int | None
    error: str | None
    seconds: float


@dataclass
class Delivery:
    """One POST of one event to one app URL, retried with the same identifier."""

    identifier: str
    url: str
    client_id: str
    cloud_id: str
    event: str
    issue_key: str
    webhook_ids: list[int]
    body: bytes
    attempts: list[Attempt] = field(default_factory=list)
    state: str = "pending"  # pending | delivered | failed

    def summary(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "url": self.url,
            "cloud_id": self.cloud_id,
            "event": self.event,
            "issue_key": self.issue_key,
            "matched_webhook_ids": self.webhook_ids,
            "state": self.state,
            "attempts": [
                {
                    "at_ms": a.at_ms,
                    "retry": a.retry,
                    "status": a.status,
                    "error": a.error,
                    "seconds": round(a.seconds, 3),
                }
                for a in self.attempts
            ],
        }


@dataclass(frozen=True)
class _Candidate:
    """A webhook that may match an event, captured when the event happened."""

    webhook: Webhook
    owner_account_id: str


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
        self.timeout_seconds = timeout_seconds
        self.workers = workers
        self.deliveries: list[Delivery] = []
        self._queue: list[tuple[float, int, Delivery | _Matching]] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._busy = 0
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._client: httpx.Client | None = None
        world.listeners.append(self.on_event)

    # -- lifecycle --

    def start(self) -> None:
        with self._wake:
            if self._threads:
                return
            self._stopping = False
            self._client = httpx.Client(timeout=self.timeout_seconds, follow_redirects=False)
            self._threads = [
                threading.Thread(target=self._work, name=f"webhook-delivery-{n}", daemon=True)
                for n in range(self.workers)
            ]
            for thread in self._threads:
                thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(self.timeout_seconds + 5)
        if self._client is not None:
            self._client.close()
            self._client = None

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Starlette lifespan: delivery workers run while the app serves."""
        self.start()
        try:
            yield
        finally:
            self.stop()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no delivery is queued or in flight (tests, graceful shutdown)."""
        deadline = time.monotonic() + timeout
        with self._wake:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(min(left, 0.05))
        return True

    # -- events in --

    def on_event(self, event: IssueEvent) -> None:
        """Listener on `world.listeners`: capture the webhooks alive at the event, queue the work."""
        site = self.world.sites.get(event.cloud_id)
        if site is None:
            return
        alive = [
            _Candidate(w, w.owner_account_id)
            for w in site.webhooks.values()
            if w.expiration_ms > event.timestamp_ms and event.kind in w.events
        ]
        if not alive:
            return
        self.start()
        with self._wake:
            heapq.heappush(self._queue, (0.0, next(self._seq), _Matching(event, alive)))
            self._wake.notify()

    def _match(self, job: _Matching) -> list[Delivery]:
        event = job.event
        site = self.world.sites[event.cloud_id]
        by_app: dict[tuple[str, str], list[Webhook]] = {}
        with self.world.lock:
            for candidate in job.candidates:
                webhook = candidate.webhook
                if event.kind == "jira:issue_updated" and webhook.field_ids_filter:
                    wanted = set(webhook.field_ids_filter)
                    items = event.history.items if event.history else []
                    if not any((i.field_id or i.field) in wanted for i in items):
                        continue
                try:
                    if not issue_matches(
                        webhook.jql_filter, event.issue, site, self.world, candidate.owner_account_id
                    ):
                        continue
                except JqlError:
                    continue  # issue properties and cf[] are not modelled: such clauses match nothing
                by_app.setdefault((webhook.client_id, webhook.url), []).append(webhook)
            deliveries = []
            for (client_id, url), webhooks in by_app.items():
                body = self._payload(event, site, sorted(w.id for w in webhooks))
                deliveries.append(
                    Delivery(
                        identifier=str(uuid.uuid4()),
                        url=url,
                        client_id=client_id,
                        cloud_id=site.cloud_id,
                        event=event.kind,
                        issue_key=event.issue.key,
                        webhook_ids=sorted(w.id for w in webhooks),
                        body=body,
                    )
                )
        return deliveries

    def _payload(self, event: IssueEvent, site: Site, webhook_ids: list[int]) -> bytes:
        base = public_base_url(self.world)
        site_url = f"{base}/site/{site.name}"
        renderer = Renderer(self.world, site, 2, f"{site_url}/rest/api/2", base, None)
        children = [i for i in site.issues.values() if i.parent_id == event.issue.id]
        body: dict[str, Any] = {"timestamp": event.timestamp_ms, "webhookEvent": event.kind}
        if event.event_type_name is not None:
            body["issue_event_type_name"] = event.event_type_name
        user = renderer.users.user_ref(event.actor_account_id)
        if user is not None:
            body["user"] = {k: v for k, v in user.items() if k != "emailAddress"}
        body["issue"] = renderer.issues.issue(event.issue, ALL_FIELDS, children=lambda issue_id: children)
        if event.history is not None and event.kind != "jira:issue_deleted":
            body["changelog"] = {
                "id": event.history.id,
                "items": [renderer.changelog.change_item(i) for i in event.history.items],
            }
        body["matchedWebhookIds"] = webhook_ids
        return orjson.dumps(body)

    # -- delivery workers --

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (not self._queue or self._queue[0][0] > time.monotonic()):
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._wake.wait(wait)
                if self._stopping:
                    return
                _, _, job = heapq.heappop(self._queue)
                self._busy += 1
            try:
                if isinstance(job, _Matching):
                    deliveries = self._match(job)
                    with self._wake:
                        self.deliveries.extend(deliveries)
                        for delivery in deliveries:
                            heapq.heappush(self._queue, (0.0, next(self._seq), delivery))
                        self._wake.notify_all()
                else:
                    self._attempt(job)
            finally:
                with self._wake:
                    self._busy -= 1
                    self._wake.notify_all()

    def _attempt(self, delivery: Delivery) -> None:
        retry = len(delivery.attempts)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Atlassian Webhook HTTP Client",
            "X-Atlassian-Webhook-Identifier": delivery.identifier,
            "X-Atlassian-Webhook-Flow": "Primary",
            "Authorization": f"Bearer {self._jwt(delivery.client_id)}",
        }
        if retry:
            headers["X-Atlassian-Webhook-Retry"] = str(retry)
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            assert self._client is not None
            response = self._client.post(delivery.url, content=delivery.body, headers=headers)
            status = response.status_code
        except httpx.TimeoutException as exc:
            error = f"timeout: {type(exc).__name__}"
        except httpx.TransportError as exc:
            error = f"connection: {type(exc).__name__}: {exc}"
        attempt = Attempt(int(time.time() * 1000), retry, status, error, time.perf_counter() - started)
        retryable = error is not None or (status is not None and (status in RETRY_STATUSES or status >= 500))
        with self._wake:
            delivery.attempts.append(attempt)
            if status is not None and 200 <= status < 300:
                delivery.state = "delivered"
            elif retryable and retry < MAX_RETRIES:
                due = time.monotonic() + self.options.webhook_retry_backoff_seconds
                heapq.heappush(self._queue, (due, next(self._seq), delivery))
                self._wake.notify_all()
            else:
                delivery.state = "failed"

    def _jwt(self, client_id: str) -> str:
        now = int(time.time())
        claims = {"iss": client_id, "iat": now, "exp": now + JWT_SECONDS}
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", jwt.InsecureKeyLengthWarning
            )  # the simulator's secret may be short
            return jwt.encode(claims, self.world.app.client_secret, algorithm="HS256")

    # -- REST: /rest/api/{2,3}/webhook ---------------------------------------------------------

    def rest_routes(self) -> list[BaseRoute]:
        return [
            Route("/webhook", self.register, methods=["POST"]),
            Route("/webhook", self.list_webhooks, methods=["GET"]),
            Route("/webhook", self.delete, methods=["DELETE"]),
            Route("/webhook/refresh", self.refresh, methods=["PUT"]),
        ]

    def _caller(self, request: Request) -> tuple[Site, Principal]:
        principal: Principal = request.state.principal
        if principal.via == "basic":
            raise JiraError(403, ONLY_OAUTH)
        principal = require_scopes(request, "read:jira-work", "manage:jira-webhook")
        if principal.client_id is None:
            raise JiraError(403, ONLY_OAUTH)
        public_base_url(self.world, request)
        return request.state.site, principal

    async def _json_body(self, request: Request) -> dict[str, Any]:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise JiraError(400, f"The request body is not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise JiraError(400, "The request body must be a JSON object.")
        return body

    async def register(self, request: Request) -> Response:
        site, principal = self._caller(request)
        body = await self._json_body(request)
        url, items = body.get("url"), body.get("webhooks")
        if (
            not isinstance(url, str)
            or urlsplit(url).scheme not in ("http", "https")
            or not urlsplit(url).netloc
        ):
            raise JiraError(400, errors={"url": "url must be an absolute http(s) URL"})
        if not isinstance(items, list) or not items:
            raise JiraError(400, errors={"webhooks": "webhooks must be a non-empty list"})
        results: list[dict[str, Any]] = []
        with self.world.lock:
            ours = [w for w in site.webhooks.values() if w.client_id == principal.client_id]
            if any(w.url != url for w in ours):
                raise JiraError(400, SINGLE_URL)
            owned = sum(1 for w in ours if w.owner_account_id == principal.account_id)
            for item in items:
                errors = _item_errors(item, site, self.world, principal)
                if not errors and owned >= MAX_PER_APP_USER_SITE:
                    errors = [
                        f"The maximum number of {MAX_PER_APP_USER_SITE} webhooks per app per user was reached."
                    ]
                if errors:
                    results.append({"errors": errors})
                    continue
                webhook = Webhook(
                    id=max(site.webhooks, default=999) + 1,
                    client_id=principal.client_id or "",
                    owner_account_id=principal.account_id,
                    url=url,
                    events=list(dict.fromkeys(item["events"])),
                    jql_filter=item["jqlFilter"],
                    field_ids_filter=item.get("fieldIdsFilter"),
                    expiration_ms=self.world.clock.now_ms() + LIFETIME_MS,
                )
                site.webhooks[webhook.id] = webhook
                owned += 1
                results.append({"createdWebhookId": webhook.id})
        return OrjsonResponse({"webhookRegistrationResult": results})

    async def list_webhooks(self, request: Request) -> Response:
        site, principal = self._caller(request)
        start_at = _int_param(request, "startAt", 0)
        max_results = _int_param(request, "maxResults", 100)
        with self.world.lock:
            ours = sorted(
                (w for w in site.webhooks.values() if w.client_id == principal.client_id), key=lambda w: w.id
            )
            page = [webhook_body(w) for w in ours[start_at : start_at + max_results]]
        return OrjsonResponse(
            {
                "maxResults": max_results,
                "startAt": start_at,
                "total": len(ours),
                "isLast": start_at + max_results >= len(ours),
                "values": page,
            }
        )

    def _ids(self, body: dict[str, Any]) -> list[int]:
        ids = body.get("webhookIds")
        if (
            not isinstance(ids, list)
            or not ids
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
        ):
            raise JiraError(400, errors={"webhookIds": "webhookIds must be a non-empty list of webhook ids"})
        return ids

    async def refresh(self, request: Request) -> Response:
        site, principal = self._caller(request)
        ids = self._ids(await self._json_body(request))
        expiration = self.world.clock.now_ms() + LIFETIME_MS
        with self.world.lock:
            for webhook_id in ids:
                webhook = site.webhooks.get(webhook_id)
                if webhook is not None and webhook.client_id == principal.client_id:
                    webhook.expiration_ms = expiration
        return OrjsonResponse({"expirationDate": expiration})

    async def delete(self, request: Request) -> Response:
        site, principal = self._caller(request)
        ids = self._ids(await self._json_body(request))
        with self.world.lock:
            for webhook_id in ids:
                webhook = site.webhooks.get(webhook_id)
                if webhook is not None and webhook.client_id == principal.client_id:
                    del site.webhooks[webhook_id]
        return Response(status_code=202)

    # -- admin: /_sim/webhooks/deliveries --------------------------------------------------------

    def admin_routes(self) -> list[BaseRoute]:
        return [
            Route("/_sim/webhooks/deliveries", self.list_deliveries, methods=["GET"]),
            Route("/_sim/webhooks/deliveries/reset", self.reset_deliveries, methods=["POST"]),
        ]

    async def list_deliveries(self, request: Request) -> Response:
        with self._wake:
            rows = [d.summary() for d in self.deliveries]
            pending = len(self._queue) + self._busy
        return JSONResponse({"pending": pending, "deliveries": rows})

    async def reset_deliveries(self, request: Request) -> Response:
        with self._wake:
            self.deliveries = [d for d in self.deliveries if d.state == "pending"]
        return JSONResponse({"deliveries": len(self.deliveries)})


@dataclass
class _Matching:
    """Queued work: match one event against the webhooks captured with it."""

    event: IssueEvent
    candidates: list[_Candidate]


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise JiraError(400, f"The '{name}' parameter must be an integer, got '{raw}'.") from exc
    if value < 0 or (name == "maxResults" and value == 0):
        raise JiraError(400, f"The '{name}' parameter must be positive, got {value}.")
    return value


def service(world: World, options: SimulatorOptions | None = None) -> WebhookService:
    """The world's webhook service (one per world: it listens to the world's events)."""
    for listener in world.listeners:
        existing = getattr(listener, "__self__", None)
        if isinstance(existing, WebhookService):
            if options is not None:
                existing.options = options
            return existing
    return WebhookService(world, options)


def routes(world: World) -> list[BaseRoute]:
    """The `/webhook` REST routes, for the site and gateway REST mounts."""
    return service(world).rest_routes()
