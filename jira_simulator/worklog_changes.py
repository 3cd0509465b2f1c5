"""Worklogs that change after they are logged: edits, deletions, and the admin API that makes them.

`GET /rest/api/3/worklog/updated?since=` lists worklogs by their `updated` time and
`GET /rest/api/3/worklog/deleted?since=` lists deleted worklog ids with the deletion time
(Atlassian's OpenAPI spec: ChangedWorklogs, `values[].worklogId`, `updatedTime`, `since`,
`until`, `lastPage`, `nextPage`), so a sync that follows both ends with exactly the worklogs Jira
has. The generated world adds worklogs with their own random stream (`worklogs:<seed>`): some are
edited later, some deleted; the worklogs the generator made stay as they were.

When an issue is deleted, its worklogs are listed as deleted at that moment. Atlassian does not
document this either way; a sync must not rely on it (jira-sync keeps only worklogs of issues it
has).
"""

from __future__ import annotations

import bisect
import random

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jira_simulator import mutations
from jira_simulator.admin import guarded, parse_admin_body
from jira_simulator.model import DeletedWorklog, Issue, IssueEvent, Site, Worklog, World

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
EXTRA_WORKLOGS = 0.06  # share of issues that get worklogs that change later
EDITED = 0.3
DELETED = 0.35
DURATIONS = (900, 1800, 3600, 5400, 7200, 14400, 28800)


def add_worklog_changes(world: World, seed: int, data_end_ms: int) -> None:
    """Worklogs logged, edited and deleted over the generated world's history."""
    rng = random.Random(f"worklogs:{seed}")
    for site in world.sites.values():
        staff = [
            a for a in site.user_ids if world.users[a].account_type == "atlassian" and world.users[a].active
        ]
        for issue in sorted(site.issues.values(), key=lambda i: int(i.id)):
            if not issue.histories or rng.random() >= EXTRA_WORKLOGS:
                continue
            for _ in range(rng.randint(1, 2)):
                started = rng.randint(issue.created_ms, max(issue.created_ms, issue.updated_ms))
                logged = min(started + rng.randint(0, 120) * MINUTE, data_end_ms - HOUR)
                worklog = Worklog(
                    str(site.next_worklog_id),
                    rng.choice(staff),
                    rng.choice(DURATIONS),
                    started,
                    logged,
                    logged,
                )
                site.next_worklog_id += 1
                _insert(issue, worklog)
                roll = rng.random()
                later = min(logged + rng.randint(1, 20 * 24) * HOUR, data_end_ms - MINUTE)
                if roll < DELETED:
                    issue.worklogs.remove(worklog)
                    site.deleted_worklogs.append(
                        DeletedWorklog(worklog.id, issue.id, issue.project_id, later)
                    )
                elif roll < DELETED + EDITED:
                    worklog.time_spent_seconds = rng.choice(
                        [d for d in DURATIONS if d != worklog.time_spent_seconds]
                    )
                    worklog.updated_ms = later
        site.deleted_worklogs.sort(key=lambda d: (d.deleted_ms, int(d.id)))


def _insert(issue: Issue, worklog: Worklog) -> None:
    """Keep an issue's worklogs in started order."""
    position = bisect.bisect_right([w.started_ms for w in issue.worklogs], worklog.started_ms)
    issue.worklogs.insert(position, worklog)


def track_issue_deletions(world: World) -> None:
    """List the worklogs of every issue deleted from now on as deleted (see the module docstring)."""

    def on_event(event: IssueEvent) -> None:
        if event.kind != "jira:issue_deleted" or not event.issue.worklogs:
            return
        with world.lock:
            site = world.sites[event.cloud_id]
            site.deleted_worklogs += [
                DeletedWorklog(w.id, event.issue.id, event.issue.project_id, event.timestamp_ms)
                for w in event.issue.worklogs
            ]

    world.listeners.append(on_event)


# --- admin API --------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LogWork(_Strict):
    author: str | None = None  # account id; default the admin
    seconds: int = Field(gt=0)
    started_ms: int | None = None  # default: now
    comment: str = ""


class EditWorklog(_Strict):
    seconds: int = Field(gt=0)


def log_work(world: World, site: Site, id_or_key: str, body: LogWork) -> Worklog:
    with world.lock:
        issue = mutations.find_issue(site, id_or_key)
        author = body.author or world.admin_account_id
        if author not in site.user_ids:
            raise mutations.MutationError(f"author {author!r} is not a user of site {site.name}")
        now = world.clock.now_ms()
        started = now if body.started_ms is None else body.started_ms
        worklog = Worklog(str(site.next_worklog_id), author, body.seconds, started, now, now, body.comment)
        site.next_worklog_id += 1
        _insert(issue, worklog)
        return worklog


def _find_worklog(site: Site, id_or_key: str, worklog_id: str) -> tuple[Issue, Worklog]:
    issue = mutations.find_issue(site, id_or_key)
    worklog = next((w for w in issue.worklogs if w.id == worklog_id), None)
    if worklog is None:
        raise mutations.MutationError(f"issue {issue.key} has no worklog {worklog_id!r}", 404)
    return issue, worklog


def edit_worklog(world: World, site: Site, id_or_key: str, worklog_id: str, seconds: int) -> Worklog:
    with world.lock:
        _issue, worklog = _find_worklog(site, id_or_key, worklog_id)
        worklog.time_spent_seconds = seconds
        worklog.updated_ms = max(world.clock.now_ms(), worklog.updated_ms + 1)
        return worklog


def delete_worklog(world: World, site: Site, id_or_key: str, worklog_id: str) -> DeletedWorklog:
    with world.lock:
        issue, worklog = _find_worklog(site, id_or_key, worklog_id)
        issue.worklogs.remove(worklog)
        deleted = DeletedWorklog(worklog.id, issue.id, issue.project_id, world.clock.now_ms())
        site.deleted_worklogs.append(deleted)
        return deleted


def _worklog_body(worklog: Worklog) -> dict:
    return {
        "id": worklog.id,
        "author": worklog.author_account_id,
        "seconds": worklog.time_spent_seconds,
        "started_ms": worklog.started_ms,
        "updated_ms": worklog.updated_ms,
    }


def routes(world: World) -> list[BaseRoute]:
    """`POST /_sim/sites/{site}/issues/{issue}/worklogs`, `PUT|DELETE .../worklogs/{worklog}`."""

    async def create(request: Request) -> Response:
        body = await parse_admin_body(request, LogWork)
        if isinstance(body, JSONResponse):
            return body
        site = mutations.find_site(world, request.path_params["site"])
        return JSONResponse(_worklog_body(log_work(world, site, request.path_params["issue"], body)), 201)

    async def edit(request: Request) -> Response:
        body = await parse_admin_body(request, EditWorklog)
        if isinstance(body, JSONResponse):
            return body
        site = mutations.find_site(world, request.path_params["site"])
        params = request.path_params
        return JSONResponse(
            _worklog_body(edit_worklog(world, site, params["issue"], params["worklog"], body.seconds))
        )

    async def delete(request: Request) -> Response:
        site = mutations.find_site(world, request.path_params["site"])
        params = request.path_params
        deleted = delete_worklog(world, site, params["issue"], params["worklog"])
        return JSONResponse({"deleted": deleted.id, "deleted_ms": deleted.deleted_ms})

    base = "/_sim/sites/{site}/issues/{issue}/worklogs"
    return [
        Route(base, guarded(create), methods=["POST"]),
        Route(f"{base}/{{worklog}}", guarded(edit), methods=["PUT"]),
        Route(f"{base}/{{worklog}}", guarded(delete), methods=["DELETE"]),
    ]
