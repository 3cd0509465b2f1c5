"""Work on issues: comments, worklogs (incl. `worklog/updated` and `worklog/list`), transitions."""

from __future__ import annotations

from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import JiraError, bad_request
from jira_simulator.model import Issue, Worklog
from jira_simulator.rest.common import READ_WORK, RestCall, json_body, query_int, respond

PAGE_DEFAULT = 5000
UPDATED_PAGE = 1000
LIST_MAX = 1000


async def comments(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    issue = call.issue_or_404(request.path_params["issue"])
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", PAGE_DEFAULT, minimum=0, maximum=PAGE_DEFAULT)
    ordered = list(issue.comments)
    order_by = request.query_params.get("orderBy", "created")
    if order_by.lstrip("+-") != "created":
        raise bad_request(f"orderBy: '{order_by}' is not supported; use created or -created.")
    if order_by.startswith("-"):
        ordered.reverse()
    page = ordered[start_at : start_at + max_results]
    return respond(
        {
            "startAt": start_at,
            "maxResults": max_results,
            "total": len(ordered),
            "comments": [call.renderer.work.comment(issue, c) for c in page],
        }
    )


async def comment(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    issue = call.issue_or_404(request.path_params["issue"])
    for found in issue.comments:
        if found.id == request.path_params["id"]:
            return respond(call.renderer.work.comment(issue, found))
    raise JiraError(404, "Can not find a comment for the id: " + request.path_params["id"] + ".")


async def issue_worklogs(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    issue = call.issue_or_404(request.path_params["issue"])
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", PAGE_DEFAULT, minimum=0, maximum=PAGE_DEFAULT)
    after = query_int(request, "startedAfter", 0, minimum=None)
    before = query_int(request, "startedBefore", 2**62, minimum=None)
    matching = [w for w in issue.worklogs if after <= w.started_ms <= before]
    page = matching[start_at : start_at + max_results]
    return respond(
        {
            "startAt": start_at,
            "maxResults": max_results,
            "total": len(matching),
            "worklogs": [call.renderer.work.worklog(issue, w) for w in page],
        }
    )


def _visible_worklogs(call: RestCall) -> Iterator[tuple[Issue, Worklog]]:
    visible = {p.id for p in call.visible_projects()}
    for issue in call.site.issues.values():
        if issue.worklogs and issue.project_id in visible:
            for worklog in issue.worklogs:
                yield issue, worklog


def _changed_worklogs(request: Request, changed: list[tuple[int, int]], since: int) -> Response:
    """A ChangedWorklogs page of (time, worklog id) pairs after `since`; a page never splits equal
    times, so the next page's `since` (this page's `until`) loses nothing."""
    changed.sort()
    end = min(UPDATED_PAGE, len(changed))
    while 0 < end < len(changed) and changed[end][0] == changed[end - 1][0]:
        end += 1
    page = changed[:end]
    until = page[-1][0] if page else since
    last_page = end >= len(changed)
    body: dict[str, object] = {
        "values": [
            {"worklogId": worklog_id, "updatedTime": updated, "properties": []}
            for updated, worklog_id in page
        ],
        "since": since,
        "until": until,
        "self": str(request.url),
        "lastPage": last_page,
    }
    if not last_page:
        body["nextPage"] = str(request.url.include_query_params(since=until))
    return respond(body)


async def worklogs_updated(request: Request) -> Response:
    """IDs and update times of worklogs updated after `since`."""
    call = RestCall.of(request, READ_WORK)
    since = query_int(request, "since", 0, minimum=None)
    changed = [(w.updated_ms, int(w.id)) for _, w in _visible_worklogs(call) if w.updated_ms > since]
    return _changed_worklogs(request, changed, since)


async def worklogs_deleted(request: Request) -> Response:
    """IDs and deletion times of worklogs deleted after `since` (of projects the caller can see)."""
    call = RestCall.of(request, READ_WORK)
    since = query_int(request, "since", 0, minimum=None)
    visible = {p.id for p in call.visible_projects()}
    changed = [
        (d.deleted_ms, int(d.id))
        for d in call.site.deleted_worklogs
        if d.deleted_ms > since and d.project_id in visible
    ]
    return _changed_worklogs(request, changed, since)


async def worklog_list(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    body = await json_body(request)
    ids = body.get("ids")
    if not isinstance(ids, list) or not all(
        isinstance(i, int) or (isinstance(i, str) and i.isdigit()) for i in ids
    ):
        raise bad_request("'ids' must be a list of worklog IDs (numbers).")
    if len(ids) > LIST_MAX:
        raise bad_request(f"At most {LIST_MAX} worklog IDs can be requested at once, got {len(ids)}.")
    wanted = {str(i) for i in ids}
    found = [(issue, w) for issue, w in _visible_worklogs(call) if w.id in wanted]
    found.sort(key=lambda pair: int(pair[1].id))
    return respond([call.renderer.work.worklog(issue, w) for issue, w in found])


async def issue_worklog(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    issue = call.issue_or_404(request.path_params["issue"])
    for found in issue.worklogs:
        if found.id == request.path_params["id"]:
            return respond(call.renderer.work.worklog(issue, found))
    raise JiraError(404, f"Cannot find worklog with id: {request.path_params['id']}")


async def transitions(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    issue = call.issue_or_404(request.path_params["issue"])
    return respond({"expand": "transitions", "transitions": call.renderer.issues.transitions(issue)})


def routes() -> list[Route]:
    return [
        Route("/issue/{issue}/comment", comments, methods=["GET"]),
        Route("/issue/{issue}/comment/{id}", comment, methods=["GET"]),
        Route("/issue/{issue}/worklog", issue_worklogs, methods=["GET"]),
        Route("/issue/{issue}/worklog/{id}", issue_worklog, methods=["GET"]),
        Route("/issue/{issue}/transitions", transitions, methods=["GET"]),
        Route("/worklog/updated", worklogs_updated, methods=["GET"]),
        Route("/worklog/deleted", worklogs_deleted, methods=["GET"]),
        Route("/worklog/list", worklog_list, methods=["POST"]),
    ]
