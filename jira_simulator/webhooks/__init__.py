"""Jira's two kinds of webhook, registered and delivered as Jira Cloud does.

- dynamic webhooks (`/rest/api/{2,3}/webhook`, OAuth 2.0 apps, 30-day expiry, JWT): `dynamic.py`;
- admin webhooks (`/rest/webhooks/1.0/webhook`, Jira administrators, no expiry, optional secret
  and `X-Hub-Signature`): `admin_registration.py`;
- which webhooks an event reaches: `matching.py`; the bodies: `payloads.py`; signatures:
  `signing.py`; worker threads, headers and retries: `delivery.py` (its `Sender` is the hook
  where a delivery leaves the simulator, its `planner` says when each new delivery is sent:
  `jira_simulator/delivery_faults.py` loses, delays or repeats them); all wired to a world by
  `service.py`.
"""

from jira_simulator.webhooks.service import WebhookService, service

__all__ = ["WebhookService", "service"]
