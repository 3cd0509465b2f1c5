"""From the sync file to webhook-enabled sites ready to call: cloud ID, wanted spec, and a client
(the OAuth bearer for a dynamic webhook; a Jira admin's email + API token and the secret store for
an admin webhook)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from pipelines.auth.oauth import AtlassianOAuthClient
from pipelines.auth.token_store import REFRESH_MARGIN_SECONDS, TokenStore
from pipelines.auth.webhook_secrets import WebhookSecretStore
from pipelines.config import HttpConfig, SiteConfig, SyncConfig, TenantConfig
from pipelines.jira.auth import ApiTokenBasicAuth
from pipelines.jira.client import JiraHttp
from pipelines.jira.runtime import describe_failure, oauth_client, resolve_sites
from pipelines.webhooks.admin_client import AdminWebhookClient
from pipelines.webhooks.client import DynamicWebhookClient
from pipelines.webhooks.operations import AdminWebhookAccess, SiteRegistration, WebhookSite
from pipelines.webhooks.settings import webhook_spec

# A margin longer than any token's life: `access_token` then refreshes whatever our clock says.
_FORCE_REFRESH_MARGIN_SECONDS = 10 * 365 * 86400.0


class UnknownSite(ValueError):
    """`--tenant` / `--site` (or run config) names nothing webhook-enabled in the sync file."""


@dataclass(frozen=True)
class SiteProblem:
    """A webhook-enabled site that cannot be called (not connected, bad settings)."""

    tenant_id: str
    site_name: str
    message: str
    url: str = ""
    events: tuple[str, ...] = ()
    jql_filter: str = ""

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.site_name}: {self.message}"

    def as_registration(self) -> SiteRegistration:
        return SiteRegistration(
            tenant_id=self.tenant_id,
            site_name=self.site_name,
            cloud_id="",
            url=self.url,
            events=self.events,
            jql_filter=self.jql_filter,
            webhook_ids=(),
            expires_at=None,
            jira_now=None,
            status="error",
            action="failed",
            detail=self.message,
        )


@dataclass
class WebhookSites:
    sites: list[WebhookSite] = field(default_factory=list)
    problems: list[SiteProblem] = field(default_factory=list)


class TokenStoreBearer:
    """The tenant's access token from the token store (refresh and rotation are the store's job)."""

    def __init__(self, store: TokenStore, tenant_id: str, client: AtlassianOAuthClient) -> None:
        self._store, self._tenant_id, self._client = store, tenant_id, client

    def __repr__(self) -> str:
        return f"TokenStoreBearer(tenant_id={self._tenant_id!r})"

    def __call__(self, *, force: bool = False) -> str:
        margin = _FORCE_REFRESH_MARGIN_SECONDS if force else REFRESH_MARGIN_SECONDS
        return self._store.access_token(self._tenant_id, self._client, margin_seconds=margin)


def select_webhook_sites(
    config: SyncConfig, *, tenant: str | None = None, site: str | None = None
) -> list[tuple[TenantConfig, SiteConfig]]:
    """The webhook-enabled sites, narrowed by tenant id and/or site name (unknown names fail)."""
    if tenant is not None and tenant not in {t.id for t in config.tenants}:
        raise UnknownSite(
            f"tenant {tenant!r} is not in {config.source_path}; tenants: {', '.join(t.id for t in config.tenants)}"
        )
    candidates = [(t, s) for t, s in config.iter_sites() if tenant is None or t.id == tenant]
    if site is not None:
        named = [(t, s) for t, s in candidates if s.name == site]
        if not named:
            raise UnknownSite(
                f"site {site!r} is not in {config.source_path}"
                f"{f' for tenant {tenant}' if tenant else ''}; sites: {', '.join(s.name for _, s in candidates)}"
            )
        if not named[0][1].webhook.enabled:
            raise UnknownSite(
                f"site {site!r} has webhook.enabled: false in {config.source_path}; enable it to manage its webhook"
            )
        return named
    return [(t, s) for t, s in candidates if s.webhook.enabled]


@contextlib.contextmanager
def open_webhook_sites(
    config: SyncConfig,
    environ: Mapping[str, str],
    *,
    tenant: str | None = None,
    site: str | None = None,
    http_config: HttpConfig | None = None,
) -> Iterator[WebhookSites]:
    """Clients for the selected webhook-enabled sites; sites that cannot be called become problems."""
    chosen = select_webhook_sites(config, tenant=tenant, site=site)
    result = WebhookSites()
    specs = {}
    for tenant_config, site_config in chosen:
        try:
            specs[(tenant_config.id, site_config.name)] = webhook_spec(config, tenant_config, site_config)
        except ValueError as exc:
            result.problems.append(SiteProblem(tenant_config.id, site_config.name, str(exc)))
    narrowed = _only(config, set(specs))
    if not specs:
        yield result
        return
    resolved = resolve_sites(narrowed, environ)
    for label, exc in resolved.failures.failures:
        tenant_id, site_name = _owner(narrowed, label)
        spec = specs.get((tenant_id, site_name))
        result.problems.append(
            SiteProblem(
                tenant_id,
                site_name,
                describe_failure(exc),
                url=spec.url if spec else "",
                events=spec.events if spec else (),
                jql_filter=spec.jql_filter if spec else "",
            )
        )
    http = JiraHttp(http_config or config.http)
    store = TokenStore(config.oauth.token_dir)
    secrets = WebhookSecretStore(config.oauth.token_dir)
    dynamic = [r for r in resolved.sites if r.config.webhook.mode == "dynamic"]
    client = oauth_client(config, environ) if dynamic else None
    for runtime in resolved.sites:
        spec = specs[(runtime.tenant_id, runtime.name)]
        label = f"{runtime.name} (tenant {runtime.tenant_id})"
        if runtime.config.webhook.mode == "admin":
            email_env, token_env = runtime.config.admin_webhook_credentials or ("", "")
            email, token = environ.get(email_env), environ.get(token_env)
            if not (email and token and runtime.url):
                result.problems.append(
                    SiteProblem(
                        runtime.tenant_id,
                        runtime.name,
                        f"admin webhooks are registered with a Jira administrator's email and API token: "
                        f"set {email_env} and {token_env}",
                        url=spec.url,
                        events=spec.events,
                        jql_filter=spec.jql_filter,
                    )
                )
                continue
            admin = AdminWebhookAccess(
                client=AdminWebhookClient(
                    site_label=label, site_url=runtime.url, auth=ApiTokenBasicAuth(email, token), http=http
                ),
                secrets=secrets,
            )
            result.sites.append(
                WebhookSite(runtime.tenant_id, runtime.name, runtime.cloud_id, spec, admin=admin)
            )
            continue
        granted = next((s.scopes for s in store.sites(runtime.tenant_id) if s.id == runtime.cloud_id), None)
        result.sites.append(
            WebhookSite(
                tenant_id=runtime.tenant_id,
                site_name=runtime.name,
                cloud_id=runtime.cloud_id,
                spec=spec,
                client=DynamicWebhookClient(
                    site_label=label,
                    api_base_url=runtime.api_base_url,
                    access_token=TokenStoreBearer(store, runtime.tenant_id, client),
                    http=http,
                    granted_scopes=granted or None,
                ),
            )
        )
    try:
        yield result
    finally:
        http.session.close()


def _only(config: SyncConfig, keep: set[tuple[str, str]]) -> SyncConfig:
    """The sync file narrowed to `keep` (tenant id, site name): nothing else is resolved or called."""
    tenants = [
        t.model_copy(update={"sites": [s for s in t.sites if (t.id, s.name) in keep]})
        for t in config.tenants
        if any((t.id, s.name) in keep for s in t.sites)
    ]
    return config.model_copy(update={"tenants": tenants})


def _owner(config: SyncConfig, label: str) -> tuple[str, str]:
    """The (tenant, site) of a resolve_sites failure label `site <name> (tenant <id>)`."""
    for tenant, site in config.iter_sites():
        if label == f"site {site.name} (tenant {tenant.id})":
            return tenant.id, site.name
    return "?", label
