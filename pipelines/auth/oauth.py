"""Atlassian OAuth 2.0 (3LO): authorization URL, code exchange, rotating refresh, accessible sites.

Refresh tokens rotate: every refresh returns a new one and invalidates the old. Persisting the new
token before use is the token store's job (`token_store.py`); this module only talks HTTP.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx

# The seed's scope lists: connecting needs REQUIRED_SCOPES; webhooks and team/group sync need the
# admin scopes ("Re-authenticate with Admin Permissions").
REQUIRED_SCOPES = ["read:me", "offline_access"]
# Jira Software (boards, their configuration, sprints) has granular scopes only
# (developer.atlassian.com/cloud/jira/software/scopes-for-oauth-2-3LO-and-forge-apps).
JIRA_SOFTWARE_SCOPES = [
    "read:board-scope:jira-software",
    "read:board-scope.admin:jira-software",
    "read:sprint:jira-software",
    "read:project:jira",
]
ADMIN_SCOPES = [
    "read:jira-work",
    "read:jira-user",
    "read:email-address:jira",
    "read:group:jira",
    "manage:jira-configuration",
    "manage:jira-webhook",
    *JIRA_SOFTWARE_SCOPES,
]
_TRANSIENT_STATUS = {429, 500, 502, 503, 504}


class OAuthError(RuntimeError):
    """The token endpoint refused a request for a reason other than a dead refresh token."""


class InvalidGrant(OAuthError):
    """The refresh token (or code) was rejected: expired, revoked, or already rotated."""


class ReconnectRequired(Exception):
    """An operator must connect the site again (the stored grant no longer works)."""


@dataclass(frozen=True)
class AccessibleSite:
    """One entry of accessible-resources: a Jira site the grant reaches."""

    id: str  # the cloud id
    url: str
    name: str
    scopes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"id": self.id, "url": self.url, "name": self.name, "scopes": list(self.scopes)}

    @classmethod
    def from_json(cls, data: dict) -> AccessibleSite:
        return cls(
            id=data["id"], url=data["url"], name=data.get("name", ""), scopes=list(data.get("scopes", []))
        )


@dataclass(frozen=True)
class TokenSet:
    """An access token, the refresh token that replaces it, and when the access token expires."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime
    scopes: list[str] = field(default_factory=list)
    token_type: str = "Bearer"

    def __repr__(self) -> str:
        return (
            f"TokenSet(access_token=***, refresh_token={'***' if self.refresh_token else None}, "
            f"expires_at={self.expires_at.isoformat()}, scopes={self.scopes})"
        )

    __str__ = __repr__

    def expires_within(self, seconds: float, now: datetime | None = None) -> bool:
        return self.expires_at - (now or datetime.now(UTC)) <= timedelta(seconds=seconds)

    def to_json(self) -> dict:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat(),
            "scopes": list(self.scopes),
            "token_type": self.token_type,
        }

    @classmethod
    def from_json(cls, data: dict) -> TokenSet:
        return cls(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            scopes=list(data.get("scopes", [])),
            token_type=data.get("token_type", "Bearer"),
        )


class AtlassianOAuthClient:
    """HTTP calls of the 3LO flow against `auth_url` (tokens) and `api_url` (resources)."""

    def __init__(
        self,
        auth_url: str,
        api_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        timeout: float = 30.0,
        max_attempts: int = 4,
    ) -> None:
        self.auth_url = auth_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.timeout = timeout
        self.max_attempts = max_attempts

    def __repr__(self) -> str:
        return f"AtlassianOAuthClient(auth_url={self.auth_url!r}, client_id={self.client_id!r}, client_secret=***)"

    def authorize_url(self, scopes: list[str], state: str) -> str:
        query = urlencode(
            {
                "audience": "api.atlassian.com",
                "client_id": self.client_id,
                "scope": " ".join(scopes),
                "redirect_uri": self.redirect_uri,
                "state": state,
                "response_type": "code",
                "prompt": "consent",
            }
        )
        return f"{self.auth_url}/authorize?{query}"

    def exchange_code(self, code: str) -> TokenSet:
        return self._token_request(
            {
                "grant_type": "authorization_code",
                "client_id": self.client_id,
                "client_secret": self._client_secret,
                "code": code,
                "redirect_uri": self.redirect_uri,
            },
            previous_refresh=None,
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        return self._token_request(
            {
                "grant_type": "refresh_token",
                "client_id": self.client_id,
                "client_secret": self._client_secret,
                "refresh_token": refresh_token,
            },
            previous_refresh=refresh_token,
        )

    def accessible_resources(self, access_token: str) -> list[AccessibleSite]:
        url = f"{self.api_url}/oauth/token/accessible-resources"
        response = self._send("GET", url, headers={"Authorization": f"Bearer {access_token}"})
        if response.status_code != 200:
            raise OAuthError(f"GET /oauth/token/accessible-resources failed: HTTP {response.status_code}")
        return [AccessibleSite.from_json(item) for item in response.json()]

    def _token_request(self, body: dict, previous_refresh: str | None) -> TokenSet:
        grant = body["grant_type"]
        # A response lost after the server rotated the token is retried with the same token:
        # Atlassian accepts a just-used refresh token again within a short reuse leeway.
        response = self._send("POST", f"{self.auth_url}/oauth/token", json=body)
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code == 200 and "access_token" in payload:
            return TokenSet(
                access_token=payload["access_token"],
                refresh_token=payload.get("refresh_token") or previous_refresh,
                expires_at=datetime.now(UTC) + timedelta(seconds=int(payload.get("expires_in", 3600))),
                scopes=str(payload.get("scope", "")).split(),
                token_type=payload.get("token_type", "Bearer"),
            )
        error = payload.get("error") if isinstance(payload, dict) else None
        description = payload.get("error_description", "") if isinstance(payload, dict) else ""
        if error in ("invalid_grant", "unauthorized_client"):
            raise InvalidGrant(f"POST /oauth/token ({grant}) was rejected: {error} {description}".strip())
        raise OAuthError(
            f"POST /oauth/token ({grant}) failed: HTTP {response.status_code} {error or ''} {description}".strip()
        )

    def _send(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        delay = 1.0
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = httpx.request(method, url, timeout=self.timeout, **kwargs)  # type: ignore[arg-type]
            except httpx.TransportError:
                if attempt == self.max_attempts:
                    raise
            else:
                if response.status_code not in _TRANSIENT_STATUS or attempt == self.max_attempts:
                    return response
                retry_after = response.headers.get("Retry-After", "")
                delay = float(retry_after) if retry_after.isdigit() else delay
            time.sleep(min(delay, 60.0))
            delay *= 2
        raise AssertionError("unreachable")
