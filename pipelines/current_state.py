"""The current state of Jira's issues, derived forward from the raw tables (portable SQL).

Each `jira_raw` table has one writer, and none of them edits another's rows:

- `issues` / `issue_changelog`: the partitioned backfill (a created window at a time);
- `swept_issues` / `swept_changelog`: the incremental sweep (each issue's newest sweep);
- `webhook_issues` / `webhook_changelog`: the webhook drain (each issue's newest delivery);
- `issue_deletions`: the census; `webhook_events`: every delivery, the deletes among them.

An issue now is its newest row of the three sources (highest `updated`; then the latest observed:
`synced_at`, or the delivery's time), unless a deletion was seen at or after that observation
(the census' `detected_at`, a `jira:issue_deleted` delivery's time). A row observed after the
deletion wins: an issue the census missed by accident comes back with the next sweep that sees it.
An issue's changelog is the union of the three changelog sources, one row per history item, for
the issues that are current.

The SQL is plain (window functions, UNION ALL, NOT EXISTS), so the census and the sweep read it on
any dlt destination and the DuckDB transforms build their views from it. Callers name the tables
that exist: a source that was never written reads as empty.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

DELETE_EVENT = "jira:issue_deleted"
# (table, column that says when its row was observed, rank among equal observations)
ISSUE_SOURCES: tuple[tuple[str, str, int], ...] = (
    ("issues", "synced_at", 0),
    ("swept_issues", "synced_at", 1),
    ("webhook_issues", "event_at", 2),
)
CHANGELOG_SOURCES: tuple[tuple[str, int], ...] = (
    ("issue_changelog", 0),
    ("swept_changelog", 1),
    ("webhook_changelog", 2),
)

Qualify = Callable[[str], str]
"""Table name -> the qualified name to read it by (`jira_raw."issues"`, a temp view, ...)."""


def issue_candidates_sql(columns: Sequence[str], tables: Collection[str], qualify: Qualify) -> str:
    """Every row of every issue source that exists, with `observed_at` and `source_rank`."""
    selects = [
        f"SELECT {', '.join(columns)}, {observed} AS observed_at, {rank} AS source_rank FROM {qualify(table)}"
        for table, observed, rank in ISSUE_SOURCES
        if table in tables
    ]
    if not selects:
        nulls = ", ".join(f"NULL AS {c}" for c in columns)
        return f"SELECT {nulls}, NULL AS observed_at, 0 AS source_rank WHERE 1 = 0"
    return "\nUNION ALL\n".join(selects)


def removals_sql(tables: Collection[str], qualify: Qualify) -> str:
    """(cloud_id, id, removed_at) of every deletion seen: the census' and the webhooks'."""
    selects = []
    if "issue_deletions" in tables:
        selects.append(f"SELECT cloud_id, id, detected_at AS removed_at FROM {qualify('issue_deletions')}")
    if "webhook_events" in tables:
        selects.append(
            f'SELECT cloud_id, issue_id AS id, "timestamp" AS removed_at FROM {qualify("webhook_events")} '
            f"WHERE event = '{DELETE_EVENT}'"
        )
    if not selects:
        return "SELECT NULL AS cloud_id, NULL AS id, NULL AS removed_at WHERE 1 = 0"
    return "\nUNION ALL\n".join(selects)


def current_issues_sql(columns: Sequence[str], tables: Collection[str], qualify: Qualify) -> str:
    """One row per current issue with `columns` (which must include cloud_id, id and updated)."""
    names = ", ".join(columns)
    return f"""
SELECT {names} FROM (
    SELECT {names}, observed_at, row_number() OVER (
        PARTITION BY cloud_id, id ORDER BY updated DESC NULLS LAST, observed_at DESC, source_rank DESC
    ) AS newest
    FROM ({issue_candidates_sql(columns, tables, qualify)}) AS candidates
) AS ranked
WHERE newest = 1 AND NOT EXISTS (
    SELECT 1 FROM ({removals_sql(tables, qualify)}) AS removed
    WHERE removed.cloud_id = ranked.cloud_id AND removed.id = ranked.id
        AND removed.removed_at >= ranked.observed_at
)"""


def current_changelog_sql(
    columns: Sequence[str], tables: Collection[str], qualify: Qualify, current_issues: str
) -> str:
    """One row per history item of the issues in `current_issues` (a relation with cloud_id, id)."""
    names = ", ".join(columns)
    selects = [
        f"SELECT {names}, {rank} AS source_rank FROM {qualify(table)}"
        for table, rank in CHANGELOG_SOURCES
        if table in tables
    ]
    if not selects:
        nulls = ", ".join(f"NULL AS {c}" for c in columns)
        return f"SELECT {nulls} WHERE 1 = 0"
    union = "\nUNION ALL\n".join(selects)
    return f"""
SELECT {", ".join(f"items.{c}" for c in columns)} FROM (
    SELECT {names}, row_number() OVER (
        PARTITION BY cloud_id, history_id, item_index ORDER BY source_rank DESC
    ) AS newest
    FROM ({union}) AS sources
) AS items
JOIN {current_issues} AS current ON current.cloud_id = items.cloud_id AND current.id = items.issue_id
WHERE items.newest = 1"""


def latest_updated_sql(tables: Collection[str], qualify: Qualify) -> str:
    """(cloud_id, max updated) over every issue source: what the warehouse has seen, per site."""
    selects = [
        f"SELECT cloud_id, updated FROM {qualify(table)}" for table, _, _ in ISSUE_SOURCES if table in tables
    ]
    if not selects:
        return "SELECT NULL AS cloud_id, NULL AS updated WHERE 1 = 0"
    return f"SELECT cloud_id, max(updated) FROM ({' UNION ALL '.join(selects)}) AS seen GROUP BY cloud_id"
