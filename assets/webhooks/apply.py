"""Applying a batch of webhook deliveries to the drain's own raw tables, in the caller's
transaction (DuckDB or PostgreSQL: the same SQL, see assets/warehouse).

The drain writes only its tables; the REST loads' `jira_raw.issues` / `issue_changelog` and the
census' `issue_deletions` are never touched, and neither is `jira.issues`: the transforms derive
the current state from all of them (pipelines/current_state.py). Every step is idempotent, so a
batch replayed after a crash (warehouse committed, inbox not yet marked) ends in the same state:
1. raw events into `jira_raw.webhook_events` (primary key cloud_id, webhook_identifier); its
   `jira:issue_deleted` rows are the webhook deletions;
2. created/updated: each issue's newest delivery (highest `updated`, then the latest event),
   flattened with the REST flattener, replaces the issue's `jira_raw.webhook_issues` row only when
   it is newer than that row;
3. the deliveries' changelog items go into `jira_raw.webhook_changelog` by primary key.
After its batches a drain prunes the issue rows the REST load has overtaken (`prune_superseded`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from assets.core.raw_views import create_table_sql
from assets.core.sql import transaction
from assets.warehouse import Warehouse, is_postgres, relation_columns, table_exists
from pipelines import registry
from pipelines.config import SyncConfig
from pipelines.config_sites import IssueScope
from pipelines.current_state import DELETE_EVENT
from pipelines.inbox.events import InboxEvent
from pipelines.jira.helpers import IssueColumns
from pipelines.jira.pages import History, history_from_json, issue_from_json
from pipelines.jira.tables import SCHEMAS
from pipelines.registry import DATASET

UPSERT_EVENTS = frozenset({"jira:issue_created", "jira:issue_updated"})
DRAIN_TABLES = tuple(t.name for t in registry.TABLES if t.source == registry.WEBHOOK_SOURCE)
TABLES_DDL = f"CREATE SCHEMA IF NOT EXISTS {DATASET}; " + "; ".join(
    create_table_sql(registry.table(name)) for name in DRAIN_TABLES
)
_EVENTS_SCHEMA = SCHEMAS["webhook_events"]


@dataclass
class ApplySummary:
    """What one batch did (run metadata)."""

    events: int = 0
    new_events: int = 0
    upserted: int = 0
    stale_skipped: int = 0
    changelog_rows: int = 0
    deletions: int = 0

    def add(self, other: ApplySummary) -> None:
        for name in ("events", "new_events", "upserted", "stale_skipped", "changelog_rows", "deletions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def apply_events(con: Warehouse, events: Sequence[InboxEvent], config: SyncConfig) -> ApplySummary:
    """Apply `events` (any order, replays allowed) inside the caller's open transaction."""
    summary = ApplySummary(events=len(events))
    if is_postgres(con):
        # drains may claim inbox batches at the same time; their applies take turns (each replaces
        # an issue's row by delete + insert, which two transactions interleaving would duplicate)
        con.native("SELECT pg_advisory_xact_lock(hashtext('jira_sync.webhook_apply'))")
    con.execute(TABLES_DDL)
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
    summary.deletions = sum(1 for e in events if e.event == DELETE_EVENT and e.issue_id)

    synced_at = datetime.now(UTC)
    issues, changelog = _flatten(events, _issue_scopes_by_cloud(con, config), synced_at)
    if issues.num_rows:
        con.register("incoming_issues", issues)
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE webhook_issue_rows AS
            SELECT * FROM incoming_issues
            QUALIFY row_number() OVER (
                PARTITION BY cloud_id, id ORDER BY updated DESC NULLS LAST, event_at DESC
            ) = 1
            """
        )
        con.unregister("incoming_issues")
        candidates = _count(con, "webhook_issue_rows")
        con.execute(
            """
            DELETE FROM webhook_issue_rows AS r
            USING jira_raw.webhook_issues AS w
            WHERE w.cloud_id = r.cloud_id AND w.id = r.id
                AND (w.updated > r.updated OR (w.updated = r.updated AND w.event_at >= r.event_at))
            """
        )
        summary.upserted = _count(con, "webhook_issue_rows")
        summary.stale_skipped = candidates - summary.upserted
        con.execute(
            """
            DELETE FROM jira_raw.webhook_issues AS w
            USING webhook_issue_rows AS r
            WHERE w.cloud_id = r.cloud_id AND w.id = r.id
            """
        )
        con.execute(
            f"INSERT INTO jira_raw.webhook_issues {_insert_select(con, 'webhook_issues', 'webhook_issue_rows')}"
        )
        con.execute("DROP TABLE webhook_issue_rows")

    if changelog.num_rows:
        before = _count(con, "jira_raw.webhook_changelog")
        con.register("incoming_changelog", changelog)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE webhook_changelog_rows AS "
            "SELECT DISTINCT ON (cloud_id, history_id, item_index) * FROM incoming_changelog"
        )
        con.unregister("incoming_changelog")
        con.execute(
            f"INSERT INTO jira_raw.webhook_changelog "
            f"{_insert_select(con, 'webhook_changelog', 'webhook_changelog_rows')} ON CONFLICT DO NOTHING"
        )
        con.execute("DROP TABLE webhook_changelog_rows")
        summary.changelog_rows = _count(con, "jira_raw.webhook_changelog") - before
    return summary


def prune_superseded(con: Warehouse) -> int:
    """Delete the drain's issue rows that the REST load has overtaken (its `updated` is newer): such a
    delivery can never be the newest again (Jira's `updated` only grows), so the current state is
    the same without it and reads fewer rows. Returns how many rows went."""
    if not (table_exists(con, DATASET, "webhook_issues") and table_exists(con, DATASET, "issues")):
        return 0
    before = _count(con, "jira_raw.webhook_issues")
    with transaction(con):
        con.execute(
            """
            DELETE FROM jira_raw.webhook_issues AS w
            USING jira_raw.issues AS l
            WHERE l.cloud_id = w.cloud_id AND l.id = w.id AND CAST(l.updated AS TIMESTAMPTZ) > w.updated
            """
        )
    return before - _count(con, "jira_raw.webhook_issues")


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
) -> tuple[pa.Table, pa.Table]:
    """Issue rows (with the delivery's time and identifier) and changelog rows of the
    created/updated events."""
    columns: dict[str, IssueColumns] = {}
    delivered: dict[str, list[InboxEvent]] = {}
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
        delivered.setdefault(event.cloud_id, []).append(event)
        history = _webhook_history(payload, event)
        if history is not None:
            flat.add_histories(str(issue["id"]), [history])
    if not columns:
        empty = IssueColumns("", synced_at.isoformat())
        columns, delivered = {"": empty}, {"": []}
    issues = pa.concat_tables([c.issues_table() for c in columns.values()])
    changelog = pa.concat_tables([c.changelog_table() for c in columns.values()])
    in_order = [e for cloud in columns for e in delivered[cloud]]
    issues = issues.append_column(
        "event_at", pa.array([e.jira_timestamp for e in in_order], type=pa.timestamp("us", tz="UTC"))
    ).append_column("webhook_identifier", pa.array([e.identifier for e in in_order], type=pa.string()))
    return issues, changelog


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


def _issue_scopes_by_cloud(con: Warehouse, config: SyncConfig) -> dict[str, IssueScope]:
    """Each site's `issues` settings (custom fields, Sprint field) per cloud ID (sites map names to
    cloud IDs through jira_raw.sites)."""
    by_name = {(t.id, s.name): s for t, s in config.iter_sites()}
    result = {s.cloud_id: s.issues for s in by_name.values() if s.cloud_id}
    if table_exists(con, "jira_raw", "sites"):
        for cloud_id, tenant_id, name in con.execute(
            "SELECT cloud_id, tenant_id, name FROM jira_raw.sites"
        ).fetchall():
            site = by_name.get((tenant_id, name))
            if site is not None:
                result[cloud_id] = site.issues
    return result


def _insert_select(con: Warehouse, table: str, source: str) -> str:
    """`(cols) SELECT ...` of a drain table's registered columns that `source` has, cast to their
    types (JSON arrives as text)."""
    available = set(relation_columns(con, source))
    columns = [c for c in registry.table(table).columns if c.name in available]
    names = ", ".join(f'"{c.name}"' for c in columns)
    values = ", ".join(f'CAST("{c.name}" AS {c.type.duckdb})' for c in columns)
    return f"({names}) SELECT {values} FROM {source}"


def _count(con: Warehouse, relation: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0])
