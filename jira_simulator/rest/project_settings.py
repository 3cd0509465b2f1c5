"""A project's settings and neighbours: `project/{id}/email`, `/avatars`, `/properties`,
`/securitylevel`, `/hierarchy`, `project/recent`, and versions by id (`version/{id}`, its related
and unresolved issue counts).

A project's sender address is Jira Cloud's default `jira@<site>.atlassian.net` (Airbyte's capture
shows `jira@airbyteio.atlassian.net`), here on the site's name; no project sets issue security, so
its levels are empty; its hierarchy is Jira's three levels (Epic 1, standard 0, sub-task -1).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import JiraError
from jira_simulator.model import Project, Version
from jira_simulator.render import entity_id
from jira_simulator.rest.common import MANAGE_PROJECT, READ_WORK, RestCall, query_values, respond

HIERARCHY = ((1, "Epic"), (0, "Base"), (-1, "Subtask"))
RECENT_MAX = 20


async def project_email(request: Request) -> Response:
    call = RestCall.of(request, MANAGE_PROJECT)
    project = call.project_or_404(request.path_params["project"])
    if not call.administers(project):
        raise JiraError(403, "You do not have permission to view the email address of this project.")
    return respond({"emailAddress": f"jira@{call.site.name}.atlassian.net"})


async def project_avatars(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    project = call.project_or_404(request.path_params["project"])
    avatar_id = str(10400 + int(project.id) % 25)
    return respond(
        {
            "system": [
                {
                    "id": avatar_id,
                    "isSystemAvatar": True,
                    "isSelected": True,
                    "isDeletable": False,
                    "urls": call.renderer.avatars("project", project.id),
                }
            ],
            "custom": [],
        }
    )


async def project_properties(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    call.project_or_404(request.path_params["project"])
    return respond({"keys": []})


async def security_levels(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    call.project_or_404(request.path_params["project"])
    return respond({"levels": []})


async def hierarchy(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    project = call.project_or_404(request.path_params["project"])
    types = [call.site.issue_types[t] for t in project.issue_type_ids]
    levels = []
    for level, name in HIERARCHY:
        members = [t for t in types if t.hierarchy_level == level]
        if members:
            levels.append(
                {
                    "entityId": entity_id(call.site.cloud_id, f"hierarchy-{project.id}-{level}"),
                    "level": level,
                    "name": name,
                    "issueTypes": [
                        {"id": int(t.id), "name": t.name, "avatarId": 10300 + int(t.id) % 50} for t in members
                    ],
                }
            )
    return respond({"projectId": int(project.id), "hierarchy": levels})


async def recent_projects(request: Request) -> Response:
    """The projects whose issues changed most recently, as Jira's recent list approximates what the
    caller worked in."""
    call = RestCall.of(request, READ_WORK)
    latest: dict[str, int] = {}
    for issue in call.site.issues.values():
        latest[issue.project_id] = max(latest.get(issue.project_id, 0), issue.updated_ms)
    projects = sorted(call.visible_projects(), key=lambda p: latest.get(p.id, 0), reverse=True)[:RECENT_MAX]
    expand = {e.casefold() for e in query_values(request, "expand") or []}
    return respond([call.renderer.projects.project(p, expand) for p in projects])


def _version_or_404(call: RestCall, version_id: str) -> tuple[Project, Version]:
    for project in call.site.projects.values():
        for version in project.versions:
            if version.id == version_id and not project.deleted and call.may_browse(project):
                return project, version
    raise JiraError(404, f"Could not find version for id '{version_id}'")


async def version(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    project, found = _version_or_404(call, request.path_params["version"])
    return respond(call.renderer.projects.version(project, found))


def _fixed_in(call: RestCall, project: Project, version: Version) -> list[Any]:
    return [
        i for i in call.site.issues.values() if i.project_id == project.id and version.id in i.fix_version_ids
    ]


async def version_related_counts(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    project, found = _version_or_404(call, request.path_params["version"])
    return respond(
        {
            "self": f"{call.base_url}/version/{found.id}",
            "issuesFixedCount": len(_fixed_in(call, project, found)),
            "issuesAffectedCount": 0,
            "issueCountWithCustomFieldsShowingVersion": 0,
            "customFieldUsage": [],
        }
    )


async def version_unresolved_count(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    project, found = _version_or_404(call, request.path_params["version"])
    fixed = _fixed_in(call, project, found)
    return respond(
        {
            "self": f"{call.base_url}/version/{found.id}",
            "issuesCount": len(fixed),
            "issuesUnresolvedCount": sum(1 for i in fixed if i.resolution_id is None),
        }
    )


def routes() -> list[Route]:
    return [
        Route("/project/recent", recent_projects, methods=["GET"]),
        Route("/project/{project}/email", project_email, methods=["GET"]),
        Route("/project/{project}/avatars", project_avatars, methods=["GET"]),
        Route("/project/{project}/properties", project_properties, methods=["GET"]),
        Route("/project/{project}/securitylevel", security_levels, methods=["GET"]),
        Route("/project/{project}/hierarchy", hierarchy, methods=["GET"]),
        Route("/version/{version}", version, methods=["GET"]),
        Route("/version/{version}/relatedIssueCounts", version_related_counts, methods=["GET"]),
        Route("/version/{version}/unresolvedIssueCount", version_unresolved_count, methods=["GET"]),
    ]
