"""Per-tenant OAuth token files that survive rotating, single-use refresh tokens.

One JSON file per tenant (mode 0600, directory 0700) and a lock file beside it. A refresh happens
under an exclusive `fcntl.flock`, after re-reading the file (another process may have refreshed
already), and the rotated refresh token is written atomically (tmp + fsync + rename) before the
new access token is handed out. So concurrent runs never burn a refresh token.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

from pipelines.auth.oauth import (
    AccessibleSite,
    AtlassianOAuthClient,
    InvalidGrant,
    ReconnectRequired,
    TokenSet,
)
from pipelines.auth.private_files import locked, write_private_json

# Refresh this long before expiry so a token never dies in the middle of a page request.
REFRESH_MARGIN_SECONDS = 300.0


def reconnect_message(tenant_id: str, site_names: list[str], reason: str) -> str:
    sites = ", ".join(site_names) or "(none stored)"
    return (
        f"re-connect site {sites} (tenant {tenant_id}): {reason}; "
        f"run `jira-sync connect --tenant {tenant_id}` or open /auth/jira/connect"
    )


class TokenStore:
    """Token files under `token_dir`: `<tenant>.json` plus `<tenant>.lock`."""

    def __init__(self, token_dir: Path) -> None:
        self.token_dir = Path(token_dir)

    def __repr__(self) -> str:
        return f"TokenStore({str(self.token_dir)!r})"

    def path(self, tenant_id: str) -> Path:
        if not tenant_id or "/" in tenant_id or tenant_id.startswith("."):
            raise ValueError(f"tenant id {tenant_id!r} cannot name a token file")
        return self.token_dir / f"{tenant_id}.json"

    def save(self, tenant_id: str, token_set: TokenSet, sites: list[AccessibleSite]) -> None:
        """Store a fresh grant (the connect callback): tokens and the sites it reaches."""
        with self._locked(tenant_id):
            self._write(tenant_id, token_set, sites)

    def sites(self, tenant_id: str) -> list[AccessibleSite]:
        data = self._read(tenant_id)
        return [] if data is None else [AccessibleSite.from_json(s) for s in data.get("sites", [])]

    def token_set(self, tenant_id: str) -> TokenSet | None:
        data = self._read(tenant_id)
        return None if data is None else TokenSet.from_json(data["tokens"])

    def access_token(
        self,
        tenant_id: str,
        client: AtlassianOAuthClient,
        *,
        margin_seconds: float = REFRESH_MARGIN_SECONDS,
        rejected_token: str | None = None,
    ) -> str:
        """A valid access token, refreshing (and persisting the rotation) when it is expiring.

        `rejected_token`: an access token Jira refused (401) before its expiry; it is refreshed
        unless another process already replaced it.
        """
        current = self.token_set(tenant_id)
        if (
            current is not None
            and not current.expires_within(margin_seconds)
            and current.access_token != rejected_token
        ):
            return current.access_token
        with self._locked(tenant_id):
            data = self._read(tenant_id)  # re-read: another process may have refreshed meanwhile
            names = [s.get("name") or s.get("url", "") for s in (data or {}).get("sites", [])]
            if data is None:
                raise ReconnectRequired(
                    reconnect_message(tenant_id, names, f"no OAuth token is stored in {self.path(tenant_id)}")
                )
            current = TokenSet.from_json(data["tokens"])
            if not current.expires_within(margin_seconds) and current.access_token != rejected_token:
                return current.access_token
            if not current.refresh_token:
                raise ReconnectRequired(
                    reconnect_message(
                        tenant_id, names, "the stored grant has no refresh token (offline_access)"
                    )
                )
            try:
                rotated = client.refresh(current.refresh_token)
            except InvalidGrant:
                raise ReconnectRequired(
                    reconnect_message(tenant_id, names, "the refresh token was rejected (invalid_grant)")
                ) from None
            self._write(tenant_id, rotated, [AccessibleSite.from_json(s) for s in data.get("sites", [])])
            return rotated.access_token

    def _read(self, tenant_id: str) -> dict | None:
        try:
            text = self.path(tenant_id).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise ReconnectRequired(
                reconnect_message(tenant_id, [], f"the token file {self.path(tenant_id)} is not valid JSON")
            ) from None

    def _write(self, tenant_id: str, token_set: TokenSet, sites: list[AccessibleSite]) -> None:
        document = {
            "tenant_id": tenant_id,
            "updated_at": datetime.now(UTC).isoformat(),
            "tokens": token_set.to_json(),
            "sites": [s.to_json() for s in sites],
        }
        write_private_json(self.path(tenant_id), document)

    def _locked(self, tenant_id: str) -> contextlib.AbstractContextManager[None]:
        """Exclusive across threads and processes (flock on `<tenant>.lock`)."""
        return locked(self.path(tenant_id).with_suffix(".lock"))
