"""The `jira_raw` tables: explicit Arrow schemas (stable types) and dlt merge hints.

Keys follow docs/architecture.md. Timestamps are UTC `timestamp[us, tz=UTC]`; ids are strings;
`labels` and `extra_fields` hold JSON text (DuckDB's JSON functions read it directly).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")
S = pa.string()


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, dtype) for name, dtype in fields])


SCHEMAS: dict[str, pa.Schema] = {
    "sites": _schema(("cloud_id", S), ("tenant_id", S), ("name", S), ("url", S)),
    "issues": _schema(
        ("cloud_id", S),
        ("id", S),
        ("key", S),
        ("project_id", S),
        ("project_key", S),
        ("issue_type_id", S),
        ("issue_type_name", S),
        ("status_id", S),
        ("status_name", S),
        ("status_category_key", S),
        ("priority_name", S),
        ("resolution_name", S),
        ("summary", S),
        ("parent_id", S),
        ("parent_key", S),
        ("assignee_account_id", S),
        ("reporter_account_id", S),
        ("creator_account_id", S),
        ("labels", S),
        ("created", TS),
        ("updated", TS),
        ("resolved", TS),
        ("status_category_changed", TS),
        ("due_date", pa.date32()),
        ("changelog_total", pa.int64()),
        ("extra_fields", S),
        ("synced_at", TS),
        ("deleted", pa.bool_()),
    ),
    "issue_changelog": _schema(
        ("cloud_id", S),
        ("history_id", S),
        ("item_index", pa.int64()),
        ("issue_id", S),
        ("author_account_id", S),
        ("created", TS),
        ("field", S),
        ("field_id", S),
        ("field_type", S),
        ("from_id", S),
        ("from_string", S),
        ("to_id", S),
        ("to_string", S),
        ("deleted", pa.bool_()),
    ),
    "projects": _schema(
        ("cloud_id", S),
        ("id", S),
        ("key", S),
        ("name", S),
        ("project_type_key", S),
        ("style", S),
        ("simplified", pa.bool_()),
        ("archived", pa.bool_()),
        ("category_name", S),
        ("lead_account_id", S),
    ),
    "issue_types": _schema(
        ("cloud_id", S),
        ("id", S),
        ("name", S),
        ("description", S),
        ("subtask", pa.bool_()),
        ("hierarchy_level", pa.int64()),
        ("scope_project_id", S),
    ),
    "statuses": _schema(
        ("cloud_id", S),
        ("id", S),
        ("name", S),
        ("status_category_id", S),
        ("status_category_key", S),
        ("scope_project_id", S),
    ),
    "status_categories": _schema(("cloud_id", S), ("id", S), ("key", S), ("name", S), ("color_name", S)),
    "users": _schema(
        ("cloud_id", S),
        ("account_id", S),
        ("account_type", S),
        ("display_name", S),
        ("email_address", S),
        ("active", pa.bool_()),
        ("time_zone", S),
        ("locale", S),
    ),
    "groups": _schema(("cloud_id", S), ("group_id", S), ("name", S)),
    "group_members": _schema(("cloud_id", S), ("group_id", S), ("account_id", S)),
    "teams": _schema(
        ("organization_id", S),
        ("team_id", S),
        ("cloud_id", S),
        ("display_name", S),
        ("description", S),
        ("state", S),
        ("team_type", S),
    ),
    "team_members": _schema(("organization_id", S), ("team_id", S), ("account_id", S)),
    "issue_updates": _schema(("cloud_id", S), ("id", S), ("updated", TS), ("detected_at", TS), ("run_id", S)),
    "issue_deletions": _schema(
        ("cloud_id", S),
        ("id", S),
        ("detected_at", TS),
        ("key", S),
        ("project_key", S),
        ("reason", S),
        ("detail", S),
    ),
    "project_access": _schema(
        ("cloud_id", S),
        ("project_key", S),
        ("checked_at", TS),
        ("status", S),
        ("issues_in_warehouse", pa.int64()),
    ),
}

# Logical primary keys (docs/architecture.md): unique by construction in every load.
KEYS: dict[str, tuple[str, ...]] = {
    "sites": ("cloud_id",),
    "issues": ("cloud_id", "id"),
    "issue_changelog": ("cloud_id", "history_id", "item_index"),
    "projects": ("cloud_id", "id"),
    "issue_types": ("cloud_id", "id"),
    "statuses": ("cloud_id", "id"),
    "status_categories": ("cloud_id", "id"),
    "users": ("cloud_id", "account_id"),
    "groups": ("cloud_id", "group_id"),
    "group_members": ("cloud_id", "group_id", "account_id"),
    "teams": ("organization_id", "team_id"),
    "team_members": ("organization_id", "team_id", "account_id"),
    "issue_updates": ("cloud_id", "id", "updated"),
    "issue_deletions": ("cloud_id", "id", "detected_at"),
    "project_access": ("cloud_id", "project_key", "checked_at"),
}
# Merge keys: a load replaces every row sharing the key (a site's snapshot, an issue's changelog).
MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "issue_changelog": ("cloud_id", "issue_id"),
    **{t: ("cloud_id",) for t in ("projects", "issue_types", "statuses", "status_categories", "users")},
    **{t: ("cloud_id",) for t in ("groups", "group_members")},
    "teams": ("organization_id",),
    "team_members": ("organization_id",),
}
_COLUMN_HINTS: dict[str, dict[str, Any]] = {
    "issues": {"deleted": {"hard_delete": True}, "updated": {"dedup_sort": "desc"}},
    # A row with deleted=True (the census' tombstone for an issue) removes the issue's changelog.
    "issue_changelog": {"deleted": {"hard_delete": True}},
}
_DISPOSITION: dict[str, Any] = {
    # insert-only: a change seen again in the next sweep's overlap keeps its first detected_at.
    "issue_updates": {"disposition": "merge", "strategy": "insert-only"},
    "issue_deletions": "append",
    "project_access": "append",
}


def _hints(table: str) -> dict[str, Any]:
    """dlt hints. A table with a merge key gets no primary_key hint: dlt's delete-insert deletes
    where `primary key matches OR merge key matches`, and DuckDB runs that OR as a nested loop
    (25 s for 10k rows, quadratic). Loads are made unique by key in the source instead.
    """
    hints: dict[str, Any] = {"write_disposition": _DISPOSITION.get(table, "merge")}
    if table in MERGE_KEYS:
        hints["merge_key"] = MERGE_KEYS[table]
    else:
        hints["primary_key"] = KEYS[table]
    if table in _COLUMN_HINTS:
        hints["columns"] = _COLUMN_HINTS[table]
    return hints


HINTS: dict[str, dict[str, Any]] = {table: _hints(table) for table in KEYS}

# Key columns are never null; the Arrow schemas say so.
for _table, _schema_of_table in list(SCHEMAS.items()):
    _keys = set(KEYS[_table]) | set(MERGE_KEYS.get(_table, ()))
    SCHEMAS[_table] = pa.schema([f.with_nullable(f.name not in _keys) for f in _schema_of_table])


def empty_columns(table: str) -> dict[str, list]:
    return {name: [] for name in SCHEMAS[table].names}


def to_arrow(table: str, columns: dict[str, list]) -> pa.Table:
    """Column lists to an Arrow table of the table's schema (timestamps cast from Jira's strings)."""
    schema = SCHEMAS[table]
    arrays = []
    for field in schema:
        values = columns[field.name]
        if field.type == TS:
            arrays.append(timestamps(values))
        elif field.type == pa.date32():
            arrays.append(pa.array(values, type=S).cast(pa.date32()))  # Jira dates are yyyy-MM-dd
        else:
            arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def from_rows(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows to an Arrow table, unique by the table's key (the last row of a key wins)."""
    key = KEYS[table]
    unique = {tuple(row.get(k) for k in key): row for row in rows}
    columns = empty_columns(table)
    for row in unique.values():
        for name, values in columns.items():
            values.append(row.get(name))
    return to_arrow(table, columns)


def timestamps(values: list) -> pa.Array:
    """Jira timestamps (`2019-02-15T19:01:52.971-0800`, datetimes or epoch ms) to UTC microseconds."""
    if values and all(isinstance(v, str) or v is None for v in values):
        try:
            return pa.array(values, type=S).cast(TS)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return pa.array([_timestamp(v) for v in values], type=TS)


def _timestamp(value: Any) -> Any:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 100_000_000_000 else value
        return datetime.fromtimestamp(seconds, UTC)
    text = str(value).replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
