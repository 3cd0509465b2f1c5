"""Complete changelogs: `issue/{key}/changelog` (oldest first) and `changelog/bulkfetch`."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import bad_request
from jira_simulator.model import History, Issue
from jira_simulator.rest.common import (
    READ_WORK,
    RestCall,
    body_list,
    json_body,
    page_bean,
    query_int,
    respond,
    to_int,
)

PAGE_DEFAULT = 100
PAGE_MAX = 100
BULK_MAX_ISSUES = 1000
BULK_MAX_FIELDS = 10
BULK_DEFAULT = 1000
BULK_MAX = 10000


async def issue_changelog(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    issue = call.issue_or_404(request.path_params["issue"])
    start_at = query_int(request, "startAt", 0)
    max_results = query_int(request, "maxResults", PAGE_DEFAULT, minimum=1, maximum=PAGE_MAX)
    histories = issue.histories[start_at : start_at + max_results]
    values = [call.renderer.changelog.history(h) for h in histories]
    return respond(page_bean(call, values, start_at, max_results, len(issue.histories)))


def _request_fingerprint(issue_ids: list[str], field_ids: list[str] | None) -> str:
    digest = hashlib.sha256("|".join([*issue_ids, "#", *(field_ids or [])]).encode()).hexdigest()
    return digest[:12]


def _token(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(f"cl1:{fingerprint}:{offset}".encode()).decode().rstrip("=")


def _offset(token: str, fingerprint: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, token_fingerprint, offset = raw.split(":")
        if prefix != "cl1":
            raise ValueError(prefix)
        start = int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad_request("The provided nextPageToken is invalid.") from None
    if token_fingerprint != fingerprint:
        raise bad_request("The provided nextPageToken belongs to a request for other issues or fields.")
    return start


async def bulkfetch(request: Request) -> Response:
    """Histories of up to 1000 issues, sorted by created then issue id, paged by history count."""
    call = RestCall.of(request, READ_WORK)
    body = await json_body(request)
    wanted = body_list(body, "issueIdsOrKeys")
    if not wanted:
        raise bad_request("issueIdsOrKeys: at least one issue ID or key is required.")
    if len(wanted) > BULK_MAX_ISSUES:
        raise bad_request(f"issueIdsOrKeys: at most {BULK_MAX_ISSUES} issues are allowed, got {len(wanted)}.")
    field_ids = body_list(body, "fieldIds")
    if field_ids is not None and len(field_ids) > BULK_MAX_FIELDS:
        raise bad_request(f"fieldIds: at most {BULK_MAX_FIELDS} field IDs are allowed, got {len(field_ids)}.")
    max_results = to_int(body.get("maxResults"), "maxResults", BULK_DEFAULT, minimum=1, maximum=BULK_MAX)
    issues: dict[str, Issue] = {}
    for id_or_key in wanted:
        issue = call.visible_issue(call.site.find_issue(id_or_key))
        if issue is not None:
            issues[issue.id] = issue
    fields = set(field_ids) if field_ids else None
    entries: list[tuple[int, int, int, Issue, History]] = []
    for issue in issues.values():
        for history in issue.histories:
            if fields is None or any((item.field_id or item.field) in fields for item in history.items):
                entries.append((history.created_ms, int(issue.id), int(history.id), issue, history))
    entries.sort(key=lambda e: e[:3])
    fingerprint = _request_fingerprint(wanted, sorted(fields) if fields else None)
    token = body.get("nextPageToken")
    if token is not None and not isinstance(token, str):
        raise bad_request("'nextPageToken' must be a string.")
    start = _offset(token, fingerprint) if token else 0
    page = entries[start : start + max_results]
    grouped: dict[str, list[dict[str, Any]]] = {}
    renderer = call.renderer
    for _, _, _, issue, history in page:
        grouped.setdefault(issue.id, []).append(renderer.changelog.history(history, fields))
    result: dict[str, Any] = {
        "issueChangeLogs": [{"issueId": issue_id, "changeHistories": h} for issue_id, h in grouped.items()]
    }
    if start + max_results < len(entries):
        result["nextPageToken"] = _token(start + max_results, fingerprint)
    return respond(result)


def routes() -> list[Route]:
    return [
        Route("/issue/{issue}/changelog", issue_changelog, methods=["GET"]),
        Route("/changelog/bulkfetch", bulkfetch, methods=["POST"]),
    ]
