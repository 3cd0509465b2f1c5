"""The Atlassian Teams public REST API (v1), served on both hosts Atlassian documents it on.

`/public/teams/v1/org/{orgId}/...` (api.atlassian.com) and
`/site/<name>/gateway/api/public/teams/v1/org/{orgId}/...` (the site host). Only Basic auth
(email + API token of a user of one of the organization's sites) works: "Forge and OAuth2 apps
cannot access this REST resource", so a Bearer token gets 403. Lists are cursor-paged:
teams with `size` (default 50, max 300) and `cursor`; members by POST with `first`
(default 50, max 50) and `after`. Without `siteId` only organization-wide teams are listed
(Atlassian deprecates omitting it); with it, that site's site-scoped teams too.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from jira_simulator.model import Organization, Principal, Team, World
from jira_simulator.security import basic_principal

TEAMS_SIZE_DEFAULT, TEAMS_SIZE_MAX = 50, 300
MEMBERS_FIRST_DEFAULT, MEMBERS_FIRST_MAX = 50, 50


class TeamsError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _cursor(offset: int, scope: str) -> str:
    return base64.urlsafe_b64encode(f"{scope}:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None, scope: str, name: str) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        cursor_scope, _, offset = text.rpartition(":")
        if cursor_scope != scope:
            raise ValueError(scope)
        return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise TeamsError(400, f"{name} {cursor!r} is not a cursor of this list") from exc


def _bounded(raw: object, name: str, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise TeamsError(400, f"{name} must be an integer between 1 and {maximum}, got {raw!r}") from exc
    if not 1 <= value <= maximum:
        raise TeamsError(400, f"{name} must be between 1 and {maximum}, got {value}")
    return value


def team_body(team: Team) -> dict[str, Any]:
    return {
        "teamId": team.team_id,
        "displayName": team.display_name,
        "description": team.description,
        "state": team.state,
        "teamType": team.team_type,
        "organizationId": team.organization_id,
        "creatorId": team.creator_id,
        "externalReference": None,
    }


class TeamsApi:
    """List teams, read one team, page through its members."""

    def __init__(self, world: World) -> None:
        self.world = world

    def routes(self) -> list[BaseRoute]:
        table = []
        for prefix in ("/public/teams/v1", "/site/{site_name}/gateway/api/public/teams/v1"):
            org = f"{prefix}/org/{{org_id}}"
            table += [
                Route(f"{org}/teams", self._guard(self.list_teams), methods=["GET"]),
                Route(f"{org}/teams/{{team_id}}", self._guard(self.get_team), methods=["GET"]),
                Route(f"{org}/teams/{{team_id}}/members", self._guard(self.members), methods=["POST"]),
            ]
        return table

    def _guard(
        self, handler: Callable[[Request, Organization], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                org = self._authorize(request)
                return await handler(request, org)
            except TeamsError as exc:
                return _json({"code": exc.status, "message": exc.message}, exc.status)

        return endpoint

    def _authorize(self, request: Request) -> Organization:
        """The organization of the path, if the caller's Basic credentials reach it."""
        authorization = request.headers.get("authorization", "")
        scheme = authorization.split(" ", 1)[0].lower()
        if scheme == "bearer":
            raise TeamsError(403, "Forge and OAuth2 apps cannot access this REST resource; use an API token.")
        if scheme != "basic":
            raise TeamsError(401, "Unauthorized: use Basic auth with an email and an API token.")
        org = self.world.organizations.get(request.path_params["org_id"])
        site_name = request.path_params.get("site_name")
        if site_name is not None:
            site = self.world.site_by_name(site_name)
            if site is None:
                raise TeamsError(404, f"No site is served at /site/{site_name}.")
            sites = [site]
        else:
            sites = [
                self.world.sites[c] for c in (org.site_cloud_ids if org else []) if c in self.world.sites
            ]
            sites = sites or list(self.world.sites.values())
        principal: Principal | None = next(
            (p for p in (basic_principal(self.world, s, authorization) for s in sites) if p), None
        )
        if principal is None:
            raise TeamsError(401, "Unauthorized: the email or API token is wrong.")
        if org is None or not set(org.site_cloud_ids) & {s.cloud_id for s in sites}:
            raise TeamsError(404, f"Organization {request.path_params['org_id']} was not found.")
        return org

    async def list_teams(self, request: Request, org: Organization) -> Response:
        q = request.query_params
        size = _bounded(q.get("size"), "size", TEAMS_SIZE_DEFAULT, TEAMS_SIZE_MAX)
        site_id = q.get("siteId")
        if site_id is not None and site_id not in org.site_cloud_ids:
            raise TeamsError(400, f"siteId {site_id} is not a site of organization {org.org_id}.")
        scope = f"teams/{org.org_id}/{site_id or ''}"
        offset = _offset(q.get("cursor"), scope, "cursor")
        with self.world.lock:
            teams = sorted(
                (
                    t
                    for t in org.teams.values()
                    if not t.deleted and (t.site_cloud_id is None or t.site_cloud_id == site_id)
                ),
                key=lambda t: t.team_id,
            )
            page = [team_body(t) for t in teams[offset : offset + size]]
        more = offset + size < len(teams)
        return _json({"entities": page, "cursor": _cursor(offset + size, scope) if more else None})

    def _team(self, request: Request, org: Organization) -> Team:
        team = org.teams.get(request.path_params["team_id"])
        if team is None:
            raise TeamsError(404, f"Team {request.path_params['team_id']} was not found.")
        if team.deleted:
            raise TeamsError(410, f"Team {team.team_id} was deleted.")
        return team

    async def get_team(self, request: Request, org: Organization) -> Response:
        with self.world.lock:
            team = self._team(request, org)
            body = team_body(team)
        body["userPermissions"] = {
            "ADD_MEMBERS": True,
            "DELETE_TEAM": True,
            "REMOVE_MEMBERS": True,
            "UPDATE_TEAM": True,
        }
        return _json(body)

    async def members(self, request: Request, org: Organization) -> Response:
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError as exc:
            raise TeamsError(400, f"The body is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise TeamsError(400, 'The body must be a JSON object like {"first": 50, "after": null}.')
        first = _bounded(body.get("first"), "first", MEMBERS_FIRST_DEFAULT, MEMBERS_FIRST_MAX)
        with self.world.lock:
            team = self._team(request, org)
            scope = f"members/{team.team_id}"
            offset = _offset(body.get("after"), scope, "after")
            members = list(team.member_ids)
        page = members[offset : offset + first]
        more = offset + first < len(members)
        end = _cursor(offset + len(page), scope) if page else None
        return _json(
            {"results": [{"accountId": a} for a in page], "pageInfo": {"endCursor": end, "hasNextPage": more}}
        )


def routes(world: World) -> list[BaseRoute]:
    return TeamsApi(world).routes()
