"""What a Jira request costs in Atlassian's points, before it is sent (an upper bound) and after.

Atlassian's rule (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/, "How points
are calculated"): every request costs 1 point, plus 1 per core object it returns (issues,
projects, ...; "others" 1 too) and 2 per identity object (users, groups, project roles,
permissions); writes (POST/PUT/PATCH/DELETE that change data) cost only the base point. Examples
from the page: `GET /issue/ABC-123` = 2 points, `GET /group/member` with 8 users = 17.

Jira's reads by POST (`search/jql`, `search/approximate-count`, `changelog/bulkfetch`,
`issue/bulkfetch`) are reads. The object of `changelog/bulkfetch` is taken to be the issue whose
changelog comes back (one per `issueChangeLogs` entry); Atlassian's catalog does not list it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import msgspec
import orjson

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_REST_SUFFIX = re.compile(r"/rest/api/[^/]+(?P<rest>/[^?]*)")
_IDENTITY_PATH = re.compile(r"/(user|users|group|groups|myself|role|permissions?)\b")
# POST endpoints that read (their answers carry objects and are charged per object).
_POST_READS = re.compile(
    r"/(search/jql|search/approximate-count|changelog/bulkfetch|issue/bulkfetch|worklog/list)$"
)
# Requests whose page size decides the upper bound: path -> (page parameter, default, cap).
_PAGED = (
    (re.compile(r"/search/jql$"), "maxResults", 50, 5000),
    (re.compile(r"/project/search$"), "maxResults", 50, 100),
    (re.compile(r"/users?/search$|/users$"), "maxResults", 50, 1000),
    (re.compile(r"/group/bulk$"), "maxResults", 50, 50),
    (re.compile(r"/group/member$"), "maxResults", 50, 50),
    (re.compile(r"/issue/[^/]+/changelog$"), "maxResults", 100, 100),
)
# A listing with no page size (statuses, issue types): a generous guess, corrected after the answer.
UNPAGED_LIST_GUESS = 200


class _Listing(msgspec.Struct):
    """The parts of an answer that hold its objects (every other key is skipped unread)."""

    issues: list[msgspec.Raw] | None = None
    values: list[msgspec.Raw] | None = None
    entities: list[msgspec.Raw] | None = None
    results: list[msgspec.Raw] | None = None
    issueChangeLogs: list[msgspec.Raw] | None = None
    # An object's identity (an empty Raw when absent)
    id: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    key: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    accountId: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    groupId: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


_LISTING = msgspec.json.Decoder(_Listing)
_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])


def api_path(path: str) -> str:
    """The part after `/rest/api/<version>` (`/search/jql`), or the path itself."""
    match = _REST_SUFFIX.search(path)
    return match.group("rest") if match else path


def object_weight(path: str) -> int:
    """Points per returned object: 2 for identity objects, else 1."""
    return 2 if _IDENTITY_PATH.search(api_path(path)) else 1


def is_write(method: str, path: str) -> bool:
    return method.upper() in WRITE_METHODS and not _POST_READS.search(api_path(path))


def objects_in(body: bytes) -> int:
    """How many objects an answer returns (the length of its list, or 1 for a single object)."""
    if not body:
        return 0
    try:
        if body.lstrip()[:1] == b"[":
            return len(_ARRAY.decode(body))
        listing = _LISTING.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return 0
    for found in (listing.issues, listing.values, listing.entities, listing.results, listing.issueChangeLogs):
        if found is not None:
            return len(found)
    single = (listing.id, listing.key, listing.accountId, listing.groupId)
    return 1 if any(len(v) for v in single) else 0


def actual_points(method: str, path: str, status: int, body: bytes) -> int:
    """Points an answer cost: 0 for 401 and 429 (not charged), 1 for writes and errors, else 1 + objects."""
    if status in (401, 429):
        return 0
    if status >= 400 or is_write(method, path):
        return 1
    return 1 + objects_in(body) * object_weight(path)


@dataclass(frozen=True)
class RequestCost:
    """The most a request can cost (reserved before it is sent)."""

    points: int
    objects: int  # objects it may return at most


def _page_size(params: dict, body: dict | None, name: str, default: int, cap: int) -> int:
    raw = (body or {}).get(name, params.get(name))
    try:
        size = int(raw) if raw is not None else default
    except (TypeError, ValueError):
        size = default
    return max(1, min(size, cap))


def request_cost(method: str, path: str, params: dict, body: bytes | None) -> RequestCost:
    """The upper bound of a request's points, from its endpoint and page size."""
    if is_write(method, path):
        return RequestCost(1, 0)
    rest = api_path(path)
    parsed: dict | None = None
    if body:
        try:
            loaded = orjson.loads(body)
        except orjson.JSONDecodeError:
            loaded = None
        parsed = loaded if isinstance(loaded, dict) else None
    if rest.endswith("/search/approximate-count"):
        objects = 0
    elif rest.endswith(("/changelog/bulkfetch", "/issue/bulkfetch")):
        objects = len((parsed or {}).get("issueIdsOrKeys") or ()) or 100
    elif re.search(r"/issue/[^/]+$", rest) or rest.endswith(("/myself", "/user", "/serverInfo")):
        objects = 1
    else:
        for pattern, name, default, cap in _PAGED:
            if pattern.search(rest):
                objects = _page_size(params, parsed, name, default, cap)
                break
        else:
            objects = UNPAGED_LIST_GUESS
    return RequestCost(1 + objects * object_weight(path), objects)
