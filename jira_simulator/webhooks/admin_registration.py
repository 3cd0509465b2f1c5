"""Admin webhooks: `/rest/webhooks/1.0/webhook` on the site, as a Jira administrator registers them.

What Jira Cloud does, and where it is written:
- "Webhooks created in Jira Administration or registered by /rest/webhooks/1.0/webhook are called
  admin webhooks" (https://developer.atlassian.com/cloud/jira/platform/webhooks/, "Registering a
  webhook"). The operations need the Administer Jira permission (jira.js `createWebhook`:
  "Requires administrator permission"), so they are called with a Jira admin's email + API token
  on the site URL; the OAuth gateway does not serve them here (Atlassian documents no 3LO scope
  for them).
- `POST` body `{name, description?, url, events, filters: {"issue-related-events-section": JQL},
  excludeBody, secret?}` -> 201 with the webhook; `GET` -> a JSON **array** of webhooks;
  `GET|PUT|DELETE /webhook/{id}` (public clients list with GET and re-register or update with
  PUT: e.g. repos quoted in reference/jira-cloud-api.md §6.3, and the field names used by
  jira.js `createWebhook` and many public scripts).
- A webhook is rendered as `{self, name, description?, url, events, filters, excludeBody,
  enabled, lastUpdatedUser, lastUpdatedDisplayName, lastUpdated, isSigned}`; the secret is never
  returned ("Once saved, it cannot be accessed or retrieved again" - Atlassian's secure admin
  webhooks guidance as quoted by kithps.com/secure-webhooks-in-jira-cloud; `isSigned` per
  reference/jira-cloud-api.md §6.3). A PUT without `secret` keeps the current one (rotating =
  PUT with a new secret; an empty string removes it).
- The JQL filter is full JQL (not the dynamic-webhook subset); empty matches every issue. Admin
  webhooks never expire.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from jira_simulator.errors import JiraError, OrjsonResponse
from jira_simulator.jql import JqlContext, JqlError, compile_query, parse_jql
from jira_simulator.model import AdminWebhook, Site, World
from jira_simulator.oauth import public_base_url
from jira_simulator.security import NOT_AUTHENTICATED, basic_principal
from jira_simulator.webhooks.dynamic import EVENTS, int_param, json_object

FILTER_KEY = "issue-related-events-section"
ADMIN_GROUPS = ("jira-administrators", "site-admins", "administrators")
NOT_ADMIN = "You must have the Administer Jira global permission to manage webhooks."
MAX_NAME = 255


def is_jira_admin(world: World, site: Site, account_id: str) -> bool:
    """The operator who owns the world, or a member of a site's administrators group."""
    if account_id == world.admin_account_id:
        return True
    return any(
        account_id in group.member_ids
        for group in site.groups.values()
        if group.name in ADMIN_GROUPS or group.name.startswith("jira-admins")
    )


def admin_webhook_body(webhook: AdminWebhook, site_url: str, world: World) -> dict[str, Any]:
    updater = world.users.get(webhook.last_updated_account_id)
    body: dict[str, Any] = {
        "self": f"{site_url}/rest/webhooks/1.0/webhook/{webhook.id}",
        "name": webhook.name,
        "url": webhook.url,
        "events": list(webhook.events),
        "filters": {FILTER_KEY: webhook.jql_filter},
        "excludeBody": webhook.exclude_body,
        "enabled": webhook.enabled,
        "lastUpdatedUser": webhook.last_updated_account_id,
        "lastUpdatedDisplayName": updater.display_name if updater else "",
        "lastUpdated": webhook.last_updated_ms,
        "isSigned": bool(webhook.secret),
    }
    if webhook.description:
        body["description"] = webhook.description
    return body


class AdminWebhookRoutes:
    """Mounted at `/site/{site_name}/rest/webhooks/1.0`."""

    def __init__(self, world: World) -> None:
        self.world = world

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/webhook", self.list_webhooks, methods=["GET"]),
            Route("/webhook", self.register, methods=["POST"]),
            Route("/webhook/{webhook_id}", self.get_webhook, methods=["GET"]),
            Route("/webhook/{webhook_id}", self.update, methods=["PUT"]),
            Route("/webhook/{webhook_id}", self.delete, methods=["DELETE"]),
        ]

    def _admin(self, request: Request) -> tuple[Site, str, str]:
        """The site, the calling admin's account id, and the site URL; 401/403/404 otherwise."""
        site = self.world.site_by_name(request.path_params["site_name"])
        if site is None:
            raise JiraError(404, f"No Jira site is served at /site/{request.path_params['site_name']}.")
        authorization = request.headers.get("authorization", "")
        if authorization[:6].lower() != "basic ":
            raise JiraError(401, NOT_AUTHENTICATED)
        principal = basic_principal(self.world, site, authorization)
        if principal is None:
            raise JiraError(401, NOT_AUTHENTICATED)
        if not is_jira_admin(self.world, site, principal.account_id):
            raise JiraError(403, NOT_ADMIN)
        site_url = f"{public_base_url(self.world, request)}/site/{site.name}"
        return site, principal.account_id, site_url

    def _webhook(self, site: Site, request: Request) -> AdminWebhook:
        raw = request.path_params["webhook_id"]
        webhook = site.admin_webhooks.get(int(raw)) if raw.isdigit() else None
        if webhook is None:
            raise JiraError(404, f"Webhook {raw} does not exist.")
        return webhook

    def _validated(self, body: dict[str, Any], site: Site, account_id: str) -> dict[str, Any]:
        errors: dict[str, str] = {}
        name, url, events = body.get("name"), body.get("url"), body.get("events")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            errors["name"] = f"name is required (1-{MAX_NAME} characters)"
        if (
            not isinstance(url, str)
            or urlsplit(url).scheme not in ("http", "https")
            or not urlsplit(url).netloc
        ):
            errors["url"] = "url must be an absolute http(s) URL"
        if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
            errors["events"] = "events must be a non-empty list of event names"
        elif unknown := [e for e in events if e not in EVENTS]:
            errors["events"] = f"The event {unknown[0]} is not supported"
        filters = body.get("filters", {})
        jql = filters.get(FILTER_KEY, "") if isinstance(filters, dict) else None
        if not isinstance(jql, str):
            errors["filters"] = f'filters must be an object {{"{FILTER_KEY}": "<JQL>"}}'
        elif jql.strip():
            try:
                query = parse_jql(jql)
                compile_query(query, JqlContext(site, self.world, account_id, self.world.clock.now_ms()))
            except JqlError as exc:
                errors["filters"] = "; ".join(exc.messages)
        for flag in ("excludeBody", "enabled"):
            if flag in body and not isinstance(body[flag], bool):
                errors[flag] = f"{flag} must be true or false"
        secret = body.get("secret")
        if secret is not None and (not isinstance(secret, str) or len(secret) > 1024):
            errors["secret"] = "secret must be a string of at most 1024 characters"
        if errors:
            raise JiraError(400, errors=errors)
        return {
            "name": name,
            "url": url,
            "events": list(dict.fromkeys(events)),  # type: ignore[arg-type]
            "jql_filter": jql or "",
            "exclude_body": body.get("excludeBody", False),
            "enabled": body.get("enabled", True),
            "description": body.get("description") if isinstance(body.get("description"), str) else "",
        }

    async def list_webhooks(self, request: Request) -> Response:
        site, _, site_url = self._admin(request)
        start_at = int_param(request, "startAt", 0)
        with self.world.lock:
            hooks = sorted(site.admin_webhooks.values(), key=lambda w: w.id)[start_at:]
            return OrjsonResponse([admin_webhook_body(w, site_url, self.world) for w in hooks])

    async def get_webhook(self, request: Request) -> Response:
        site, _, site_url = self._admin(request)
        with self.world.lock:
            return OrjsonResponse(admin_webhook_body(self._webhook(site, request), site_url, self.world))

    async def register(self, request: Request) -> Response:
        site, account_id, site_url = self._admin(request)
        body = await json_object(request)
        values = self._validated(body, site, account_id)
        with self.world.lock:
            webhook = AdminWebhook(
                id=max(site.admin_webhooks, default=0) + 1,
                secret=body.get("secret") or None,
                last_updated_account_id=account_id,
                last_updated_ms=self.world.clock.now_ms(),
                **values,
            )
            site.admin_webhooks[webhook.id] = webhook
            return OrjsonResponse(admin_webhook_body(webhook, site_url, self.world), status_code=201)

    async def update(self, request: Request) -> Response:
        site, account_id, site_url = self._admin(request)
        body = await json_object(request)
        values = self._validated(body, site, account_id)
        with self.world.lock:
            webhook = self._webhook(site, request)
            for name, value in values.items():
                setattr(webhook, name, value)
            if "secret" in body:
                webhook.secret = body["secret"] or None
            webhook.last_updated_account_id = account_id
            webhook.last_updated_ms = self.world.clock.now_ms()
            return OrjsonResponse(admin_webhook_body(webhook, site_url, self.world))

    async def delete(self, request: Request) -> Response:
        site, _, _ = self._admin(request)
        with self.world.lock:
            del site.admin_webhooks[self._webhook(site, request).id]
        return Response(status_code=204)
