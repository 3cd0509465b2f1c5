"""From the sync file to callable sites: base URLs, cloud IDs and authenticators per site.

A site that cannot be resolved (no token stored, unknown URL, missing variable) is recorded in
`SiteFailures` and left out; the other sites still sync, and the run fails at the end with one
line per failed site saying what to do.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

import requests
from dlt.sources.helpers.rest_client.auth import AuthConfigBase

from pipelines.auth.oauth import AtlassianOAuthClient, ReconnectRequired
from pipelines.auth.token_store import TokenStore
from pipelines.config import SiteConfig, SyncConfig
from pipelines.jira.auth import ApiTokenBasicAuth, TokenStoreBearerAuth
from pipelines.jira.client import JiraRequestError


class SyncFailed(RuntimeError):
    """Some sites failed; the message has one line per site with what to do."""


@dataclass
class SiteFailures:
    """Per-site failures collected during a run (thread-safe)."""

    failures: list[tuple[str, BaseException]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, site_label: str, exc: BaseException) -> None:
        with self._lock:
            self.failures.append((site_label, exc))

    def __bool__(self) -> bool:
        return bool(self.failures)

    def labels(self) -> list[str]:
        return [label for label, _ in self.failures]

    def lines(self) -> list[str]:
        """One line per failure; a re-connect message already names its site and stands alone."""
        lines = []
        for label, exc in self.failures:
            text = describe_failure(exc)
            line = (
                text
                if isinstance(exc, ReconnectRequired) and text.startswith("re-connect site")
                else f"{label}: {text}"
            )
            if line not in lines:
                lines.append(line)
        return lines

    def raise_if_any(self) -> None:
        if self.failures:
            raise SyncFailed(
                f"{len(self.failures)} site failure(s):\n" + "\n".join(f"  - {x}" for x in self.lines())
            )


def describe_failure(exc: BaseException) -> str:
    """Our own errors already say what to do; anything else is named by its type."""
    if isinstance(exc, ReconnectRequired | JiraRequestError | SiteResolutionError):
        return str(exc)
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return f"the site could not be reached after all retries ({type(exc).__name__}); check the URL and network"
    return f"{type(exc).__name__}: {exc}"


class SiteResolutionError(RuntimeError):
    """A configured site that cannot be called; the message says what to change."""


@dataclass(frozen=True)
class SiteRuntime:
    """A Jira site ready to call: where, as whom, and its sync-file settings."""

    tenant_id: str
    name: str
    cloud_id: str
    url: str | None
    api_base_url: str  # prefix of /rest/api/3/...
    auth: AuthConfigBase
    config: SiteConfig

    @property
    def label(self) -> str:
        return f"site {self.name} (tenant {self.tenant_id})"

    def syncs(self, entity: str) -> bool:
        return entity in self.config.entities


@dataclass(frozen=True)
class TeamsRuntime:
    """One organization's Teams API (Basic auth) and the sites whose teams it lists (`siteId`)."""

    tenant_id: str
    organization_id: str
    base_url: str  # .../public/teams/v1/org/<orgId>
    auth: AuthConfigBase
    site_cloud_ids: tuple[str, ...]
    site_names: tuple[str, ...]
    credentials: str = "the Teams API email and token variables"  # which variables, named by which key

    @property
    def label(self) -> str:
        return f"teams of organization {self.organization_id} (sites {', '.join(self.site_names)})"


@dataclass
class ResolvedSites:
    sites: list[SiteRuntime]
    teams: list[TeamsRuntime]
    failures: SiteFailures


def _env(environ: Mapping[str, str], name: str | None, key: str) -> str:
    value = environ.get(name or "")
    if not value:
        raise SiteResolutionError(f"environment variable {name} (named by {key}) is not set")
    return value


def oauth_client(config: SyncConfig, environ: Mapping[str, str]) -> AtlassianOAuthClient:
    return AtlassianOAuthClient(
        auth_url=config.atlassian.auth_url,
        api_url=config.atlassian.api_url,
        client_id=_env(environ, config.oauth.client_id_env, "oauth.client_id_env"),
        client_secret=_env(environ, config.oauth.client_secret_env, "oauth.client_secret_env"),
        redirect_uri=_env(environ, config.oauth.redirect_uri_env, "oauth.redirect_uri_env"),
        timeout=config.http.timeout_seconds,
    )


def _resolve_oauth_site(
    config: SyncConfig, tenant_id: str, site: SiteConfig, store: TokenStore, client: AtlassianOAuthClient
) -> SiteRuntime:
    connected = store.sites(tenant_id)
    if not connected and store.token_set(tenant_id) is None:
        raise ReconnectRequired(
            f"re-connect site {site.name} (tenant {tenant_id}): no OAuth token is stored in "
            f"{store.path(tenant_id)}; run `jira-sync connect --tenant {tenant_id}` or open /auth/jira/connect"
        )
    cloud_id, url = site.cloud_id, site.url
    known = ", ".join(f"{s.name} ({s.id})" for s in connected) or "none"
    if cloud_id is not None:
        match = next((s for s in connected if s.id == cloud_id), None)
        if match is None and connected:
            raise ReconnectRequired(
                f"re-connect site {site.name} (tenant {tenant_id}): the stored grant does not reach cloud id "
                f"{cloud_id} (it reaches: {known}); run `jira-sync connect --tenant {tenant_id}` and select "
                "the site on the consent page"
            )
    else:
        match = next((s for s in connected if s.url.rstrip("/") == url), None)
        if match is None:
            raise SiteResolutionError(
                f"the site url {url} is not among the sites tenant {tenant_id} connected ({known}); re-connect "
                "and select it on the consent page, or write its cloud_id in the sync file"
            )
    if match is not None:
        cloud_id, url = match.id, url or match.url
    auth = TokenStoreBearerAuth(
        tenant_id=tenant_id, site_name=site.name, token_store=store, oauth_client=client
    )
    return SiteRuntime(
        tenant_id=tenant_id,
        name=site.name,
        cloud_id=str(cloud_id),
        url=url,
        api_base_url=f"{config.atlassian.api_url}/ex/jira/{cloud_id}",
        auth=auth,
        config=site,
    )


def _resolve_api_token_site(
    tenant_id: str, site: SiteConfig, prefix: str, environ: Mapping[str, str]
) -> SiteRuntime:
    if not site.url:
        raise SiteResolutionError(
            f"auth.method api_token calls the site at its URL; write url: https://<site>.atlassian.net for {prefix}"
        )
    auth = ApiTokenBasicAuth(
        username=_env(environ, site.auth.email_env, f"{prefix}.auth.email_env"),
        password=_env(environ, site.auth.api_token_env, f"{prefix}.auth.api_token_env"),
    )
    cloud_id = site.cloud_id or _tenant_info_cloud_id(site.url)
    return SiteRuntime(tenant_id, site.name, cloud_id, site.url, site.url, auth, site)


def _tenant_info_cloud_id(url: str) -> str:
    """The cloud ID behind a site URL (`/_edge/tenant_info`), for api_token sites without cloud_id."""
    try:
        response = requests.get(f"{url}/_edge/tenant_info", timeout=30)
        response.raise_for_status()
        return str(response.json()["cloudId"])
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise SiteResolutionError(
            f"cannot learn the cloud ID of {url} from /_edge/tenant_info ({type(exc).__name__}); "
            "write cloud_id: <id> for the site in the sync file"
        ) from None


def resolve_sites(
    config: SyncConfig, environ: Mapping[str, str] | None = None, *, purpose: str = "sync"
) -> ResolvedSites:
    """Every configured site as a SiteRuntime; unusable ones go to `failures` instead.

    `purpose` picks each site's auth (`auth.backfill_method` for `backfill`).
    """
    environ = os.environ if environ is None else environ
    failures = SiteFailures()
    sites: list[SiteRuntime] = []
    store = TokenStore(config.oauth.token_dir)
    client: AtlassianOAuthClient | None = None
    teams: dict[str, dict] = {}
    for t_index, tenant in enumerate(config.tenants):
        for s_index, site in enumerate(tenant.sites):
            prefix = f"tenants[{t_index}].sites[{s_index}]"
            label = f"site {site.name} (tenant {tenant.id})"
            try:
                if site.auth.method_for(purpose) == "oauth":
                    client = client or oauth_client(config, environ)
                    runtime = _resolve_oauth_site(config, tenant.id, site, store, client)
                else:
                    runtime = _resolve_api_token_site(tenant.id, site, prefix, environ)
            except Exception as exc:  # one bad site must not stop the others
                failures.add(label, exc)
                continue
            sites.append(runtime)
            if site.syncs_teams_api:
                try:
                    org = str(site.team_sync.organization_id)
                    entry = teams.setdefault(
                        org,
                        {
                            "tenant_id": tenant.id,
                            "auth": ApiTokenBasicAuth(
                                username=_env(
                                    environ, site.team_sync.email_env, f"{prefix}.team_sync.email_env"
                                ),
                                password=_env(
                                    environ, site.team_sync.api_token_env, f"{prefix}.team_sync.api_token_env"
                                ),
                            ),
                            "cloud_ids": [],
                            "names": [],
                            "credentials": f"{site.team_sync.email_env} and {site.team_sync.api_token_env} "
                            f"(named by {prefix}.team_sync.email_env / api_token_env)",
                        },
                    )
                except SiteResolutionError as exc:
                    failures.add(f"teams of {label}", exc)
                    continue
                entry["cloud_ids"].append(runtime.cloud_id)
                entry["names"].append(site.name)
    team_runtimes = [
        TeamsRuntime(
            tenant_id=entry["tenant_id"],
            organization_id=org,
            base_url=f"{config.atlassian.api_url}/public/teams/v1/org/{org}",
            auth=entry["auth"],
            site_cloud_ids=tuple(entry["cloud_ids"]),
            site_names=tuple(entry["names"]),
            credentials=entry["credentials"],
        )
        for org, entry in teams.items()
    ]
    return ResolvedSites(sites=sites, teams=team_runtimes, failures=failures)
