"""Admin-webhook sites: which site a delivery's path names, and the secret its body must be signed with.

An admin webhook posts to `/webhooks/jira/<tenant>/admin/<site>`: the path names the site, so its
secret (`WebhookSecretStore`, written by `jira-sync webhooks create|rotate-secret`) is known
before the body is parsed. The tenant's secrets file is re-read whenever it changed (a `stat` per
delivery), so a rotation or a deleted webhook takes effect with the next delivery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipelines.auth.webhook_secrets import AdminWebhookSecret, WebhookSecretStore
from webhook_receiver.security import DeliveryUnauthorized, verify_hub_signature
from webhook_receiver.settings import DeclaredSite, TenantSites
from webhook_receiver.sites import ResolvedSite, SiteRejected


class UnknownAdminSite(SiteRejected):
    """The path names no admin-mode site of the tenant (404)."""


class AdminSites:
    def __init__(self, tenants: Sequence[TenantSites], secrets: WebhookSecretStore) -> None:
        self._sites = {
            (tenant.tenant_id, site.name): site
            for tenant in tenants
            for site in tenant.sites
            if site.webhook_mode == "admin"
        }
        self._store = secrets
        self._loaded: dict[str, tuple[tuple[int, int, int] | None, Mapping[str, AdminWebhookSecret]]] = {}

    def declared(self, tenant_id: str, site_name: str) -> DeclaredSite:
        site = self._sites.get((tenant_id, site_name))
        if site is None:
            raise UnknownAdminSite(
                f"tenant {tenant_id!r} has no site {site_name!r} with webhook.mode: admin in the sync file"
            )
        if not site.webhooks_enabled:
            raise SiteRejected(f"webhooks are disabled for site {site_name} of tenant {tenant_id}")
        return site

    def secrets(self, tenant_id: str) -> Mapping[str, AdminWebhookSecret]:
        """The tenant's secrets, read again only when the file changed (inode: it is replaced
        atomically on every write; mtime and size)."""
        try:
            info = self._store.path(tenant_id).stat()
            version: tuple[int, int, int] | None = (info.st_ino, info.st_mtime_ns, info.st_size)
        except FileNotFoundError:
            version = None
        cached = self._loaded.get(tenant_id)
        if cached is None or cached[0] != version:
            cached = (version, self._store.sites(tenant_id) if version is not None else {})
            self._loaded[tenant_id] = cached
        return cached[1]

    def verify(self, tenant_id: str, site: DeclaredSite, body: bytes, signature: str | None) -> ResolvedSite:
        """The site, once `X-Hub-Signature` verifies with its (current or just-rotated) secret."""
        try:
            entry = _check(self.secrets(tenant_id), tenant_id, site, body, signature)
        except ValueError as exc:  # an unreadable secrets file
            raise DeliveryUnauthorized(str(exc)) from None
        return ResolvedSite(
            tenant_id=tenant_id, cloud_id=entry.cloud_id or site.cloud_id or "", name=site.name
        )


def _check(
    secrets: Mapping[str, AdminWebhookSecret],
    tenant_id: str,
    site: DeclaredSite,
    body: bytes,
    signature: str | None,
) -> AdminWebhookSecret:
    entry = secrets.get(site.name)
    if entry is None:
        raise DeliveryUnauthorized(
            f"no webhook secret is stored for site {site.name} of tenant {tenant_id}: "
            "run `jira-sync webhooks create` (it registers the admin webhook with a secret)"
        )
    problem: DeliveryUnauthorized | None = None
    for secret in entry.accepted():
        try:
            verify_hub_signature(secret, body, signature)
            return entry
        except DeliveryUnauthorized as exc:
            problem = problem or exc
    assert problem is not None
    raise problem
