"""Issue pages from search/jql with their complete changelogs, fetched window by window.

Each page's embedded changelog is used only when complete (`total <= len(histories)`); the
truncated issues of a page are completed with one `changelog/bulkfetch` call (paged), never
left short.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
from dlt.sources.helpers.rest_client import RESTClient

from pipelines.jira.client import JiraHttp, check_jira_status, raise_for_jira_status
from pipelines.jira.helpers import IssueColumns
from pipelines.jira.memory import release_memory
from pipelines.jira.pages import BULK_CHANGELOG_DECODER, History, Issue, search_decoder
from pipelines.jira.paginators import JiraCursorPaginator, repeated_token_error
from pipelines.jira.parallel import Emit, stream_tasks
from pipelines.jira.runtime import SiteRuntime
from pipelines.jira.scheduler import WindowScheduler, jira_epoch_ms
from pipelines.jira.settings import (
    APPROXIMATE_COUNT,
    CENSUS_PAGE_SIZE,
    CHANGELOG_BULK_MAX_ISSUES,
    CHANGELOG_BULK_PAGE_SIZE,
    CHANGELOG_BULKFETCH,
    ISSUE_FIELDS,
    SEARCH_JQL,
    SEARCH_PAGE_SIZE,
)
from pipelines.jira.windows import Window, epoch_ms, parts_for, split, sweep_windows
from pipelines.progress import Progress

HOOKS = {"response": [raise_for_jira_status]}
# For the answers decoded by `pages` (typed, straight from the body): status check only.
RAW_HOOKS = {"response": [check_jira_status]}
# Issues per item handed to dlt (see `batched`).
BATCH_ISSUES = 5000
# A fetch this large hands its freed memory back before the load (a full GC costs ~0.3 s).
RELEASE_AFTER_ISSUES = 20000


@dataclass(frozen=True)
class IssuePage:
    """One search page of a site as Arrow tables: current issues and their full changelogs."""

    cloud_id: str
    issues: pa.Table
    changelog: pa.Table
    incomplete_changelogs: int  # truncated issues that bulkfetch did not return

    def max_updated_ms(self) -> int | None:
        if self.issues.num_rows == 0:
            return None
        latest = pc.max(self.issues["updated"]).as_py()
        return None if latest is None else int(latest.timestamp() * 1000)


def batched(pages: Iterable[IssuePage], max_issues: int = BATCH_ISSUES) -> Iterator[IssuePage]:
    """Concatenate consecutive pages of a site into batches of about `max_issues` issues.

    dlt spends ~20 ms of schema work per yielded item whatever its size; batching pages cuts
    that overhead fifty-fold on a large import while keeping memory bounded.
    """
    pending: list[IssuePage] = []
    count = 0
    for page in pages:
        if pending and (page.cloud_id != pending[0].cloud_id or count + page.issues.num_rows > max_issues):
            yield _concat(pending)
            pending, count = [], 0
        pending.append(page)
        count += page.issues.num_rows
    if pending:
        yield _concat(pending)


def _concat(pages: list[IssuePage]) -> IssuePage:
    if len(pages) == 1:
        return pages[0]
    return IssuePage(
        pages[0].cloud_id,
        pa.concat_tables([p.issues for p in pages]).combine_chunks(),
        pa.concat_tables([p.changelog for p in pages]).combine_chunks(),
        sum(p.incomplete_changelogs for p in pages),
    )


class ChangelogDedup:
    """Remembers, per run, the newest history of every issue whose changelog was emitted.

    issue_changelog merges on (cloud_id, issue_id) without a primary-key dedup (see
    tables._hints), so an issue met twice in one load (updated while a sweep pages through it)
    must not emit the same history rows twice: its second appearance only adds newer histories.
    Jira's issue and history ids are integers that grow with time; kept as ints per site
    (~100 bytes an issue) so a 100k-issue import stays small.
    """

    def __init__(self) -> None:
        self._newest: dict[str, dict[int, int]] = {}

    def __call__(self, cloud_id: str, changelog: pa.Table) -> pa.Table:
        if changelog.num_rows == 0:
            return changelog
        history = pc.cast(changelog["history_id"], pa.int64())
        issue_ids = pc.cast(changelog["issue_id"], pa.int64())
        newest = self._newest.setdefault(cloud_id, {})
        if any(i in newest for i in pc.unique(issue_ids).to_pylist()):
            floor = pa.array([newest.get(i, -1) for i in issue_ids.to_pylist()], pa.int64())
            keep = pc.greater(history, floor)
            changelog, history, issue_ids = (
                changelog.filter(keep),
                history.filter(keep),
                issue_ids.filter(keep),
            )
        grouped = (
            pa.table({"issue_id": issue_ids, "history": history})
            .group_by("issue_id")
            .aggregate([("history", "max")])
        )
        for issue_id, top in zip(
            grouped["issue_id"].to_pylist(), grouped["history_max"].to_pylist(), strict=True
        ):
            newest[issue_id] = max(top, newest.get(issue_id, -1))
        return changelog


def search_pages(
    client: RESTClient, jql: str, fields: Iterable[str], *, expand: str | None, page_size: int
) -> Iterator[list[dict]]:
    """Sequential cursor pages of one JQL query (POST search/jql, nextPageToken)."""
    body: dict = {"jql": jql, "fields": list(fields), "maxResults": page_size}
    if expand:
        body["expand"] = expand
    for page in client.paginate(
        SEARCH_JQL,
        method="POST",
        json=body,
        paginator=JiraCursorPaginator(),
        data_selector="issues",
        hooks=HOOKS,
    ):
        yield list(page)


def approximate_count(client: RESTClient, jql: str) -> int:
    """Jira's estimate of the matches (POST search/approximate-count); used only to plan windows."""
    response = client.post(APPROXIMATE_COUNT, json={"jql": jql}, hooks=HOOKS)
    return int(response.json().get("count") or 0)


class WindowPlan(NamedTuple):
    """Windows to fetch and Jira's approximate count of the issues in them (None: not counted)."""

    windows: list[Window]
    expected: int | None


def plan_windows(
    http: JiraHttp, site: SiteRuntime, window: Window, max_parts: int, *, now_ms: int | None = None
) -> WindowPlan:
    """Split a window for parallel fetching by how many issues it holds (one count request).

    A quiet window stays whole (a sweep then costs a count and a page); a big one gets up to
    `max_parts` sub-windows of equal time span. With `now_ms` the window is a sweep: its end
    stays open, so nothing updated after `now` (or on a clock ahead of ours) is missed. The
    count is also the total that progress lines measure against.
    """
    client = http.rest_client(site.api_base_url, site.auth)
    expected = approximate_count(client, window.where(site.config.issues.jql))
    parts = parts_for(expected, SEARCH_PAGE_SIZE, max_parts)
    if now_ms is not None:
        return WindowPlan(sweep_windows(window.field, window.start_ms, now_ms, parts), expected)
    return WindowPlan(split(window, parts), expected)


def issue_ids(client: RESTClient, jql: str) -> Iterator[str]:
    """Every issue id matching `jql`, from id-only pages of up to 5000 (the census)."""
    for page in search_pages(client, jql, ["id"], expand=None, page_size=CENSUS_PAGE_SIZE):
        for issue in page:
            yield str(issue["id"])


def cursor_pages(
    client: RESTClient,
    path: str,
    body: dict,
    decoder: msgspec.json.Decoder,
    items: Callable[[Any], list | None],
) -> Iterator[Any]:
    """Typed pages of a POST cursor endpoint (`nextPageToken` in the body), as `JiraCursorPaginator`
    pages them: stop when the token is absent or a page is empty, fail on a repeated token."""
    body = dict(body)
    seen: set[str] = set()
    while True:
        response = client.post(path, json=body, hooks=RAW_HOOKS)
        page = decoder.decode(response.content)
        yield page
        token = page.nextPageToken
        if not token or not items(page):
            return
        if token in seen:
            raise repeated_token_error(response)
        seen.add(token)
        body["nextPageToken"] = token


def issue_pages(
    client: RESTClient, jql: str, *, extra_fields: tuple[str, ...] = (), page_size: int = SEARCH_PAGE_SIZE
) -> Iterator[list[Issue]]:
    """search/jql pages with the changelog expanded, decoded into `pages.Issue` structs."""
    fields = [*ISSUE_FIELDS, *(name for name in extra_fields if name not in ISSUE_FIELDS)]
    body = {"jql": jql, "fields": fields, "maxResults": page_size, "expand": "changelog"}
    for page in cursor_pages(client, SEARCH_JQL, body, search_decoder(extra_fields), lambda p: p.issues):
        yield page.issues or []


def bulk_changelogs(client: RESTClient, ids: list[str]) -> dict[str, list[History]]:
    """Full changelogs (oldest first) of up to any number of issues via changelog/bulkfetch."""
    histories: dict[str, list[History]] = {}
    for start in range(0, len(ids), CHANGELOG_BULK_MAX_ISSUES):
        body = {
            "issueIdsOrKeys": ids[start : start + CHANGELOG_BULK_MAX_ISSUES],
            "maxResults": CHANGELOG_BULK_PAGE_SIZE,
        }
        for page in cursor_pages(
            client, CHANGELOG_BULKFETCH, body, BULK_CHANGELOG_DECODER, lambda p: p.issueChangeLogs
        ):
            for entry in page.issueChangeLogs or ():
                histories.setdefault(str(entry.issueId), []).extend(entry.changeHistories or ())
    return histories


def build_page(client: RESTClient, site: SiteRuntime, raw_issues: list[Issue], synced_at: str) -> IssuePage:
    truncated = [str(issue.id) for issue in raw_issues if not issue.changelog_complete()]
    fetched = bulk_changelogs(client, truncated) if truncated else {}
    scope = site.config.issues
    columns = IssueColumns(site.cloud_id, synced_at, scope.extra_fields, sprint_field=scope.sprint_field)
    missing = 0
    for issue in raw_issues:
        issue_id = str(issue.id)
        embedded = issue.changelog
        if issue_id in fetched:
            histories = fetched[issue_id]
        elif issue_id in truncated:
            # An issue with no history at all has no embedded changelog either: nothing to keep.
            histories = [] if embedded is None or embedded.total == 0 else None
            missing += histories is None
        else:
            histories = embedded.histories or [] if embedded is not None else []
        columns.add_issue(issue, histories)
    return IssuePage(site.cloud_id, columns.issues_table(), columns.changelog_table(), missing)


def worker_task(
    http: JiraHttp, site: SiteRuntime, scheduler: WindowScheduler, synced_at: str
) -> Callable[[Emit], None]:
    """One fetch worker: pages windows from the scheduler until none is left to take or split."""
    extra_fields = site.config.issues.decoded_fields

    def fetch(emit: Emit) -> None:
        client = http.rest_client(site.api_base_url, site.auth)  # one session per worker thread
        while (run := scheduler.next()) is not None:
            field_name = run.window.field

            def moment(issue: Issue, field_name: str = field_name) -> int:
                return jira_epoch_ms(getattr(issue.fields, field_name))

            try:
                jql = run.window.jql(site.config.issues.jql)
                for raw_issues in issue_pages(client, jql, extra_fields=extra_fields):
                    full = len(raw_issues) >= SEARCH_PAGE_SIZE
                    kept, passed_end = scheduler.accept(run, raw_issues, full_page=full, moment=moment)
                    if kept:
                        emit(build_page(client, site, kept, synced_at))
                    if passed_end:
                        break
            finally:
                scheduler.finish(run)

    return fetch


def fetch_issue_pages(
    http: JiraHttp,
    site: SiteRuntime,
    windows: list[Window],
    *,
    now_ms: int | None = None,
    what: str | None = None,
    expected: int | None = None,
) -> Iterator[IssuePage]:
    """Pages of every window, `http.concurrency` workers, pages in arrival order.

    Workers take windows from a scheduler that splits a busy window for an idle worker, so an
    uneven spread of issues over time still keeps every worker busy. Progress against `expected`
    (Jira's approximate count) is logged every few seconds as `what`.
    """
    synced_at = datetime.now(UTC).isoformat()
    scheduler = WindowScheduler(windows, now_ms or epoch_ms(datetime.now(UTC)))
    workers = http.config.concurrency
    tasks = [worker_task(http, site, scheduler, synced_at) for _ in range(workers)]
    fetched = 0
    with Progress(what or f"issues of {site.label}", total=expected) as progress:

        def counted(pages: Iterable[IssuePage]) -> Iterator[IssuePage]:
            for page in pages:
                progress.add(page.issues.num_rows, changelog_items=page.changelog.num_rows, pages=1)
                yield page

        try:
            for page in batched(counted(stream_tasks(tasks, workers=workers))):
                fetched += page.issues.num_rows
                yield page
        finally:
            if fetched >= RELEASE_AFTER_ISSUES:
                release_memory()
