"""Permissions: `permissions` (the catalog), `mypermissions` (what the caller holds, by the project's
scheme), `permissionscheme` (list, by id, its grants) and `project/{key}/permissionscheme`.

What is granted to whom: `jira_simulator.permissions`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import JiraError, bad_request
from jira_simulator.model import Project
from jira_simulator.permissions import (
    PERMISSIONS,
    Grant,
    Permission,
    PermissionScheme,
    holds,
    holds_global,
    permission_schemes,
    project_scheme,
)
from jira_simulator.rest.common import MANAGE_CONFIGURATION, READ_WORK, RestCall, query_values, respond

# Jira's legacy numeric permission ids (`UserPermission.id`; the spec's example: EDIT_ISSUES "12").
LEGACY_IDS = {
    "ADMINISTER": "0", "BROWSE_PROJECTS": "10", "CREATE_ISSUES": "11", "EDIT_ISSUES": "12",
    "ASSIGN_ISSUES": "13", "RESOLVE_ISSUES": "14", "ADD_COMMENTS": "15", "DELETE_ISSUES": "16",
    "ASSIGNABLE_USER": "17", "CLOSE_ISSUES": "18", "CREATE_ATTACHMENTS": "19", "WORK_ON_ISSUES": "20",
    "LINK_ISSUES": "21", "CREATE_SHARED_OBJECTS": "22", "ADMINISTER_PROJECTS": "23",
    "MANAGE_GROUP_FILTER_SUBSCRIPTIONS": "24", "MOVE_ISSUES": "25", "SET_ISSUE_SECURITY": "26",
    "USER_PICKER": "27", "SCHEDULE_ISSUES": "28", "VIEW_DEV_TOOLS": "29", "MODIFY_REPORTER": "30",
    "VIEW_VOTERS_AND_WATCHERS": "31", "MANAGE_WATCHERS": "32", "BULK_CHANGE": "33",
    "EDIT_ALL_COMMENTS": "34", "EDIT_OWN_COMMENTS": "35", "DELETE_ALL_COMMENTS": "36",
    "DELETE_OWN_COMMENTS": "37", "DELETE_ALL_ATTACHMENTS": "38", "DELETE_OWN_ATTACHMENTS": "39",
    "EDIT_OWN_WORKLOGS": "40", "EDIT_ALL_WORKLOGS": "41", "DELETE_OWN_WORKLOGS": "42",
    "DELETE_ALL_WORKLOGS": "43", "VIEW_READONLY_WORKFLOW": "45", "TRANSITION_ISSUES": "46",
}  # fmt: skip


def _permission(permission: Permission) -> dict[str, Any]:
    return {
        "key": permission.key,
        "name": permission.name,
        "type": permission.type,
        "description": permission.description,
    }


async def all_permissions(request: Request) -> Response:
    RestCall.of(request, MANAGE_CONFIGURATION)
    return respond({"permissions": {key: _permission(p) for key, p in PERMISSIONS.items()}})


def _context_project(call: RestCall) -> Project | None:
    """The project `mypermissions` asks about: by project key/id or by an issue's project."""
    params = call.request.query_params
    project_ref = params.get("projectKey") or params.get("projectId")
    issue_ref = params.get("issueKey") or params.get("issueId")
    if issue_ref:
        issue = call.issue_or_404(issue_ref)
        return call.site.projects[issue.project_id]
    if project_ref:
        return call.project_or_404(project_ref)
    return None


async def my_permissions(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    keys = query_values(request, "permissions")
    if not keys:
        raise bad_request("The permissions parameter is required: name the permission keys to check.")
    unknown = [k for k in keys if k not in PERMISSIONS]
    if unknown:
        raise bad_request(f"Invalid permission key: {unknown[0]}")
    project = _context_project(call)
    account_id = call.principal.account_id
    answer: dict[str, Any] = {}
    for key in keys:
        permission = PERMISSIONS[key]
        if permission.type == "GLOBAL":
            have = holds_global(call.world, call.site, account_id, key)
        elif project is not None:
            have = holds(call.world, call.site, project, account_id, key)
        else:  # in the global context: held in any project
            have = any(holds(call.world, call.site, p, account_id, key) for p in call.visible_projects())
        body = _permission(permission)
        if key in LEGACY_IDS:
            body["id"] = LEGACY_IDS[key]
        body["havePermission"] = have
        answer[key] = body
    return respond({"permissions": answer})


def _grant(call: RestCall, scheme: PermissionScheme, grant: Grant) -> dict[str, Any]:
    holder: dict[str, Any] = {"type": grant.holder.type}
    if grant.holder.parameter is not None:
        holder.update(parameter=grant.holder.parameter, value=grant.holder.value, expand=grant.holder.type)
    return {
        "id": grant.id,
        "self": f"{call.base_url}/permissionscheme/{scheme.id}/permission/{grant.id}",
        "holder": holder,
        "permission": grant.permission,
    }


def _scheme(call: RestCall, scheme: PermissionScheme, expand: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "expand": "permissions,user,group,projectRole,field,all",
        "id": scheme.id,
        "self": f"{call.base_url}/permissionscheme/{scheme.id}",
        "name": scheme.name,
        "description": scheme.description,
    }
    if expand & {"permissions", "all"}:
        body["permissions"] = [_grant(call, scheme, g) for g in scheme.grants]
    return body


def _expand(request: Request) -> set[str]:
    return set(query_values(request, "expand") or [])


def _scheme_or_404(call: RestCall, scheme_id: str) -> PermissionScheme:
    for scheme in permission_schemes(call.site):
        if str(scheme.id) == scheme_id:
            return scheme
    raise JiraError(404, f"A permission scheme with ID {scheme_id} does not exist.")


async def schemes(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    expand = _expand(request)
    return respond({"permissionSchemes": [_scheme(call, s, expand) for s in permission_schemes(call.site)]})


async def scheme(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    return respond(_scheme(call, _scheme_or_404(call, request.path_params["scheme"]), _expand(request)))


async def scheme_grants(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    found = _scheme_or_404(call, request.path_params["scheme"])
    return respond(
        {
            "expand": "user,group,projectRole,field,all",
            "permissions": [_grant(call, found, g) for g in found.grants],
        }
    )


async def project_permission_scheme(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    project = call.project_or_404(request.path_params["project"])
    if not call.administers(project):
        raise JiraError(403, "You do not have permission to view the permission scheme of this project.")
    return respond(_scheme(call, project_scheme(project), _expand(request)))


def routes() -> list[Route]:
    return [
        Route("/permissions", all_permissions, methods=["GET"]),
        Route("/mypermissions", my_permissions, methods=["GET"]),
        Route("/permissionscheme", schemes, methods=["GET"]),
        Route("/permissionscheme/{scheme}", scheme, methods=["GET"]),
        Route("/permissionscheme/{scheme}/permission", scheme_grants, methods=["GET"]),
        Route("/project/{project}/permissionscheme", project_permission_scheme, methods=["GET"]),
    ]
