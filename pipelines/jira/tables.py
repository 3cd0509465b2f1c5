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


def _key_columns(hints: dict[str, Any]) -> set[str]:
    keys: set[str] = set()
    for hint in ("primary_key", "merge_key"):
        value = hints.get(hint) or ()
        keys.update((value,) if isinstance(value, str) else value)
    return keys


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

_SITE_SNAPSHOT = {"write_disposition": "merge", "merge_key": "cloud_id"}
_HARD_DELETE = {"deleted": {"hard_delete": True}}

# dlt hints per table (primary key, merge key, write disposition, column hints).
HINTS: dict[str, dict[str, Any]] = {
    "sites": {"primary_key": "cloud_id", "write_disposition": "merge"},
    "issues": {
        "primary_key": ("cloud_id", "id"),
        "write_disposition": "merge",
        "columns": {
            **_HARD_DELETE,
            "updated": {"dedup_sort": "desc"},
        },
    },
    # merge_key (cloud_id, issue_id): a load replaces an issue's whole changelog; a row with
    # deleted=True (the census' tombstone) removes it.
    "issue_changelog": {
        "primary_key": ("cloud_id", "history_id", "item_index"),
        "merge_key": ("cloud_id", "issue_id"),
        "write_disposition": "merge",
        "columns": _HARD_DELETE,
    },
    "projects": {"primary_key": ("cloud_id", "id"), **_SITE_SNAPSHOT},
    "issue_types": {"primary_key": ("cloud_id", "id"), **_SITE_SNAPSHOT},
    "statuses": {"primary_key": ("cloud_id", "id"), **_SITE_SNAPSHOT},
    "status_categories": {"primary_key": ("cloud_id", "id"), **_SITE_SNAPSHOT},
    "users": {"primary_key": ("cloud_id", "account_id"), **_SITE_SNAPSHOT},
    "groups": {"primary_key": ("cloud_id", "group_id"), **_SITE_SNAPSHOT},
    "group_members": {"primary_key": ("cloud_id", "group_id", "account_id"), **_SITE_SNAPSHOT},
    "teams": {
        "primary_key": ("organization_id", "team_id"),
        "write_disposition": "merge",
        "merge_key": "organization_id",
    },
    "team_members": {
        "primary_key": ("organization_id", "team_id", "account_id"),
        "write_disposition": "merge",
        "merge_key": "organization_id",
    },
    # insert-only: a change seen again in the next sweep's overlap keeps its first detected_at.
    "issue_updates": {
        "primary_key": ("cloud_id", "id", "updated"),
        "write_disposition": {"disposition": "merge", "strategy": "insert-only"},
    },
    "issue_deletions": {"primary_key": ("cloud_id", "id", "detected_at"), "write_disposition": "append"},
    "project_access": {
        "primary_key": ("cloud_id", "project_key", "checked_at"),
        "write_disposition": "append",
    },
}


# Key columns are NOT NULL in dlt's schema; the Arrow schemas say so too, so both agree.
for _table, _schema_of_table in list(SCHEMAS.items()):
    _keys = _key_columns(HINTS[_table])
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
    columns = empty_columns(table)
    for row in rows:
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
