"""Row-count and column-schema metadata for every `jira_raw` materialization.

dagster-dlt's own `fetch_row_count()` fails on a table that received no rows in a run (it reads the
table name from the first load job), which is normal here (a month without changelogs, a sweep
that found nothing), so the counts are taken from the destination directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import dlt

from assets.raw.catalog import registered_column_schema
from pipelines import registry
from pipelines.jira.client import HttpStats


def table_row_count(pipeline: dlt.Pipeline, table: str) -> int:
    """Rows in `jira_raw.<table>` now (0 when the table does not exist yet)."""
    with pipeline.sql_client() as client:
        if not client.has_dataset():
            return 0
        qualified = client.make_qualified_table_name(table)
        try:
            rows = client.execute_sql(f"SELECT count(*) FROM {qualified}")
        except Exception as exc:  # the table is created by the first load that has rows for it
            if "does not exist" in str(exc) or "not found" in str(exc).lower():
                return 0
            raise
    return int(rows[0][0]) if rows else 0


def column_schema(pipeline: dlt.Pipeline, table: str) -> dg.TableSchema:
    """The table's columns as the destination has them, described and constrained by the registry.

    Read from the destination, not from `pipeline.default_schema`: dagster-dlt's own metadata
    extraction pops the keys of dlt's in-memory column dicts, leaving that schema empty. A table
    the destination does not have yet is described from the registry alone.
    """
    with pipeline.sql_client() as client:
        try:
            rows = client.execute_sql(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                client.dataset_name,
                table,
            )
        except Exception:
            rows = []
    stored = {
        str(name): str(data_type).lower() for name, data_type in rows or [] if not name.startswith("_dlt")
    }
    return registered_column_schema(registry.table(table), stored or None)


def rows_loaded(pipeline: dlt.Pipeline, table: str) -> int:
    trace = pipeline.last_trace
    if trace is None or trace.last_normalize_info is None:
        return 0
    return int(trace.last_normalize_info.row_counts.get(table, 0))


def table_metadata(pipeline: dlt.Pipeline, table: str) -> dict[str, Any]:
    """`dagster/row_count` (whole table), `dagster/column_schema`, rows loaded by this run."""
    return {
        "dagster/row_count": dg.MetadataValue.int(table_row_count(pipeline, table)),
        "dagster/column_schema": column_schema(pipeline, table),
        "dagster/table_name": f"{pipeline.dataset_name}.{table}",
        "rows_loaded": dg.MetadataValue.int(rows_loaded(pipeline, table)),
    }


# Rows of a partitioned table per partition: an issue belongs to the month it was created in, a
# changelog row to its issue's month.
_PARTITION_ROWS_SQL = {
    "issues": "SELECT w.partition_key, count(t.id) FROM {windows} LEFT JOIN {issues} AS t "
    "ON t.created >= w.window_start AND t.created < w.window_end GROUP BY w.partition_key",
    "issue_changelog": "SELECT w.partition_key, count(c.issue_id) FROM {windows} LEFT JOIN ("
    "SELECT i.created, c.issue_id FROM {changelog} AS c JOIN {issues} AS i "
    "ON i.cloud_id = c.cloud_id AND i.id = c.issue_id) AS c "
    "ON c.created >= w.window_start AND c.created < w.window_end GROUP BY w.partition_key",
}


def _timestamp(moment: datetime) -> str:
    return f"CAST('{moment.astimezone(UTC).isoformat()}' AS TIMESTAMP WITH TIME ZONE)"


def partition_row_counts(
    pipeline: dlt.Pipeline, table: str, windows: Mapping[str, dg.TimeWindow]
) -> dict[str, int]:
    """Rows of `table` in each partition's window now (what `dagster/partition_row_count` means)."""
    if not windows:
        return {}
    values = ", ".join(
        f"('{key}', {_timestamp(window.start)}, {_timestamp(window.end)})" for key, window in windows.items()
    )
    with pipeline.sql_client() as client:
        if not client.has_dataset():
            return dict.fromkeys(windows, 0)
        sql = _PARTITION_ROWS_SQL[table].format(
            windows=f"(VALUES {values}) AS w (partition_key, window_start, window_end)",
            issues=client.make_qualified_table_name("issues"),
            changelog=client.make_qualified_table_name("issue_changelog"),
        )
        try:
            rows = client.execute_sql(sql) or []
        except Exception as exc:  # the first load with rows creates the tables
            if "does not exist" in str(exc) or "not found" in str(exc).lower():
                return dict.fromkeys(windows, 0)
            raise
    counts = dict.fromkeys(windows, 0)
    counts.update({str(key): int(count) for key, count in rows})
    return counts


def http_metadata(stats: HttpStats) -> dict[str, Any]:
    """Requests, retries and throttling of the step (counts only: no URL, no credential)."""
    counts = stats.as_dict()
    return {
        "http_requests": dg.MetadataValue.int(counts["requests"]),
        "http_retries": dg.MetadataValue.int(counts["retries"]),
        "http_throttled": dg.MetadataValue.int(counts["throttled"]),
        "http_by_status": dg.MetadataValue.json(counts["by_status"]),
        **(
            {"http_quota_points": dg.MetadataValue.int(int(counts["quota"]["points"]))}
            if "quota" in counts
            else {}
        ),
    }


def run_scoped(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Figures of the whole run, named so on each partition's materialization (`run_...`)."""
    return {key if key.startswith("dagster/") else f"run_{key}": value for key, value in metadata.items()}


def with_table_metadata(
    events: Iterable[dg.MaterializeResult],
    pipeline: dlt.Pipeline,
    *,
    stats: HttpStats | None = None,
    extra: Mapping[str, Any] | None = None,
    context: dg.AssetExecutionContext | None = None,
) -> Iterator[dg.MaterializeResult]:
    """dagster-dlt's materializations, with counts that work for empty tables and the run's HTTP stats.

    The events are lazy (the load runs on the first one), so the HTTP stats are read per event.
    With the `context` of a partitioned step, each partition gets its own
    `dagster/partition_row_count`, and what the run did as a whole (rows loaded, requests) is
    named `run_...`: one range run materializes every partition of the range.
    """
    partitioned = context is not None and (context.has_partition_key or context.has_partition_key_range)
    windows = partition_windows(context) if partitioned and context is not None else {}
    for event in events:
        key = event.asset_key
        table = key.path[-1] if key else None
        metadata = dict(event.metadata or {})
        metadata.pop("jobs", None)  # per-file load-job details: noise in the UI
        if table:
            metadata.update(table_metadata(pipeline, table))
        metadata.update(extra or {})
        if stats is not None:
            metadata.update(http_metadata(stats))
        if windows and context is not None and table:
            for partition_key, count in partition_row_counts(pipeline, table, windows).items():
                context.add_asset_metadata(
                    {"dagster/partition_row_count": dg.MetadataValue.int(count)},
                    asset_key=key,
                    partition_key=partition_key,
                )
            metadata = run_scoped(metadata)
            metadata["run_partitions"] = dg.MetadataValue.int(len(windows))
        yield event._replace(metadata=metadata)


def partition_windows(context: dg.AssetExecutionContext) -> dict[str, dg.TimeWindow]:
    """Each partition of the step's range with its time window."""
    partitions = context.assets_def.partitions_def
    assert isinstance(partitions, dg.TimeWindowPartitionsDefinition)
    return {key: partitions.time_window_for_partition_key(key) for key in context.partition_keys}
