"""HTTP calls of Jira's dynamic-webhook API (`/rest/api/3/webhook`) for one site, over OAuth."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

import requests

from pipelines.jira.client import JiraHttp, JiraRequestError, jira_error_messages, raise_for_jira_status
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


class BearerToken(Protocol):
    """A 3LO access token source; `force=True` refreshes even if the local clock says it is valid."""

    def __call__(self, *, force: bool = False) -> str: ...


@dataclass(frozen=True)
class WebhookListing:
    """The app's webhooks on a site and Jira's clock when it answered."""

    webhooks: tuple[RegisteredWebhook, ...]
    jira_now: datetime


class DynamicWebhookClient:
    """Register, list, refresh and delete this OAuth app's webhooks on one Jira site.

    `api_base_url` is the OAuth gateway base of the site (`{api_url}/ex/jira/{cloud_id}`);
    `access_token` gives the 3LO bearer token (the token store refreshes and persists it); `http`
    is the pipelines' HTTP layer (retries on 429/5xx, shared rate limit). Atlassian rejects Basic
    auth on these endpoints, so there is no API-token variant.
    """

    def __init__(
        self,
        *,
        site_label: str,
        api_base_url: str,
        access_token: BearerToken,
        http: JiraHttp,
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

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        where = self._describe(method, path)
        if self._granted_scopes is not None and WEBHOOK_SCOPE not in self._granted_scopes:
            raise MissingWebhookScope(
                f"{where}: the site's OAuth grant lacks the {WEBHOOK_SCOPE} scope. {ADMIN_SCOPES_HINT}"
            )
        try:
            return self._send(method, path, force_token=False, **kwargs)
        except JiraRequestError as exc:
            if exc.response is None or exc.response.status_code != 401 or _is_scope_error(exc.response):
                raise self._error(where, exc) from None
        # A 401 with a token our clock still deems valid: Jira's clock is ahead of ours (skew, or
        # the simulator's advanced clock) or the grant was rotated elsewhere. Refresh once, retry.
        try:
            return self._send(method, path, force_token=True, **kwargs)
        except JiraRequestError as exc:
            raise self._error(where, exc) from None

    def _send(self, method: str, path: str, *, force_token: bool, **kwargs) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {self._access_token(force=force_token)}",
            "Accept": "application/json",
        }
        try:
            return self._http.session.request(
                method,
                f"{self.api_base_url}{path}",
                headers=headers,
                timeout=self._http.config.timeout_seconds,
                hooks={"response": [raise_for_jira_status]},
                **kwargs,
            )
        except JiraRequestError:
            raise
        except requests.RequestException as exc:
            raise WebhookAdminError(
                f"{self._describe(method, path)} failed after all retries: {type(exc).__name__}"
            ) from None

    def _error(self, where: str, exc: JiraRequestError) -> WebhookAdminError:
        response = exc.response
        status = response.status_code if response is not None else 0
        detail = (jira_error_messages(response) if response is not None else "") or str(exc)
        if status == 401 and response is not None and _is_scope_error(response):
            return MissingWebhookScope(f"{where}: HTTP 401 {detail}. {ADMIN_SCOPES_HINT}")
        if status == 403:
            return WebhookAdminError(
                f"{where}: HTTP 403 {detail}. Only OAuth 2.0 apps may manage dynamic webhooks and the grant "
                f"needs {WEBHOOK_SCOPE}. {ADMIN_SCOPES_HINT}"
            )
        return WebhookAdminError(f"{where}: HTTP {status} {detail}")


def _json(response: requests.Response, where: str) -> dict:
    try:
        body = response.json()
    except ValueError as exc:
        raise WebhookAdminError(
            f"{where}: HTTP {response.status_code} answered with a non-JSON body"
        ) from exc
    if not isinstance(body, dict):
        raise WebhookAdminError(f"{where}: expected a JSON object, got {type(body).__name__}")
    return body


def _is_scope_error(response: requests.Response) -> bool:
    """The gateway's "Unauthorized; scope does not match" (a missing scope, not a stale token)."""
    return "scope" in jira_error_messages(response).lower()
