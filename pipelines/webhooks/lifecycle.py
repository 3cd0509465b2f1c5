"""The 30-day lifecycle of one site's dynamic webhook: inspect, ensure (idempotent), refresh, delete."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pipelines.webhooks.client import DynamicWebhookClient, WebhookAdminError, WebhookUrlConflict
from pipelines.webhooks.models import RegisteredWebhook, WebhookSpec

RegistrationStatus = Literal["active", "expiring", "expired", "missing", "url_conflict"]
EnsureAction = Literal["created", "refreshed", "unchanged"]


@dataclass(frozen=True)
class SiteWebhooks:
    """This app's webhooks on one site, sorted against the wanted registration, at Jira's time."""

    spec: WebhookSpec
    jira_now: datetime
    matching: tuple[RegisteredWebhook, ...]  # our registration, and duplicates of it
    stale: tuple[RegisteredWebhook, ...]  # our URL but other events or filter (settings changed)
    other_url: tuple[RegisteredWebhook, ...]  # another URL: Jira allows one URL per app

    @classmethod
    def sort(cls, spec: WebhookSpec, webhooks: tuple[RegisteredWebhook, ...], jira_now: datetime):
        return cls(
            spec=spec,
            jira_now=jira_now,
            matching=tuple(sorted((w for w in webhooks if spec.matches(w)), key=_latest_first)),
            stale=tuple(w for w in webhooks if w.url == spec.url and not spec.matches(w)),
            other_url=tuple(w for w in webhooks if w.url != spec.url),
        )

    @property
    def current(self) -> RegisteredWebhook | None:
        """The registration we keep: the matching one that lives longest."""
        return self.matching[0] if self.matching else None

    @property
    def duplicates(self) -> tuple[RegisteredWebhook, ...]:
        return self.matching[1:]

    def status(self, refresh_before: timedelta) -> RegistrationStatus:
        if self.current is None:
            return "url_conflict" if self.other_url else "missing"
        if self.current.expires_at <= self.jira_now:
            return "expired"
        if self.current.expires_at - self.jira_now <= refresh_before:
            return "expiring"
        return "active"

    def days_left(self) -> float | None:
        return None if self.current is None else self.current.days_left(self.jira_now)


@dataclass(frozen=True)
class EnsureOutcome:
    """What `ensure_registered` did on a site."""

    action: EnsureAction
    webhook_id: int
    expires_at: datetime
    jira_now: datetime
    deleted_ids: tuple[int, ...] = field(default=())

    def days_left(self) -> float:
        return (self.expires_at - self.jira_now).total_seconds() / 86400


def inspect(client: DynamicWebhookClient, spec: WebhookSpec) -> SiteWebhooks:
    listing = client.list()
    return SiteWebhooks.sort(spec, listing.webhooks, listing.jira_now)


def ensure_registered(
    client: DynamicWebhookClient,
    spec: WebhookSpec,
    *,
    refresh_before: timedelta,
    replace_other_url: bool = False,
) -> EnsureOutcome:
    """Leave exactly one webhook for `spec` on the site, alive beyond `refresh_before`.

    Lists first, so running it twice never creates a second webhook: a matching registration is
    reused (refreshed when it expires within `refresh_before`), duplicates and registrations with
    outdated events or filter are deleted after the kept one is in place. A registration for
    another URL stops here with a clear error unless `replace_other_url` (Jira keeps one URL per
    app, so registering ours next to it would fail or split deliveries).
    """
    state = inspect(client, spec)
    if state.other_url and not replace_other_url:
        urls = sorted({w.url for w in state.other_url})
        ids = ", ".join(str(w.id) for w in state.other_url)
        raise WebhookUrlConflict(
            f"site {client.site_label}: this app already has webhook(s) {ids} for {', '.join(urls)}, "
            f"not for {spec.url}. Jira allows one URL per app. If the receiver moved, run "
            "`jira-sync webhooks create --replace-url` (deletes them and registers the new URL); "
            "otherwise set webhooks.receiver_url in the sync file to that URL."
        )
    replaced = [w.id for w in state.other_url]
    client.delete(replaced)  # one URL per app: make room before registering ours
    current = state.current
    leftovers = [w.id for w in (*state.duplicates, *state.stale)]
    if current is None:
        webhook_id = client.register(spec)
        after = inspect(client, spec)
        kept = next((w for w in after.matching if w.id == webhook_id), None)
        if kept is None:
            raise WebhookAdminError(
                f"site {client.site_label}: registered webhook {webhook_id} but it is not listed afterwards"
            )
        # A POST retried after a lost response may have registered twice: keep only ours.
        leftovers += [w.id for w in after.matching if w.id != webhook_id]
        action, expires_at, jira_now = "created", kept.expires_at, after.jira_now
    elif current.expires_at - state.jira_now <= refresh_before:
        webhook_id, jira_now = current.id, state.jira_now
        action, expires_at = "refreshed", client.refresh([current.id])
        if expires_at <= jira_now:
            raise WebhookAdminError(
                f"site {client.site_label}: refreshing webhook {current.id} left it expired "
                f"(expirationDate {expires_at.isoformat()}, Jira time {jira_now.isoformat()})"
            )
    else:
        action, webhook_id, expires_at, jira_now = "unchanged", current.id, current.expires_at, state.jira_now
    client.delete(leftovers)  # only once the kept registration is in place
    return EnsureOutcome(action, webhook_id, expires_at, jira_now, tuple(sorted(set(replaced + leftovers))))


def refresh_registered(client: DynamicWebhookClient, spec: WebhookSpec) -> tuple[SiteWebhooks, datetime]:
    """Refresh every webhook of ours on the site now (operator asked); errors when there is none."""
    state = inspect(client, spec)
    ours = [w.id for w in (*state.matching, *state.stale)]
    if not ours:
        raise WebhookAdminError(
            f"site {client.site_label}: no webhook for {spec.url} to refresh; run `jira-sync webhooks create`"
        )
    return state, client.refresh(ours)


def delete_registered(
    client: DynamicWebhookClient, spec: WebhookSpec, *, include_other_urls: bool = False
) -> tuple[int, ...]:
    """Delete this app's webhooks for our URL (and for any URL with `include_other_urls`)."""
    state = inspect(client, spec)
    doomed = [w.id for w in (*state.matching, *state.stale)]
    if include_other_urls:
        doomed += [w.id for w in state.other_url]
    client.delete(doomed)
    return tuple(sorted(doomed))


def _latest_first(webhook: RegisteredWebhook) -> tuple[float, int]:
    return (-webhook.expires_at.timestamp(), webhook.id)
