"""HTTP calls of Jira's dynamic-webhook API (`/rest/api/3/webhook`) for one site, over OAuth."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from pipelines.webhooks.models import RegisteredWebhook, WebhookSpec, parse_jira_instant

WEBHOOK_SCOPE = "manage:jira-webhook"

# The seed's troubleshooting text for webhooks, said where the operator will read it.
ADMIN_SCOPES_HINT = (
    "Ensure you have admin-level OAuth permissions: Re-authenticate with admin scopes "
    "(open /auth/jira/connect?admin=1 on the receiver, 'Re-authenticate with Admin Permissions'), "
    "then retry."
)


class WebhookAdminError(Exception):
    """A dynamic-webhook call failed; the message names the site, the request and what to do."""


class MissingWebhookScope(WebhookAdminError):
    """The site's OAuth grant lacks `manage:jira-webhook`."""


class WebhookRegistrationRejected(WebhookAdminError):
    """Jira answered the registration with per-webhook errors (for example an unsupported JQL clause)."""


class WebhookUrlConflict(WebhookAdminError):
    """The app already has webhooks for another URL on the site (Jira allows one URL per app)."""


@dataclass(frozen=True)
class WebhookListing:
    """The app's webhooks on a site and Jira's clock when it answered."""

    webhooks: tuple[RegisteredWebhook, ...]
    jira_now: datetime


class DynamicWebhookClient:
    """Register, list, refresh and delete this OAuth app's webhooks on one Jira site.

    `api_base_url` is the OAuth gateway base of the site (`{api_url}/ex/jira/{cloud_id}`);
    `access_token` returns a valid 3LO bearer token (the token store refreshes it). Atlassian
    rejects Basic auth on these endpoints, so there is no API-token variant.
    """

    def __init__(
        self,
        *,
        site_label: str,
        api_base_url: str,
        access_token: Callable[[], str],
        http: httpx.Client,
        granted_scopes: Collection[str] | None = None,
    ) -> None:
        self.site_label = site_label
        self.api_base_url = api_base_url.rstrip("/")
        self._access_token = access_token
        self._http = http
        self._granted_scopes = granted_scopes

    def list(self) -> WebhookListing:
        """Every webhook of this app on the site, plus Jira's time (see `jira_now`)."""
        webhooks: list[RegisteredWebhook] = []
        start_at = 0
        while True:
            page = self._call("GET", "/rest/api/3/webhook", params={"startAt": start_at, "maxResults": 100})
            body = _json(page, self._describe("GET", "/rest/api/3/webhook"))
            values = body.get("values") or []
            webhooks.extend(RegisteredWebhook.model_validate(value) for value in values)
            start_at += len(values)
            if body.get("isLast", True) or not values:
                break
        return WebhookListing(webhooks=tuple(webhooks), jira_now=self.jira_now())

    def register(self, spec: WebhookSpec) -> int:
        """Create one webhook for `spec`; returns its id. Callers check for an existing one first."""
        response = self._call("POST", "/rest/api/3/webhook", json=spec.request_body())
        results = _json(response, self._describe("POST", "/rest/api/3/webhook")).get(
            "webhookRegistrationResult", []
        )
        result = results[0] if results else {}
        if result.get("createdWebhookId") is None:
            errors = "; ".join(result.get("errors") or ["no webhook id and no error returned"])
            raise WebhookRegistrationRejected(
                f"site {self.site_label}: Jira rejected the webhook registration "
                f"(events {', '.join(spec.events)}, JQL filter {spec.jql_filter!r}): {errors}. "
                "Fix the site's webhook settings in the sync file."
            )
        return int(result["createdWebhookId"])

    def refresh(self, webhook_ids: Iterable[int]) -> datetime:
        """Extend the webhooks' life by 30 days; returns the new expiry Jira reports."""
        ids = sorted(set(webhook_ids))
        response = self._call("PUT", "/rest/api/3/webhook/refresh", json={"webhookIds": ids})
        body = _json(response, self._describe("PUT", "/rest/api/3/webhook/refresh"))
        try:
            return parse_jira_instant(body["expirationDate"])
        except (KeyError, ValueError) as exc:
            raise WebhookAdminError(
                f"site {self.site_label}: PUT /rest/api/3/webhook/refresh answered without a valid "
                f"expirationDate ({exc})"
            ) from exc

    def delete(self, webhook_ids: Iterable[int]) -> None:
        ids = sorted(set(webhook_ids))
        if ids:
            self._call("DELETE", "/rest/api/3/webhook", json={"webhookIds": ids})

    def jira_now(self) -> datetime:
        """Jira's clock, not ours: expiry is Jira's decision, so "expires soon" is judged on its time.

        A local clock can be skewed against Atlassian's, and the simulator's clock is advanced in
        tests; `serverInfo.serverTime` is Jira's own time, and the `Date` header is the fallback.
        """
        response = self._call("GET", "/rest/api/3/serverInfo")
        server_time = _json(response, self._describe("GET", "/rest/api/3/serverInfo")).get("serverTime")
        if server_time:
            return parse_jira_instant(server_time)
        date_header = response.headers.get("Date")
        if date_header:
            return parsedate_to_datetime(date_header).astimezone(UTC)
        raise WebhookAdminError(
            f"site {self.site_label}: GET /rest/api/3/serverInfo gave neither serverTime nor a Date header, "
            "so Jira's clock is unknown"
        )

    def _describe(self, method: str, path: str) -> str:
        return f"site {self.site_label}: {method} {path}"

    def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        where = self._describe(method, path)
        if self._granted_scopes is not None and WEBHOOK_SCOPE not in self._granted_scopes:
            raise MissingWebhookScope(
                f"{where}: the site's OAuth grant lacks the {WEBHOOK_SCOPE} scope. {ADMIN_SCOPES_HINT}"
            )
        headers = {"Authorization": f"Bearer {self._access_token()}", "Accept": "application/json"}
        try:
            response = self._http.request(method, f"{self.api_base_url}{path}", headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise WebhookAdminError(f"{where} failed: {type(exc).__name__}: {exc}") from exc
        if response.status_code < 400:
            return response
        detail = _error_text(response)
        if response.status_code == 401 and "scope" in detail.lower():
            raise MissingWebhookScope(f"{where}: HTTP 401 {detail}. {ADMIN_SCOPES_HINT}")
        if response.status_code == 403:
            raise WebhookAdminError(
                f"{where}: HTTP 403 {detail}. Only OAuth 2.0 apps may manage dynamic webhooks; "
                f"connect the site with OAuth (not an API token). {ADMIN_SCOPES_HINT}"
            )
        raise WebhookAdminError(f"{where}: HTTP {response.status_code} {detail}")


def _json(response: httpx.Response, where: str) -> dict:
    try:
        body = response.json()
    except ValueError as exc:
        raise WebhookAdminError(f"{where}: HTTP {response.status_code} answered with non-JSON body") from exc
    if not isinstance(body, dict):
        raise WebhookAdminError(f"{where}: expected a JSON object, got {type(body).__name__}")
    return body


def _error_text(response: httpx.Response) -> str:
    """Jira's ErrorCollection (`errorMessages`, `errors`) or the gateway's `message`, in one line."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:300]
    parts = [str(m) for m in body.get("errorMessages") or []]
    parts += [f"{k}: {v}" for k, v in (body.get("errors") or {}).items()]
    if body.get("message"):
        parts.append(str(body["message"]))
    return "; ".join(parts) or response.reason_phrase
