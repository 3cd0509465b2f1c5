"""The secrets of admin webhooks, kept like the OAuth tokens: never in the sync file.

One file per tenant beside its token file (`oauth.token_dir/<tenant>.webhook-secrets.json`, mode
0600, directory 0700, atomic writes under a lock). Per site: the secret Jira signs deliveries
with (`X-Hub-Signature`), the admin webhook it belongs to, the site's cloud ID (so the receiver
can key a delivery of an API-token site) and, after a rotation, the previous secret with the time
of the change: deliveries Jira signed just before a rotation, or retried after it, still verify
for `ROTATION_GRACE`.

`jira-sync webhooks create` / `rotate-secret` (and the registrations asset) write it; the
receiver reads it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipelines.auth.private_files import locked, write_private_json

# Jira retries a failed delivery for up to ~30 minutes (reference/jira-cloud-api.md §6.4).
ROTATION_GRACE = timedelta(hours=1)


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes, URL-safe (Jira accepts any string)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class AdminWebhookSecret:
    secret: str
    cloud_id: str
    webhook_id: int | None = None
    rotated_at: str | None = None  # ISO 8601 UTC of the last rotation
    previous_secret: str | None = None

    def __repr__(self) -> str:
        return f"AdminWebhookSecret(cloud_id={self.cloud_id!r}, webhook_id={self.webhook_id!r}, secret=***)"

    def accepted(self, now: datetime | None = None) -> tuple[str, ...]:
        """The secrets a delivery may be signed with now: the current one, and the previous one
        during the grace period after a rotation."""
        if self.previous_secret and self.rotated_at:
            moment = now or datetime.now(UTC)
            if moment - datetime.fromisoformat(self.rotated_at) <= ROTATION_GRACE:
                return (self.secret, self.previous_secret)
        return (self.secret,)


class WebhookSecretStore:
    """`<tenant>.webhook-secrets.json` files under the token directory."""

    def __init__(self, token_dir: Path) -> None:
        self.token_dir = Path(token_dir)

    def __repr__(self) -> str:
        return f"WebhookSecretStore({str(self.token_dir)!r})"

    def path(self, tenant_id: str) -> Path:
        if not tenant_id or "/" in tenant_id or tenant_id.startswith("."):
            raise ValueError(f"tenant id {tenant_id!r} cannot name a secrets file")
        return self.token_dir / f"{tenant_id}.webhook-secrets.json"

    def sites(self, tenant_id: str) -> dict[str, AdminWebhookSecret]:
        """Every site's secret of the tenant, by site name (empty when none was made yet)."""
        try:
            document = json.loads(self.path(tenant_id).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise ValueError(
                f"{self.path(tenant_id)} is not valid JSON ({exc}); re-create the secrets with "
                "`jira-sync webhooks rotate-secret`"
            ) from None
        return {name: AdminWebhookSecret(**entry) for name, entry in document.get("sites", {}).items()}

    def get(self, tenant_id: str, site_name: str) -> AdminWebhookSecret | None:
        return self.sites(tenant_id).get(site_name)

    def put(self, tenant_id: str, site_name: str, entry: AdminWebhookSecret | None) -> None:
        """Store (or, with None, forget) one site's secret; other sites are kept as they are."""
        with locked(self.path(tenant_id).with_suffix(".lock")):
            current = self.sites(tenant_id)
            if entry is None:
                current.pop(site_name, None)
            else:
                current[site_name] = entry
            write_private_json(
                self.path(tenant_id),
                {
                    "tenant_id": tenant_id,
                    "updated_at": datetime.now(UTC).isoformat(),
                    "sites": {name: asdict(value) for name, value in sorted(current.items())},
                },
            )

    def rotate(self, tenant_id: str, site_name: str, cloud_id: str) -> AdminWebhookSecret:
        """A new current secret, keeping the old one as `previous_secret` for the grace period."""
        old = self.get(tenant_id, site_name)
        entry = AdminWebhookSecret(
            secret=new_secret(),
            cloud_id=cloud_id,
            webhook_id=old.webhook_id if old else None,
            rotated_at=datetime.now(UTC).isoformat() if old else None,
            previous_secret=old.secret if old else None,
        )
        self.put(tenant_id, site_name, entry)
        return entry
