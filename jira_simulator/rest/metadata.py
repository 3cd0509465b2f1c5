"""Site configuration: issue types, statuses, categories, priorities, resolutions, fields, project
types and categories, and `serverInfo`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import JiraError
from jira_simulator.model import STATUS_CATEGORIES, IssueType, Status
from jira_simulator.render import project_categories
from jira_simulator.rest.common import (
    MANAGE_CONFIGURATION,
    READ_WORK,
    RestCall,
    page_bean,
    query_int,
    respond,
)

SERVER_VERSION = "1001.0.0-SNAPSHOT"
PROJECT_TYPES = [
    ("software", "Software", "#8777D9"),
    ("service_desk", "Service management", "#36B37E"),
    ("business", "Business", "#00B8D9"),
]


def visible_issue_types(call: RestCall) -> list[IssueType]:
    visible = {p.id for p in call.visible_projects()}
    return [
        t
        for t in call.site.issue_types.values()
        if t.scope_project_id is None or t.scope_project_id in visible
    ]


def visible_statuses(call: RestCall) -> list[Status]:
    visible = {p.id for p in call.visible_projects()}
    return [
        s for s in call.site.statuses.values() if s.scope_project_id is None or s.scope_project_id in visible
    ]


async def issue_types(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    return respond([call.renderer.config.issue_type(t) for t in visible_issue_types(call)])


async def issue_type(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    wanted = request.path_params["id"]
    for found in visible_issue_types(call):
        if found.id == wanted:
            return respond(call.renderer.config.issue_type(found))
    raise JiraError(404, "The issue type ID is invalid or you do not have permission to view it.")


async def project_issue_types(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    project_id = request.query_params.get("projectId")
    if not project_id:
        raise JiraError(400, "The projectId parameter is required.")
    project = call.project_or_404(project_id)
    return respond(
        [call.renderer.config.issue_type(call.site.issue_types[t]) for t in project.issue_type_ids]
    )


async def statuses(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    return respond([call.renderer.config.status(s) for s in visible_statuses(call)])


async def status(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    wanted = request.path_params["id_or_name"]
    for found in visible_statuses(call):
        if found.id == wanted or found.name.casefold() == wanted.casefold():
            return respond(call.renderer.config.status(found))
    raise JiraError(404, f"The status with ID or name '{wanted}' does not exist.")


async def status_categories(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    return respond([call.renderer.config.status_category(category_id) for category_id in STATUS_CATEGORIES])


async def status_category(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    wanted = request.path_params["id_or_key"]
    for category in STATUS_CATEGORIES.values():
        if wanted in (str(category.id), category.key):
            return respond(call.renderer.config.status_category(category.id))
    raise JiraError(404, f"The status category with ID or key '{wanted}' does not exist.")


async def priorities(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    return respond([call.renderer.config.priority_full(p) for p in call.site.priorities.values()])


async def priority(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    found = call.site.priorities.get(request.path_params["id"])
    if found is None:
        raise JiraError(404, f"The priority with ID '{request.path_params['id']}' does not exist.")
    return respond(call.renderer.config.priority_full(found))


async def priority_search(request: Request) -> Response:
    call = RestCall.of(request, MANAGE_CONFIGURATION)
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", 50, minimum=1, maximum=1000)
    everything = [call.renderer.config.priority_full(p) for p in call.site.priorities.values()]
    values = everything[start_at : start_at + max_results]
    return respond(page_bean(call, values, start_at, max_results, len(everything)))


async def resolutions(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    return respond([call.renderer.config.resolution(r) for r in call.site.resolutions.values()])


async def resolution(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    found = call.site.resolutions.get(request.path_params["id"])
    if found is None:
        raise JiraError(404, f"The resolution with ID '{request.path_params['id']}' does not exist.")
    return respond(call.renderer.config.resolution(found))


async def resolution_search(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", 50, minimum=1, maximum=1000)
    everything = [
        {**call.renderer.config.resolution(r), "default": index == 0}
        for index, r in enumerate(call.site.resolutions.values())
    ]
    values = everything[start_at : start_at + max_results]
    return respond(page_bean(call, values, start_at, max_results, len(everything)))


async def server_info(request: Request) -> Response:
    call = RestCall.of(request, allow_anonymous=True)
    site_url = f"{call.origin}/site/{call.site.name}"
    return respond(
        {
            "baseUrl": site_url,
            "displayUrl": site_url,
            "version": SERVER_VERSION,
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100300,
            "buildDate": "2026-11-20T00:00:00.000+0000",
            "serverTime": call.renderer.ts(call.world.clock.now_ms()),
            "scmInfo": "57a0ca5b4a0bb0ac5f3fee4764acb1c14e4d7e71",
            "serverTitle": call.site.display_name,
            "serverTimeZone": call.site.time_zone,
            # Real sites send it (Atlassian's own example response; Jellyfish jf_agent's recorded
            # `{"defaultLocale":{"locale":"en_US"}}`) though the spec's ServerInformation omits it.
            "defaultLocale": {"locale": "en_US"},
        }
    )


def _project_type(key: str, name: str, color: str) -> dict[str, Any]:
    return {
        "key": key,
        "formattedKey": name,
        "descriptionI18nKey": f"jira.project.type.{key}.description",
        "icon": "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=",
        "color": color,
    }


async def project_types(request: Request) -> Response:
    RestCall.of(request, READ_WORK)
    return respond([_project_type(*t) for t in PROJECT_TYPES])


async def project_type(request: Request) -> Response:
    RestCall.of(request, READ_WORK)
    for entry in PROJECT_TYPES:
        if entry[0] == request.path_params["key"]:
            return respond(_project_type(*entry))
    raise JiraError(404, f"The project type '{request.path_params['key']}' does not exist.")


async def project_categories_list(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    return respond(
        [
            {
                "self": f"{call.base_url}/projectCategory/{category_id}",
                "id": category_id,
                "name": name,
                "description": f"{name} projects.",
            }
            for name, category_id in project_categories(call.site).items()
        ]
    )


async def project_category(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    for name, category_id in project_categories(call.site).items():
        if category_id == request.path_params["id"]:
            return respond(
                {
                    "self": f"{call.base_url}/projectCategory/{category_id}",
                    "id": category_id,
                    "name": name,
                    "description": f"{name} projects.",
                }
            )
    raise JiraError(404, f"The project category with ID '{request.path_params['id']}' does not exist.")


def routes() -> list[Route]:
    return [
        Route("/issuetype", issue_types, methods=["GET"]),
        Route("/issuetype/project", project_issue_types, methods=["GET"]),
        Route("/issuetype/{id}", issue_type, methods=["GET"]),
        Route("/status", statuses, methods=["GET"]),
        Route("/status/{id_or_name}", status, methods=["GET"]),
        Route("/statuscategory", status_categories, methods=["GET"]),
        Route("/statuscategory/{id_or_key}", status_category, methods=["GET"]),
        Route("/priority", priorities, methods=["GET"]),
        Route("/priority/search", priority_search, methods=["GET"]),
        Route("/priority/{id}", priority, methods=["GET"]),
        Route("/resolution", resolutions, methods=["GET"]),
        Route("/resolution/search", resolution_search, methods=["GET"]),
        Route("/resolution/{id}", resolution, methods=["GET"]),
        Route("/serverInfo", server_info, methods=["GET"]),
        Route("/project/type", project_types, methods=["GET"]),
        Route("/project/type/{key}", project_type, methods=["GET"]),
        Route("/projectCategory", project_categories_list, methods=["GET"]),
        Route("/projectCategory/{id}", project_category, methods=["GET"]),
    ]
