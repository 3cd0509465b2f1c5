"""Project roles: `role` (and by id, with its default actors), a project's roles
(`project/{key}/role`, `/roledetails`) and a role's actors in a project (`project/{key}/role/{id}`).

Who plays which role: `jira_simulator.roles`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import JiraError
from jira_simulator.model import Project
from jira_simulator.rest.common import MANAGE_CONFIGURATION, READ_WORK, RestCall, query_bool, respond
from jira_simulator.roles import ADMINISTRATORS, MEMBER, ROLES, Actor, Role, role_actors, role_by_id


def _details(call: RestCall, role: Role, project: Project | None) -> dict[str, Any]:
    self_url = (
        f"{call.base_url}/project/{project.id}/role/{role.id}"
        if project
        else f"{call.base_url}/role/{role.id}"
    )
    return {
        "self": self_url,
        "name": role.name,
        "id": role.id,
        "description": role.description,
        "admin": role is ADMINISTRATORS,
        "default": role is MEMBER,
        "roleConfigurable": True,
        "translatedName": role.name,
    }


def _actor(call: RestCall, actor: Actor) -> dict[str, Any]:
    if actor.group is not None:
        name = actor.group.name
        return {
            "id": actor.id,
            "displayName": name,
            "type": "atlassian-group-role-actor",
            "name": name,
            "actorGroup": {"name": name, "displayName": name, "groupId": actor.group.group_id},
        }
    user = call.world.users.get(actor.account_id or "")
    body: dict[str, Any] = {
        "id": actor.id,
        "displayName": user.display_name if user else "Former user",
        "type": "atlassian-user-role-actor",
        "actorUser": {"accountId": actor.account_id},
    }
    if user is not None:
        body["avatarUrl"] = call.renderer.avatars("user", user.account_id)["48x48"]
    return body


def _with_actors(
    call: RestCall, role: Role, project: Project | None, *, active_only: bool = False
) -> dict[str, Any]:
    actors = role_actors(call.world, call.site, project, role)
    if active_only:
        actors = [
            a
            for a in actors
            if a.account_id is None or getattr(call.world.users.get(a.account_id), "active", False)
        ]
    return {**_details(call, role, project), "actors": [_actor(call, a) for a in actors]}


def _role_or_404(role_id: str) -> Role:
    role = role_by_id(role_id)
    if role is None:
        raise JiraError(404, "Can not retrieve a role actor for a null project role.")
    return role


async def roles(request: Request) -> Response:
    call = RestCall.of(request, MANAGE_CONFIGURATION)
    call.require_admin()
    return respond([_with_actors(call, role, None) for role in ROLES])


async def role(request: Request) -> Response:
    call = RestCall.of(request, MANAGE_CONFIGURATION)
    call.require_admin()
    return respond(_with_actors(call, _role_or_404(request.path_params["role"]), None))


async def project_roles(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    found = call.project_or_404(request.path_params["project"])
    return respond({r.name: f"{call.base_url}/project/{found.id}/role/{r.id}" for r in ROLES})


async def project_role_details(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    found = call.project_or_404(request.path_params["project"])
    chosen = list(ROLES)
    if query_bool(request, "excludeConnectAddons", False):
        chosen = [r for r in chosen if r.id != 10003]
    if query_bool(request, "currentMember", False):
        chosen = [
            r
            for r in chosen
            if any(
                a.account_id == call.principal.account_id
                or (a.group is not None and call.principal.account_id in a.group.member_ids)
                for a in role_actors(call.world, call.site, found, r)
            )
        ]
    return respond([_details(call, r, found) for r in chosen])


async def project_role(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    found = call.project_or_404(request.path_params["project"])
    chosen = role_by_id(request.path_params["role"])
    if chosen is None:
        raise JiraError(404, f"No project role with ID {request.path_params['role']} exists.")
    return respond(
        _with_actors(call, chosen, found, active_only=query_bool(request, "excludeInactiveUsers", False))
    )


def routes() -> list[Route]:
    return [
        Route("/role", roles, methods=["GET"]),
        Route("/role/{role}", role, methods=["GET"]),
        Route("/role/{role}/actors", role, methods=["GET"]),
        Route("/project/{project}/role", project_roles, methods=["GET"]),
        Route("/project/{project}/roledetails", project_role_details, methods=["GET"]),
        Route("/project/{project}/role/{role}", project_role, methods=["GET"]),
    ]
