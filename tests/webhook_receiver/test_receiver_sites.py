"""Site registry: declared + connect-time sites, single-flight loads, bounded reloads on a miss."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass

import pytest

from webhook_receiver.settings import DeclaredSite, TenantSites
from webhook_receiver.sites import ResolvedSite, SiteRegistry, SiteRejected

TENANT = TenantSites(
    tenant_id="acme",
    sites=(
        DeclaredSite(name="alpha", url="https://alpha.atlassian.net", cloud_id="c-alpha"),
        DeclaredSite(name="beta", url="https://beta.atlassian.net"),
    ),
)


@dataclass
class Site:
    id: str
    url: str
    name: str = ""


class Sources:
    """Connect-time sites and registrations as the token store / registry return them, with call counts."""

    def __init__(self) -> None:
        self.connected: list[Site] = []
        self.webhooks: frozenset[int] = frozenset()
        self.site_loads = 0
        self.webhook_loads = 0
        self.lock = threading.Lock()

    def sites(self, tenant_id: str) -> list[Site]:
        with self.lock:
            self.site_loads += 1
        time.sleep(0.02)  # a file read that takes a moment
        return list(self.connected)

    def registered(self, tenant_id: str, cloud_id: str) -> frozenset[int]:
        with self.lock:
            self.webhook_loads += 1
        return self.webhooks


def registry(sources: Sources, reload_interval: float = 60.0) -> SiteRegistry:
    return SiteRegistry([TENANT], sources.sites, sources.registered, reload_interval=reload_interval)


def test_concurrent_deliveries_share_one_load() -> None:
    sources = Sources()
    sites = registry(sources)

    async def burst() -> list[ResolvedSite]:
        return await asyncio.gather(
            *(sites.resolve("acme", "https://alpha.atlassian.net") for _ in range(50))
        )

    resolved = asyncio.run(burst())
    assert {site.cloud_id for site in resolved} == {"c-alpha"}
    assert sources.site_loads == 1


def test_a_miss_reloads_at_most_once_per_interval() -> None:
    sources = Sources()
    sites = registry(sources, reload_interval=60.0)

    async def scenario() -> None:
        await sites.resolve("acme", "https://alpha.atlassian.net")
        for _ in range(20):  # a flood of deliveries from an unconnected URL-only site
            with pytest.raises(SiteRejected, match="declared by URL only"):
                await sites.resolve("acme", "https://beta.atlassian.net")

    asyncio.run(scenario())
    assert sources.site_loads == 1


def test_a_site_connected_after_startup_is_found_on_the_next_delivery() -> None:
    sources = Sources()
    sites = registry(sources, reload_interval=0.0)

    async def scenario() -> ResolvedSite:
        with pytest.raises(SiteRejected):
            await sites.resolve("acme", "https://beta.atlassian.net")
        sources.connected = [Site("c-beta", "https://Beta.atlassian.net/")]
        return await sites.resolve("acme", "https://beta.atlassian.net")

    assert asyncio.run(scenario()) == ResolvedSite("acme", "c-beta", "beta")


def test_forget_drops_cached_sites_after_a_connect() -> None:
    sources = Sources()
    sites = registry(sources, reload_interval=60.0)

    async def scenario() -> ResolvedSite:
        with pytest.raises(SiteRejected):
            await sites.resolve("acme", "https://beta.atlassian.net")
        sources.connected = [Site("c-beta", "https://beta.atlassian.net")]
        sites.forget("acme")
        return await sites.resolve("acme", "https://beta.atlassian.net")

    assert asyncio.run(scenario()).cloud_id == "c-beta"


def test_repeat_deliveries_are_authorized_from_memory_until_registrations_change() -> None:
    sources = Sources()
    sites = registry(sources, reload_interval=60.0)

    async def scenario() -> None:
        for _ in range(20):
            await sites.authorize("acme", "https://alpha.atlassian.net", [1])
        assert (sources.site_loads, sources.webhook_loads) == (1, 1)
        sources.webhooks = frozenset({7})  # recorded by the lifecycle; the cache still says "none"
        fresh = registry(sources, reload_interval=0.0)
        await fresh.authorize("acme", "https://alpha.atlassian.net", [7])
        with pytest.raises(SiteRejected, match="not webhooks registered"):
            await fresh.authorize("acme", "https://alpha.atlassian.net", [1])

    asyncio.run(scenario())


def test_matched_webhooks_are_checked_only_when_registrations_were_recorded() -> None:
    sources = Sources()
    sites = registry(sources, reload_interval=60.0)
    alpha = ResolvedSite("acme", "c-alpha", "alpha")

    async def scenario() -> None:
        await sites.check_matched_webhooks(alpha, [1])  # nothing recorded: accepted
        sources.webhooks = frozenset({7})
        sites_fresh = registry(sources, reload_interval=60.0)
        await sites_fresh.check_matched_webhooks(alpha, [7, 8])
        with pytest.raises(SiteRejected, match=r"matchedWebhookIds \[1\] are not webhooks registered"):
            await sites_fresh.check_matched_webhooks(alpha, [1])

    asyncio.run(scenario())
