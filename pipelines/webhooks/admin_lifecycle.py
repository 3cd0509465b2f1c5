"""The lifecycle of one site's admin webhook: inspect, ensure (idempotent), rotate the secret, delete.

Admin webhooks never expire (no refresh); what must be kept right is the secret: jira-sync
generates it, stores it (`WebhookSecretStore`) **before** Jira starts signing with it, and the
receiver verifies every delivery against it. Order of a rotation: the new secret is stored as
current with the old one kept for the grace period, then Jira is told (PUT); if Jira refuses,
the old secret is put back. So no delivery signed with either secret is refused on the way.

Our webhook is the one whose URL is ours (`/webhooks/jira/<tenant>/admin/<site>`); several of
ours (a retried POST) are reduced to one, and outdated events or filter are updated in place.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipelines.auth.webhook_secrets import AdminWebhookSecret, WebhookSecretStore, new_secret
from pipelines.webhooks.admin_client import AdminWebhook, AdminWebhookClient
from pipelines.webhooks.client import WebhookAdminError
from pipelines.webhooks.models import WebhookSpec

NO_SECRET = (
    "registered, but jira-sync does not hold the secret it is signed with (made elsewhere, or the "
    "secrets file was lost): run `jira-sync webhooks rotate-secret` for the site"
)


def webhook_name(tenant_id: str, site_name: str) -> str:
    return f"jira-sync {tenant_id}/{site_name}"


@dataclass(frozen=True)
class AdminSiteWebhooks:
    """The site's admin webhooks at our URL, sorted against the wanted settings."""

    matching: tuple[AdminWebhook, ...]
    stale: tuple[AdminWebhook, ...]  # our URL, other events/filter, disabled or without bodies

    @property
    def ours(self) -> tuple[AdminWebhook, ...]:
        return (*self.matching, *self.stale)

    @property
    def current(self) -> AdminWebhook | None:
        """The one we keep: a matching one first, else one to update, lowest id first."""
        return self.ours[0] if self.ours else None

    @property
    def extras(self) -> tuple[AdminWebhook, ...]:
        return self.ours[1:]


def inspect_admin(client: AdminWebhookClient, spec: WebhookSpec) -> AdminSiteWebhooks:
    listed = sorted((w for w in client.list() if w.url == spec.url), key=lambda w: w.id)
    return AdminSiteWebhooks(
        matching=tuple(w for w in listed if w.matches(spec)),
        stale=tuple(w for w in listed if not w.matches(spec)),
    )


def secret_problem(state: AdminSiteWebhooks, stored: AdminWebhookSecret | None) -> str:
    """Why deliveries of the current webhook would not verify ("" when they would)."""
    current = state.current
    if current is None:
        return ""
    if stored is None or stored.webhook_id != current.id or current.is_signed is False:
        return NO_SECRET
    return ""


@dataclass(frozen=True)
class AdminOutcome:
    action: str  # created | updated | secret set | unchanged | rotated
    webhook_id: int
    deleted_ids: tuple[int, ...] = ()


def ensure_admin_registered(
    client: AdminWebhookClient,
    spec: WebhookSpec,
    secrets: WebhookSecretStore,
    *,
    tenant_id: str,
    site_name: str,
    cloud_id: str,
) -> AdminOutcome:
    """Leave exactly one admin webhook for `spec` at our URL, signed with a secret we hold."""
    name = webhook_name(tenant_id, site_name)
    state = inspect_admin(client, spec)
    current = state.current
    stored = secrets.get(tenant_id, site_name)
    if current is None:
        entry = AdminWebhookSecret(secret=new_secret(), cloud_id=cloud_id)
        secrets.put(tenant_id, site_name, entry)  # before Jira signs anything with it
        created = client.create(name, spec, entry.secret)
        secrets.put(tenant_id, site_name, replace(entry, webhook_id=created.id))
        action, webhook_id = "created", created.id
    else:
        webhook_id = current.id
        if secret_problem(state, stored):
            rotate_admin_secret(
                client, spec, secrets, tenant_id=tenant_id, site_name=site_name, cloud_id=cloud_id
            )
            action = "secret set"
        elif not current.matches(spec):
            client.update(current.id, name, spec)  # no secret: Jira keeps the current one
            action = "updated"
        else:
            action = "unchanged"
        if stored is not None and stored.cloud_id != cloud_id:
            secrets.put(
                tenant_id, site_name, replace(secrets.get(tenant_id, site_name) or stored, cloud_id=cloud_id)
            )
    extras = [w.id for w in state.extras]
    for extra in extras:  # only once the kept one is in place
        client.delete(extra)
    return AdminOutcome(action, webhook_id, tuple(extras))


def rotate_admin_secret(
    client: AdminWebhookClient,
    spec: WebhookSpec,
    secrets: WebhookSecretStore,
    *,
    tenant_id: str,
    site_name: str,
    cloud_id: str,
) -> AdminOutcome:
    """A new secret for the site's admin webhook (its settings brought up to date on the way)."""
    state = inspect_admin(client, spec)
    current = state.current
    if current is None:
        raise WebhookAdminError(
            f"site {client.site_label}: no admin webhook for {spec.url} to rotate; run `jira-sync webhooks create`"
        )
    before = secrets.get(tenant_id, site_name)
    entry = replace(secrets.rotate(tenant_id, site_name, cloud_id), webhook_id=current.id)
    secrets.put(tenant_id, site_name, entry)
    try:
        client.update(current.id, webhook_name(tenant_id, site_name), spec, entry.secret)
    except WebhookAdminError:
        secrets.put(tenant_id, site_name, before)  # Jira still signs with the old secret
        raise
    return AdminOutcome("rotated", current.id)


def delete_admin_registered(
    client: AdminWebhookClient,
    spec: WebhookSpec,
    secrets: WebhookSecretStore,
    *,
    tenant_id: str,
    site_name: str,
) -> tuple[int, ...]:
    """Delete our admin webhooks on the site and forget their secret."""
    doomed = [w.id for w in inspect_admin(client, spec).ours]
    for webhook_id in doomed:
        client.delete(webhook_id)
    secrets.put(tenant_id, site_name, None)
    return tuple(doomed)
