"""The issue-ID census: which warehouse issues no longer exist in Jira, and which projects vanished.

Per visible project, id-only search/jql pages (up to 5000 ids each) list every issue. Warehouse
issues of a visible project that the census does not return were deleted (or moved out of
reach); a warehouse project that is no longer visible is reported once as lost access, never as
thousands of deletions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import pyarrow as pa

from pipelines.jira import settings
from pipelines.jira.client import JiraHttp
from pipelines.jira.helpers import issue_tombstones
from pipelines.jira.issues import issue_ids
from pipelines.jira.parallel import Emit, stream_tasks
from pipelines.jira.reference import page_bean_values
from pipelines.jira.runtime import SiteRuntime
from pipelines.jira.tables import from_rows
from pipelines.progress import Progress


class WarehouseIssue(NamedTuple):
    """An issue as the warehouse knows it (`jira_raw.issues`: id, key, project_key)."""

    id: str
    key: str | None
    project_key: str | None


@dataclass(frozen=True)
class CensusResult:
    cloud_id: str
    deleted_issues: pa.Table  # tombstones for jira_raw.issues
    deleted_changelog: pa.Table  # tombstones for jira_raw.issue_changelog
    deletions: pa.Table  # jira_raw.issue_deletions rows
    access: pa.Table  # jira_raw.project_access rows


def run_census(
    http: JiraHttp, site: SiteRuntime, warehouse: Iterable[WarehouseIssue | tuple]
) -> CensusResult:
    checked_at = datetime.now(UTC)
    client = http.rest_client(site.api_base_url, site.auth)
    projects = {
        str(p["key"]): str(p["id"])
        for p in page_bean_values(client, settings.PROJECT_SEARCH, settings.PROJECT_PAGE_SIZE)
    }
    scope = site.config.issues.jql

    def census_task(project_id: str):
        def fetch(emit: Emit) -> None:
            task_client = http.rest_client(site.api_base_url, site.auth)
            jql = f"({scope}) AND project = {project_id}" if scope else f"project = {project_id}"
            emit(set(issue_ids(task_client, jql)))

        return fetch

    in_jira: set[str] = set()
    tasks = [census_task(pid) for pid in projects.values()]
    with Progress(f"census of {site.label}: issue ids of {len(projects)} projects", unit="projects",
                  total=len(projects), estimated=False) as progress:  # fmt: skip
        for ids in stream_tasks(tasks, workers=http.config.concurrency):
            in_jira |= ids
            progress.add(1, issue_ids=len(ids))

    known = [WarehouseIssue(*row) for row in warehouse]
    per_project = Counter(issue.project_key for issue in known)
    gone = [i for i in known if i.project_key in projects and i.id not in in_jira]
    access = [
        {
            "cloud_id": site.cloud_id,
            "project_key": key,
            "checked_at": checked_at,
            "status": "visible" if key in projects else "lost_access",
            "issues_in_warehouse": per_project.get(key, 0),
        }
        for key in sorted(set(projects) | {k for k in per_project if k is not None})
    ]
    deletions = [
        {
            "cloud_id": site.cloud_id,
            "id": issue.id,
            "detected_at": checked_at,
            "key": issue.key,
            "project_key": issue.project_key,
            "reason": "census",
            "detail": f"not returned by the id census of visible project {issue.project_key}",
        }
        for issue in gone
    ]
    tomb_issues, tomb_changelog = issue_tombstones(site.cloud_id, [i.id for i in gone])
    return CensusResult(
        site.cloud_id,
        tomb_issues,
        tomb_changelog,
        from_rows("issue_deletions", deletions),
        from_rows("project_access", access),
    )
