"""The simulator's admin API for sprints (`/_sim/sites/{site}/...`, not Jira's).

Create, start and complete sprints and move issues in and out of them, at the simulated clock's
now. Every change of an issue's Sprint field records a history and sends `jira:issue_updated`
(`issue_updated`) to the webhooks, as Jira does; completing a sprint moves unfinished issues to
the sprint named by `move_to`, or leaves them in the backlog when it is null.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jira_simulator import agile, mutations
from jira_simulator.admin import guarded, parse_admin_body
from jira_simulator.agile_model import Sprint, agile_date
from jira_simulator.model import History, Issue, IssueEvent, Site, World


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateSprint(_Strict):
    name: str = Field(min_length=1)
    start_ms: int | None = None
    end_ms: int | None = None
    goal: str = ""


class StartSprint(_Strict):
    end_ms: int | None = None


class CompleteSprint(_Strict):
    move_to: int | None = None  # a sprint id; null: unfinished issues go to the backlog
    actor: str | None = None


class SprintIssues(_Strict):
    issues: list[str] = Field(min_length=1, max_length=50)  # Jira moves at most 50 at once
    actor: str | None = None


def sprint_json(sprint: Sprint) -> dict:
    return {
        "id": sprint.id,
        "board_id": sprint.board_id,
        "name": sprint.name,
        "state": sprint.state,
        "startDate": agile_date(sprint.start_ms),
        "endDate": agile_date(sprint.end_ms),
        "completeDate": agile_date(sprint.complete_ms),
    }


def _sprint(site: Site, raw_id: str) -> Sprint:
    found = site.agile.sprints.get(int(raw_id)) if raw_id.isdigit() else None
    if found is None:
        raise mutations.MutationError(f"site {site.name}: no sprint {raw_id!r}", 404)
    return found


def _events(world: World, site: Site, changed: list[tuple[Issue, History | None]], actor: str) -> None:
    for issue, history in changed:
        if history is not None:
            world.emit(
                IssueEvent(
                    kind="jira:issue_updated",
                    cloud_id=site.cloud_id,
                    issue=mutations.snapshot(issue),
                    history=history,
                    actor_account_id=actor,
                    timestamp_ms=history.created_ms,
                    event_type_name="issue_updated",
                )
            )


def routes(world: World) -> list[BaseRoute]:
    def site_of(request: Request) -> Site:
        return mutations.find_site(world, request.path_params["site"])

    def actor_of(name: str | None) -> str:
        account_id = name or world.admin_account_id
        mutations.find_user(world, account_id)
        return account_id

    async def create(request: Request) -> Response:
        body = await parse_admin_body(request, CreateSprint)
        if isinstance(body, JSONResponse):
            return body
        with world.lock:
            site = site_of(request)
            raw = request.path_params["board"]
            board = site.agile.boards.get(int(raw)) if raw.isdigit() else None
            if board is None:
                raise mutations.MutationError(f"site {site.name}: no board {raw!r}", 404)
            try:
                sprint = agile.new_sprint(
                    site.agile,
                    board,
                    body.name,
                    world.clock.now_ms(),
                    start_ms=body.start_ms,
                    end_ms=body.end_ms,
                )
            except ValueError as exc:
                raise mutations.MutationError(str(exc)) from None
            sprint.goal = body.goal
            sprint.refresh()
            return JSONResponse(sprint_json(sprint), 201)

    async def start(request: Request) -> Response:
        body = await parse_admin_body(request, StartSprint)
        if isinstance(body, JSONResponse):
            return body
        with world.lock:
            sprint = _sprint(site_of(request), request.path_params["sprint"])
            try:
                agile.start_sprint(sprint, world.clock.now_ms(), body.end_ms)
            except ValueError as exc:
                raise mutations.MutationError(str(exc), 409) from None
            return JSONResponse(sprint_json(sprint))

    async def complete(request: Request) -> Response:
        body = await parse_admin_body(request, CompleteSprint)
        if isinstance(body, JSONResponse):
            return body
        actor = actor_of(body.actor)
        with world.lock:
            site = site_of(request)
            sprint = _sprint(site, request.path_params["sprint"])
            move_to = _sprint(site, str(body.move_to)) if body.move_to is not None else None
            try:
                moved = agile.complete_sprint(site, sprint, world.clock.now_ms(), move_to, actor)
            except ValueError as exc:
                raise mutations.MutationError(str(exc), 409) from None
        _events(world, site, moved, actor)
        return JSONResponse({**sprint_json(sprint), "unfinished": [i.key for i, _ in moved]})

    async def add_issues(request: Request) -> Response:
        body = await parse_admin_body(request, SprintIssues)
        if isinstance(body, JSONResponse):
            return body
        actor = actor_of(body.actor)
        with world.lock:
            site = site_of(request)
            sprint = _sprint(site, request.path_params["sprint"])
            if sprint.state == "closed":
                raise mutations.MutationError(f"sprint {sprint.id} is closed; issues cannot be added", 409)
            issues = [mutations.find_issue(site, key) for key in body.issues]
            now = world.clock.now_ms()
            changed = [
                (i, agile.add_to_sprint(site, i, sprint, actor, max(now, i.updated_ms))) for i in issues
            ]
        _events(world, site, changed, actor)
        return JSONResponse({"sprint": sprint.id, "moved": [i.key for i, h in changed if h is not None]})

    async def remove_issue(request: Request) -> Response:
        actor = actor_of(request.query_params.get("actor"))
        with world.lock:
            site = site_of(request)
            sprint = _sprint(site, request.path_params["sprint"])
            issue = mutations.find_issue(site, request.path_params["issue"])
            history = agile.remove_from_sprint(
                site, issue, sprint, actor, max(world.clock.now_ms(), issue.updated_ms)
            )
        _events(world, site, [(issue, history)], actor)
        return JSONResponse({"sprint": sprint.id, "removed": issue.key if history else None})

    sprint_path = "/_sim/sites/{site}/sprints/{sprint}"
    return [
        Route("/_sim/sites/{site}/boards/{board}/sprints", guarded(create), methods=["POST"]),
        Route(f"{sprint_path}/start", guarded(start), methods=["POST"]),
        Route(f"{sprint_path}/complete", guarded(complete), methods=["POST"]),
        Route(f"{sprint_path}/issues", guarded(add_issues), methods=["POST"]),
        Route(f"{sprint_path}/issues/{{issue}}", guarded(remove_issue), methods=["DELETE"]),
    ]
