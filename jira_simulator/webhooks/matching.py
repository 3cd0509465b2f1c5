"""Which webhooks an issue event reaches, and the deliveries that makes.

The webhooks alive at the moment of the event are captured with it (a webhook that expires or is
deleted afterwards still gets that event, one registered afterwards does not); the JQL filters
are evaluated later, by a delivery worker, against the issue as it was at the event.

- Dynamic webhooks: unexpired, subscribed to the event, `fieldIdsFilter` (updates only) and the
  JQL filter; **one POST per app URL** carrying every matched id in `matchedWebhookIds`.
- Admin webhooks: enabled, subscribed, JQL filter (empty = every issue); **one POST per
  webhook**, signed with that webhook's secret if it has one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from jira_simulator.jql import JqlError, issue_matches
from jira_simulator.model import AdminWebhook, IssueEvent, Site, Webhook, World
from jira_simulator.webhooks.delivery import Delivery
from jira_simulator.webhooks.payloads import admin_payload, dynamic_payload, event_body, site_url


@dataclass(frozen=True)
class Candidates:
    """The webhooks of the event's site that were alive and subscribed when it happened."""

    event: IssueEvent
    dynamic: tuple[Webhook, ...]
    admin: tuple[AdminWebhook, ...]

    def __bool__(self) -> bool:
        return bool(self.dynamic or self.admin)


def candidates(world: World, event: IssueEvent) -> Candidates:
    site = world.sites.get(event.cloud_id)
    if site is None:
        return Candidates(event, (), ())
    return Candidates(
        event,
        tuple(
            w
            for w in site.webhooks.values()
            if w.expiration_ms > event.timestamp_ms and event.kind in w.events
        ),
        tuple(w for w in site.admin_webhooks.values() if w.enabled and event.kind in w.events),
    )


def _matches(world: World, site: Site, event: IssueEvent, jql: str, account_id: str) -> bool:
    if not jql.strip():
        return True
    try:
        return issue_matches(jql, event.issue, site, world, account_id)
    except JqlError:
        return False  # issue properties and cf[] are not modelled: such clauses match nothing


def _changes_watched_field(event: IssueEvent, webhook: Webhook) -> bool:
    if event.kind != "jira:issue_updated" or not webhook.field_ids_filter:
        return True
    wanted = set(webhook.field_ids_filter)
    items = event.history.items if event.history else []
    return any((i.field_id or i.field) in wanted for i in items)


def deliveries(world: World, found: Candidates) -> list[Delivery]:
    """Match and render (takes `world.lock`)."""
    event = found.event
    site = world.sites[event.cloud_id]
    made: list[Delivery] = []
    with world.lock:
        by_app: dict[tuple[str, str], list[Webhook]] = {}
        for webhook in found.dynamic:
            if _changes_watched_field(event, webhook) and _matches(
                world, site, event, webhook.jql_filter, webhook.owner_account_id
            ):
                by_app.setdefault((webhook.client_id, webhook.url), []).append(webhook)
        admins = [
            w for w in found.admin if _matches(world, site, event, w.jql_filter, w.last_updated_account_id)
        ]
        if not by_app and not admins:
            return []
        envelope = event_body(world, site, event)
        base = site_url(world, site)
    for (client_id, url), webhooks in by_app.items():
        ids = sorted(w.id for w in webhooks)
        made.append(
            Delivery(
                identifier=str(uuid.uuid4()),
                kind="dynamic",
                url=url,
                cloud_id=site.cloud_id,
                event=event.kind,
                issue_key=event.issue.key,
                webhook_ids=ids,
                body=dynamic_payload(envelope, ids),
                client_id=client_id,
            )
        )
    for webhook in admins:
        made.append(
            Delivery(
                identifier=str(uuid.uuid4()),
                kind="admin",
                url=webhook.url,
                cloud_id=site.cloud_id,
                event=event.kind,
                issue_key=event.issue.key,
                webhook_ids=[webhook.id],
                body=admin_payload(envelope, base, exclude_body=webhook.exclude_body),
                secret=webhook.secret,
            )
        )
    return made
