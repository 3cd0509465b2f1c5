"""dlt authenticators for Jira: OAuth bearer from the token store, Basic email + API token."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from dlt.common.configuration.specs.base_configuration import NotResolved, configspec
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth, OAuth2AuthBase
from requests import PreparedRequest, Response

from pipelines.auth.oauth import AtlassianOAuthClient, ReconnectRequired
from pipelines.auth.token_store import REFRESH_MARGIN_SECONDS, TokenStore, reconnect_message
from pipelines.jira.client import jira_error_messages

# Refreshes of one request's token when Jira refuses it after a wait for the quota.
REAUTHORIZE_AFTER_WAITS = 3


@configspec
class TokenStoreBearerAuth(OAuth2AuthBase):
    """Bearer token of a tenant's OAuth grant; refreshed through the token store when expiring.

    The token is cached in memory until it nears expiry, so the file is read once per hour, not
    per request; the refresh itself (lock, rotate, persist) is the token store's.
    """

    tenant_id: str = None
    site_name: str = None  # named in the re-connect message when Jira refuses a fresh token
    token_store: Annotated[Any, NotResolved()] = None
    oauth_client: Annotated[Any, NotResolved()] = None

    def __post_init__(self) -> None:
        self._expires_at = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenStoreBearerAuth(tenant_id={self.tenant_id!r}, access_token=***)"

    __str__ = __repr__

    def current_token(self, rejected: str | None = None) -> str:
        margin = timedelta(seconds=REFRESH_MARGIN_SECONDS)
        with self._lock:
            stale = rejected is not None and rejected == self.access_token
            if self.access_token is None or stale or datetime.now(UTC) + margin >= self._expires_at:
                store: TokenStore = self.token_store
                client: AtlassianOAuthClient = self.oauth_client
                self.access_token = store.access_token(self.tenant_id, client, rejected_token=rejected)
                token_set = store.token_set(self.tenant_id)
                self._expires_at = token_set.expires_at if token_set else datetime.now(UTC)
            return self.access_token

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        self._authorize(request)
        # Called again by the HTTP adapter when the request waited for the quota before sending.
        request._jira_authorize = self._authorize  # type: ignore[attr-defined]
        # First in line, so the retried response is what the other hooks (error handling) see.
        request.hooks["response"].insert(0, self._retry_after_401)
        return request

    def _authorize(self, request: PreparedRequest) -> None:
        request.headers["Authorization"] = f"Bearer {self.current_token()}"

    def _retry_after_401(self, response: Response, **kwargs: Any) -> Response | None:
        """A 401 before expiry (token revoked or expired early): refresh and re-send.

        Once, unless the re-sent request waited for the quota on its way out (its fresh token may
        have expired meanwhile): then again, up to `REAUTHORIZE_AFTER_WAITS` times in all.
        """
        if response.status_code != 401 or getattr(response.request, "_jira_reauthorized", False):
            return None
        refused = response
        for _attempt in range(REAUTHORIZE_AFTER_WAITS):
            sent = refused.request.headers.get("Authorization", "").removeprefix("Bearer ")
            token = self.current_token(rejected=sent)
            retry = refused.request.copy()
            retry.headers["Authorization"] = f"Bearer {token}"
            retry._jira_reauthorized = True  # type: ignore[attr-defined]
            retry._jira_authorize = self._authorize  # type: ignore[attr-defined]
            retry._jira_waited = 0.0  # type: ignore[attr-defined]
            refused.content  # noqa: B018 - drain the refused response so its connection is reused
            refused.close()
            new_response = refused.connection.send(retry, **kwargs)
            new_response.history.append(refused)
            new_response.request = retry
            if new_response.status_code != 401:
                return new_response
            if not getattr(retry, "_jira_waited", 0.0):
                break
            refused = new_response
        raise self._refused(new_response)

    def _refused(self, response: Response) -> ReconnectRequired:
        """Jira refused a token refreshed a moment ago: only a new consent can fix that.

        The grant no longer reaches the site (it was removed from the app's sites) or lacks a
        scope; retrying with yet another token would only burn refresh tokens.
        """
        detail = jira_error_messages(response) or "Unauthorized"
        response.close()
        reason = (
            f"Jira refuses even a freshly refreshed token for this site (HTTP 401: {detail}): the grant no "
            "longer reaches the site or lacks a scope; select the site, with the admin scopes, on the consent page"
        )
        return ReconnectRequired(reconnect_message(self.tenant_id, [self.site_name or "?"], reason))


@configspec
class ApiTokenBasicAuth(HttpBasicAuth):
    """Basic auth with an Atlassian account email and API token (sites, Teams API)."""

    def __repr__(self) -> str:
        return f"ApiTokenBasicAuth(username={self.username!r}, password=***)"

    __str__ = __repr__
