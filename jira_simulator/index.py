"""Per-site issue indexes, so windowed JQL (`project = X AND created >= a AND created < b`) is cheap.

Each site keeps its issues sorted by created and by updated, globally and per project, plus
sub-tasks by parent. An index is rebuilt lazily after any issue event of its site (mutations
emit one for every create, update, move and delete) or when the issue count changed.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable

from jira_simulator.jql import IndexPlan
from jira_simulator.model import Issue, IssueEvent, Site, World


class SortedIssues:
    def __init__(self, issues: Iterable[Issue], attribute: str) -> None:
        ordered = sorted(issues, key=lambda i: (getattr(i, attribute), int(i.id)))
        self.issues = ordered
        self.keys = [getattr(i, attribute) for i in ordered]

    def between(self, low: int | None, high: int | None) -> list[Issue]:
        start = 0 if low is None else bisect.bisect_left(self.keys, low)
        end = len(self.keys) if high is None else bisect.bisect_right(self.keys, high)
        return self.issues[start:end]


class SiteIndex:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.dirty = True
        self.indexed_count = -1
        self._lock = threading.Lock()
        self.by_created: dict[str | None, SortedIssues] = {}
        self.by_updated: dict[str | None, SortedIssues] = {}
        self.subtasks: dict[str, list[Issue]] = {}

    def _fresh(self) -> SiteIndex:
        if self.dirty or self.indexed_count != len(self.site.issues):
            with self._lock:
                if self.dirty or self.indexed_count != len(self.site.issues):
                    self._rebuild()
        return self

    def _rebuild(self) -> None:
        self.dirty = False
        issues = list(self.site.issues.values())
        by_project: dict[str, list[Issue]] = {}
        subtasks: dict[str, list[Issue]] = {}
        for issue in issues:
            by_project.setdefault(issue.project_id, []).append(issue)
            if issue.parent_id is not None:
                subtasks.setdefault(issue.parent_id, []).append(issue)
        by_created: dict[str | None, SortedIssues] = {None: SortedIssues(issues, "created_ms")}
        by_updated: dict[str | None, SortedIssues] = {None: SortedIssues(issues, "updated_ms")}
        for project_id, project_issues in by_project.items():
            by_created[project_id] = SortedIssues(project_issues, "created_ms")
            by_updated[project_id] = SortedIssues(project_issues, "updated_ms")
        for children in subtasks.values():
            children.sort(key=lambda i: int(i.id))
        self.by_created, self.by_updated, self.subtasks = by_created, by_updated, subtasks
        self.indexed_count = len(issues)

    def children(self, issue_id: str) -> list[Issue]:
        return [c for c in self._fresh().subtasks.get(issue_id, []) if self.site.issues.get(c.id) is c]

    def candidates(self, plan: IndexPlan) -> Iterable[Issue]:
        """A superset of the issues the plan allows (the caller still applies the full predicate)."""
        site = self.site
        if plan.issue_ids is not None:
            return [site.issues[i] for i in sorted(plan.issue_ids, key=int) if i in site.issues]
        self._fresh()
        field, window = None, None
        if plan.created is not None:
            field, window = self.by_created, plan.created
        elif plan.updated is not None:
            field, window = self.by_updated, plan.updated
        projects: list[str | None] = sorted(plan.project_ids) if plan.project_ids is not None else [None]
        if field is None or window is None:
            if plan.project_ids is None:
                return list(site.issues.values())
            return [i for p in projects for i in self.by_created.get(p, _EMPTY).issues]
        return [i for p in projects for i in field.get(p, _EMPTY).between(*window)]


_EMPTY = SortedIssues([], "created_ms")


class Indexes:
    """The indexes of every site of a world, invalidated by the world's issue events."""

    def __init__(self, world: World) -> None:
        self.sites = {cloud_id: SiteIndex(site) for cloud_id, site in world.sites.items()}
        self.world = world
        world.listeners.append(self._on_event)

    def _on_event(self, event: IssueEvent) -> None:
        index = self.sites.get(event.cloud_id)
        if index is not None:
            index.dirty = True

    def site(self, site: Site) -> SiteIndex:
        index = self.sites.get(site.cloud_id)
        if index is None or index.site is not site:
            index = self.sites[site.cloud_id] = SiteIndex(site)
        return index
