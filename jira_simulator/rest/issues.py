"""Single issues and `issue/bulkfetch`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import bad_request
from jira_simulator.model import Issue
from jira_simulator.render import select_fields
from jira_simulator.rest.common import READ_WORK, RestCall, body_list, json_body, query_values, respond

MAX_BULK_ISSUES = 100
BULK_CHANGELOG_CAP = 40
SINGLE_CHANGELOG_CAP = 100
ISSUE_EXPANDS = {"renderedFields", "names", "schema", "transitions", "operations", "editmeta", "changelog"}


def _expand(values: list[str] | None) -> set[str]:
    return {v for v in values or [] if v in ISSUE_EXPANDS}


async def get_issue(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    issue = call.issue_or_404(request.path_params["issue"])
    fields = select_fields(query_values(request, "fields"), ["*all"])
    body = call.renderer.issues.issue(
        issue,
        fields,
        expand=_expand(query_values(request, "expand")),
        changelog_cap=SINGLE_CHANGELOG_CAP,
        children=call.index.children,
    )
    return respond(body)


async def bulkfetch(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    body = await json_body(request)
    wanted = body_list(body, "issueIdsOrKeys")
    if not wanted:
        raise bad_request("issueIdsOrKeys: at least one issue ID or key is required.")
    if len(wanted) > MAX_BULK_ISSUES:
        raise bad_request(
            f"issueIdsOrKeys: at most {MAX_BULK_ISSUES} issues can be fetched at once, got {len(wanted)}."
        )
    found: dict[str, Issue] = {}
    for id_or_key in wanted:
        issue = call.visible_issue(call.site.find_issue(id_or_key))
        if issue is not None:  # missing and forbidden issues are silently left out, as Jira does
            found[issue.id] = issue
    fields = select_fields(body_list(body, "fields"), ["*navigable"])
    expand = _expand(body_list(body, "expand"))
    renderer = call.renderer
    issues: list[dict[str, Any]] = [
        renderer.issues.issue(
            found[issue_id],
            fields,
            expand=expand,
            changelog_cap=BULK_CHANGELOG_CAP,
            children=call.index.children,
        )
        for issue_id in sorted(found, key=int)
    ]
    return respond({"issues": issues, "issueErrors": []})


def routes() -> list[Route]:
    return [
        Route("/issue/bulkfetch", bulkfetch, methods=["POST"]),
        Route("/issue/{issue}", get_issue, methods=["GET"]),
    ]
