"""The registration each site should have, derived from the sync file's webhook settings."""

from __future__ import annotations

from pipelines.config import SiteConfig, SyncConfig, TenantConfig
from pipelines.webhook_jql import validate_webhook_jql
from pipelines.webhooks.models import ALL_ISSUES_JQL, WebhookSpec


def receiver_callback_url(config: SyncConfig, tenant: TenantConfig) -> str:
    """`{webhooks.receiver_url}/webhooks/jira/{tenant_id}`: the tenant in the path is how the
    receiver knows whose delivery it is (Jira does not HMAC-sign dynamic webhooks)."""
    return f"{config.webhooks.receiver_url.rstrip('/')}/webhooks/jira/{tenant.id}"


def admin_callback_url(config: SyncConfig, tenant: TenantConfig, site: SiteConfig) -> str:
    """`{webhooks.receiver_url}/webhooks/jira/{tenant_id}/admin/{site_name}`: the site in the path
    tells the receiver whose secret verifies the body before anything parses it."""
    return f"{config.webhooks.receiver_url.rstrip('/')}/webhooks/jira/{tenant.id}/admin/{site.name}"


def webhook_spec(config: SyncConfig, tenant: TenantConfig, site: SiteConfig) -> WebhookSpec:
    """Events (site's, else `webhooks.events`) and JQL filter (validated before it is ever sent).

    Admin webhooks take any JQL, and an empty filter means every issue."""
    events = tuple(site.webhook.events or config.webhooks.events)
    if site.webhook.mode == "admin":
        return WebhookSpec(
            url=admin_callback_url(config, tenant, site),
            events=events,
            jql_filter=site.webhook.jql_filter or "",
        )
    jql = site.webhook.jql_filter or ALL_ISSUES_JQL
    try:
        validate_webhook_jql(jql)
    except ValueError as exc:
        raise ValueError(f"tenant {tenant.id} site {site.name}: webhook.jql_filter: {exc}") from exc
    return WebhookSpec(url=receiver_callback_url(config, tenant), events=events, jql_filter=jql)
