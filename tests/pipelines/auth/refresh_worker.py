"""A worker process for the concurrent-refresh test (kept light: spawned children import it)."""

from __future__ import annotations

from pathlib import Path

import httpx

from pipelines.auth.oauth import AtlassianOAuthClient
from pipelines.auth.token_store import TokenStore


def refresh_and_use(tenant: str, token_dir: str, base_url: str, client_args: tuple, barrier, results) -> None:
    """Wait for the other process, then ask the store for a token and call /me with it."""
    client = AtlassianOAuthClient(base_url, base_url, *client_args)
    barrier.wait()
    try:
        token = TokenStore(Path(token_dir)).access_token(tenant, client)
        status = httpx.get(f"{base_url}/me", headers={"Authorization": f"Bearer {token}"}).status_code
        results.put(("ok", token, status))
    except Exception as exc:
        results.put(("error", type(exc).__name__, str(exc)))
