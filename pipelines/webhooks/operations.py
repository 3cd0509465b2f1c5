"""Per-site webhook operations shared by the CLI and Dagster: each returns one report row.

A failure on one site (missing scope, URL conflict, Jira error) becomes that site's row with
status `error` and the reason, so the other sites are still handled and the caller decides how
to surface it (CLI exit code, Dagster asset check and failed run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pipelines.auth.webhook_secrets import WebhookSecretStore
from pipelines.inbox import open_registry
from pipelines.webhooks.admin_client import AdminWebhookClient
from pipelines.webhooks.admin_lifecycle import (
    delete_admin_registered,
    ensure_admin_registered,
    inspect_admin,
    rotate_admin_secret,
    secret_problem,
)
from pipelines.webhooks.client import DynamicWebhookClient, WebhookAdminError
from pipelines.webhooks.lifecycle import (
    RegistrationStatus,
    delete_registered,
    ensure_registered,
    inspect,
    refresh_registered,
)
from pipelines.webhooks.models import WebhookSpec

Action = Literal["observe", "reconcile", "refresh", "delete", "rotate"]
# active | expiring (within refresh_before) | expired | missing | url_conflict, or after an
# operation: deleted (this run removed it) | error (the site could not be handled; see detail)
Status = RegistrationStatus | Literal["deleted", "error"]


@dataclass(frozen=True)
class AdminWebhookAccess:
    """What an admin-mode site is managed with: the admin API as a Jira admin, and the secrets."""

    client: AdminWebhookClient
    secrets: WebhookSecretStore


@dataclass(frozen=True)
class WebhookSite:
    """A webhook-enabled site, ready to call: who it belongs to, what it should have, a client
    (`client` for a dynamic webhook, `admin` for an admin webhook: exactly one is set)."""

    tenant_id: str
    site_name: str
    cloud_id: str
    spec: WebhookSpec
    client: DynamicWebhookClient | None = None
    admin: AdminWebhookAccess | None = None

    @property
    def mode(self) -> Literal["dynamic", "admin"]:
        return "admin" if self.admin is not None else "dynamic"

    @property
    def label(self) -> str:
        return f"{self.tenant_id}/{self.site_name}"


@dataclass(frozen=True)
class SiteRegistration:
    """One site's registration after an operation: the row of `jira.webhook_registrations`."""

    tenant_id: str
    site_name: str
    cloud_id: str
    url: str
    events: tuple[str, ...]
    jql_filter: str
    webhook_ids: tuple[int, ...]
    expires_at: datetime | None
    jira_now: datetime | None
    status: Status
    action: str  # what this operation did: observed, created, refreshed, unchanged, deleted, rotated, failed
    detail: str = ""
    mode: Literal["dynamic", "admin"] = "dynamic"

    @property
    def days_left(self) -> float | None:
        if self.expires_at is None or self.jira_now is None:
            return None
        return round((self.expires_at - self.jira_now).total_seconds() / 86400, 3)

    @property
    def healthy(self) -> bool:
        return self.status in ("active", "expiring")


def run_action(site: WebhookSite, action: Action, *, refresh_before: timedelta, replace_url: bool = False):
    """Apply `action` to one site and report its registration afterwards (never raises Jira errors)."""
    if site.admin is not None:
        return run_admin_action(site, site.admin, action)
    if action == "rotate":
        return _row(
            site,
            status="error",
            action="failed",
            detail="a dynamic webhook has no secret of its own: Jira signs its deliveries with the OAuth "
            "app's client secret (rotate that in the developer console, then update JIRA_SECRET)",
        )
    assert site.client is not None
    operation: Callable[[], SiteRegistration] = {
        "observe": lambda: _observe(site, refresh_before, "observed"),
        "reconcile": lambda: _reconcile(site, refresh_before, replace_url),
        "refresh": lambda: _refresh(site, refresh_before),
        "delete": lambda: _delete(site, replace_url),
    }[action]
    try:
        return operation()
    except WebhookAdminError as exc:
        return _row(site, status="error", action="failed", detail=str(exc))


def record_for_receiver(inbox: Path | str, rows: Sequence[SiteRegistration]) -> None:
    """Record our webhook ids per site beside the inbox (`pipelines.inbox.inbox_location`): the
    receiver refuses deliveries whose matchedWebhookIds are not ours. Sites in error keep what was
    recorded."""
    registry = open_registry(inbox)
    try:
        for row in rows:
            # admin webhooks are checked by their signature, not by matchedWebhookIds
            if row.mode == "dynamic" and row.status not in ("error", "url_conflict") and row.cloud_id:
                registry.record(row.tenant_id, row.cloud_id, row.webhook_ids)
    finally:
        registry.close()


def run_admin_action(site: WebhookSite, admin: AdminWebhookAccess, action: Action) -> SiteRegistration:
    """`action` on an admin-mode site: no expiry, so refresh only observes; rotate renews the secret."""
    where = {"tenant_id": site.tenant_id, "site_name": site.site_name}
    try:
        if action == "reconcile":
            outcome = ensure_admin_registered(
                admin.client, site.spec, admin.secrets, cloud_id=site.cloud_id, **where
            )
            detail = (
                f"deleted webhooks {', '.join(map(str, outcome.deleted_ids))}" if outcome.deleted_ids else ""
            )
            return _observe_admin(site, admin, outcome.action, detail)
        if action == "rotate":
            outcome = rotate_admin_secret(
                admin.client, site.spec, admin.secrets, cloud_id=site.cloud_id, **where
            )
            return _observe_admin(
                site, admin, outcome.action, "new secret stored; the previous one is accepted for 1 hour"
            )
        if action == "delete":
            deleted = delete_admin_registered(admin.client, site.spec, admin.secrets, **where)
            detail = f"deleted webhooks {', '.join(map(str, deleted))}" if deleted else "nothing to delete"
            return _row(site, status="deleted" if deleted else "missing", action="deleted", detail=detail)
        note = "admin webhooks do not expire: nothing to refresh" if action == "refresh" else ""
        return _observe_admin(site, admin, "unchanged" if action == "refresh" else "observed", note)
    except WebhookAdminError as exc:
        return _row(site, status="error", action="failed", detail=str(exc))


def _observe_admin(
    site: WebhookSite, admin: AdminWebhookAccess, action: str, detail: str = ""
) -> SiteRegistration:
    state = inspect_admin(admin.client, site.spec)
    stored = admin.secrets.get(site.tenant_id, site.site_name)
    notes = [detail] if detail else []
    problem = secret_problem(state, stored)
    if problem:
        notes.append(problem)
    if state.extras:
        notes.append(f"extra admin webhooks for our URL: {', '.join(str(w.id) for w in state.extras)}")
    if state.current is not None and not state.current.matches(site.spec):
        notes.append(
            "its events, filter or enabled flag differ from the sync file: run `jira-sync webhooks create`"
        )
    status: Status = "missing" if state.current is None else ("error" if problem else "active")
    return _row(
        site,
        status=status,
        action=action,
        webhook_ids=tuple(w.id for w in state.ours),
        detail="; ".join(notes),
    )


def _observe(site: WebhookSite, refresh_before: timedelta, action: str, detail: str = "") -> SiteRegistration:
    assert site.client is not None
    state = inspect(site.client, site.spec)
    status = state.status(refresh_before)
    current = state.current
    notes = [detail] if detail else []
    if state.duplicates:
        notes.append(f"duplicates of webhook {current.id}: {', '.join(str(w.id) for w in state.duplicates)}")
    if state.other_url:
        urls = ", ".join(sorted({w.url for w in state.other_url}))
        notes.append(f"this app also has webhooks for {urls} (Jira allows one URL per app)")
    return _row(
        site,
        status=status,
        action=action,
        webhook_ids=tuple(w.id for w in state.matching),
        expires_at=current.expires_at if current else None,
        jira_now=state.jira_now,
        detail="; ".join(notes),
    )


def _reconcile(site: WebhookSite, refresh_before: timedelta, replace_url: bool) -> SiteRegistration:
    assert site.client is not None
    outcome = ensure_registered(
        site.client, site.spec, refresh_before=refresh_before, replace_other_url=replace_url
    )
    detail = f"deleted webhooks {', '.join(map(str, outcome.deleted_ids))}" if outcome.deleted_ids else ""
    return _observe(site, refresh_before, outcome.action, detail)


def _refresh(site: WebhookSite, refresh_before: timedelta) -> SiteRegistration:
    assert site.client is not None
    refresh_registered(site.client, site.spec)
    return _observe(site, refresh_before, "refreshed")


def _delete(site: WebhookSite, include_other_urls: bool) -> SiteRegistration:
    assert site.client is not None
    deleted = delete_registered(site.client, site.spec, include_other_urls=include_other_urls)
    detail = f"deleted webhooks {', '.join(map(str, deleted))}" if deleted else "nothing to delete"
    return _row(site, status="deleted" if deleted else "missing", action="deleted", detail=detail)


def _row(site: WebhookSite, *, status: Status, action: str, **values) -> SiteRegistration:
    return SiteRegistration(
        tenant_id=site.tenant_id,
        site_name=site.site_name,
        cloud_id=site.cloud_id,
        url=site.spec.url,
        events=site.spec.events,
        jql_filter=site.spec.jql_filter,
        webhook_ids=values.get("webhook_ids", ()),
        expires_at=values.get("expires_at"),
        jira_now=values.get("jira_now"),
        status=status,
        action=action,
        detail=values.get("detail", ""),
        mode=site.mode,
    )
