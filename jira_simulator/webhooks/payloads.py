"""The JSON body Jira posts for an issue event, for both kinds of webhook.

Envelope (reference/jira-cloud-api.md §6.1, from Atlassian's webhooks page and public captures):
`timestamp` (epoch ms), `webhookEvent`, `issue_event_type_name` (absent on deletes), `user` (the
actor, without `emailAddress`), `issue` (as `GET issue` in REST v2 shapes, `self` on the site
host), `changelog` (`{id, items}`; created events list the initial values; none on deletes).

- Dynamic webhooks add `matchedWebhookIds` (the app's webhooks that matched; jira.js
  `src/webhooks/payloads.ts`: "present only on a webhook registered through the REST API").
- Admin webhooks carry no `matchedWebhookIds`, and their `issue.self` is
  `<site>/rest/api/2/<issue id>` - without `issue/` - in the two 2024 Cloud captures found
  (sirajju/skill-sync `webhook/JIRA.js`, eblenert/discord-jira-bot `src/routes/sample.ts`).
  `excludeBody: true` sends an empty body.
"""

from __future__ import annotations

from typing import Any

import orjson

from jira_simulator.model import IssueEvent, Site, World
from jira_simulator.oauth import public_base_url
from jira_simulator.render import ALL_FIELDS, Renderer


def site_url(world: World, site: Site) -> str:
    return f"{public_base_url(world)}/site/{site.name}"


def event_body(world: World, site: Site, event: IssueEvent) -> dict[str, Any]:
    """The envelope both kinds share (call under `world.lock`)."""
    base = public_base_url(world)
    url = site_url(world, site)
    renderer = Renderer(world, site, 2, f"{url}/rest/api/2", base, None)
    children = [i for i in site.issues.values() if i.parent_id == event.issue.id]
    body: dict[str, Any] = {"timestamp": event.timestamp_ms, "webhookEvent": event.kind}
    if event.event_type_name is not None:
        body["issue_event_type_name"] = event.event_type_name
    user = renderer.users.user_ref(event.actor_account_id)
    if user is not None:
        body["user"] = {k: v for k, v in user.items() if k != "emailAddress"}
    body["issue"] = renderer.issues.issue(event.issue, ALL_FIELDS, children=lambda issue_id: children)
    if event.history is not None and event.kind != "jira:issue_deleted":
        body["changelog"] = {
            "id": event.history.id,
            "items": [renderer.changelog.change_item(i) for i in event.history.items],
        }
    return body


def dynamic_payload(envelope: dict[str, Any], webhook_ids: list[int]) -> bytes:
    return orjson.dumps({**envelope, "matchedWebhookIds": webhook_ids})


def admin_payload(envelope: dict[str, Any], site_base: str, *, exclude_body: bool) -> bytes:
    if exclude_body:
        return b""
    issue = envelope["issue"]
    return orjson.dumps({**envelope, "issue": {**issue, "self": f"{site_base}/rest/api/2/{issue['id']}"}})
