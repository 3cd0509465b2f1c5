"""The simulator's own admin API under `/_sim/` (not Jira's): change the world while it serves.

Every body is validated by a pydantic model; a bad body, an unknown site, issue, user, group or
team answers a JSON `{"error": "<request>: <what is wrong>"}` with 400, 404 or 409.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jira_simulator import mutations
from jira_simulator.clock import MAX_SPEED
from jira_simulator.history import UNSET
from jira_simulator.model import Group, Issue, Organization, Site, Team, User, World
from jira_simulator.mutations import IssueChanges, MutationError

M = TypeVar("M", bound=BaseModel)


def admin_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status)


class BadAdminRequest(Exception):
    def __init__(self, response: JSONResponse) -> None:
        self.response = response


async def parse_admin_body(request: Request, model: type[M]) -> M | JSONResponse:
    """The request body validated by `model`, or a 400 naming the request and every bad key."""
    where = f"{request.method} {request.url.path}"
    raw = await request.body()
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
        )
        return admin_error(400, f"{where}: invalid body: {problems}")


async def _body(request: Request, model: type[M]) -> M:
    parsed = await parse_admin_body(request, model)
    if isinstance(parsed, JSONResponse):
        raise BadAdminRequest(parsed)
    return parsed


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateIssue(_Strict):
    project: str
    issue_type: str
    summary: str = Field(min_length=1)
    actor: str | None = None
    reporter: str | None = None
    assignee: str | None = None
    priority: str | None = None
    labels: list[str] = Field(default_factory=list)
    parent: str | None = None
    description: str | None = None
    due_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    status: str | None = None


class UpdateIssue(_Strict):
    actor: str | None = None
    summary: str | None = None
    assignee: str | None = None
    reporter: str | None = None
    priority: str | None = None
    labels: list[str] | None = None
    description: str | None = None
    due_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    custom_fields: dict[str, Any] | None = None

    def changes(self) -> IssueChanges:
        given = self.model_fields_set - {"actor"}
        return IssueChanges(**{name: getattr(self, name) if name in given else UNSET for name in _CHANGEABLE})


_CHANGEABLE = (
    "summary",
    "assignee",
    "reporter",
    "priority",
    "labels",
    "description",
    "due_date",
    "custom_fields",
)


class Transition(_Strict):
    status: str = Field(description="target status, by name or id")
    actor: str | None = None


class Move(_Strict):
    project: str
    issue_type: str | None = None
    actor: str | None = None


class UserChange(_Strict):
    display_name: str | None = None
    email: str | None = None
    email_visible: bool | None = None
    active: bool | None = None
    time_zone: str | None = None
    locale: str | None = None


class GroupCreate(_Strict):
    name: str = Field(min_length=1)


class Member(_Strict):
    account_id: str


class TeamCreate(_Strict):
    display_name: str = Field(min_length=1)
    description: str = ""
    site_cloud_id: str | None = None
    member_ids: list[str] = Field(default_factory=list)
    team_type: Literal["OPEN", "MEMBER_INVITE", "EXTERNAL", "ORG_ADMIN_MANAGED"] = "MEMBER_INVITE"


class TeamState(_Strict):
    state: Literal["ACTIVE", "ARCHIVED", "DELETED"]


class ClockAdvance(_Strict):
    seconds: float | None = None
    days: float | None = None

    @model_validator(mode="after")
    def _one(self) -> ClockAdvance:
        if (self.seconds is None) == (self.days is None):
            raise ValueError('give exactly one of "seconds" or "days"')
        return self


class ClockSpeed(_Strict):
    """Simulated seconds per wall second (60: a simulated hour passes in a wall minute)."""

    speed: float = Field(gt=0, le=MAX_SPEED)


def issue_body(issue: Issue) -> dict:
    return {"id": issue.id, "key": issue.key, "updated_ms": issue.updated_ms}


def user_body(user: User) -> dict:
    return {
        "account_id": user.account_id,
        "display_name": user.display_name,
        "email": user.email,
        "email_visible": user.email_visible,
        "active": user.active,
        "time_zone": user.time_zone,
        "locale": user.locale,
    }


def group_body(group: Group) -> dict:
    return {"group_id": group.group_id, "name": group.name, "member_ids": list(group.member_ids)}


def team_body(team: Team) -> dict:
    return {
        "team_id": team.team_id,
        "display_name": team.display_name,
        "organization_id": team.organization_id,
        "site_cloud_id": team.site_cloud_id,
        "state": "DELETED" if team.deleted else team.state,
        "member_ids": list(team.member_ids),
    }


Handler = Callable[[Request], Awaitable[Response]]


def guarded(handler: Handler) -> Handler:
    """Turn refusals into the admin API's JSON errors, naming the request."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except BadAdminRequest as exc:
            return exc.response
        except MutationError as exc:
            return admin_error(exc.status, f"{request.method} {request.url.path}: {exc}")

    return endpoint


class AdminApi:
    """`/_sim/` issue, user, group, team, project-access and clock endpoints over one world."""

    def __init__(self, world: World) -> None:
        self.world = world

    def routes(self) -> list[BaseRoute]:
        issue = "/_sim/sites/{site}/issues/{issue}"
        table: list[tuple[str, Handler, str]] = [
            ("/_sim/sites/{site}/issues", self.create_issue, "POST"),
            (issue, self.update_issue, "PUT"),
            (issue, self.delete_issue, "DELETE"),
            (f"{issue}/transition", self.transition_issue, "POST"),
            (f"{issue}/move", self.move_issue, "POST"),
            ("/_sim/users/{account_id}", self.update_user, "PATCH"),
            ("/_sim/sites/{site}/groups", self.create_group, "POST"),
            ("/_sim/sites/{site}/groups/{group}", self.delete_group, "DELETE"),
            ("/_sim/sites/{site}/groups/{group}/members", self.add_group_member, "POST"),
            ("/_sim/sites/{site}/groups/{group}/members/{account_id}", self.remove_group_member, "DELETE"),
            ("/_sim/orgs/{org}/teams", self.create_team, "POST"),
            ("/_sim/orgs/{org}/teams/{team}/state", self.set_team_state, "PUT"),
            ("/_sim/orgs/{org}/teams/{team}/members", self.add_team_member, "POST"),
            ("/_sim/orgs/{org}/teams/{team}/members/{account_id}", self.remove_team_member, "DELETE"),
            ("/_sim/sites/{site}/projects/{project}/hidden-from", self.hide_project, "POST"),
            ("/_sim/sites/{site}/projects/{project}/hidden-from/{account_id}", self.unhide_project, "DELETE"),
            ("/_sim/clock", self.clock, "GET"),
            ("/_sim/clock/advance", self.advance_clock, "POST"),
            ("/_sim/clock/speed", self.set_clock_speed, "PUT"),
        ]
        return [Route(path, guarded(handler), methods=[method]) for path, handler, method in table]

    def _site(self, request: Request) -> Site:
        return mutations.find_site(self.world, request.path_params["site"])

    async def create_issue(self, request: Request) -> Response:
        body = await _body(request, CreateIssue)
        issue = mutations.create_issue(self.world, self._site(request), **body.model_dump())
        return JSONResponse(issue_body(issue), 201)

    async def update_issue(self, request: Request) -> Response:
        body = await _body(request, UpdateIssue)
        site = self._site(request)
        history = mutations.update_issue(
            self.world, site, request.path_params["issue"], body.changes(), body.actor
        )
        issue = mutations.find_issue(site, request.path_params["issue"])
        return JSONResponse({**issue_body(issue), "history_id": history.id if history else None})

    async def delete_issue(self, request: Request) -> Response:
        actor = request.query_params.get("actor")
        keys = mutations.delete_issue(self.world, self._site(request), request.path_params["issue"], actor)
        return JSONResponse({"deleted": keys})

    async def transition_issue(self, request: Request) -> Response:
        body = await _body(request, Transition)
        site = self._site(request)
        history = mutations.transition_issue(
            self.world, site, request.path_params["issue"], body.status, body.actor
        )
        issue = mutations.find_issue(site, request.path_params["issue"])
        return JSONResponse({**issue_body(issue), "status_id": issue.status_id, "history_id": history.id})

    async def move_issue(self, request: Request) -> Response:
        body = await _body(request, Move)
        site = self._site(request)
        old_key = request.path_params["issue"]
        history = mutations.move_issue(self.world, site, old_key, body.project, body.issue_type, body.actor)
        issue = mutations.find_issue(site, old_key)
        return JSONResponse({**issue_body(issue), "history_id": history.id})

    async def update_user(self, request: Request) -> Response:
        body = await _body(request, UserChange)
        changes = {name: getattr(body, name) for name in body.model_fields_set}
        for name in ("display_name", "email_visible", "active", "time_zone", "locale"):
            if name in changes and changes[name] is None:
                raise MutationError(f"{name} cannot be null")
        user = mutations.update_user(self.world, request.path_params["account_id"], **changes)
        return JSONResponse(user_body(user))

    async def create_group(self, request: Request) -> Response:
        body = await _body(request, GroupCreate)
        return JSONResponse(
            group_body(mutations.create_group(self.world, self._site(request), body.name)), 201
        )

    async def delete_group(self, request: Request) -> Response:
        mutations.delete_group(self.world, self._site(request), request.path_params["group"])
        return Response(status_code=204)

    async def add_group_member(self, request: Request) -> Response:
        body = await _body(request, Member)
        group = mutations.add_group_member(
            self.world, self._site(request), request.path_params["group"], body.account_id
        )
        return JSONResponse(group_body(group))

    async def remove_group_member(self, request: Request) -> Response:
        p = request.path_params
        group = mutations.remove_group_member(self.world, self._site(request), p["group"], p["account_id"])
        return JSONResponse(group_body(group))

    def _org(self, request: Request) -> Organization:
        return mutations.find_organization(self.world, request.path_params["org"])

    async def create_team(self, request: Request) -> Response:
        body = await _body(request, TeamCreate)
        team = mutations.create_team(self.world, self._org(request), **body.model_dump())
        return JSONResponse(team_body(team), 201)

    async def set_team_state(self, request: Request) -> Response:
        body = await _body(request, TeamState)
        team = mutations.set_team_state(
            self.world, self._org(request), request.path_params["team"], body.state
        )
        return JSONResponse(team_body(team))

    async def add_team_member(self, request: Request) -> Response:
        body = await _body(request, Member)
        team = mutations.add_team_member(
            self.world, self._org(request), request.path_params["team"], body.account_id
        )
        return JSONResponse(team_body(team))

    async def remove_team_member(self, request: Request) -> Response:
        p = request.path_params
        team = mutations.remove_team_member(self.world, self._org(request), p["team"], p["account_id"])
        return JSONResponse(team_body(team))

    async def hide_project(self, request: Request) -> Response:
        body = await _body(request, Member)
        project = mutations.set_project_hidden(
            self.world, self._site(request), request.path_params["project"], body.account_id, hidden=True
        )
        return JSONResponse({"project": project.key, "hidden_from": sorted(project.hidden_from)})

    async def unhide_project(self, request: Request) -> Response:
        p = request.path_params
        project = mutations.set_project_hidden(
            self.world, self._site(request), p["project"], p["account_id"], False
        )
        return JSONResponse({"project": project.key, "hidden_from": sorted(project.hidden_from)})

    def _clock_body(self) -> dict:
        now = self.world.clock.now_ms()
        return {
            "now_ms": now,
            "now": datetime.fromtimestamp(now / 1000, UTC).isoformat(timespec="milliseconds"),
            "offset_ms": self.world.clock.offset_ms,
            "speed": self.world.clock.speed,
        }

    async def clock(self, request: Request) -> Response:
        return JSONResponse(self._clock_body())

    async def advance_clock(self, request: Request) -> Response:
        body = await _body(request, ClockAdvance)
        seconds = body.seconds if body.seconds is not None else (body.days or 0) * 86_400
        if seconds < 0:
            raise MutationError("the simulated clock only moves forward")
        with self.world.lock:
            self.world.clock.advance(int(seconds * 1000))
        return JSONResponse(self._clock_body())

    async def set_clock_speed(self, request: Request) -> Response:
        body = await _body(request, ClockSpeed)
        self.world.clock.set_speed(body.speed)
        return JSONResponse(self._clock_body())


def routes(world: World) -> list[BaseRoute]:
    return AdminApi(world).routes()
