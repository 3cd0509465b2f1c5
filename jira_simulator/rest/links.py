"""Links and properties around issues: `issueLinkType` (Jira Cloud's four default link types, ids
10000-10003 as a new site has them), an issue's remote links and its entity properties.

The simulated issues link to nothing outside Jira and carry no entity properties, so those lists
are empty - but answered, by issue, with Jira's 404 for an issue the caller cannot see.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.errors import JiraError
from jira_simulator.rest.common import READ_WORK, RestCall, respond

LINK_TYPES = (
    ("10000", "Blocks", "is blocked by", "blocks"),
    ("10001", "Cloners", "is cloned by", "clones"),
    ("10002", "Duplicate", "is duplicated by", "duplicates"),
    ("10003", "Relates", "relates to", "relates to"),
)


def _link_type(call: RestCall, row: tuple[str, str, str, str]) -> dict[str, str]:
    type_id, name, inward, outward = row
    return {
        "id": type_id,
        "name": name,
        "inward": inward,
        "outward": outward,
        "self": f"{call.base_url}/issueLinkType/{type_id}",
    }


async def link_types(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    return respond({"issueLinkTypes": [_link_type(call, row) for row in LINK_TYPES]})


async def link_type(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    for row in LINK_TYPES:
        if row[0] == request.path_params["type"]:
            return respond(_link_type(call, row))
    raise JiraError(404, f"No issue link type with id '{request.path_params['type']}' found.")


async def remote_links(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    call.issue_or_404(request.path_params["issue"])
    return respond([])


async def issue_properties(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    call.issue_or_404(request.path_params["issue"])
    return respond({"keys": []})


def routes() -> list[Route]:
    return [
        Route("/issueLinkType", link_types, methods=["GET"]),
        Route("/issueLinkType/{type}", link_type, methods=["GET"]),
        Route("/issue/{issue}/remotelink", remote_links, methods=["GET"]),
        Route("/issue/{issue}/properties", issue_properties, methods=["GET"]),
    ]
