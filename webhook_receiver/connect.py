"""Connecting a tenant's Jira sites with OAuth 2.0 (3LO): `/auth/jira/connect` and `/auth/jira/callback`.

Connect redirects to Atlassian's authorize URL with a random single-use `state` (stored
server-side, bound to the tenant, expiring) and the scopes the tenant's sync file needs
(`pipelines.auth.scopes`; `?admin=1`, "Re-authenticate with Admin Permissions", asks for every
scope jira-sync can use). The callback checks the state, exchanges the code, saves the grant only
if it holds every scope asked for (so a connect never leaves the tenant with a grant its sync
cannot run on), fetches the accessible sites, stores tokens and sites through the token store
(0600) and shows what the grant can do, what the sync needs, and which scopes of the grant it
replaced were given up. Failures show the seed's troubleshooting steps that apply.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import anyio.to_thread
import httpx
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pipelines.auth.oauth import InvalidGrant, OAuthError
from pipelines.auth.scopes import ALL_SCOPES, grant_capabilities
from webhook_receiver.logging import log
from webhook_receiver.pages import ConnectedSiteRow, connected_page, problem_page
from webhook_receiver.payloads import normalise_site_url
from webhook_receiver.settings import CALLBACK_PATH
from webhook_receiver.state import ReceiverState

logger = logging.getLogger("webhook_receiver.connect")


def _app_url(request: Request) -> str:
    """This receiver's public base URL as the browser reached it ({APP_URL} of the seed's texts)."""
    return str(request.base_url).rstrip("/")


def _hints(receiver: ReceiverState, request: Request) -> dict[str, str]:
    oauth = receiver.settings.oauth
    callback = f"{_app_url(request)}{CALLBACK_PATH}"
    return {
        "credentials": f"Verify {oauth.client_id_env} and {oauth.client_secret_env} are correct "
        "(Atlassian developer console > your app > Settings).",
        "callback": f"Check the callback URL matches exactly: {callback} "
        f"({oauth.redirect_uri_env} is {oauth.redirect_uri!r}; the app's Authorization > OAuth 2.0 (3LO) "
        "callback URL must be the same string).",
        "scopes": "Ensure all required scopes are configured in the app (Permissions > Jira API): "
        + ", ".join(ALL_SCOPES)
        + ".",
        "admin": "Ensure you have admin-level OAuth permissions; re-authenticate with admin scopes if needed.",
        "again": "Start again from /auth/jira/connect?tenant=<tenant id>.",
    }


def _wants_admin(request: Request) -> bool:
    return request.query_params.get("admin", "").lower() in ("1", "true", "yes")


async def connect(request: Request) -> Response:
    receiver: ReceiverState = request.state.receiver
    oauth = receiver.settings.oauth
    missing = oauth.missing_for_connect()
    if missing or receiver.oauth_client is None:
        return problem_page(
            "Connecting Jira is not configured",
            f"Set {', '.join(missing)} in the receiver's environment (the sync file's oauth.*_env keys name "
            "these variables), then restart the receiver.",
            [_hints(receiver, request)["credentials"]],
            status=503,
        )
    tenant_id = request.query_params.get("tenant", "")
    tenants = receiver.sites.tenant_ids()
    if not tenant_id:
        return problem_page(
            "Which tenant?",
            f"Add ?tenant=<id> to the URL; this receiver's tenants are: {', '.join(tenants)}.",
            status=400,
        )
    if not receiver.sites.knows_tenant(tenant_id):
        return problem_page(
            "Unknown tenant",
            f"Tenant {tenant_id!r} is not in the sync file; known tenants: {', '.join(tenants)}.",
            status=404,
        )
    redirect_path = urlsplit(oauth.redirect_uri or "").path.rstrip("/")
    if redirect_path != CALLBACK_PATH:
        return problem_page(
            "Wrong callback URL",
            f"{oauth.redirect_uri_env} is {oauth.redirect_uri!r}, but this receiver's callback is "
            f"{_app_url(request)}{CALLBACK_PATH}: Atlassian would send the browser somewhere else.",
            [_hints(receiver, request)["callback"]],
            status=500,
        )
    admin = _wants_admin(request)
    scopes = _requested(receiver, tenant_id, admin=admin)
    state = await anyio.to_thread.run_sync(lambda: receiver.oauth_states.issue(tenant_id, admin=admin))
    log(logger, "connect.started", tenant=tenant_id, admin=admin, scopes=scopes)
    return RedirectResponse(receiver.oauth_client.authorize_url(scopes, state), status_code=303)


def _requested(receiver: ReceiverState, tenant_id: str, *, admin: bool) -> list[str]:
    """Every scope jira-sync can use (admin), else the scopes the tenant's sync file needs."""
    tenant = receiver.settings.tenant(tenant_id)
    return list(ALL_SCOPES if admin or tenant is None else tenant.scopes)


async def callback(request: Request) -> Response:
    receiver: ReceiverState = request.state.receiver
    hints = _hints(receiver, request)
    client = receiver.oauth_client
    if client is None:
        return await connect(request)  # the same "not configured" page
    params = request.query_params
    state_value = params.get("state", "")
    state = (
        await anyio.to_thread.run_sync(receiver.oauth_states.consume, state_value) if state_value else None
    )
    if state is None:
        log(logger, "connect.bad_state", level=logging.WARNING, state_present=bool(state_value))
        return problem_page(
            "Unknown or expired connect attempt",
            "The state parameter is missing, was already used, or expired "
            f"(connect links are valid for {receiver.settings.oauth_state_ttl_seconds} seconds).",
            [hints["again"]],
            status=400,
        )
    tenant_id = state.tenant_id
    requested = _requested(receiver, tenant_id, admin=state.admin)
    error = params.get("error")
    if error:
        log(logger, "connect.denied", level=logging.WARNING, tenant=tenant_id, error=error[:60])
        if error == "access_denied":
            return problem_page(
                "Jira did not authorize the app (access_denied)",
                "Either the consent page was declined, or the app's credentials are not accepted.",
                [hints["again"], hints["credentials"], hints["callback"], hints["scopes"]],
                status=403,
            )
        return problem_page(
            f"Authorization failed ({error[:60]})",
            params.get("error_description", "")[:300] or "Atlassian returned an error instead of a code.",
            [hints["credentials"], hints["callback"], hints["scopes"]],
            status=400,
        )
    code = params.get("code")
    if not code:
        return problem_page(
            "No authorization code",
            "The callback URL carried neither code nor error.",
            [hints["again"]],
            status=400,
        )
    try:
        token_set = await anyio.to_thread.run_sync(client.exchange_code, code)
    except InvalidGrant:
        log(logger, "connect.exchange_rejected", level=logging.WARNING, tenant=tenant_id)
        return problem_page(
            "The authorization code was rejected",
            "Atlassian refused to exchange the code (invalid_grant): it expired, was used already, or the "
            "redirect URI / credentials differ from the app's.",
            [hints["callback"], hints["credentials"], hints["again"]],
            status=400,
        )
    except (OAuthError, httpx.HTTPError) as exc:
        log(
            logger,
            "connect.exchange_failed",
            level=logging.ERROR,
            tenant=tenant_id,
            reason=type(exc).__name__,
        )
        return problem_page(
            "Could not exchange the authorization code",
            f"The token endpoint at {receiver.settings.oauth.auth_url} failed: {exc}",
            [hints["credentials"], hints["callback"]],
            status=502,
        )
    missing_scopes = [scope for scope in requested if scope not in token_set.scopes]
    if missing_scopes:
        log(logger, "connect.missing_scopes", level=logging.WARNING, tenant=tenant_id, missing=missing_scopes)
        return problem_page(
            "The grant lacks scopes",
            f"Atlassian granted {' '.join(token_set.scopes) or 'no scopes'}; missing: {', '.join(missing_scopes)}. "
            "Nothing was saved: the tenant keeps the grant it had.",
            [hints["scopes"], *([hints["admin"]] if state.admin else [])],
            status=403,
        )
    try:
        sites = await anyio.to_thread.run_sync(client.accessible_resources, token_set.access_token)
    except (OAuthError, httpx.HTTPError) as exc:
        log(logger, "connect.sites_failed", level=logging.ERROR, tenant=tenant_id, reason=type(exc).__name__)
        return problem_page(
            "Could not list the accessible sites",
            f"GET {receiver.settings.oauth.api_url}/oauth/token/accessible-resources failed: {exc}",
            [hints["scopes"], hints["again"]],
            status=502,
        )
    if not sites:
        return problem_page(
            "No Jira site was granted",
            "The grant reaches no Jira Cloud site. Nothing was saved.",
            ["Select at least one site on the consent page.", hints["again"]],
            status=403,
        )
    previous = await anyio.to_thread.run_sync(_stored_scopes, receiver, tenant_id)
    await anyio.to_thread.run_sync(receiver.token_store.save, tenant_id, token_set, sites)
    receiver.sites.forget(tenant_id)
    tenant = receiver.settings.tenant(tenant_id)
    declared_urls = {site.normalised_url for site in tenant.sites} if tenant else set()
    declared_ids = {site.cloud_id for site in tenant.sites} if tenant else set()
    rows = [
        ConnectedSiteRow(
            name=site.name,
            url=site.url,
            cloud_id=site.id,
            declared=site.id in declared_ids or normalise_site_url(site.url) in declared_urls,
        )
        for site in sites
    ]
    log(
        logger,
        "connect.completed",
        tenant=tenant_id,
        admin=state.admin,
        cloud_ids=[site.id for site in sites],
        scopes=token_set.scopes,
    )
    tenant = receiver.settings.tenant(tenant_id)
    return connected_page(
        tenant_id,
        rows,
        token_set.scopes,
        admin=state.admin,
        capabilities=grant_capabilities(token_set.scopes, tenant.capabilities if tenant else ()),
        given_up=[scope for scope in previous if scope not in token_set.scopes],
    )


def _stored_scopes(receiver: ReceiverState, tenant_id: str) -> list[str]:
    """The scopes of the grant the tenant has now (none when it has none or it is unreadable)."""
    try:
        current = receiver.token_store.token_set(tenant_id)
    except Exception:  # an unreadable token file is replaced by the new grant
        return []
    return list(current.scopes) if current else []
