"""Issue search: `search/jql` (cursor pages), `search/approximate-count`, and the removed `search` (410)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.cursors import InvalidToken, SearchCursors, Snapshot
from jira_simulator.errors import JiraError, OrjsonResponse, bad_request
from jira_simulator.jql import UNBOUNDED, CompiledQuery, JqlContext, JqlError, compile_query, parse_jql
from jira_simulator.render import FIELDS, select_fields
from jira_simulator.rest.common import (
    READ_WORK,
    RestCall,
    body_list,
    json_body,
    query_values,
    respond,
    to_int,
)

DEFAULT_MAX_RESULTS = 50
MAX_RESULTS_WITH_FIELDS = 100
MAX_RESULTS_IDS_ONLY = 5000
MAX_RECONCILE = 50
SEARCH_EXPANDS = {"renderedFields", "names", "schema", "transitions", "operations", "editmeta", "changelog"}
SEARCH_BODY_KEYS = {
    "jql",
    "nextPageToken",
    "maxResults",
    "fields",
    "expand",
    "properties",
    "fieldsByKeys",
    "failFast",
    "reconcileIssues",
}
REMOVED_SEARCH = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration "
    "guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
EMBEDDED_CHANGELOG_CAP = 40


def jql_error(error: JqlError) -> JiraError:
    return JiraError(400, *error.messages)


def compile_for(call: RestCall, jql: str, *, require_bounded: bool = True) -> CompiledQuery:
    """Parse and resolve JQL for this caller: dates in the caller's zone, only projects they may browse."""
    try:
        query = parse_jql(jql)
        if require_bounded and not query.bounded:
            raise JqlError(UNBOUNDED)
        context = JqlContext(
            call.site,
            call.world,
            call.principal.account_id or None,
            call.world.clock.now_ms(),
            visible_project_ids={p.id for p in call.visible_projects()},
        )
        return compile_query(query, context)
    except JqlError as error:
        raise jql_error(error) from None


def matching_issue_ids(call: RestCall, compiled: CompiledQuery) -> list[str]:
    visible = {p.id for p in call.visible_projects()}
    predicate = compiled.predicate
    with call.world.lock:
        found = [i for i in call.index.candidates(compiled.plan) if i.project_id in visible and predicate(i)]
        found.sort(key=compiled.sort_key)
        return [i.id for i in found]


def _expand_set(raw: object) -> set[str]:
    if raw is None:
        return set()
    values = raw if isinstance(raw, list) else str(raw).split(",")
    return {str(v).strip() for v in values if str(v).strip() in SEARCH_EXPANDS}


def _reconcile(raw: list[str] | None) -> list[int]:
    if not raw:
        return []
    try:
        ids = [int(v) for v in raw]
    except ValueError:
        raise bad_request("reconcileIssues must be a list of issue IDs (numbers).") from None
    if len(ids) > MAX_RECONCILE:
        raise bad_request(f"The maximum number of issues that can be reconciled is {MAX_RECONCILE}.")
    return ids


async def search_jql(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    if request.method == "POST":
        body = await json_body(request)
        unknown = sorted(set(body) - SEARCH_BODY_KEYS)
        if unknown:
            raise bad_request(f'Unrecognized field "{unknown[0]}" in the request body.')
        jql, token = body.get("jql"), body.get("nextPageToken")
        if jql is not None and not isinstance(jql, str):
            raise bad_request("'jql' must be a string.")
        if token is not None and not isinstance(token, str):
            raise bad_request("'nextPageToken' must be a string.")
        max_raw, fields_raw, expand_raw = (
            body.get("maxResults"),
            body_list(body, "fields"),
            body.get("expand"),
        )
        reconcile = _reconcile(body_list(body, "reconcileIssues"))
    else:
        params = request.query_params
        jql, token = params.get("jql"), params.get("nextPageToken")
        max_raw, fields_raw, expand_raw = (
            params.get("maxResults"),
            query_values(request, "fields"),
            query_values(request, "expand"),
        )
        reconcile = _reconcile(query_values(request, "reconcileIssues"))
    del reconcile  # reads are never stale here, so there is nothing to reconcile
    fields = select_fields(fields_raw, ["id"])
    expand = _expand_set(expand_raw)
    max_results = to_int(max_raw, "maxResults", DEFAULT_MAX_RESULTS, minimum=1)
    if max_results > MAX_RESULTS_IDS_ONLY:
        raise bad_request(f"'maxResults' must be between 1 and {MAX_RESULTS_IDS_ONLY}, got {max_results}.")
    max_results = min(max_results, MAX_RESULTS_WITH_FIELDS if fields or expand else MAX_RESULTS_IDS_ONLY)
    jql_text = jql or ""
    cursors: SearchCursors = request.app.state.cursors
    if token:
        try:
            snapshot_id, snapshot, offset = cursors.resolve(
                token, jql=jql_text, account_id=call.principal.account_id, cloud_id=call.site.cloud_id
            )
        except InvalidToken as error:
            raise bad_request(str(error)) from None
    else:
        compiled = compile_for(call, jql_text)
        ids = matching_issue_ids(call, compiled)
        snapshot = Snapshot(jql_text, call.principal.account_id, call.site.cloud_id, tuple(ids))
        snapshot_id, offset = cursors.save(snapshot), 0
    end = offset + max_results
    page_ids = snapshot.issue_ids[offset:end]
    renderer = call.renderer
    children = call.index.children if "subtasks" in fields else (lambda issue_id: [])
    issues: list[dict[str, Any]] = []
    site_issues = call.site.issues
    for issue_id in page_ids:
        issue = call.searchable_issue(site_issues.get(issue_id))
        if issue is None:
            continue  # deleted, archived or no longer visible since the first page
        issues.append(
            renderer.issues.issue(
                issue, fields, expand=expand, changelog_cap=EMBEDDED_CHANGELOG_CAP, children=children
            )
        )
    result: dict[str, Any] = {"issues": issues}
    if "names" in expand:
        result["names"] = {f: FIELDS[f].name for f in fields}
    if "schema" in expand:
        result["schema"] = {f: FIELDS[f].schema for f in fields if FIELDS[f].schema is not None}
    if end < len(snapshot.issue_ids):
        result["nextPageToken"] = cursors.token(snapshot_id, end)
        result["isLast"] = False
    else:
        result["isLast"] = True
    return respond(result)


async def approximate_count(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    body = await json_body(request)
    jql = body.get("jql")
    if jql is not None and not isinstance(jql, str):
        raise bad_request("'jql' must be a string.")
    compiled = compile_for(call, jql or "")
    return respond({"count": len(matching_issue_ids(call, compiled))})


async def removed_search(request: Request) -> Response:
    return OrjsonResponse({"errorMessages": [REMOVED_SEARCH], "errors": {}}, status_code=410)


def routes() -> list[Route]:
    return [
        Route("/search/jql", search_jql, methods=["GET", "POST"]),
        Route("/search/approximate-count", approximate_count, methods=["POST"]),
        Route("/search", removed_search, methods=["GET", "POST"]),
    ]
