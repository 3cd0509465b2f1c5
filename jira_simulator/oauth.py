"""OAuth 2.0 (3LO) as auth.atlassian.com and api.atlassian.com serve it: consent, tokens, sites.

Refresh tokens rotate and are single use, with **no reuse leeway**: the second use of a refresh
token fails with `invalid_grant` even a millisecond later. Atlassian's documentation is vague
about a grace period; a client that depends on one loses its grant here, which is the point.
Access tokens live one hour, refresh tokens expire after 90 days unused and 365 days after the
consent (both by `world.clock`). Revoking a grant kills its refresh tokens; issued access tokens
stay valid until they expire, as bearer tokens do.
"""

from __future__ import annotations

import html
import re
import secrets
import string
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jira_simulator.admin import admin_error, parse_admin_body
from jira_simulator.model import (
    AccessToken,
    AuthorizationCode,
    Grant,
    Principal,
    RefreshToken,
    Site,
    User,
    World,
)

ACCESS_TOKEN_SECONDS = 3600
CODE_SECONDS = 600
REFRESH_IDLE_MS = 90 * 86_400_000
REFRESH_ABSOLUTE_MS = 365 * 86_400_000
AUDIENCE = "api.atlassian.com"
TEMPLATES = Path(__file__).parent / "templates"
_SCOPE = re.compile(r"^(offline_access|[a-z0-9-]+(:[a-z0-9.-]+)+)$")


class OAuthError(Exception):
    """A token-endpoint refusal, rendered as Atlassian's `{"error", "error_description"}`."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "error_description": self.description}, self.status)


def parse_scopes(raw: str | list[str]) -> frozenset[str]:
    """Space-separated (or listed) scopes; every one must look like an Atlassian scope."""
    scopes = raw.split() if isinstance(raw, str) else [s for item in raw for s in item.split()]
    bad = [s for s in scopes if not _SCOPE.match(s)]
    if bad:
        raise ValueError(f"not an Atlassian scope: {', '.join(bad)} (e.g. read:jira-work, offline_access)")
    if not scopes:
        raise ValueError("no scope requested (e.g. scope=read:jira-work offline_access)")
    return frozenset(scopes)


def sites_of(world: World, account_id: str) -> list[Site]:
    """Sites the account can consent for: those it has access to."""
    return [site for site in world.sites.values() if account_id in site.user_ids]


def consent(
    world: World,
    *,
    account_id: str,
    scopes: frozenset[str],
    cloud_ids: list[str],
    redirect_uri: str | None,
) -> AuthorizationCode:
    """Record a user's consent (a new grant) and return its one-time authorization code."""
    with world.lock:
        grant = Grant(
            grant_id=_token("grant"),
            client_id=world.app.client_id,
            account_id=account_id,
            scopes=scopes,
            cloud_ids=list(cloud_ids),
        )
        world.grants[grant.grant_id] = grant
        code = AuthorizationCode(
            code=_token("code"),
            grant_id=grant.grant_id,
            redirect_uri=redirect_uri,
            expires_ms=world.clock.now_ms() + CODE_SECONDS * 1000,
        )
        world.authorization_codes[code.code] = code
        return code


def check_client(world: World, client_id: str | None, client_secret: str | None) -> None:
    if not client_id or client_id != world.app.client_id:
        raise OAuthError(401, "unauthorized_client", "Unknown client_id.")
    if not client_secret or not secrets.compare_digest(client_secret, world.app.client_secret):
        raise OAuthError(401, "access_denied", "Unauthorized")


def exchange_code(world: World, code: str, redirect_uri: str | None) -> dict:
    """The `authorization_code` grant: a code works once, before it expires, with its redirect_uri."""
    with world.lock:
        entry = world.authorization_codes.get(code)
        if entry is None or entry.used or entry.expires_ms <= world.clock.now_ms():
            raise OAuthError(403, "invalid_grant", "Invalid authorization code")
        if entry.redirect_uri is not None and redirect_uri != entry.redirect_uri:
            raise OAuthError(403, "invalid_grant", "redirect_uri does not match the authorization request")
        entry.used = True
        grant = world.grants.get(entry.grant_id)
        if grant is None:
            raise OAuthError(403, "invalid_grant", "Invalid authorization code")
        now = world.clock.now_ms()
        return _issue_tokens(world, grant, family_start_ms=now)


def refresh(world: World, refresh_token: str) -> dict:
    """The `refresh_token` grant: rotate; the presented token is dead from this moment on."""
    with world.lock:
        entry = world.refresh_tokens.get(refresh_token)
        now = world.clock.now_ms()
        if entry is None:
            raise OAuthError(403, "invalid_grant", "Unknown or invalid refresh token.")
        family_start_ms = entry.family_start_ms if entry.family_start_ms is not None else entry.issued_ms
        if (
            entry.used_ms is not None
            or now - entry.issued_ms > REFRESH_IDLE_MS
            or now - family_start_ms > REFRESH_ABSOLUTE_MS
            or entry.grant_id not in world.grants
        ):
            raise OAuthError(403, "invalid_grant", "Unknown or invalid refresh token.")
        entry.used_ms = now
        return _issue_tokens(world, world.grants[entry.grant_id], family_start_ms=family_start_ms)


def _issue_tokens(world: World, grant: Grant, *, family_start_ms: int) -> dict:
    now = world.clock.now_ms()
    access = AccessToken(_token("at"), grant.grant_id, now + ACCESS_TOKEN_SECONDS * 1000)
    world.access_tokens[access.token] = access
    body = {
        "access_token": access.token,
        "expires_in": ACCESS_TOKEN_SECONDS,
        "token_type": "Bearer",
        "scope": " ".join(sorted(grant.scopes)),
    }
    if "offline_access" in grant.scopes:
        token = RefreshToken(_token("rt"), grant.grant_id, issued_ms=now, family_start_ms=family_start_ms)
        world.refresh_tokens[token.token] = token
        body["refresh_token"] = token.token
    return body


def revoke(world: World, *, grant_id: str | None = None, account_id: str | None = None) -> int:
    """Kill the refresh tokens of matching grants (all of them when nothing is named)."""
    with world.lock:
        grant_ids = {
            g.grant_id
            for g in world.grants.values()
            if (grant_id is None or g.grant_id == grant_id)
            and (account_id is None or g.account_id == account_id)
        }
        dead = [t for t, entry in world.refresh_tokens.items() if entry.grant_id in grant_ids]
        for token in dead:
            del world.refresh_tokens[token]
        return len(dead)


def principal_for_access_token(world: World, token: str) -> Principal | None:
    """The caller behind a Bearer 3LO token, or None when it is unknown or expired."""
    entry = world.access_tokens.get(token)
    if entry is None or entry.expires_ms <= world.clock.now_ms():
        return None
    grant = world.grants.get(entry.grant_id)
    if grant is None:
        return None
    return Principal(account_id=grant.account_id, via="oauth", scopes=grant.scopes, client_id=grant.client_id)


def grant_for_access_token(world: World, token: str) -> Grant | None:
    entry = world.access_tokens.get(token)
    if entry is None or entry.expires_ms <= world.clock.now_ms():
        return None
    return world.grants.get(entry.grant_id)


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def public_base_url(world: World, request: Request | None = None) -> str:
    """The simulator's base URL as the client reached it (or as recorded when serving)."""
    if request is not None:
        base = str(request.base_url).rstrip("/")
        if world.public_base_url is None:
            world.public_base_url = base
        return base
    if world.public_base_url is None:
        raise RuntimeError("the simulator's public base URL is unknown (no request served yet)")
    return world.public_base_url


def site_url(world: World, site: Site, request: Request | None = None) -> str:
    return f"{public_base_url(world, request)}/site/{site.name}"


def _token(kind: str) -> str:
    return f"sim-{kind}-{secrets.token_urlsafe(24)}"


def gateway_error(status: int, message: str) -> JSONResponse:
    """The api.atlassian.com gateway's error shape (e.g. 401 "Unauthorized; scope does not match")."""
    return JSONResponse({"code": status, "message": message}, status)


# --- HTTP ---------------------------------------------------------------------------------------


@dataclass
class _PendingConsent:
    account_id: str
    scopes: frozenset[str]
    redirect_uri: str
    state: str | None
    sites: list[Site]


class GrantRequest(BaseModel):
    """What the consent page does, for scripts: consent and hand back a code."""

    model_config = ConfigDict(extra="forbid")

    scopes: list[str] = Field(min_length=1)
    cloud_ids: list[str] | None = None
    account_id: str | None = None
    redirect_uri: str | None = None
    state: str | None = None

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        parse_scopes(value)
        return value


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grant_id: str | None = None
    account_id: str | None = None


class RemoveSiteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cloud_id: str
    grant_id: str | None = None


def me_body(user: User) -> dict:
    """`GET /me`: the consenting user's own profile (the email is always theirs to see)."""
    return {
        "account_type": user.account_type,
        "account_id": user.account_id,
        "email": user.email,
        "email_verified": user.email is not None,
        "name": user.display_name,
        "picture": f"https://avatar-management.services.atlassian.com/default/{user.account_id}/48",
        "account_status": "active" if user.active else "inactive",
        "nickname": user.display_name.split()[0] if user.display_name else user.account_id,
        "zoneinfo": user.time_zone,
        "locale": user.locale.replace("_", "-"),
        "extended_profile": {},
    }


def _template(name: str) -> string.Template:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    return string.Template(text)


def _error_page(title: str, detail: str, status: int = 400) -> HTMLResponse:
    page = _template("oauth_error.html").substitute(title=html.escape(title), detail=html.escape(detail))
    return HTMLResponse(page, status)


async def _form(request: Request) -> dict[str, list[str]]:
    """A form-encoded body (parsed here: Starlette's parser needs python-multipart)."""
    return parse_qs((await request.body()).decode("utf-8", errors="replace"), keep_blank_values=True)


def _with_query(url: str, params: dict[str, str | None]) -> str:
    parts = urlsplit(url)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class OAuthServer:
    """The HTTP side: consent page, token endpoint, accessible-resources, /me, and `/_sim/oauth`."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.pending: dict[str, _PendingConsent] = {}  # consent requests awaiting Accept/Deny

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/authorize", self.authorize, methods=["GET"]),
            Route("/authorize", self.decide, methods=["POST"]),
            Route("/oauth/token", self.token, methods=["POST"]),
            Route("/oauth/token/accessible-resources", self.accessible_resources, methods=["GET"]),
            Route("/me", self.me, methods=["GET"]),
            Route("/_sim/oauth/grant", self.admin_grant, methods=["POST"]),
            Route("/_sim/oauth/grants", self.admin_grants, methods=["GET"]),
            Route("/_sim/oauth/revoke", self.admin_revoke, methods=["POST"]),
            Route("/_sim/oauth/remove-site", self.admin_remove_site, methods=["POST"]),
        ]

    async def authorize(self, request: Request) -> Response:
        world = self.world
        q = request.query_params
        if q.get("client_id") != world.app.client_id:
            return _error_page("Unknown app", f"No OAuth app has the client_id {q.get('client_id')!r}.")
        if q.get("audience") != AUDIENCE:
            return _error_page(
                "Invalid request", f"audience must be {AUDIENCE!r}, got {q.get('audience')!r}."
            )
        if q.get("response_type") != "code":
            return _error_page("Invalid request", "response_type must be 'code'.")
        redirect_uri = q.get("redirect_uri")
        if not redirect_uri or urlsplit(redirect_uri).scheme not in ("http", "https"):
            return _error_page("Invalid request", "redirect_uri must be an absolute http(s) URL.")
        try:
            scopes = parse_scopes(q.get("scope", ""))
        except ValueError as exc:
            return _error_page("Invalid scope", str(exc))
        account_id = world.admin_account_id
        sites = sites_of(world, account_id)
        if not sites:
            return _error_page("No sites", "The signed-in user has access to no Jira site.")
        txn = secrets.token_urlsafe(16)
        pending = _PendingConsent(account_id, scopes, redirect_uri, q.get("state"), sites)
        with world.lock:
            self.pending[txn] = pending
        return self._consent_page(txn, pending)

    async def decide(self, request: Request) -> Response:
        form = await _form(request)
        txn = (form.get("txn") or [""])[0]
        with self.world.lock:
            pending = self.pending.get(txn)
            if pending is None:
                return _error_page(
                    "Expired request", "This consent request is unknown or was already answered."
                )
            chosen = form.get("cloud_id", [])
            accepted = form.get("decision") == ["accept"]
            if accepted and (not chosen or not set(chosen) <= {s.cloud_id for s in pending.sites}):
                return self._consent_page(txn, pending, error="Choose at least one site.")
            del self.pending[txn]
        if not accepted:
            target = _with_query(pending.redirect_uri, {"error": "access_denied", "state": pending.state})
            return RedirectResponse(target, status_code=302)
        code = consent(
            self.world,
            account_id=pending.account_id,
            scopes=pending.scopes,
            cloud_ids=chosen,
            redirect_uri=pending.redirect_uri,
        )
        target = _with_query(pending.redirect_uri, {"code": code.code, "state": pending.state})
        return RedirectResponse(target, status_code=302)

    def _consent_page(self, txn: str, pending: _PendingConsent, error: str = "") -> HTMLResponse:
        scopes = "\n".join(f"<li><code>{html.escape(s)}</code></li>" for s in sorted(pending.scopes))
        sites = "\n".join(
            f'<li><label><input type="checkbox" name="cloud_id" value="{html.escape(s.cloud_id)}" checked> '
            f"{html.escape(s.display_name)} <small>({html.escape(s.name)})</small></label></li>"
            for s in pending.sites
        )
        page = _template("consent.html").substitute(
            app=html.escape(self.world.app.client_id),
            user=html.escape(self.world.users[pending.account_id].display_name),
            scopes=scopes,
            sites=sites,
            txn=html.escape(txn),
            error=f'<p class="error">{html.escape(error)}</p>' if error else "",
        )
        return HTMLResponse(page)

    async def token(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        try:
            if content_type.startswith("application/x-www-form-urlencoded"):
                body: object = {k: v[0] for k, v in (await _form(request)).items()}
            else:
                body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return OAuthError(
                400, "invalid_request", "The body must be a JSON object or form-encoded."
            ).response()
        try:
            check_client(self.world, body.get("client_id"), body.get("client_secret"))
            grant_type = body.get("grant_type")
            if grant_type == "authorization_code":
                if not body.get("code"):
                    raise OAuthError(400, "invalid_request", "Missing code.")
                tokens = exchange_code(self.world, str(body["code"]), body.get("redirect_uri"))
            elif grant_type == "refresh_token":
                if not body.get("refresh_token"):
                    raise OAuthError(400, "invalid_request", "Missing refresh_token.")
                tokens = refresh(self.world, str(body["refresh_token"]))
            else:
                raise OAuthError(
                    400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token."
                )
        except OAuthError as exc:
            return exc.response()
        return JSONResponse(tokens, headers={"Cache-Control": "no-store"})

    async def accessible_resources(self, request: Request) -> Response:
        token = bearer_token(request)
        grant = grant_for_access_token(self.world, token) if token else None
        if grant is None:
            return gateway_error(401, "Unauthorized")
        found = []
        for cloud_id in grant.cloud_ids:
            site = self.world.sites.get(cloud_id)
            if site is None:
                continue
            url = site_url(self.world, site, request)
            found.append(
                {
                    "id": site.cloud_id,
                    "url": url,
                    "name": site.name,
                    "scopes": sorted(grant.scopes - {"offline_access"}),
                    "avatarUrl": f"{url}/images/site-avatar.png",
                }
            )
        return JSONResponse(found)

    async def me(self, request: Request) -> Response:
        token = bearer_token(request)
        principal = principal_for_access_token(self.world, token) if token else None
        if principal is None:
            return gateway_error(401, "Unauthorized")
        if "read:me" not in (principal.scopes or frozenset()):
            return gateway_error(401, "Unauthorized; scope does not match")
        return JSONResponse(me_body(self.world.users[principal.account_id]))

    async def admin_grant(self, request: Request) -> Response:
        world = self.world
        body = await parse_admin_body(request, GrantRequest)
        if isinstance(body, JSONResponse):
            return body
        account_id = body.account_id or world.admin_account_id
        if account_id not in world.users:
            return admin_error(400, f"POST /_sim/oauth/grant: unknown account_id {account_id!r}")
        available = sorted(s.cloud_id for s in sites_of(world, account_id))
        cloud_ids = body.cloud_ids if body.cloud_ids is not None else available
        unknown = [c for c in cloud_ids if c not in available]
        if unknown or not cloud_ids:
            return admin_error(
                400,
                f"POST /_sim/oauth/grant: cloud_ids {unknown or cloud_ids} are not sites of account "
                f"{account_id}; choose among {available}",
            )
        code = consent(
            world,
            account_id=account_id,
            scopes=parse_scopes(body.scopes),
            cloud_ids=cloud_ids,
            redirect_uri=body.redirect_uri,
        )
        return JSONResponse({"code": code.code, "state": body.state, "grant_id": code.grant_id})

    async def admin_grants(self, request: Request) -> Response:
        with self.world.lock:
            live: dict[str, int] = {}
            for entry in self.world.refresh_tokens.values():
                if entry.used_ms is None:
                    live[entry.grant_id] = live.get(entry.grant_id, 0) + 1
            grants = [
                {
                    "grant_id": g.grant_id,
                    "account_id": g.account_id,
                    "client_id": g.client_id,
                    "scopes": sorted(g.scopes),
                    "cloud_ids": list(g.cloud_ids),
                    "live_refresh_tokens": live.get(g.grant_id, 0),
                }
                for g in self.world.grants.values()
            ]
        return JSONResponse({"grants": grants})

    async def admin_revoke(self, request: Request) -> Response:
        body = await parse_admin_body(request, RevokeRequest)
        if isinstance(body, JSONResponse):
            return body
        if body.grant_id is not None and body.grant_id not in self.world.grants:
            return admin_error(404, f"POST /_sim/oauth/revoke: no grant {body.grant_id!r}")
        count = revoke(self.world, grant_id=body.grant_id, account_id=body.account_id)
        return JSONResponse({"revoked_refresh_tokens": count})

    async def admin_remove_site(self, request: Request) -> Response:
        body = await parse_admin_body(request, RemoveSiteRequest)
        if isinstance(body, JSONResponse):
            return body
        with self.world.lock:
            grants = [g for g in self.world.grants.values() if body.grant_id in (None, g.grant_id)]
            if body.grant_id is not None and not grants:
                return admin_error(404, f"POST /_sim/oauth/remove-site: no grant {body.grant_id!r}")
            changed = [g.grant_id for g in grants if body.cloud_id in g.cloud_ids]
            for grant in grants:
                if body.cloud_id in grant.cloud_ids:
                    grant.cloud_ids.remove(body.cloud_id)
        return JSONResponse({"grants_changed": changed})


def routes(world: World) -> list[BaseRoute]:
    """The 3LO surfaces (as on auth/api.atlassian.com) and their `/_sim/oauth` admin."""
    return OAuthServer(world).routes()
