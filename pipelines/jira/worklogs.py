"""Worklogs, incremental: what changed since a watermark, and what was deleted since another.

`GET /rest/api/3/worklog/updated?since=<ms>` lists the IDs of worklogs updated after `since`
(pages of up to 1000; the next page's `since` is this page's `until`; `lastPage` ends it),
`POST /rest/api/3/worklog/list {"ids": [...]}` returns up to 1000 of them in full, and
`GET /rest/api/3/worklog/deleted?since=<ms>` lists deleted IDs the same way (Atlassian's OpenAPI
spec: ChangedWorklogs, WorklogIdsRequestBean). Every page is one Arrow table: the changed
worklogs, or the deleted ones as hard-delete tombstones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from dlt.sources.helpers.rest_client import RESTClient

from pipelines.jira.client import JiraHttp
from pipelines.jira.runtime import SiteRuntime
from pipelines.jira.tables import from_rows
from pipelines.progress import Progress

UPDATED = "/rest/api/3/worklog/updated"
DELETED = "/rest/api/3/worklog/deleted"
LIST = "/rest/api/3/worklog/list"
LIST_MAX = 1000  # worklog/list: "The returned list of worklogs is limited to 1000 items."


@dataclass(frozen=True)
class WorklogPage:
    """Rows to load, and the watermark the page moves to (`until`, epoch ms)."""

    rows: pa.Table
    kind: str  # "updated" or "deleted"
    until: int


def changed_pages(
    http: JiraHttp, client: RESTClient, path: str, since: int
) -> Iterator[tuple[list[tuple[int, int]], int]]:
    """((worklog ID, updatedTime) pairs, until) per page of worklog/updated or worklog/deleted."""
    while True:
        page = http.get_json(client, path, {"since": since})
        ids = [(int(v["worklogId"]), int(v.get("updatedTime") or 0)) for v in page.get("values") or ()]
        until = int(page.get("until") if page.get("until") is not None else since)
        yield ids, until
        if page.get("lastPage", True) or not ids:
            return
        if until <= since:
            raise RuntimeError(
                f"GET {path} answered lastPage false without moving `until` past {since}; stopping "
                "instead of looping (a Jira paging fault, run again)"
            )
        since = until


def fetch_worklog_pages(
    http: JiraHttp, site: SiteRuntime, since_updated: int, since_deleted: int
) -> Iterator[WorklogPage]:
    """Worklogs changed after `since_updated`, then tombstones of those deleted after `since_deleted`."""
    client = http.rest_client(site.api_base_url, site.auth)
    with Progress(f"worklogs of {site.label}", unit="worklogs") as progress:
        for changed, until in changed_pages(http, client, UPDATED, since_updated):
            ids = [worklog_id for worklog_id, _ in changed]
            rows: list[dict[str, Any]] = []
            for start in range(0, len(ids), LIST_MAX):
                worklogs = http.post_json(client, LIST, {"ids": ids[start : start + LIST_MAX]})
                rows += [worklog_row(site.cloud_id, w) for w in worklogs or ()]
            progress.add(len(rows), pages=1)
            yield WorklogPage(from_rows("worklogs", rows), "updated", until)
        for deleted, until in changed_pages(http, client, DELETED, since_deleted):
            # A tombstone carries its deletion time as `updated`: in a load that also has the
            # worklog's last edit, the newer row (the deletion) wins the merge.
            tombstones = [
                {"cloud_id": site.cloud_id, "id": str(i), "updated": at_ms, "deleted": True}
                for i, at_ms in deleted
            ]
            progress.add(0, deletions=len(tombstones))
            yield WorklogPage(from_rows("worklogs", tombstones), "deleted", until)


def worklog_row(cloud_id: str, worklog: dict[str, Any]) -> dict[str, Any]:
    author = worklog.get("author") or {}
    editor = worklog.get("updateAuthor") or {}
    return {
        "cloud_id": cloud_id,
        "id": str(worklog.get("id")),
        "issue_id": None if worklog.get("issueId") is None else str(worklog["issueId"]),
        "author_account_id": author.get("accountId"),
        "update_author_account_id": editor.get("accountId"),
        "started": worklog.get("started"),
        "created": worklog.get("created"),
        "updated": worklog.get("updated"),
        "time_spent_seconds": worklog.get("timeSpentSeconds"),
        "deleted": False,
    }
