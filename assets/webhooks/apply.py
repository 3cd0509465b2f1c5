"""Applying a batch of webhook deliveries to the warehouse, in the caller's transaction (DuckDB or
PostgreSQL: the same SQL, see assets/warehouse).

Order matters and every step is idempotent, so a batch replayed after a crash (warehouse
committed, inbox not yet marked) ends in the same state:
1. raw events into `jira_raw.webhook_events` (primary key cloud_id, webhook_identifier);
2. deletions recorded in `jira_raw.issue_deletions` (reason `webhook`, detected_at = the event's
   time), so a late update of a deleted issue can be recognised;
3. created/updated: the latest delivery per issue, flattened with the REST flattener, replaces
   the `jira_raw.issues` row only when its `updated` is newer than the stored one and no deletion
   was seen at or after it; the event's changelog items are appended to `jira_raw.issue_changelog`
   by primary key (the table's dlt merge_key replaces an issue's whole changelog, so no dlt load);
4. deleted: the issue and its changelog leave `jira_raw`;
5. the same changes reach `jira.issues` through the transforms' upsert (type and state mapping).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from assets.core.issues import delete_issues, upsert_issues
from assets.core.raw_views import create_table_sql
from assets.warehouse import Warehouse, is_postgres, relation_columns
from pipelines import registry
from pipelines.config import SyncConfig
from pipelines.config_sites import IssueScope
from pipelines.inbox.events import InboxEvent
from pipelines.jira.helpers import IssueColumns
from pipelines.jira.pages import History, history_from_json, issue_from_json
from pipelines.jira.tables import SCHEMAS

UPSERT_EVENTS = frozenset({"jira:issue_created", "jira:issue_updated"})
DELETE_EVENT = "jira:issue_deleted"

WEBHOOK_EVENTS_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS jira_raw; {create_table_sql(registry.table('webhook_events'))}"
)
# The census creates this table through dlt; a webhook delete may come first. The registry's DDL
# makes it as dlt does, so dlt later adopts the table as it is.
ISSUE_DELETIONS_DDL = create_table_sql(registry.table("issue_deletions"))
_EVENTS_SCHEMA = SCHEMAS["webhook_events"]


@dataclass
class ApplySummary:
    """What one batch did (run metadata)."""

    events: int = 0
    new_events: int = 0
    upserted: int = 0
    stale_skipped: int = 0
    changelog_rows: int = 0
    deleted: int = 0
    core_upserted: int = 0
    core_deleted: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, other: ApplySummary) -> None:
        for name in ("events", "new_events", "upserted", "stale_skipped", "changelog_rows", "deleted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.core_upserted += other.core_upserted
        self.core_deleted += other.core_deleted
        self.notes += [n for n in other.notes if n not in self.notes]


def apply_events(
    con: Warehouse, events: Sequence[InboxEvent], config: SyncConfig, *, load_id: str
) -> ApplySummary:
    """Apply `events` (any order, replays allowed) inside the caller's open transaction."""
    summary = ApplySummary(events=len(events))
    if is_postgres(con):
        # drains may claim inbox batches at the same time; their applies take turns (each replaces
        # issues by delete + insert, which two transactions interleaving would duplicate)
        con.native("SELECT pg_advisory_xact_lock(hashtext('jira_sync.webhook_apply'))")
    con.execute(WEBHOOK_EVENTS_DDL)
    before = _count(con, "jira_raw.webhook_events")
    con.register("incoming_events", _events_table(events))
    con.execute(
        """
        INSERT INTO jira_raw.webhook_events
        SELECT cloud_id, webhook_identifier, event, issue_id, issue_key, "timestamp", received_at,
               tenant_id, CAST(payload AS JSON)
        FROM incoming_events
        ON CONFLICT DO NOTHING
        """
    )
    con.unregister("incoming_events")
    summary.new_events = _count(con, "jira_raw.webhook_events") - before

    synced_at = datetime.now(UTC)
    issues, changelog, event_times = _flatten(events, _issue_scopes_by_cloud(con, config), synced_at)
    deletions = _deletions_table(events)
    has_raw_issues = _exists(con, "jira_raw", "issues")
    if not has_raw_issues:
        summary.notes.append(
            "jira_raw.issues does not exist yet: events are stored in jira_raw.webhook_events only; "
            "the first issue import loads the current state"
        )
    if deletions.num_rows:
        con.execute(ISSUE_DELETIONS_DDL)
        con.register("incoming_deletions", deletions)
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE webhook_deletion_rows AS
            SELECT DISTINCT * FROM incoming_deletions AS d
            WHERE NOT EXISTS (
                SELECT 1 FROM jira_raw.issue_deletions AS x
                WHERE x.cloud_id = d.cloud_id AND x.id = d.id AND x.detected_at = d.detected_at
            )
            """
        )
        con.unregister("incoming_deletions")
        con.execute(
            f"INSERT INTO jira_raw.issue_deletions "
            f"{_insert_select(con, 'issue_deletions', 'webhook_deletion_rows', load_id)}"
        )

    if has_raw_issues and issues.num_rows:
        con.register("incoming_issues", issues.append_column("event_timestamp", event_times))
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE webhook_issue_rows AS
            SELECT * FROM incoming_issues
            QUALIFY row_number() OVER (
                PARTITION BY cloud_id, id ORDER BY updated DESC NULLS LAST, event_timestamp DESC
            ) = 1
            """
        )
        con.unregister("incoming_issues")
        candidates = _count(con, "webhook_issue_rows")
        con.execute(
            """
            DELETE FROM webhook_issue_rows AS r
            USING jira_raw.issues AS i
            WHERE i.cloud_id = r.cloud_id AND i.id = r.id AND i.updated >= r.updated
            """
        )
        if _exists(con, "jira_raw", "issue_deletions"):
            con.execute(
                """
                DELETE FROM webhook_issue_rows AS r
                USING jira_raw.issue_deletions AS d
                WHERE d.cloud_id = r.cloud_id AND d.id = r.id AND d.detected_at >= r.event_timestamp
                """
            )
        con.execute(
            """
            UPDATE webhook_issue_rows AS r SET changelog_total = i.changelog_total
            FROM jira_raw.issues AS i
            WHERE i.cloud_id = r.cloud_id AND i.id = r.id AND r.changelog_total IS NULL
            """
        )
        summary.upserted = _count(con, "webhook_issue_rows")
        summary.stale_skipped = candidates - summary.upserted
        con.execute(
            """
            DELETE FROM jira_raw.issues AS i
            USING webhook_issue_rows AS r
            WHERE i.cloud_id = r.cloud_id AND i.id = r.id
            """
        )
        con.execute(
            f"INSERT INTO jira_raw.issues {_insert_select(con, 'issues', 'webhook_issue_rows', load_id)}"
        )

    if changelog.num_rows and _exists(con, "jira_raw", "issue_changelog"):
        before = _count(con, "jira_raw.issue_changelog")
        con.register("incoming_changelog", changelog)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE webhook_changelog_rows AS "
            "SELECT DISTINCT ON (cloud_id, history_id, item_index) * FROM incoming_changelog AS c "
            "WHERE NOT EXISTS (SELECT 1 FROM jira_raw.issue_changelog AS x WHERE x.cloud_id = c.cloud_id "
            "AND x.history_id = c.history_id AND x.item_index = c.item_index)"
        )
        con.unregister("incoming_changelog")
        if _exists(con, "jira_raw", "issue_deletions"):
            con.execute(
                "DELETE FROM webhook_changelog_rows AS c USING jira_raw.issue_deletions AS d "
                "WHERE d.cloud_id = c.cloud_id AND d.id = c.issue_id"
            )
        con.execute(
            f"INSERT INTO jira_raw.issue_changelog "
            f"{_insert_select(con, 'issue_changelog', 'webhook_changelog_rows', load_id)}"
        )
        summary.changelog_rows = _count(con, "jira_raw.issue_changelog") - before

    if deletions.num_rows:
        con.register(
            "deleted_issue_ids", deletions.select(["cloud_id", "id"]).rename_columns(["cloud_id", "issue_id"])
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE webhook_deleted AS SELECT DISTINCT * FROM deleted_issue_ids"
        )
        con.unregister("deleted_issue_ids")
        if has_raw_issues:
            before = _count(con, "jira_raw.issues")
            con.execute(
                "DELETE FROM jira_raw.issues AS i USING webhook_deleted AS d "
                "WHERE i.cloud_id = d.cloud_id AND i.id = d.issue_id"
            )
            summary.deleted = before - _count(con, "jira_raw.issues")
        if _exists(con, "jira_raw", "issue_changelog"):
            con.execute(
                "DELETE FROM jira_raw.issue_changelog AS c USING webhook_deleted AS d "
                "WHERE c.cloud_id = d.cloud_id AND c.issue_id = d.issue_id"
            )

    if _exists(con, "jira", "issues"):
        if has_raw_issues and issues.num_rows:
            summary.core_upserted = upsert_issues(con, "webhook_issue_rows", config)
        if deletions.num_rows:
            summary.core_deleted = delete_issues(con, "webhook_deleted")
    elif issues.num_rows or deletions.num_rows:
        summary.notes.append("jira.issues does not exist yet: run the transforms job once; it reads jira_raw")
    for table in ("webhook_issue_rows", "webhook_changelog_rows", "webhook_deletion_rows", "webhook_deleted"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return summary


def _events_table(events: Sequence[InboxEvent]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "cloud_id": e.cloud_id,
                "webhook_identifier": e.identifier,
                "event": e.event,
                "issue_id": e.issue_id,
                "issue_key": e.issue_key,
                "timestamp": e.jira_timestamp,
                "received_at": e.received_at,
                "tenant_id": e.tenant_id,
                "payload": e.payload_json,
            }
            for e in events
        ],
        schema=_EVENTS_SCHEMA,
    )


def _flatten(
    events: Iterable[InboxEvent], scopes: Mapping[str, IssueScope], synced_at: datetime
) -> tuple[pa.Table, pa.Table, pa.Array]:
    """Issue rows (and each row's event time) and changelog rows of the created/updated events."""
    columns: dict[str, IssueColumns] = {}
    times: dict[str, list[datetime]] = {}
    for event in events:
        if event.event not in UPSERT_EVENTS:
            continue
        payload = event.payload()
        issue = payload.get("issue")
        if not isinstance(issue, dict) or "id" not in issue:
            continue
        flat = columns.get(event.cloud_id)
        if flat is None:
            scope = scopes.get(event.cloud_id) or IssueScope()
            flat = columns[event.cloud_id] = IssueColumns(
                event.cloud_id, synced_at.isoformat(), scope.extra_fields, sprint_field=scope.sprint_field
            )
        flat.add_issue(issue_from_json(issue, flat.decoded_fields), None)
        times.setdefault(event.cloud_id, []).append(event.jira_timestamp)
        history = _webhook_history(payload, event)
        if history is not None:
            flat.add_histories(str(issue["id"]), [history])
    if not columns:
        empty = IssueColumns("", synced_at.isoformat())
        columns, times = {"": empty}, {"": []}
    issues = pa.concat_tables([c.issues_table() for c in columns.values()])
    changelog = pa.concat_tables([c.changelog_table() for c in columns.values()])
    event_times = pa.array([t for cloud in columns for t in times[cloud]], type=pa.timestamp("us", tz="UTC"))
    return issues, changelog, event_times


def _webhook_history(payload: Mapping[str, Any], event: InboxEvent) -> History | None:
    """The delivery's `changelog` as a REST history: same id and items; author and time from the envelope."""
    changelog = payload.get("changelog")
    if not isinstance(changelog, dict) or changelog.get("id") is None or not changelog.get("items"):
        return None
    return history_from_json(
        {
            "id": changelog["id"],
            "author": payload.get("user") or {},
            "created": event.jira_timestamp,
            "items": changelog["items"],
        }
    )


def _deletions_table(events: Iterable[InboxEvent]) -> pa.Table:
    rows = []
    for event in events:
        if event.event != DELETE_EVENT or not event.issue_id:
            continue
        fields = (event.payload().get("issue") or {}).get("fields") or {}
        rows.append(
            {
                "cloud_id": event.cloud_id,
                "id": event.issue_id,
                "detected_at": event.jira_timestamp,
                "key": event.issue_key,
                "project_key": (fields.get("project") or {}).get("key"),
                "reason": "webhook",
                "detail": f"jira:issue_deleted delivery {event.identifier}",
            }
        )
    return pa.Table.from_pylist(rows, schema=SCHEMAS["issue_deletions"])


def _issue_scopes_by_cloud(con: Warehouse, config: SyncConfig) -> dict[str, IssueScope]:
    """Each site's `issues` settings (custom fields, Sprint field) per cloud ID (sites map names to
    cloud IDs through jira_raw.sites)."""
    by_name = {(t.id, s.name): s for t, s in config.iter_sites()}
    result = {s.cloud_id: s.issues for s in by_name.values() if s.cloud_id}
    if _exists(con, "jira_raw", "sites"):
        for cloud_id, tenant_id, name in con.execute(
            "SELECT cloud_id, tenant_id, name FROM jira_raw.sites"
        ).fetchall():
            site = by_name.get((tenant_id, name))
            if site is not None:
                result[cloud_id] = site.issues
    return result


def _insert_select(con: Warehouse, table: str, source: str, load_id: str) -> str:
    """`(cols) SELECT ...` for a dlt-made jira_raw table: shared columns, plus dlt's bookkeeping ones."""
    target = con.execute(
        "SELECT column_name, is_nullable = 'YES' FROM information_schema.columns "
        "WHERE table_schema = 'jira_raw' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    available = set(relation_columns(con, source))
    names, values = [], []
    for name, nullable in target:
        if name in available:
            names.append(name)
            values.append(f'{source}."{name}"')
        elif name == "_dlt_load_id":
            names.append(name)
            values.append(f"'{load_id}'")
        elif name == "_dlt_id":
            names.append(name)
            values.append("substr(replace(CAST(uuid() AS VARCHAR), '-', ''), 1, 14)")
        elif not nullable:
            raise RuntimeError(f"jira_raw.{table}.{name} is NOT NULL and webhook rows have no value for it")
    cols = ", ".join(f'"{n}"' for n in names)
    return f"({cols}) SELECT {', '.join(values)} FROM {source}"


def _exists(con: Warehouse, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def _count(con: Warehouse, relation: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0])
