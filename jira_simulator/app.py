"""The simulator's Starlette app: every surface on one port.

| surface                         | where                                                   |
|---------------------------------|---------------------------------------------------------|
| REST v2/v3, Basic auth          | `/site/<name>/rest/api/{2,3}/...`                        |
| REST v2/v3, OAuth gateway       | `/ex/jira/<cloudId>/rest/api/{2,3}/...`                  |
| Jira Software agile API         | `/site/<name>/rest/agile/1.0/...`, `/ex/jira/<cloudId>/rest/agile/1.0/...` |
| dynamic webhooks (REST)         | `.../rest/api/{2,3}/webhook...` under both REST prefixes |
| admin webhooks (REST, Basic)    | `/site/<name>/rest/webhooks/1.0/webhook...`              |
| OAuth 2.0 (3LO)                 | `/authorize`, `/oauth/token`, `/oauth/token/accessible-resources`, `/me` |
| Teams API (Basic)               | `/public/teams/v1/org/<orgId>/...`, `/site/<name>/gateway/api/public/teams/...` |
| admin (not Jira)                | `/_sim/...`                                              |

Areas add their routes to `create_app`'s lists, one line each. Doubled slashes in paths are
collapsed first, as Jira tolerates them.
"""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from jira_simulator import activity, admin, agile_admin, oauth, teams_api, webhooks, worklog_changes
from jira_simulator.cursors import SearchCursors
from jira_simulator.errors import EXCEPTION_HANDLERS, OrjsonResponse
from jira_simulator.faults import FaultAdmin, FaultInjector, FaultState
from jira_simulator.index import Indexes
from jira_simulator.model import World
from jira_simulator.options import SimulatorOptions
from jira_simulator.requestlog import RequestLog, RequestLogMiddleware
from jira_simulator.rest import agile as agile_rest
from jira_simulator.rest import routes as rest_routes
from jira_simulator.security import RestAuthentication
from jira_simulator.truth import ground_truth, issue_states

_SLASHES = re.compile(r"//+")


class CollapseSlashes:
    """`/rest/api/3//issue/X` is `/rest/api/3/issue/X`, as Jira answers both."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            scope = dict(scope)
            scope["path"] = _SLASHES.sub("/", scope["path"])
            if scope.get("raw_path"):
                scope["raw_path"] = _SLASHES.sub("/", scope["raw_path"].decode("latin-1")).encode("latin-1")
        await self.app(scope, receive, send)


def create_app(world: World, *, options: SimulatorOptions) -> Starlette:
    indexes = Indexes(world)
    if options.clock_speed != world.clock.speed:
        world.clock.set_speed(options.clock_speed)
    fault_state = FaultState(options, world)
    request_log = RequestLog()
    webhook_service = webhooks.service(world, options)  # delivery workers run in the app's lifespan
    worklog_changes.track_issue_deletions(world)

    async def health(request: Request) -> Response:
        return OrjsonResponse(
            {
                "status": "ok",
                "sites": {s.cloud_id: s.name for s in world.sites.values()},
                "issues": sum(len(s.issues) for s in world.sites.values()),
                "admin_email": world.admin.email,
            }
        )

    async def truth(request: Request) -> Response:
        return OrjsonResponse(ground_truth(world))

    async def truth_issues(request: Request) -> Response:
        return OrjsonResponse(issue_states(world))

    rest: list[BaseRoute] = [
        *rest_routes(),
        *webhook_service.rest_routes(),
    ]
    routes: list[BaseRoute] = [
        Route("/_sim/health", health, methods=["GET"]),
        Route("/_sim/truth", truth, methods=["GET"]),
        Route("/_sim/truth/issues", truth_issues, methods=["GET"]),
        *admin.routes(world),
        *activity.routes(world),
        *agile_admin.routes(world),
        *worklog_changes.routes(world),
        *oauth.routes(world),
        *FaultAdmin(fault_state).routes(),
        *request_log.routes(),
        *webhook_service.sim_routes(),
        *webhook_service.delivery_faults.routes(),
        *teams_api.routes(world),
        Mount(
            "/site/{site_name}/rest/api/{version}",
            routes=rest,
            middleware=[Middleware(RestAuthentication, world=world, style="site")],
        ),
        Mount("/site/{site_name}/rest/webhooks/1.0", routes=webhook_service.admin_webhook_routes()),
        Mount(
            "/ex/jira/{cloud_id}/rest/api/{version}",
            routes=rest,
            middleware=[Middleware(RestAuthentication, world=world, style="gateway")],
        ),
        Mount(
            "/site/{site_name}/rest/agile/1.0",
            routes=agile_rest.routes(),
            middleware=[Middleware(RestAuthentication, world=world, style="site", version="2")],
        ),
        Mount(
            "/ex/jira/{cloud_id}/rest/agile/1.0",
            routes=agile_rest.routes(),
            middleware=[Middleware(RestAuthentication, world=world, style="gateway", version="2")],
        ),
    ]
    middleware = [
        Middleware(CollapseSlashes),
        Middleware(RequestLogMiddleware, log=request_log),
        Middleware(FaultInjector, state=fault_state),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=webhook_service.lifespan,
    )
    app.state.world = world
    app.state.options = options
    app.state.indexes = indexes
    app.state.cursors = SearchCursors()
    app.state.fault_state = fault_state
    app.state.request_log = request_log
    app.state.rest_routes = rest  # a 405's Allow names every method these routes take at the path
    return app
