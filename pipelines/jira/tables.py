"""The `jira_raw` tables as dlt sees them: Arrow schemas (stable types) and merge hints, derived
from the table registry (`pipelines/registry.py`).

Timestamps are UTC `timestamp[us, tz=UTC]`; ids are strings; JSON columns hold JSON text
(DuckDB's JSON functions read it directly). Key columns are never null.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from pipelines.registry import BY_NAME, TABLES, TIMESTAMP, Table

TS = TIMESTAMP.arrow
S = pa.string()


def _arrow_schema(table: Table) -> pa.Schema:
    required = set(table.required_columns)
    return pa.schema([pa.field(c.name, c.type.arrow, nullable=c.name not in required) for c in table.columns])


def _hints(table: Table) -> dict[str, Any]:
    """dlt hints. A table with a merge key gets no primary_key hint: dlt's delete-insert deletes
    where `primary key matches OR merge key matches`, and DuckDB runs that OR as a nested loop
    (25 s for 10k rows, quadratic). Loads are made unique by key in the source instead.
    """
    disposition: Any = table.disposition
    if disposition == "insert-only":  # a change seen again keeps its first row (detected_at)
        disposition = {"disposition": "merge", "strategy": "insert-only"}
    hints: dict[str, Any] = {"write_disposition": disposition}
    if table.merge_key:
        hints["merge_key"] = table.merge_key
    else:
        hints["primary_key"] = table.key
    columns: dict[str, dict[str, Any]] = {}
    if table.hard_delete:
        columns[table.hard_delete] = {"hard_delete": True}
    if table.dedup_sort:
        columns[table.dedup_sort] = {"dedup_sort": "desc"}
    if columns:
        hints["columns"] = columns
    return hints


SCHEMAS: dict[str, pa.Schema] = {t.name: _arrow_schema(t) for t in TABLES}
HINTS: dict[str, dict[str, Any]] = {t.name: _hints(t) for t in TABLES if t.disposition != "sql"}


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
    key = BY_NAME[table].key
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
