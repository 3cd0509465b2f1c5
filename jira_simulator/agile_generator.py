"""Boards and sprints of the generated default world, drawn after everything else is built.

Its randomness is its own stream (`random.Random(f"agile:{seed}")`), and it only adds: boards,
sprints, and `Sprint` histories on issues of scrum projects. The issues, their other histories
and the pinned hard cases (which never join a sprint) are exactly what the generator made.

Per software project one board: company-managed projects on the software workflow get a scrum
board with two-week sprints from their first issues to the end of the data (closed sprints,
one active sprint spanning the end, two future ones); other software projects a kanban board;
the team-managed one a `simple` board (no sprints). Stories, tasks and bugs of scrum projects are
mostly planned into the next sprint (committed), some added mid-sprint, a few removed; at a
sprint's completion unfinished issues are carried to the next sprint (at most twice, then the
backlog), finished ones stay completed.
"""

from __future__ import annotations

import random

from jira_simulator import agile
from jira_simulator.agile_model import Board, Sprint
from jira_simulator.history import STORY_POINTS_FIELD
from jira_simulator.model import Issue, Site, World

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
SPRINT_LENGTH = 14 * DAY
PLANNED = 0.75  # share of eligible issues that go through sprints
MID_SPRINT = 0.2  # of those, added to the running sprint instead of the next one
REMOVED = 0.06  # taken out of a sprint while it runs
MAX_CARRIES = 2
GOALS = ("", "", "Ship the release candidate", "Pay down tech debt", "Stabilise the beta", "")


def add_agile(world: World, seed: int, data_end_ms: int, pinned_keys: set[str]) -> None:
    """Boards and sprints on every site (see the module docstring)."""
    rng = random.Random(f"agile:{seed}")
    for site in world.sites.values():
        pinned = {site.issue_ids_by_key[k] for k in pinned_keys if k in site.issue_ids_by_key}
        _SiteAgile(rng, site, data_end_ms, pinned).build()


class _SiteAgile:
    def __init__(self, rng: random.Random, site: Site, data_end_ms: int, pinned: set[str]) -> None:
        self.rng = rng
        self.site = site
        self.end = data_end_ms
        self.pinned = pinned
        self.workers = [i.assignee_id or i.reporter_id for i in site.issues.values()]

    def build(self) -> None:
        site = self.site
        by_project: dict[str, list[Issue]] = {}
        for issue in site.issues.values():
            by_project.setdefault(issue.project_id, []).append(issue)
        for project in sorted(site.projects.values(), key=lambda p: int(p.id)):
            if project.project_type_key != "software":
                continue
            workflow = site.workflows.get(project.workflow_id or "")
            if project.simplified:
                agile.new_board(site.agile, f"{project.key} board", "simple", project.id)
            elif workflow is not None and "QA" in {site.statuses[s].name for s in workflow.status_ids}:
                board = agile.new_board(
                    site.agile,
                    f"{project.key} board",
                    "scrum",
                    project.id,
                    estimation_field=STORY_POINTS_FIELD,
                )
                issues = sorted(by_project.get(project.id, []), key=lambda i: i.created_ms)
                if issues:
                    self._sprints(board, project.key, issues)
            else:
                agile.new_board(site.agile, f"{project.key} board", "kanban", project.id)

    def _sprints(self, board: Board, key: str, issues: list[Issue]) -> None:
        rng, site = self.rng, self.site
        start = _next_monday_9(issues[0].created_ms + 7 * DAY)
        sprints: list[Sprint] = []
        number = 1
        while start < self.end:
            end = start + SPRINT_LENGTH - 6 * HOUR
            complete = end + rng.randint(0, 20) * HOUR
            sprint = agile.new_sprint(
                site.agile,
                board,
                f"{key} Sprint {number}",
                start - rng.randint(1, 5) * DAY,
                goal=rng.choice(GOALS),
            )
            sprint.start_ms, sprint.end_ms = start, end
            if complete < self.end:
                sprint.state, sprint.complete_ms = "closed", complete
            else:
                sprint.state = "active"
            sprint.refresh()
            sprints.append(sprint)
            number += 1
            start = _next_monday_9(complete)
        planned_start = start
        for offset in range(2):  # the next two sprints are planned; only the first has dates yet
            sprint = agile.new_sprint(site.agile, board, f"{key} Sprint {number + offset}", self.end - DAY)
            if offset == 0:
                sprint.start_ms, sprint.end_ms = planned_start, planned_start + SPRINT_LENGTH - 6 * HOUR
                sprint.refresh()
            sprints.append(sprint)
        for issue in issues:
            issue_type = site.issue_types[issue.issue_type_id]
            if issue.id in self.pinned or issue_type.subtask or issue_type.hierarchy_level > 0:
                continue
            if rng.random() < PLANNED:
                self._plan(issue, sprints)

    def _plan(self, issue: Issue, sprints: list[Sprint]) -> None:
        """Walk the issue through sprints, recording each Sprint change at the time it happened."""
        rng, site = self.rng, self.site
        created = issue.created_ms
        running = next(
            (s for s in sprints if s.start_ms and s.start_ms <= created < (s.complete_ms or self.end)), None
        )
        upcoming = next((s for s in sprints if s.start_ms is None or s.start_ms > created + 2 * MINUTE), None)
        if running is not None and (rng.random() < MID_SPRINT or upcoming is None):
            sprint, joined = running, created + rng.randint(1, 8 * 60) * MINUTE
            if joined >= (running.complete_ms or self.end):
                return
        elif upcoming is not None:
            sprint = upcoming
            latest = min(sprint.start_ms or self.end, self.end) - MINUTE
            joined = created + int(rng.random() * max(0, min(2 * DAY, latest - created)))
        else:
            return
        planner = self._planner(issue)
        agile.add_to_sprint(site, issue, sprint, planner, joined)
        carries = 0
        while True:
            if sprint.state != "closed":
                if sprint.state == "active" and rng.random() < REMOVED / 2:
                    at = max(joined, sprint.start_ms or joined) + rng.randint(1, 48) * HOUR
                    if at < self.end:
                        agile.remove_from_sprint(site, issue, sprint, planner, at)
                return
            assert sprint.complete_ms is not None and sprint.start_ms is not None
            if rng.random() < REMOVED:
                at = max(joined, sprint.start_ms) + rng.randint(1, 72) * HOUR
                if at < sprint.complete_ms and not agile.done_at(site, issue, at):
                    agile.remove_from_sprint(site, issue, sprint, planner, at)
                    return
            if agile.done_at(site, issue, sprint.complete_ms):
                return  # completed in this sprint
            following = sprints[sprints.index(sprint) + 1]
            if carries >= MAX_CARRIES or following.state == "future" and following.start_ms is None:
                return  # left in the backlog: the closed sprint stays in the field, no history
            agile.set_sprints(
                site, issue, [*agile.sprint_ids(issue), following.id], planner, sprint.complete_ms
            )
            sprint, joined, carries = following, sprint.complete_ms, carries + 1

    def _planner(self, issue: Issue) -> str | None:
        return issue.reporter_id if self.rng.random() < 0.5 else self.rng.choice(self.workers)


def _next_monday_9(ms: int) -> int:
    """09:00 UTC of the first Monday at or after `ms` (sprints start on Monday mornings)."""
    day = ms - ms % DAY
    weekday = (day // DAY + 3) % 7  # 1970-01-01 was a Thursday: Monday = 0
    monday = day + ((7 - weekday) % 7) * DAY
    candidate = monday + 9 * HOUR
    return candidate if candidate >= ms else candidate + 7 * DAY
