"""People working in Jira while days pass: issues created, edited, transitioned and deleted.

A driver thread makes one change at a time on the visible (not archived, not hidden from the
admin) projects of every site, through `mutations.py` (so histories, `updated` and webhook
deliveries follow as for any admin change), and runs the simulated clock fast between changes:
`seconds_per_day` wall seconds per simulated day, `changes_per_day` changes per simulated day.
A dynamic webhook that reaches its `expirationDate` while the driver runs is counted as an
expiry (a client that refreshes in time keeps that count at zero).

`POST /_sim/activity/start` (body: `ActivityPlan`), `POST /_sim/activity/stop`,
`POST /_sim/activity/advance {"days": d}` (a clock jump, expiries on the way noted),
`GET /_sim/activity?since=<seq>` (counts, expiries, the changes after `seq`). Expiries are
counted from the driver's first start or jump on, across restarts.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jira_simulator import mutations
from jira_simulator.admin import admin_error, parse_admin_body
from jira_simulator.history import UNSET
from jira_simulator.model import Issue, Project, Site, World
from jira_simulator.mutations import IssueChanges, MutationError

DAY_MS = 86_400_000
ChangeKind = Literal["create", "edit", "transition", "delete"]
KINDS: tuple[ChangeKind, ...] = ("create", "edit", "transition", "delete")


class ActivityPlan(BaseModel):
    """How busy the sites are and how fast simulated time runs."""

    model_config = ConfigDict(extra="forbid")

    changes_per_day: float = Field(24, gt=0, le=100_000)
    seconds_per_day: float = Field(30, gt=0, le=86_400)  # wall seconds per simulated day
    days: float | None = Field(None, gt=0)  # stop after this many simulated days (None: until stopped)
    mix: dict[ChangeKind, float] = Field(
        default_factory=lambda: {"create": 2.0, "edit": 3.0, "transition": 4.0, "delete": 1.0}
    )
    seed: int = 1
    sites: list[str] | None = None  # site names or cloud ids (None: every site)

    @field_validator("mix")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        if any(weight < 0 for weight in value.values()) or not any(value.values()):
            raise ValueError("weights must be >= 0 and at least one > 0, e.g. {create: 1, transition: 3}")
        return value


class ClockJump(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: float = Field(gt=0, le=365)


@dataclass
class Change:
    """One change the driver made: Jira's time of it (`at_ms`) and the wall time it was made."""

    seq: int
    kind: ChangeKind
    cloud_id: str
    site: str
    issue_id: str
    issue_key: str
    at_ms: int
    wall_ms: int
    deleted_ids: list[str] = field(default_factory=list)  # a delete takes the sub-tasks along


@dataclass
class Expiry:
    cloud_id: str
    site: str
    webhook_id: int
    expired_at_ms: int


class ActivityDriver:
    """Makes the changes of an `ActivityPlan`, one per tick, on a daemon thread."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.plan = ActivityPlan()
        self.changes: list[Change] = []
        self.expiries: list[Expiry] = []
        self.skipped: Counter[str] = Counter()
        self._rng = random.Random(1)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_sim_ms = 0
        self._ticks = 0
        self._seen_ms: int | None = None  # expiries up to here are counted

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, plan: ActivityPlan) -> None:
        self.stop()
        for name in plan.sites or []:
            mutations.find_site(self.world, name)  # unknown site: MutationError (404)
        self.plan = plan
        self._rng = random.Random(plan.seed)
        self._stop = threading.Event()
        self._started_sim_ms = self.world.clock.now_ms()
        self._seen_ms = self._started_sim_ms if self._seen_ms is None else self._seen_ms
        self._ticks = 0
        self._thread = threading.Thread(target=self._run, name="sim-activity", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(30)

    def _run(self) -> None:
        per_change_wall = self.plan.seconds_per_day / self.plan.changes_per_day
        while not self._stop.wait(per_change_wall):
            self._ticks += 1
            self.advance_to(self._started_sim_ms + int(self._ticks * DAY_MS / self.plan.changes_per_day))
            self.step()
            if self.plan.days is not None and self._ticks >= self.plan.days * self.plan.changes_per_day:
                return

    def advance_to(self, target_ms: int) -> None:
        """Run the clock forward to `target_ms`, noting every webhook that expires on the way."""
        with self.world.lock:
            now = self.world.clock.now_ms()
            self._note_expiries(max(now, target_ms))
            if target_ms > now:
                self.world.clock.advance(target_ms - now)

    def advance(self, days: float) -> int:
        """Jump the clock `days` ahead (expiries on the way noted); the new simulated time."""
        with self.world.lock:
            if self._seen_ms is None:
                self._seen_ms = self.world.clock.now_ms()
            self.advance_to(self.world.clock.now_ms() + int(days * DAY_MS))
            return self.world.clock.now_ms()

    def _note_expiries(self, upto_ms: int) -> None:
        """Webhooks whose expiry falls in (last look, upto_ms]: also those the clock's own pace reached."""
        since = self._seen_ms if self._seen_ms is not None else self.world.clock.now_ms()
        for site in self.world.sites.values():
            for webhook in site.webhooks.values():
                if since < webhook.expiration_ms <= upto_ms:
                    self.expiries.append(Expiry(site.cloud_id, site.name, webhook.id, webhook.expiration_ms))
        self._seen_ms = max(since, upto_ms)

    def step(self, kind: ChangeKind | None = None) -> Change | None:
        """Make one change (of `kind`, or drawn from the plan's mix); None when none was possible."""
        kind = kind or self._rng.choices(list(self.plan.mix), weights=list(self.plan.mix.values()))[0]
        site = self._rng.choice(self._sites())
        try:
            change = getattr(self, f"_{kind}")(site)
        except MutationError as exc:  # e.g. the chosen issue was deleted by someone else meanwhile
            self.skipped[f"{kind}: {exc}"[:120]] += 1
            return None
        if change is None:
            self.skipped[f"{kind}: nothing to change on {site.name}"] += 1
        return change

    # -- the changes -----------------------------------------------------------------------------

    def _create(self, site: Site) -> Change | None:
        with self.world.lock:
            projects = self._projects(site)
            if not projects:
                return None
            project = self._rng.choice(projects)
            types = [
                site.issue_types[t].name for t in project.issue_type_ids if not site.issue_types[t].subtask
            ]
            issue_type = self._rng.choice(types)
            seq = len(self.changes) + 1
        issue = mutations.create_issue(
            self.world, site, project=project.key, issue_type=issue_type, summary=f"Activity {seq}: new work"
        )
        return self._record("create", site, issue, issue.created_ms)

    def _edit(self, site: Site) -> Change | None:
        issue = self._pick(site)
        if issue is None:
            return None
        summary = f"{issue.summary.split(' (edit', 1)[0]} (edit {len(self.changes) + 1})"
        priority = self._rng.choice([p.name for p in site.priorities.values()]) if site.priorities else UNSET
        history = mutations.update_issue(
            self.world, site, issue.id, IssueChanges(summary=summary, priority=priority)
        )
        return self._record("edit", site, issue, history.created_ms if history else issue.updated_ms)

    def _transition(self, site: Site) -> Change | None:
        with self.world.lock:
            picked = self._pick(site, lambda issue: self._targets(site, issue))
            if picked is None:
                return None
            issue = picked
            status = self._rng.choice(self._targets(site, issue))
        history = mutations.transition_issue(self.world, site, issue.id, status)
        return self._record("transition", site, issue, history.created_ms)

    def _targets(self, site: Site, issue: Issue) -> list[str]:
        """Statuses the issue's workflow lets it move to (any other status without a workflow)."""
        project = site.projects[issue.project_id]
        workflow = site.workflows.get(project.workflow_id or "")
        if workflow is None:
            return [s.id for s in mutations.project_statuses(site, project) if s.id != issue.status_id]
        return sorted(
            {t.to_status_id for t in workflow.transitions_from(issue.status_id)} - {issue.status_id}
        )

    def _delete(self, site: Site) -> Change | None:
        issue = self._pick(site)
        if issue is None:
            return None
        with self.world.lock:
            doomed = [
                i.id
                for i in site.issues.values()
                if i.parent_id == issue.id and site.issue_types[i.issue_type_id].subtask
            ]
            at = self.world.clock.now_ms()
        mutations.delete_issue(self.world, site, issue.id)
        return self._record("delete", site, issue, at, deleted_ids=[issue.id, *doomed])

    # -- helpers ---------------------------------------------------------------------------------

    def _sites(self) -> list[Site]:
        if not self.plan.sites:
            return list(self.world.sites.values())
        return [mutations.find_site(self.world, name) for name in self.plan.sites]

    def _projects(self, site: Site) -> list[Project]:
        admin = self.world.admin_account_id
        return [p for p in site.projects.values() if p.live and admin not in p.hidden_from]

    def _pick(self, site: Site, usable: Callable[[Issue], object] = bool) -> Issue | None:
        """A random visible issue for which `usable` is true (a few draws, then a scan)."""
        with self.world.lock:
            visible = {p.id for p in self._projects(site)}
            issues = [i for i in site.issues.values() if i.project_id in visible]
            for _ in range(20):
                if not issues:
                    return None
                issue = self._rng.choice(issues)
                if usable(issue):
                    return issue
            candidates = [i for i in issues if usable(i)]
            return self._rng.choice(candidates) if candidates else None

    def _record(
        self, kind: ChangeKind, site: Site, issue: Issue, at_ms: int, deleted_ids: list[str] | None = None
    ) -> Change:
        with self._lock:
            change = Change(
                seq=len(self.changes) + 1,
                kind=kind,
                cloud_id=site.cloud_id,
                site=site.name,
                issue_id=issue.id,
                issue_key=issue.key,
                at_ms=at_ms,
                wall_ms=int(time.time() * 1000),
                deleted_ids=deleted_ids or [],
            )
            self.changes.append(change)
        return change

    def report(self, since: int = 0) -> dict:
        with self._lock:
            changes = [asdict(c) for c in self.changes[since:]]
            counts = Counter(c.kind for c in self.changes)
        return {
            "running": self.running,
            "plan": self.plan.model_dump(),
            "clock_ms": self.world.clock.now_ms(),
            "changes_made": {kind: counts.get(kind, 0) for kind in KINDS},
            "skipped": dict(self.skipped),
            "expiries": [asdict(e) for e in self.expiries],
            "changes": changes,
        }

    # -- admin routes ----------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/_sim/activity", self._show, methods=["GET"]),
            Route("/_sim/activity/start", self._start, methods=["POST"]),
            Route("/_sim/activity/stop", self._stop_route, methods=["POST"]),
            Route("/_sim/activity/advance", self._advance, methods=["POST"]),
        ]

    async def _show(self, request: Request) -> Response:
        raw = request.query_params.get("since", "0")
        if not raw.isdigit():
            return admin_error(
                400, f"GET {request.url.path}: since must be a change number (>= 0), got {raw!r}"
            )
        return JSONResponse(self.report(int(raw)))

    async def _start(self, request: Request) -> Response:
        plan = await parse_admin_body(request, ActivityPlan)
        if isinstance(plan, JSONResponse):
            return plan
        try:
            self.start(plan)
        except MutationError as exc:
            return admin_error(exc.status, f"POST {request.url.path}: {exc}")
        return JSONResponse(self.report(len(self.changes)))

    async def _advance(self, request: Request) -> Response:
        body = await parse_admin_body(request, ClockJump)
        if isinstance(body, JSONResponse):
            return body
        self.advance(body.days)
        return JSONResponse(self.report(len(self.changes)))

    async def _stop_route(self, request: Request) -> Response:
        self.stop()
        return JSONResponse(self.report(len(self.changes)))


def routes(world: World) -> list[BaseRoute]:
    return ActivityDriver(world).routes()
