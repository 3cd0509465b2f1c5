"""dlt sources for Jira Cloud. Every resource yields pages as Arrow tables (no JSON normalizer).

Sources and their resources (one Dagster asset each); which table each writes, and which
sync-file entity needs it, is in the table registry (`pipelines/registry.py`):

- `jira_reference`: complete per-site snapshots (merge_key cloud_id), boards and sprints included.
- `jira_teams`: per-organization snapshots (merge_key organization_id).
- `jira_issues`: issues and their changelogs in a bounded, stateless created window [from, to).
- `jira_issue_updates`: resource issue_updates; writes issues and issue_changelog too (the
  sweep's changes) and keeps a per-site watermark in its resource state.
- `jira_issue_census`: resources issue_deletions (also writes the hard-delete tombstones into
  issues and issue_changelog) and project_access.
- `jira_worklogs`: worklogs changed since each site's watermark, deletions as tombstones.

A site that fails is added to `failures` and the other sites still load; the caller runs
`failures.raise_if_any()` after the load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from pipelines import registry
from pipelines.jira.agile import (
    AgileSnapshot,
    SprintFieldMismatch,
    fetch_agile_snapshot,
    sprint_field_problem,
)
from pipelines.jira.census import CensusResult, WarehouseIssue, run_census
from pipelines.jira.client import HttpStats, JiraHttp
from pipelines.jira.issues import ChangelogDedup, IssuePage, WindowPlan, fetch_issue_pages, plan_windows
from pipelines.jira.reference import (
    group_members_table,
    groups_table,
    issue_types_table,
    projects_table,
    sites_table,
    status_categories_table,
    statuses_table,
    users_table,
)
from pipelines.jira.runtime import SiteFailures, SiteRuntime, TeamsRuntime
from pipelines.jira.tables import HINTS, to_arrow
from pipelines.jira.teams import TeamsSnapshot, fetch_teams_snapshot
from pipelines.jira.windows import Window, epoch_ms
from pipelines.jira.worklogs import fetch_worklog_pages

__all__ = [
    "HttpStats",
    "JiraHttp",
    "WarehouseIssue",
    "jira_issue_census",
    "jira_issue_updates",
    "jira_issues",
    "jira_reference",
    "jira_teams",
    "jira_worklogs",
]

# Initial sub-windows per worker; the scheduler splits busy windows further as workers idle.
WINDOWS_PER_WORKER = 1


def _resource(table: str, **extra: Any) -> Callable[[Callable], DltResource]:
    return dlt.resource(name=table, table_name=table, **HINTS[table], **extra)


def _transformer(table: str, data_from: DltResource) -> Callable[[Callable], DltResource]:
    return dlt.transformer(name=table, table_name=table, data_from=data_from, **HINTS[table])


def _variant(item: pa.Table, table: str) -> Any:
    """Route a page to another jira_raw table with that table's own hints."""
    return dlt.mark.with_hints(
        item, dlt.mark.make_hints(table_name=table, **HINTS[table]), create_table_variant=True
    )


def _site_snapshots(
    sites: list[SiteRuntime], failures: SiteFailures, table: str, fetch: Callable[[SiteRuntime], pa.Table]
) -> Iterator[pa.Table]:
    entity = registry.table(table).entity
    for site in sites:
        if entity is not None and not site.syncs(entity):
            continue
        try:
            snapshot = fetch(site)  # complete before yielding: a failing site keeps its old rows
        except Exception as exc:
            failures.add(f"{site.label} [{table}]", exc)
            continue
        if snapshot.num_rows:
            yield snapshot


@dlt.source(name="jira_reference", max_table_nesting=0)
def jira_reference(
    sites: list[SiteRuntime], failures: SiteFailures, http: JiraHttp | None = None
) -> Iterable[DltResource]:
    """Sites, projects, issue types, statuses, status categories, users, groups, group members,
    Jira Software boards and sprints."""
    http = http or JiraHttp()
    by_cloud_id = {site.cloud_id: site for site in sites}

    def snapshots(table: str, fetch: Callable[[JiraHttp, SiteRuntime], pa.Table]) -> DltResource:
        @_resource(table)
        def resource() -> Iterator[pa.Table]:
            yield from _site_snapshots(sites, failures, table, lambda site: fetch(http, site))

        return resource

    @_resource("sites")
    def sites_resource() -> Iterator[pa.Table]:
        if sites:
            yield sites_table(sites)

    groups = snapshots("groups", groups_table)

    @dlt.resource(name="agile_snapshots", selected=False)
    def agile_snapshots() -> Iterator[AgileSnapshot]:
        for site in sites:
            if not site.syncs("sprints"):
                continue
            try:
                problem = sprint_field_problem(http, site)
                if problem is not None:
                    failures.add(f"{site.label} [issues.sprint_field]", SprintFieldMismatch(problem))
                yield fetch_agile_snapshot(http, site)
            except Exception as exc:
                failures.add(f"{site.label} [boards, sprints]", exc)

    @_transformer("boards", agile_snapshots)
    def boards(snapshot: AgileSnapshot) -> Iterator[pa.Table]:
        if snapshot.boards.num_rows:
            yield snapshot.boards

    @_transformer("sprints", agile_snapshots)
    def sprints(snapshot: AgileSnapshot) -> Iterator[pa.Table]:
        if snapshot.sprints.num_rows:
            yield snapshot.sprints

    @_transformer("group_members", groups)
    def group_members(groups_page: pa.Table) -> Iterator[pa.Table]:
        site = by_cloud_id[groups_page["cloud_id"][0].as_py()]
        try:
            members = group_members_table(http, site, groups_page["group_id"].to_pylist())
        except Exception as exc:
            failures.add(f"{site.label} [group_members]", exc)
            return
        if members.num_rows:
            yield members

    return (
        sites_resource,
        snapshots("projects", projects_table),
        snapshots("issue_types", issue_types_table),
        snapshots("statuses", statuses_table),
        snapshots("status_categories", status_categories_table),
        snapshots("users", users_table),
        groups,
        group_members,
        boards,
        sprints,
    )


@dlt.source(name="jira_teams", max_table_nesting=0)
def jira_teams(
    teams: list[TeamsRuntime], failures: SiteFailures, http: JiraHttp | None = None
) -> Iterable[DltResource]:
    """Atlassian Teams and their members, one complete snapshot per organization."""
    http = http or JiraHttp()

    @dlt.resource(name="teams_snapshots", selected=False)
    def snapshots() -> Iterator[TeamsSnapshot]:
        for org in teams:
            try:
                yield fetch_teams_snapshot(http, org)
            except Exception as exc:
                failures.add(org.label, exc)

    @_transformer("teams", snapshots)
    def teams_resource(snapshot: TeamsSnapshot) -> Iterator[pa.Table]:
        if snapshot.teams.num_rows:
            yield snapshot.teams

    @_transformer("team_members", snapshots)
    def team_members(snapshot: TeamsSnapshot) -> Iterator[pa.Table]:
        if snapshot.members.num_rows:
            yield snapshot.members

    return teams_resource, team_members


def _as_utc(moment: datetime | date) -> datetime:
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone; pass an aware datetime (UTC)")
    return moment


@dlt.source(name="jira_issues", max_table_nesting=0)
def jira_issues(
    sites: list[SiteRuntime],
    failures: SiteFailures,
    created_from: datetime | date,
    created_to: datetime | date,
    http: JiraHttp | None = None,
) -> Iterable[DltResource]:
    """Issues created in [created_from, created_to) with their full changelogs (stateless).

    The window is JQL on `created` in epoch milliseconds, split into parallel sub-windows.
    Re-running a window merges the same rows again: it changes nothing.
    """
    http = http or JiraHttp()
    window = Window("created", epoch_ms(_as_utc(created_from)), epoch_ms(_as_utc(created_to)))
    parts = http.config.concurrency * WINDOWS_PER_WORKER

    @dlt.resource(name="issue_pages", selected=False)
    def issue_pages() -> Iterator[IssuePage]:
        for site in sites:
            if not site.syncs("issues"):
                continue
            try:
                plan = plan_windows(http, site, window, parts)
                what = f"issues of {site.label} created {window.label()}"
                yield from fetch_issue_pages(http, site, plan.windows, what=what, expected=plan.expected)
            except Exception as exc:
                failures.add(f"{site.label} [issues]", exc)

    @_transformer("issues", issue_pages)
    def issues(page: IssuePage) -> Iterator[pa.Table]:
        yield page.issues

    dedup = ChangelogDedup()

    @_transformer("issue_changelog", issue_pages)
    def issue_changelog(page: IssuePage) -> Iterator[pa.Table]:
        changelog = dedup(page.cloud_id, page.changelog)
        if changelog.num_rows:
            yield changelog

    return issues, issue_changelog


def _update_rows(page: IssuePage, detected_at: datetime, run_id: str | None) -> pa.Table:
    count = page.issues.num_rows
    return to_arrow(
        "issue_updates",
        {
            "cloud_id": page.issues["cloud_id"].to_pylist(),
            "id": page.issues["id"].to_pylist(),
            "updated": page.issues["updated"].to_pylist(),
            "detected_at": [detected_at] * count,
            "run_id": [run_id] * count,
        },
    )


def _watermark_ms(value: datetime | int | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return epoch_ms(_as_utc(value))


@dlt.source(name="jira_issue_updates", max_table_nesting=0)
def jira_issue_updates(
    sites: list[SiteRuntime],
    failures: SiteFailures,
    overlap: timedelta | float = timedelta(minutes=10),
    initial_watermarks: Mapping[str, datetime | int | None] | None = None,
    http: JiraHttp | None = None,
    *,
    history_start: datetime | date | None = None,
    run_id: str | None = None,
) -> Iterable[DltResource]:
    """Issues updated since each site's watermark (minus `overlap`), as epoch-ms JQL.

    `overlap` is seconds or a timedelta. The watermark (max `updated` seen, epoch ms) lives in
    this resource's dlt state; `initial_watermarks` (cloud_id -> max(updated) in the warehouse)
    seeds it when the state is empty; a site with neither is swept from `history_start`.
    A site's watermark advances only when its whole sweep succeeded.
    """
    http = http or JiraHttp()
    seconds = overlap.total_seconds() if isinstance(overlap, timedelta) else float(overlap)
    overlap_ms = int(seconds * 1000)
    seeds = {k: _watermark_ms(v) for k, v in (initial_watermarks or {}).items()}
    start_default = epoch_ms(_as_utc(history_start or date(2000, 1, 1)))
    parts = http.config.concurrency * WINDOWS_PER_WORKER

    # Writes three tables, so every item carries its own table's hints (a variant); the resource
    # itself has none, or its keys would leak into the issues / issue_changelog variants.
    @dlt.resource(name="issue_updates", table_name="issue_updates")
    def issue_updates() -> Iterator[Any]:
        watermarks: dict[str, int] = dlt.current.resource_state().setdefault("watermarks", {})
        detected_at = datetime.now(UTC)
        now_ms = epoch_ms(detected_at)
        dedup = ChangelogDedup()
        for site in sites:
            if not site.syncs("issues"):
                continue
            watermark = watermarks.get(site.cloud_id) or seeds.get(site.cloud_id)
            start_ms = max(0, watermark - overlap_ms) if watermark is not None else start_default
            latest = watermark
            try:
                sweep = Window("updated", start_ms, None)
                # A routine sweep starts as one open window (the scheduler splits it if it turns
                # out busy); a first sweep over all of history is planned from a count.
                plan = (
                    WindowPlan([sweep], None)
                    if watermark is not None
                    else plan_windows(http, site, sweep, parts, now_ms=now_ms)
                )
                what = f"sweep of {site.label}: issues updated {sweep.label()}"
                pages = fetch_issue_pages(
                    http, site, plan.windows, now_ms=now_ms, what=what, expected=plan.expected
                )
                for page in pages:
                    yield _variant(page.issues, "issues")
                    changelog = dedup(site.cloud_id, page.changelog)
                    if changelog.num_rows:
                        yield _variant(changelog, "issue_changelog")
                    yield _variant(_update_rows(page, detected_at, run_id), "issue_updates")
                    page_latest = page.max_updated_ms()
                    if page_latest is not None:
                        latest = max(latest or 0, page_latest)
            except Exception as exc:
                failures.add(f"{site.label} [issue_updates]", exc)
                continue
            if latest is not None:
                watermarks[site.cloud_id] = latest

    return (issue_updates,)


@dlt.source(name="jira_issue_census", max_table_nesting=0)
def jira_issue_census(
    sites: list[SiteRuntime],
    failures: SiteFailures,
    warehouse_issue_ids: Mapping[str, Iterable[WarehouseIssue | tuple]],
    http: JiraHttp | None = None,
) -> Iterable[DltResource]:
    """Hard-deletes warehouse issues that Jira no longer has; reports projects no longer visible.

    `warehouse_issue_ids`: cloud_id -> (id, key, project_key) of every issue in jira_raw.issues.
    """
    http = http or JiraHttp()

    @dlt.resource(name="census_results", selected=False)
    def census_results() -> Iterator[CensusResult]:
        for site in sites:
            if not site.syncs("issues"):
                continue
            try:
                yield run_census(http, site, warehouse_issue_ids.get(site.cloud_id, ()))
            except Exception as exc:
                failures.add(f"{site.label} [census]", exc)

    @dlt.transformer(name="issue_deletions", table_name="issue_deletions", data_from=census_results)
    def issue_deletions(result: CensusResult) -> Iterator[Any]:
        if result.deletions.num_rows:
            yield _variant(result.deleted_issues, "issues")
            yield _variant(result.deleted_changelog, "issue_changelog")
            yield _variant(result.deletions, "issue_deletions")

    @_transformer("project_access", census_results)
    def project_access(result: CensusResult) -> Iterator[pa.Table]:
        if result.access.num_rows:
            yield result.access

    return issue_deletions, project_access


@dlt.source(name="jira_worklogs", max_table_nesting=0)
def jira_worklogs(
    sites: list[SiteRuntime],
    failures: SiteFailures,
    initial_watermarks: Mapping[str, datetime | int | None] | None = None,
    http: JiraHttp | None = None,
) -> Iterable[DltResource]:
    """Worklogs changed since each site's `updated` watermark, and tombstones of those deleted since
    its `deleted` watermark (epoch ms, in this resource's dlt state). `initial_watermarks`
    (cloud_id -> max(updated) in the warehouse) seeds a lost `updated` watermark; a lost `deleted`
    one starts from 0 (tombstones of worklogs never loaded change nothing). A site's watermarks
    advance only when its whole fetch succeeded.
    """
    http = http or JiraHttp()
    seeds = {k: _watermark_ms(v) for k, v in (initial_watermarks or {}).items()}

    @_resource("worklogs")
    def worklogs() -> Iterator[pa.Table]:
        state = dlt.current.resource_state()
        updated_marks: dict[str, int] = state.setdefault("updated", {})
        deleted_marks: dict[str, int] = state.setdefault("deleted", {})
        for site in sites:
            if not site.syncs("worklogs"):
                continue
            seed = seeds.get(site.cloud_id)
            since_updated = updated_marks.get(site.cloud_id, max(0, seed - 1) if seed is not None else 0)
            since_deleted = deleted_marks.get(site.cloud_id, 0)
            marks = {"updated": since_updated, "deleted": since_deleted}
            try:
                for page in fetch_worklog_pages(http, site, since_updated, since_deleted):
                    if page.rows.num_rows:
                        yield page.rows
                    marks[page.kind] = max(marks[page.kind], page.until)
            except Exception as exc:
                failures.add(f"{site.label} [worklogs]", exc)
                continue
            updated_marks[site.cloud_id] = marks["updated"]
            deleted_marks[site.cloud_id] = marks["deleted"]

    return (worklogs,)
