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

from pipelines.inbox.registrations import WebhookRegistry
from pipelines.webhooks.client import DynamicWebhookClient, WebhookAdminError
from pipelines.webhooks.lifecycle import (
    RegistrationStatus,
    delete_registered,
    ensure_registered,
    inspect,
    refresh_registered,
)
from pipelines.webhooks.models import WebhookSpec

Action = Literal["observe", "reconcile", "refresh", "delete"]
# active | expiring (within refresh_before) | expired | missing | url_conflict, or after an
# operation: deleted (this run removed it) | error (the site could not be handled; see detail)
Status = RegistrationStatus | Literal["deleted", "error"]


@dataclass(frozen=True)
class WebhookSite:
    """A webhook-enabled site, ready to call: who it belongs to, what it should have, a client."""

    tenant_id: str
    site_name: str
    cloud_id: str
    spec: WebhookSpec
    client: DynamicWebhookClient

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
    action: str  # what this operation did: observed, created, refreshed, unchanged, deleted, failed
    detail: str = ""

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


def record_for_receiver(inbox_path: Path, rows: Sequence[SiteRegistration]) -> None:
    """Record our webhook ids per site beside the inbox (`webhooks.inbox`): the receiver refuses
    deliveries whose matchedWebhookIds are not ours. Sites in error keep what was recorded."""
    registry = WebhookRegistry(inbox_path)
    try:
        for row in rows:
            if row.status not in ("error", "url_conflict") and row.cloud_id:
                registry.record(row.tenant_id, row.cloud_id, row.webhook_ids)
    finally:
        registry.close()


def _observe(site: WebhookSite, refresh_before: timedelta, action: str, detail: str = "") -> SiteRegistration:
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
    outcome = ensure_registered(
        site.client, site.spec, refresh_before=refresh_before, replace_other_url=replace_url
    )
    detail = f"deleted webhooks {', '.join(map(str, outcome.deleted_ids))}" if outcome.deleted_ids else ""
    return _observe(site, refresh_before, outcome.action, detail)


def _refresh(site: WebhookSite, refresh_before: timedelta) -> SiteRegistration:
    refresh_registered(site.client, site.spec)
    return _observe(site, refresh_before, "refreshed")


def _delete(site: WebhookSite, include_other_urls: bool) -> SiteRegistration:
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
    )
