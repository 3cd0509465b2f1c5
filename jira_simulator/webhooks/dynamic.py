"""Dynamic webhooks: `/rest/api/{2,3}/webhook` for OAuth 2.0 apps, as Jira Cloud registers them.

Registration follows Jira's rules (Atlassian's OpenAPI spec, `WebhookDetails` and the webhook
operations; reference/jira-cloud-api.md §5): OAuth apps only (Basic auth gets 403), scopes
`read:jira-work` + `manage:jira-webhook`, one callback URL per app per site (a different URL is
refused), at most 5 webhooks per app per user per site, per-item `errors` for a JQL filter
outside the dynamic-webhook subset (fields issueKey, project, issuetype, status, assignee,
reporter, issue.property[...], cf[id]; operators =, !=, IN, NOT IN; AND, OR, parentheses).

Webhooks expire 30 days after registration or refresh, by `world.clock`. An expired webhook
delivers nothing but stays listed (with its past `expirationDate`) until deleted, counts toward
the limits, and `PUT /webhook/refresh` brings it back: Atlassian does not document whether it
purges expired registrations, so clients must look at `expirationDate`, not at presence.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from jira_simulator.errors import JiraError, OrjsonResponse
from jira_simulator.jql import Clause, JqlContext, JqlError, Node, Not, compile_query, parse_jql
from jira_simulator.model import Principal, Site, Webhook, World
from jira_simulator.oauth import public_base_url
from jira_simulator.security import require_scopes

LIFETIME_MS = 30 * 86_400_000
MAX_PER_APP_USER_SITE = 5
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


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or Jira's 400."""
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise JiraError(400, f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise JiraError(400, "The request body must be a JSON object.")
    return body


def int_param(request: Request, name: str, default: int) -> int:
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


class DynamicWebhookRoutes:
    """`POST|GET|DELETE /webhook` and `PUT /webhook/refresh` under both REST prefixes."""

    def __init__(self, world: World) -> None:
        self.world = world

    def routes(self) -> list[BaseRoute]:
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

    async def register(self, request: Request) -> Response:
        site, principal = self._caller(request)
        body = await json_object(request)
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
        start_at = int_param(request, "startAt", 0)
        max_results = int_param(request, "maxResults", 100)
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

    @staticmethod
    def _ids(body: dict[str, Any]) -> list[int]:
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
        ids = self._ids(await json_object(request))
        expiration = self.world.clock.now_ms() + LIFETIME_MS
        with self.world.lock:
            for webhook_id in ids:
                webhook = site.webhooks.get(webhook_id)
                if webhook is not None and webhook.client_id == principal.client_id:
                    webhook.expiration_ms = expiration
        return OrjsonResponse({"expirationDate": expiration})

    async def delete(self, request: Request) -> Response:
        site, principal = self._caller(request)
        ids = self._ids(await json_object(request))
        with self.world.lock:
            for webhook_id in ids:
                webhook = site.webhooks.get(webhook_id)
                if webhook is not None and webhook.client_id == principal.client_id:
                    del site.webhooks[webhook_id]
        return Response(status_code=202)
