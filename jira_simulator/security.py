"""Who is calling a REST surface, and may they?

Two styles, as Jira Cloud has them:
- site URL (`/site/<name>/rest/api/N/...`): Basic `email:api_token`, or anonymous without a header;
- OAuth gateway (`/ex/jira/<cloudId>/rest/api/N/...`): `Bearer <access token>` of a grant that
  includes the cloud id, not expired by the simulated clock.

`RestAuthentication` (ASGI middleware on each REST mount) resolves the caller once per request
and stores `principal`, `site`, `world` and `api_version` in `request.state`; every handler then
calls `require_scopes(request, ...)`, which lets Basic callers through (their own rights apply)
and checks the classic OAuth scopes of 3LO callers.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Literal

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jira_simulator.errors import GatewayError, JiraError, OrjsonResponse, no_endpoint, vendor_rest_path
from jira_simulator.model import Principal, Site, World

NOT_AUTHENTICATED = "Client must be authenticated to access this resource."
SCOPE_MISMATCH = "Unauthorized; scope does not match"
API_VERSIONS = {"2": 2, "3": 3, "latest": 2}

ANONYMOUS = Principal(account_id="", via="anonymous")


def basic_principal(world: World, site: Site, authorization: str) -> Principal | None:
    """The user whose email and API token are in a Basic header, if valid for this site."""
    try:
        decoded = base64.b64decode(authorization.split(" ", 1)[1].strip(), validate=True).decode()
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return None
    email, sep, token = decoded.partition(":")
    if not sep:
        return None
    user = world.user_by_email(email)
    if user is None or not user.active or user.api_token is None or user.account_id not in site.user_ids:
        return None
    if not hmac.compare_digest(user.api_token.encode(), token.encode()):
        return None
    return Principal(account_id=user.account_id, via="basic")


def bearer_principal(world: World, cloud_id: str, authorization: str) -> Principal | None:
    """The grant behind a 3LO access token, if the token is live and the grant covers this site."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    with world.lock:
        access = world.access_tokens.get(token.strip())
        if access is None or access.expires_ms <= world.clock.now_ms():
            return None
        grant = world.grants.get(access.grant_id)
        if grant is None or cloud_id not in grant.cloud_ids:
            return None
        site = world.sites.get(cloud_id)
        user = world.users.get(grant.account_id)
        if site is None or user is None or not user.active or user.account_id not in site.user_ids:
            return None
        return Principal(
            account_id=grant.account_id, via="oauth", scopes=grant.scopes, client_id=grant.client_id
        )


class RestAuthentication:
    """ASGI middleware for one REST mount: resolves site, API version and caller, or refuses."""

    def __init__(
        self, app: ASGIApp, world: World, style: Literal["site", "gateway"], version: str | None = None
    ) -> None:
        self.app = app
        self.world = world
        self.style = style
        self.version = version  # a mount without `{version}` (the agile API) renders as this one

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (self.version or str(scope.get("path_params", {}).get("version"))) not in API_VERSIONS:
            # No endpoint is mounted under an unknown API version: Jira's 404, whoever calls.
            vendor_path = vendor_rest_path(scope["path"]) or scope["path"]
            await no_endpoint(scope["method"], vendor_path)(scope, receive, send)
            return
        try:
            site, principal, version = self._resolve(scope)
        except (JiraError, GatewayError) as refusal:
            await _refusal_response(refusal)(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state.update(world=self.world, site=site, principal=principal, api_version=version)
        if principal.via == "anonymous":
            await self.app(scope, receive, send)
            return
        account_header = (b"x-aaccountid", principal.account_id.encode())

        async def send_with_account(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), account_header]
            await send(message)

        await self.app(scope, receive, send_with_account)

    def _resolve(self, scope: Scope) -> tuple[Site, Principal, int]:
        params = scope.get("path_params", {})
        version = API_VERSIONS[self.version or str(params.get("version"))]
        authorization = _header(scope, b"authorization")
        if self.style == "gateway":
            cloud_id = params.get("cloud_id", "")
            principal = bearer_principal(self.world, cloud_id, authorization or "")
            if principal is None:
                raise GatewayError(401, "Unauthorized")
            site = self.world.sites[cloud_id]
        else:
            site_or_none = self.world.site_by_name(params.get("site_name", ""))
            if site_or_none is None:
                raise JiraError(404, f"No Jira site is served at /site/{params.get('site_name', '')}.")
            site = site_or_none
            if authorization is None:
                principal = ANONYMOUS
            elif authorization[:6].lower() != "basic ":
                # 3LO tokens only work through the gateway, never against the site URL.
                raise JiraError(401, NOT_AUTHENTICATED)
            else:
                found = basic_principal(self.world, site, authorization)
                if found is None:
                    raise JiraError(401, NOT_AUTHENTICATED)
                principal = found
        return site, principal, version


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _refusal_response(refusal: JiraError | GatewayError) -> OrjsonResponse:
    if isinstance(refusal, GatewayError):
        return OrjsonResponse(
            {"code": refusal.status, "message": refusal.message}, status_code=refusal.status
        )
    headers = {"WWW-Authenticate": 'Basic realm="protected-by-api-token"'} if refusal.status == 401 else None
    return OrjsonResponse(refusal.body(), status_code=refusal.status, headers=headers)


def require_scopes(request: Request, *scopes: str, allow_anonymous: bool = False) -> Principal:
    """Refuse the request unless its caller may use an operation that needs these classic scopes."""
    principal: Principal = request.state.principal
    if principal.via == "anonymous":
        if allow_anonymous:
            return principal
        raise JiraError(401, NOT_AUTHENTICATED)
    if principal.via == "oauth":
        granted = principal.scopes or frozenset()
        if not all(scope in granted for scope in scopes):
            raise GatewayError(401, SCOPE_MISMATCH)
    return principal
