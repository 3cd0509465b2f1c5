"""The current state of Jira's issues, derived forward from the raw tables (portable SQL).

No writer edits another's table (docs/architecture.md, "Who writes what"):

- `issues` / `issue_changelog`: the REST loads (the partitioned backfill and the sweep merge by
  key; the census' tombstones hard-delete);
- `webhook_issues` / `webhook_changelog`: the webhook drain (each issue's newest delivery, every
  changelog item a delivery carried);
- `issue_deletions`: the census; `webhook_events`: every delivery, the deletes among them.

An issue now is its newest row of the two sources: highest `updated`, then the latest observed
(`synced_at` of the load, the delivery's time), then the webhook row on a tie (so the choice never
depends on scan order), unless a deletion was seen at or after that observation (the census'
`detected_at`, a `jira:issue_deleted` delivery's time). A row observed after the deletion wins. An
issue's changelog is the union of both changelog sources, one row per history item (the load's
when both have it), without the items of the issues deleted now.

The SQL is plain (UNION ALL, NOT EXISTS anti-joins, no window over every issue): the transforms run it on DuckDB and,
translated, on PostgreSQL. Callers pass each source as a relation (a typed view, a filtered
subquery) or None when the table does not exist, which reads as empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

DELETE_EVENT = "jira:issue_deleted"
EVENT_TIME = '"timestamp"'  # jira_raw.webhook_events' column of the event's time
# (table, column that says when its row was observed): the REST load's, then the drain's
ISSUE_SOURCES: tuple[tuple[str, str], ...] = (("issues", "synced_at"), ("webhook_issues", "event_at"))
CHANGELOG_SOURCES = ("issue_changelog", "webhook_changelog")  # the REST load's, then the drain's
DELETION_SOURCES = ("issue_deletions", "webhook_events")
# The current-state relations (`jira_raw` table names) and the tables each is derived from.
CURRENT_STATE_VIEWS: dict[str, tuple[str, ...]] = {
    "issues": (*(table for table, _ in ISSUE_SOURCES), *DELETION_SOURCES),
    "issue_changelog": CHANGELOG_SOURCES,
}

UNION = "\nUNION ALL\n"
NO_TIME = "'1900-01-01 00:00:00+00'"
Sources = Mapping[str, str | None]
"""Source table name -> the relation to read it from, or None when it does not exist."""


def _moment(column: str) -> str:
    """A time column as TIMESTAMPTZ: dlt may have stored it as text on some destinations."""
    return f"CAST({column} AS TIMESTAMPTZ)"


def _floor(expression: str) -> str:
    """A time that is never null (null: before any Jira time), so comparisons decide."""
    return f"coalesce({expression}, {_moment(NO_TIME)})"


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _empty(columns: Sequence[str]) -> str:
    nulls = ", ".join(f'NULL AS "{c}"' for c in columns)
    return f"SELECT {nulls} WHERE 1 = 0"


def removals_sql(sources: Sources) -> str:
    """(cloud_id, id, removed_at) of every deletion seen: the census' and the webhooks'."""
    selects = []
    if sources.get("issue_deletions"):
        selects.append(
            f"SELECT cloud_id, id, {_moment('detected_at')} AS removed_at FROM {sources['issue_deletions']}"
        )
    if sources.get("webhook_events"):
        selects.append(
            f"SELECT cloud_id, issue_id AS id, {_moment(EVENT_TIME)} AS removed_at "
            f"FROM {sources['webhook_events']} "
            f"WHERE event = '{DELETE_EVENT}'"
        )
    # typed even when empty: PostgreSQL reads an untyped NULL as text, not comparable with a time
    nothing = "SELECT CAST(NULL AS TEXT) AS cloud_id, CAST(NULL AS TEXT) AS id, "
    return UNION.join(selects) or nothing + f"{_moment('NULL')} AS removed_at WHERE 1 = 0"


def current_issues_sql(columns: Sequence[str], sources: Sources) -> str:
    """One row per current issue with `columns` (which must include cloud_id, id and updated);
    every issue source must have all of `columns` and its observation column, and be unique by
    (cloud_id, id) (dlt's merge, the drain's primary key).

    Anti-joins instead of a window over both sources: the delivered rows are few, the loaded ones
    can be 10^6, and a hash anti-join against the few is several times cheaper than ranking all."""
    names = _quoted(columns)
    (loaded_table, loaded_seen), (delivered_table, delivered_seen) = ISSUE_SOURCES
    loaded, delivered = sources.get(loaded_table), sources.get(delivered_table)
    if not loaded and not delivered:
        return _empty(columns)
    # each relation inline (no CTE): a CTE read twice is materialized with every column, which
    # costs more than the anti-join; inline, the engine reads only the columns a query uses
    loaded_rows = f"(SELECT {names}, {_moment(loaded_seen)} AS observed_at FROM {loaded})"
    delivered_rows = f"(SELECT {names}, {_moment(delivered_seen)} AS observed_at FROM {delivered})"
    if loaded and delivered:
        # the delivery wins on a newer `updated`, or an equal one observed at the same time or later
        wins = (
            f"({_floor('d.updated')} > {_floor('l.updated')} OR ({_floor('d.updated')} = {_floor('l.updated')} "
            f"AND {_floor('d.observed_at')} >= {_floor('l.observed_at')}))"
        )
        same = "d.cloud_id = l.cloud_id AND d.id = l.id"
        candidates = (
            f"SELECT * FROM {loaded_rows} AS l "
            f"WHERE NOT EXISTS (SELECT 1 FROM {delivered_rows} AS d WHERE {same} AND {wins})"
            f"{UNION}SELECT * FROM {delivered_rows} AS d "
            f"WHERE NOT EXISTS (SELECT 1 FROM {loaded_rows} AS l WHERE {same} AND NOT {wins})"
        )
    else:
        candidates = f"SELECT * FROM {loaded_rows if loaded else delivered_rows} AS single"
    return f"""
SELECT {names} FROM ({candidates}) AS newest
WHERE NOT EXISTS (
    SELECT 1 FROM ({removals_sql(sources)}) AS removed
    WHERE removed.cloud_id = newest.cloud_id AND removed.id = newest.id
        AND removed.removed_at >= newest.observed_at
)"""


def deleted_now_sql(sources: Sources) -> str:
    """(cloud_id, id) of the issues deleted now: removed, with no newer observation since. The
    current state is derived for the removed issues only (a few), not for every issue."""
    removed = removals_sql(sources)
    narrowed = dict(sources)
    for table, _ in ISSUE_SOURCES:
        if sources.get(table):
            narrowed[table] = (
                f"(SELECT * FROM {sources[table]} AS s WHERE EXISTS (SELECT 1 FROM ({removed}) AS r "
                "WHERE r.cloud_id = s.cloud_id AND r.id = s.id))"
            )
    current = current_issues_sql(["cloud_id", "id", "updated"], narrowed)
    return (
        f"SELECT DISTINCT cloud_id, id FROM ({removed}) AS r WHERE NOT EXISTS "
        f"(SELECT 1 FROM ({current}) AS c WHERE c.cloud_id = r.cloud_id AND c.id = r.id)"
    )


def current_changelog_sql(columns: Sequence[str], sources: Sources) -> str:
    """One row per history item (the load's when both sources have it), without the items of
    issues that are deleted now.

    Anti-joins against the few delivered items and the few deleted issues: the load's changelog
    can be 10^7 rows and is only scanned."""
    names = _quoted(columns)
    loaded, delivered = (sources.get(table) for table in CHANGELOG_SOURCES)
    selects = [f"SELECT {names} FROM {loaded}"] if loaded else []
    if delivered:
        newer = (
            f" WHERE NOT EXISTS (SELECT 1 FROM {loaded} AS l WHERE l.cloud_id = w.cloud_id "
            "AND l.history_id = w.history_id AND l.item_index = w.item_index)"
            if loaded
            else ""
        )
        selects.append(f"SELECT {names} FROM {delivered} AS w{newer}")
    if not selects:
        return _empty(columns)
    return f"""
SELECT {names} FROM ({UNION.join(selects)}) AS items
WHERE NOT EXISTS (
    SELECT 1 FROM ({deleted_now_sql(sources)}) AS gone
    WHERE gone.cloud_id = items.cloud_id AND gone.id = items.issue_id
)"""
