"""The site itself: `instance/license`, `applicationrole`, `application-properties`,
`configuration` (and its time tracking), `settings/columns`, `avatar/{type}/system`,
`auditing/record` and `label`.

Values are those of a fresh Jira Cloud site where a real answer was seen (Airbyte's source-jira
capture: `jira_settings`, `avatars` with `/secure/useravatar?size=xsmall&avatarId=10300` URLs,
`labels`; Atlassian's spec examples for `configuration` and time tracking), and the site's own
data otherwise (labels are the ones its issues carry, audit records its projects' history).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.applications import site_applications
from jira_simulator.errors import JiraError, bad_request
from jira_simulator.rest.common import (
    MANAGE_CONFIGURATION,
    READ_USER,
    READ_WORK,
    RestCall,
    paged,
    query_int,
    respond,
)

# key -> (name, description, type, value); `jira.title` is the site's own name.
APPLICATION_PROPERTIES = (
    ("jira.issuenav.criteria.autoupdate", "Auto Update Criteria", "Turn on to update search results automatically", "boolean", "true"),
    ("jira.clone.prefix", "The prefix added to the Summary field of cloned issues", "", "string", "CLONE -"),
    ("jira.date.picker.java.format", "Date Picker Format (Java)", "This part is only for the Java (server side) generated dates.", "string", "d/MMM/yy"),
    ("jira.date.time.picker.java.format", "Date Time Picker Format (Java)", "This part is only for the Java (server side) generated datetimes.", "string", "dd/MMM/yy h:mm a"),
    ("jira.lf.date.relativize", "Relative dates", "Show dates relative to now where possible.", "boolean", "true"),
    ("jira.option.watching", "Allow users to watch issues", "", "boolean", "true"),
    ("jira.option.voting", "Allow users to vote on issues", "", "boolean", "true"),
)  # fmt: skip
TIME_TRACKING = {
    "key": "JIRA",
    "name": "JIRA provided time tracking",
    "url": "/secure/admin/TimeTrackingAdmin!default.jspa",
}
NAVIGATOR_COLUMNS = (
    ("Issue Type", "issuetype"), ("Key", "issuekey"), ("Summary", "summary"), ("Assignee", "assignee"),
    ("Reporter", "reporter"), ("Priority", "priority"), ("Status", "status"), ("Resolution", "resolution"),
    ("Created", "created"), ("Updated", "updated"), ("Due date", "duedate"),
)  # fmt: skip
AVATAR_KINDS = {"issuetype": range(10300, 10330), "project": range(10400, 10425), "user": range(10500, 10510)}
AVATAR_SIZES = (("16x16", "xsmall"), ("24x24", "small"), ("32x32", "medium"))


async def license_info(request: Request) -> Response:
    call = RestCall.of(request, MANAGE_CONFIGURATION)
    return respond(call.renderer.access.license())


async def application_roles(request: Request) -> Response:
    call = RestCall.of(request, MANAGE_CONFIGURATION)
    call.require_admin()
    return respond([call.renderer.access.application_role(a) for a in site_applications(call.site)])


async def application_role(request: Request) -> Response:
    call = RestCall.of(request, MANAGE_CONFIGURATION)
    call.require_admin()
    for application in site_applications(call.site):
        if application.key == request.path_params["key"]:
            return respond(call.renderer.access.application_role(application))
    raise JiraError(404, f"The application role '{request.path_params['key']}' does not exist.")


async def application_properties(request: Request) -> Response:
    call = RestCall.of(request, MANAGE_CONFIGURATION)
    call.require_admin(401)
    wanted = request.query_params.get("key")
    rows = [
        ("jira.title", "Jira title", "The name of this site.", "string", call.site.display_name),
        *APPLICATION_PROPERTIES,
    ]
    found = [
        {"id": key, "key": key, "value": value, "name": name, "desc": desc, "type": kind}
        for key, name, desc, kind, value in rows
        if wanted is None or key == wanted
    ]
    if wanted is not None and not found:
        raise JiraError(404, f"The application property '{wanted}' does not exist.")
    return respond(found)


async def configuration(request: Request) -> Response:
    RestCall.of(request, READ_USER)
    return respond(
        {
            "votingEnabled": True,
            "watchingEnabled": True,
            "unassignedIssuesAllowed": True,
            "subTasksEnabled": True,
            "issueLinkingEnabled": True,
            "timeTrackingEnabled": True,
            "attachmentsEnabled": True,
            "timeTrackingConfiguration": {
                "workingHoursPerDay": 8.0,
                "workingDaysPerWeek": 5.0,
                "timeFormat": "pretty",
                "defaultUnit": "minute",
            },
        }
    )


async def time_tracking(request: Request) -> Response:
    call = RestCall.of(request, MANAGE_CONFIGURATION)
    call.require_admin()
    return respond(TIME_TRACKING)


async def time_tracking_list(request: Request) -> Response:
    call = RestCall.of(request, MANAGE_CONFIGURATION)
    call.require_admin()
    return respond([TIME_TRACKING])


async def navigator_columns(request: Request) -> Response:
    call = RestCall.of(request)
    call.require_admin()
    return respond([{"label": label, "value": value} for label, value in NAVIGATOR_COLUMNS])


async def system_avatars(request: Request) -> Response:
    RestCall.of(request, MANAGE_CONFIGURATION)
    kind = request.path_params["type"]
    if kind not in AVATAR_KINDS:
        raise bad_request(f"The avatar type '{kind}' is not valid; use issuetype, project or user.")
    return respond(
        {
            "system": [
                {
                    "id": str(avatar_id),
                    "isSystemAvatar": True,
                    "isSelected": False,
                    "isDeletable": False,
                    "urls": {
                        **{
                            size: f"/secure/{kind}avatar?size={name}&avatarId={avatar_id}"
                            for size, name in AVATAR_SIZES
                        },
                        "48x48": f"/secure/{kind}avatar?avatarId={avatar_id}",
                    },
                }
                for avatar_id in AVATAR_KINDS[kind]
            ]
        }
    )


async def audit_records(request: Request) -> Response:
    """Project creations (and archivings, moves to the trash) of the site, newest first."""
    call = RestCall.of(request, MANAGE_CONFIGURATION)
    call.require_admin()
    offset = query_int(request, "offset", 0)
    limit = query_int(request, "limit", 1000, minimum=1, maximum=1000)
    text = (request.query_params.get("filter") or "").casefold()
    records: list[tuple[int, str, Any]] = []
    for project in call.site.projects.values():
        issues = [i.created_ms for i in call.site.issues.values() if i.project_id == project.id]
        if issues:
            records.append((min(issues) - 86_400_000, "Project created", project))
        if project.archived_ms is not None:
            records.append((project.archived_ms, "Project archived", project))
        if project.deleted_ms is not None:
            records.append((project.deleted_ms, "Project moved to trash", project))
    records.sort(key=lambda r: r[0], reverse=True)
    chosen = [r for r in records if text in r[1].casefold() or text in r[2].name.casefold()]
    body = [
        {
            "id": 10000 + index,
            "summary": summary,
            "remoteAddress": "127.0.0.1",
            "authorKey": call.world.admin_account_id,
            "created": call.renderer.ts(at),
            "category": "projects",
            "eventSource": "",
            "objectItem": {"id": project.id, "name": project.name, "typeName": "PROJECT"},
            "changedValues": [],
            "associatedItems": [],
        }
        for index, (at, summary, project) in enumerate(chosen)
    ]
    return respond(
        {"offset": offset, "limit": limit, "total": len(body), "records": body[offset : offset + limit]}
    )


async def labels(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    everything = sorted(
        {
            label
            for issue in call.site.issues.values()
            if call.searchable_issue(issue)
            for label in issue.labels
        }
    )
    return paged(call, everything, default=1000, maximum=1000)


def routes() -> list[Route]:
    return [
        Route("/instance/license", license_info, methods=["GET"]),
        Route("/applicationrole", application_roles, methods=["GET"]),
        Route("/applicationrole/{key}", application_role, methods=["GET"]),
        Route("/application-properties", application_properties, methods=["GET"]),
        Route("/configuration", configuration, methods=["GET"]),
        Route("/configuration/timetracking", time_tracking, methods=["GET"]),
        Route("/configuration/timetracking/list", time_tracking_list, methods=["GET"]),
        Route("/settings/columns", navigator_columns, methods=["GET"]),
        Route("/avatar/{type}/system", system_avatars, methods=["GET"]),
        Route("/auditing/record", audit_records, methods=["GET"]),
        Route("/label", labels, methods=["GET"]),
    ]
