"""An issue's watchers and votes (`issue/{id}/watchers`, `issue/{id}/votes`).

Shapes as a real site answers them (Airbyte's source-jira capture, streams `issue_watchers` and
`issue_votes`: `self` on the issue key, watchers as `UserDetails`, voters with `self`, `accountId`,
`avatarUrls`, `displayName`, `active`). Who watches and votes: `jira_simulator.watchers`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jira_simulator.rest.common import READ_WORK, RestCall, respond
from jira_simulator.watchers import voter_ids, watcher_ids


async def watchers(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    issue = call.issue_or_404(request.path_params["issue"])
    found = watcher_ids(call.world, call.site, issue)
    return respond(
        {
            "self": f"{call.base_url}/issue/{issue.key}/watchers",
            "isWatching": call.principal.account_id in found,
            "watchCount": len(found),
            "watchers": [call.renderer.users.user_ref(a) for a in found],
        }
    )


async def votes(request: Request) -> Response:
    call = RestCall.of(request, READ_WORK)
    issue = call.issue_or_404(request.path_params["issue"])
    found = voter_ids(call.world, call.site, issue)
    voters = []
    for account_id in found:
        ref = call.renderer.users.user_ref(account_id) or {}
        voters.append(
            {k: ref[k] for k in ("self", "accountId", "avatarUrls", "displayName", "active") if k in ref}
        )
    return respond(
        {
            "self": f"{call.base_url}/issue/{issue.key}/votes",
            "votes": len(found),
            "hasVoted": call.principal.account_id in found,
            "voters": voters,
        }
    )


def routes() -> list[Route]:
    return [
        Route("/issue/{issue}/watchers", watchers, methods=["GET"]),
        Route("/issue/{issue}/votes", votes, methods=["GET"]),
    ]
