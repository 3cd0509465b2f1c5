"""The receiver's settings: tenants and sites from the sync file, OAuth app secrets from the environment.

Secrets are never in the sync file: its `oauth.*_env` keys name the environment variables
(`JIRA_CLIENT_ID`, `JIRA_SECRET`, `JIRA_REDIRECT_URI` by default).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from pipelines.auth.scopes import BASE_SCOPES, needed_capabilities, needed_scopes
from pipelines.config import SyncConfig
from pipelines.inbox import inbox_location
from webhook_receiver.payloads import normalise_site_url

CALLBACK_PATH = "/auth/jira/callback"


class DeclaredSite(BaseModel):
    """A site of a tenant as the sync file declares it (at least one of url / cloud_id)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    url: str | None = None
    cloud_id: str | None = None
    webhooks_enabled: bool = True
    webhook_mode: Literal["dynamic", "admin"] = "dynamic"

    @cached_property
    def normalised_url(self) -> str | None:
        return None if self.url is None else normalise_site_url(self.url)


class TenantSites(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    sites: tuple[DeclaredSite, ...]
    # what the tenant's sync needs from an OAuth grant (pipelines.auth.scopes): plain connect asks for these
    scopes: tuple[str, ...] = BASE_SCOPES
    capabilities: tuple[str, ...] = ()


class OAuthApp(BaseModel):
    """The Atlassian OAuth 2.0 (3LO) app: needed by connect/callback; its secret also verifies JWTs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    auth_url: str
    api_url: str
    client_id: str | None = None
    client_secret: SecretStr | None = None
    redirect_uri: str | None = None
    # env var names, for messages that tell the operator what to set
    client_id_env: str = "JIRA_CLIENT_ID"
    client_secret_env: str = "JIRA_SECRET"
    redirect_uri_env: str = "JIRA_REDIRECT_URI"

    def missing_for_connect(self) -> list[str]:
        """Environment variables that must still be set before sites can be connected."""
        values = {
            self.client_id_env: self.client_id,
            self.client_secret_env: self.client_secret,
            self.redirect_uri_env: self.redirect_uri,
        }
        return [name for name, value in values.items() if not value]


class ReceiverSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    inbox_path: Path
    # webhooks.inbox_url_env's PostgreSQL connection string: the inbox, the registered webhook ids
    # and the connect states live there instead of the SQLite file `inbox_path`
    inbox_url: SecretStr | None = None
    token_dir: Path
    tenants: tuple[TenantSites, ...]
    oauth: OAuthApp
    max_body_bytes: int = Field(1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    jwt_leeway_seconds: int = Field(30, ge=0, le=600)
    # A delivery JWT whose exp is further ahead than this is refused (it practically never expires).
    max_token_lifetime_seconds: int = Field(3600, ge=60, le=7 * 86400)
    # Under uvicorn: a request's headers and body must arrive within this (slow_clients.py) ...
    body_timeout_seconds: float = Field(10.0, gt=0, le=600)
    # ... and at most this many requests may be arriving at once (the oldest is closed beyond it).
    max_slow_connections: int = Field(64, ge=1, le=100_000)
    busy_timeout_ms: int = Field(5000, ge=10, le=120_000)
    oauth_state_ttl_seconds: int = Field(600, ge=30, le=3600)
    # A delivery from an unknown site/webhook re-reads the token file / registrations at most this often.
    lookup_reload_seconds: float = Field(1.0, ge=0, le=300)
    connect_enabled: bool = True

    @property
    def inbox_location(self) -> Path | str:
        """Where the receiver's storage is: the PostgreSQL connection string, else the SQLite file."""
        return self.inbox_url.get_secret_value() if self.inbox_url is not None else self.inbox_path

    def tenant(self, tenant_id: str) -> TenantSites | None:
        return next((tenant for tenant in self.tenants if tenant.tenant_id == tenant_id), None)


def settings_from_sync_config(
    config: SyncConfig,
    environ: Mapping[str, str] | None = None,
    *,
    inbox_path: Path | None = None,
    **overrides: object,
) -> ReceiverSettings:
    """Receiver settings from a loaded sync file; `inbox_path` overrides `webhooks.inbox` (and a
    PostgreSQL inbox named by `webhooks.inbox_url_env`, whose variable must be set otherwise)."""
    environ = os.environ if environ is None else environ
    oauth = config.oauth

    def env(name: str | None) -> str | None:
        return (environ.get(name) or None) if name else None

    secret = env(oauth.client_secret_env)
    tenants = tuple(
        TenantSites(
            tenant_id=tenant.id,
            sites=tuple(
                DeclaredSite(
                    name=site.name,
                    url=site.url,
                    cloud_id=site.cloud_id,
                    webhooks_enabled=site.webhook.enabled,
                    webhook_mode=site.webhook.mode,
                )
                for site in tenant.sites
            ),
            scopes=needed_scopes(tenant),
            capabilities=needed_capabilities(tenant),
        )
        for tenant in config.tenants
    )
    inbox_url = None
    if inbox_path is None and config.webhooks.inbox_url_env:
        inbox_url = SecretStr(str(inbox_location(config, environ)))
    return ReceiverSettings(
        inbox_path=inbox_path or config.webhooks.inbox,
        inbox_url=inbox_url,
        token_dir=oauth.token_dir,
        tenants=tenants,
        oauth=OAuthApp(
            auth_url=config.atlassian.auth_url,
            api_url=config.atlassian.api_url,
            client_id=env(oauth.client_id_env),
            client_secret=SecretStr(secret) if secret else None,
            redirect_uri=env(oauth.redirect_uri_env),
            client_id_env=oauth.client_id_env or "JIRA_CLIENT_ID",
            client_secret_env=oauth.client_secret_env or "JIRA_SECRET",
            redirect_uri_env=oauth.redirect_uri_env or "JIRA_REDIRECT_URI",
        ),
        **overrides,
    )
