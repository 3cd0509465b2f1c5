"""Which Jira site sent a delivery, and whether that site and webhook are registered for the tenant.

Jira's deliveries carry no site id, but `issue.self` starts with the site's base URL. The sync
file declares each tenant's sites (url and/or cloud_id); the sites saved at connect time
(`TokenStore.sites`, from accessible-resources) map URLs to cloud IDs. A delivery is accepted
only from a declared site with webhooks enabled, whose cloud ID is known, and (when the webhook
lifecycle recorded registrations) whose `matchedWebhookIds` include a registered webhook.

Lookups are cached for `max_age` seconds; a miss re-reads the token file / registrations at most
once per `reload_interval` seconds (in a worker thread), so a site connected a moment ago is
recognised and a flood of bogus deliveries cannot turn into a flood of file reads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import anyio.to_thread

from webhook_receiver.payloads import normalise_site_url
from webhook_receiver.settings import DeclaredSite, TenantSites

K = TypeVar("K")
V = TypeVar("V")


class ConnectedSite(Protocol):
    """An accessible-resources entry as the token store keeps it (`pipelines.auth.oauth.AccessibleSite`)."""

    id: str
    url: str
    name: str


class SiteRejected(Exception):
    """The delivery's site or webhook is not registered for the tenant (403); the message says why."""


@dataclass(frozen=True)
class ResolvedSite:
    tenant_id: str
    cloud_id: str
    name: str


class CachedLookup(Generic[K, V]):
    """Values loaded in a worker thread and cached; one load in flight per key (no stampede)."""

    def __init__(self, load: Callable[[K], V]) -> None:
        self._load = load
        self._entries: dict[K, tuple[float, V]] = {}
        self._inflight: dict[K, asyncio.Future[V]] = {}

    async def get(self, key: K, max_age: float) -> V:
        """The cached value if loaded less than `max_age` seconds ago, else a fresh one."""
        entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry[0] < max_age:
            return entry[1]
        load = self._inflight.get(key)
        if load is None:
            load = asyncio.ensure_future(self._reload(key))
            self._inflight[key] = load
        return await asyncio.shield(load)  # a cancelled waiter must not cancel the shared load

    async def _reload(self, key: K) -> V:
        try:
            value = await anyio.to_thread.run_sync(self._load, key)
            self._entries[key] = (time.monotonic(), value)
            return value
        finally:
            self._inflight.pop(key, None)

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)


class SiteRegistry:
    def __init__(
        self,
        tenants: Sequence[TenantSites],
        connected_sites: Callable[[str], Sequence[ConnectedSite]],
        registered_webhooks: Callable[[str, str], frozenset[int]],
        *,
        reload_interval: float = 1.0,
        max_age: float = 60.0,
    ) -> None:
        self._tenants = {tenant.tenant_id: tenant for tenant in tenants}
        self.reload_interval = reload_interval
        self.max_age = max_age

        def load_connected(tenant_id: str) -> dict[str, str]:
            return {normalise_site_url(site.url): site.id for site in connected_sites(tenant_id) if site.url}

        def load_webhooks(key: tuple[str, str]) -> frozenset[int]:
            return frozenset(registered_webhooks(*key))

        self._connected: CachedLookup[str, dict[str, str]] = CachedLookup(load_connected)
        self._webhooks: CachedLookup[tuple[str, str], frozenset[int]] = CachedLookup(load_webhooks)
        # (tenant, base URL) of accepted deliveries -> (site, its recorded webhook IDs, when checked)
        self._accepted: dict[tuple[str, str], tuple[ResolvedSite, frozenset[int], float]] = {}

    def knows_tenant(self, tenant_id: str) -> bool:
        return tenant_id in self._tenants

    def tenant_ids(self) -> list[str]:
        return sorted(self._tenants)

    def forget(self, tenant_id: str) -> None:
        """Drop cached connect-time sites (after a connect): the next delivery re-reads them."""
        self._connected.forget(tenant_id)
        for key in [key for key in self._accepted if key[0] == tenant_id]:
            del self._accepted[key]

    def recently_accepted(self, tenant_id: str, base_url: str, matched: Sequence[int]) -> ResolvedSite | None:
        """The site, when this (tenant, site) was accepted a moment ago with these webhooks.

        Most deliveries come from a handful of sites and this check runs on every one: a repeat
        is answered from memory, without a coroutine; None means "ask `authorize`".
        """
        accepted = self._accepted.get((tenant_id, base_url))
        if accepted is None:
            return None
        site, registered, checked_at = accepted
        fresh_for = self.max_age if registered else self.reload_interval
        if time.monotonic() - checked_at < fresh_for and (
            not registered or not registered.isdisjoint(matched)
        ):
            return site
        return None

    async def authorize(self, tenant_id: str, base_url: str, matched: Sequence[int]) -> ResolvedSite:
        """The registered site of a delivery whose matched webhooks are registered, or `SiteRejected`."""
        site = self.recently_accepted(tenant_id, base_url, matched)
        if site is not None:
            return site
        site = await self.resolve(tenant_id, base_url)
        registered = await self.check_matched_webhooks(site, matched)
        self._accepted[(tenant_id, base_url)] = (site, registered, time.monotonic())
        return site

    async def resolve(self, tenant_id: str, base_url: str) -> ResolvedSite:
        """The registered site a delivery from `base_url` belongs to, or `SiteRejected`."""
        tenant = self._tenants[tenant_id]
        connected = await self._connected.get(tenant_id, self.max_age)
        try:
            return _match(tenant, base_url, connected)
        except SiteRejected:
            # a site connected a moment ago: re-read the token file (at most once per interval)
            reloaded = await self._connected.get(tenant_id, self.reload_interval)
            if reloaded is connected:
                raise
        return _match(tenant, base_url, reloaded)

    async def check_matched_webhooks(self, site: ResolvedSite, matched: Sequence[int]) -> frozenset[int]:
        """Reject a delivery none of whose matched webhooks is registered for the site; the site's IDs."""
        key = (site.tenant_id, site.cloud_id)
        registered = await self._webhooks.get(key, self.max_age)
        if not registered or registered.isdisjoint(matched):
            # nothing recorded, or no match: the lifecycle may have recorded a registration since
            registered = await self._webhooks.get(key, self.reload_interval)
        # No recorded registrations: the site's webhooks were registered by other tooling.
        if registered and registered.isdisjoint(matched):
            raise SiteRejected(
                f"matchedWebhookIds {sorted(set(matched))[:10]} are not webhooks registered for site {site.name} "
                f"(cloud id {site.cloud_id}; registered: {sorted(registered)}); "
                f"re-register with `jira-sync webhooks create`"
            )
        return registered


def _match(tenant: TenantSites, base_url: str, connected: dict[str, str]) -> ResolvedSite:
    """Find the declared site for `base_url` using the connect-time URL -> cloud ID map."""
    site, cloud_id = _find_site(tenant, base_url, connected)
    if not site.webhooks_enabled:
        raise SiteRejected(
            f"webhooks are disabled for site {site.name} of tenant {tenant.tenant_id} "
            "(set webhook.enabled: true for it in the sync file)"
        )
    return ResolvedSite(tenant_id=tenant.tenant_id, cloud_id=cloud_id, name=site.name)


def _find_site(tenant: TenantSites, base_url: str, connected: dict[str, str]) -> tuple[DeclaredSite, str]:
    connected_id = connected.get(base_url)
    for site in tenant.sites:
        if site.normalised_url != base_url:  # cached on the model
            continue
        if site.cloud_id and connected_id and site.cloud_id != connected_id:
            raise SiteRejected(
                f"site {site.name} of tenant {tenant.tenant_id}: the sync file says cloud id {site.cloud_id} "
                f"but the connected site at {base_url} has cloud id {connected_id}; fix cloud_id in the sync file"
            )
        cloud_id = site.cloud_id or connected_id
        if cloud_id is None:
            raise SiteRejected(
                f"site {site.name} of tenant {tenant.tenant_id} is declared by URL only and its cloud id is "
                f"unknown: connect the tenant (GET /auth/jira/connect?tenant={tenant.tenant_id}) "
                "or set cloud_id in the sync file"
            )
        return site, cloud_id
    if connected_id is not None:
        for site in tenant.sites:
            if site.cloud_id == connected_id:
                return site, connected_id
    raise SiteRejected(
        f"deliveries from {base_url} are not registered for tenant {tenant.tenant_id}: "
        "declare the site under this tenant in the sync file and connect it"
    )
