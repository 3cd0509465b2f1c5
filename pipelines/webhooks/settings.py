"""The registration each site should have, derived from the sync file's webhook settings."""

from __future__ import annotations

from pipelines.config import SiteConfig, SyncConfig, TenantConfig
from pipelines.webhook_jql import validate_webhook_jql
from pipelines.webhooks.models import ALL_ISSUES_JQL, WebhookSpec


def receiver_callback_url(config: SyncConfig, tenant: TenantConfig) -> str:
    """`{webhooks.receiver_url}/webhooks/jira/{tenant_id}`: the tenant in the path is how the
    receiver knows whose delivery it is (Jira does not HMAC-sign dynamic webhooks)."""
    return f"{config.webhooks.receiver_url.rstrip('/')}/webhooks/jira/{tenant.id}"


def webhook_spec(config: SyncConfig, tenant: TenantConfig, site: SiteConfig) -> WebhookSpec:
    """Events (site's, else `webhooks.events`) and JQL filter (validated before it is ever sent)."""
    jql = site.webhook.jql_filter or ALL_ISSUES_JQL
    try:
        validate_webhook_jql(jql)
    except ValueError as exc:
        raise ValueError(f"tenant {tenant.id} site {site.name}: webhook.jql_filter: {exc}") from exc
    events = tuple(site.webhook.events or config.webhooks.events)
    return WebhookSpec(url=receiver_callback_url(config, tenant), events=events, jql_filter=jql)
