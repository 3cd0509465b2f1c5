"""`jira-sync connect --tenant T`: OAuth 2.0 (3LO) consent with a loopback callback.

For operators without the webhook receiver: the command prints the authorize URL, waits for the
browser's redirect on the loopback address of `JIRA_REDIRECT_URI`, exchanges the code, and stores
the tokens and the sites the grant reaches in the tenant's token file.
"""

from __future__ import annotations

import argparse
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from jira_sync.oauth_callback import CALLBACK_PATH, LoopbackCallback
from pipelines.auth.oauth import ADMIN_SCOPES, REQUIRED_SCOPES, AccessibleSite, AtlassianOAuthClient
from pipelines.auth.token_store import TokenStore
from pipelines.config import SyncConfig, SyncConfigError, load_sync_config
from pipelines.jira.runtime import oauth_client

CONNECT_SCOPES = [*REQUIRED_SCOPES, *ADMIN_SCOPES]
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


class ConnectError(RuntimeError):
    """Connecting cannot proceed; the message says what to change."""


def register(subparsers) -> None:
    command = subparsers.add_parser(
        "connect",
        help="connect a tenant's Jira sites with OAuth (prints the authorize URL, waits on a loopback callback)",
    )
    command.add_argument("--tenant", required=True, help="tenant id in the sync file")
    command.add_argument(
        "--file",
        type=Path,
        default=Path(os.environ.get("JIRA_SYNC_CONFIG", "jira_sync.yaml")),
        help="sync file (default: $JIRA_SYNC_CONFIG or jira_sync.yaml)",
    )
    command.add_argument("--timeout", type=float, default=600, help="seconds to wait for the consent (600)")
    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_sync_config(args.file)
        sites = connect_tenant(config, args.tenant, os.environ, approve=None, timeout=args.timeout)
    except (SyncConfigError, ConnectError, TimeoutError) as exc:
        print(f"error: {exc}")
        return 1
    print(f"connected tenant {args.tenant}: {', '.join(f'{s.name} ({s.url})' for s in sites)}")
    return 0


def loopback_port(redirect_uri: str) -> int:
    """The port to listen on: `JIRA_REDIRECT_URI` must be a loopback URL ending in the callback path."""
    parts = urlsplit(redirect_uri)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS or parts.path != CALLBACK_PATH:
        raise ConnectError(
            f"the redirect URI {redirect_uri!r} is not a loopback callback; `jira-sync connect` listens on "
            f"http://127.0.0.1:<port>{CALLBACK_PATH}: register that URL in your Atlassian app and set "
            "JIRA_REDIRECT_URI to it, or connect through the receiver's /auth/jira/connect"
        )
    return parts.port or 80


def connect_tenant(
    config: SyncConfig,
    tenant_id: str,
    environ: Mapping[str, str],
    *,
    approve: Callable[[str], None] | None,
    timeout: float = 600,
) -> list[AccessibleSite]:
    """Run the consent flow for one tenant and store its tokens; returns the sites the grant reaches.

    `approve(authorize_url)` stands in for the operator's browser (the demo passes an HTTP client
    that accepts the consent page and follows the redirect); None prints the URL and waits.
    """
    tenant = next((t for t in config.tenants if t.id == tenant_id), None)
    if tenant is None:
        known = ", ".join(t.id for t in config.tenants)
        raise ConnectError(f"{config.source_path}: no tenant {tenant_id!r} (tenants: {known})")
    if not any(site.auth.method == "oauth" for site in tenant.sites):
        raise ConnectError(
            f"{config.source_path}: tenant {tenant_id} has no site with auth.method: oauth; "
            "its sites use API tokens and need no connect"
        )
    config.check_environment(environ=_oauth_only(config, environ))
    client = oauth_client(config, environ)
    return consent_and_store(
        client, TokenStore(config.oauth.token_dir), tenant_id, approve=approve, timeout=timeout
    )


def consent_and_store(
    client: AtlassianOAuthClient,
    store: TokenStore,
    tenant_id: str,
    *,
    approve: Callable[[str], None] | None,
    timeout: float = 600,
) -> list[AccessibleSite]:
    """Consent on the loopback redirect URI of `client`, exchange the code, store tokens and sites."""
    port = loopback_port(client.redirect_uri)
    state = secrets.token_urlsafe(24)
    with LoopbackCallback(port=port, host=urlsplit(client.redirect_uri).hostname or "127.0.0.1") as callback:
        url = client.authorize_url(CONNECT_SCOPES, state)
        if approve is None:
            print(f"Open this URL, choose the sites of tenant {tenant_id} and accept:\n\n  {url}\n")
            print(f"Waiting for the redirect on {client.redirect_uri} ...", flush=True)
            code = callback.wait(state, timeout)
        else:
            approve(url)
            code = callback.wait(state, timeout=30)
    tokens = client.exchange_code(code)
    sites = client.accessible_resources(tokens.access_token)
    store.save(tenant_id, tokens, sites)
    return sites


def _oauth_only(config: SyncConfig, environ: Mapping[str, str]) -> Mapping[str, str]:
    """Connecting needs only the OAuth app variables: pretend the others are set for the check."""
    oauth_names = {config.oauth.client_id_env, config.oauth.client_secret_env, config.oauth.redirect_uri_env}
    placeholders = {name: "-" for name, _key in config.required_environment() if name not in oauth_names}
    return {**placeholders, **environ}
