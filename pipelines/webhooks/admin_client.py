"""HTTP calls of Jira's admin webhook API (`/rest/webhooks/1.0/webhook`) for one site, as a Jira admin.

Webhooks "created in Jira Administration or registered by /rest/webhooks/1.0/webhook are called
admin webhooks" (https://developer.atlassian.com/cloud/jira/platform/webhooks/). They need the
Administer Jira permission, so they are called on the site URL with a Jira administrator's email
and API token (Basic auth); they never expire, take any JQL
(`filters: {"issue-related-events-section": JQL}`), and, saved with a `secret`, every delivery
carries `X-Hub-Signature: sha256=<HMAC of the raw body>`. `GET` answers a JSON array; a webhook's
id is the last segment of its `self` URL; the secret is never returned (`isSigned` says whether
one is set); a PUT without `secret` keeps it.
"""

from __future__ import annotations

from typing import Any

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipelines.jira.client import JiraHttp, JiraRequestError, jira_error_messages, raise_for_jira_status
from pipelines.webhooks.client import WebhookAdminError
from pipelines.webhooks.models import WebhookSpec, normalize_jql

FILTER_KEY = "issue-related-events-section"
API_PATH = "/rest/webhooks/1.0/webhook"


class AdminWebhook(BaseModel):
    """One admin webhook as the API renders it."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    self_url: str = Field(alias="self")
    name: str = ""
    url: str
    events: tuple[str, ...] = ()
    filters: dict[str, str] = Field(default_factory=dict)
    enabled: bool = True
    exclude_body: bool = Field(False, alias="excludeBody")
    is_signed: bool | None = Field(None, alias="isSigned")

    @field_validator("filters", mode="before")
    @classmethod
    def _filters(cls, value: Any) -> dict[str, str]:
        return value if isinstance(value, dict) else {}  # some versions render "" for no filter

    @property
    def id(self) -> int:
        return int(self.self_url.rstrip("/").rsplit("/", 1)[-1])

    @property
    def jql_filter(self) -> str:
        return self.filters.get(FILTER_KEY) or ""

    def matches(self, spec: WebhookSpec) -> bool:
        """Our URL, our events, our filter, delivering bodies, enabled."""
        return (
            self.url == spec.url
            and set(self.events) == set(spec.events)
            and normalize_jql(self.jql_filter) == normalize_jql(spec.jql_filter)
            and self.enabled
            and not self.exclude_body
        )


def request_body(name: str, spec: WebhookSpec, secret: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "url": spec.url,
        "events": list(spec.events),
        "filters": {FILTER_KEY: spec.jql_filter},
        "excludeBody": False,
        "enabled": True,
    }
    if secret is not None:
        body["secret"] = secret
    return body


class AdminWebhookClient:
    """List, create, update (settings or secret) and delete a site's admin webhooks."""

    def __init__(
        self, *, site_label: str, site_url: str, auth: requests.auth.AuthBase, http: JiraHttp
    ) -> None:
        self.site_label = site_label
        self.site_url = site_url.rstrip("/")
        self._auth = auth
        self._http = http

    def list(self) -> tuple[AdminWebhook, ...]:
        body = self._call("GET", API_PATH)
        if not isinstance(body, list):
            raise WebhookAdminError(f"{self._where('GET', API_PATH)}: expected a JSON array of webhooks")
        return tuple(self._webhook(item, "GET") for item in body)

    def create(self, name: str, spec: WebhookSpec, secret: str) -> AdminWebhook:
        return self._webhook(self._call("POST", API_PATH, json=request_body(name, spec, secret)), "POST")

    def update(
        self, webhook_id: int, name: str, spec: WebhookSpec, secret: str | None = None
    ) -> AdminWebhook:
        """Replace the webhook's settings; a new `secret` rotates it, None keeps the current one."""
        path = f"{API_PATH}/{webhook_id}"
        return self._webhook(self._call("PUT", path, json=request_body(name, spec, secret)), "PUT")

    def delete(self, webhook_id: int) -> None:
        self._call("DELETE", f"{API_PATH}/{webhook_id}")

    def _webhook(self, value: Any, method: str) -> AdminWebhook:
        try:
            return AdminWebhook.model_validate(value)
        except (ValidationError, ValueError) as exc:
            raise WebhookAdminError(
                f"{self._where(method, API_PATH)}: unexpected webhook shape ({exc})"
            ) from None

    def _where(self, method: str, path: str) -> str:
        return f"site {self.site_label}: {method} {path}"

    def _call(self, method: str, path: str, **kwargs) -> Any:
        where = self._where(method, path)
        try:
            response = self._http.session.request(
                method,
                f"{self.site_url}{path}",
                auth=self._auth,
                headers={"Accept": "application/json"},
                timeout=self._http.config.timeout_seconds,
                hooks={"response": [raise_for_jira_status]},
                **kwargs,
            )
        except JiraRequestError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            detail = (jira_error_messages(exc.response) if exc.response is not None else "") or str(exc)
            hint = {
                401: " Check the email and API token (webhook.admin_email_env / admin_api_token_env, or the site's auth).",
                403: " The account must have the Administer Jira global permission to manage admin webhooks.",
            }.get(status, "")
            raise WebhookAdminError(f"{where}: HTTP {status} {detail}.{hint}") from None
        except requests.RequestException as exc:
            raise WebhookAdminError(f"{where} failed after all retries: {type(exc).__name__}") from None
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise WebhookAdminError(
                f"{where}: HTTP {response.status_code} answered with a non-JSON body"
            ) from None
