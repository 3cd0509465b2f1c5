"""What the sweep, the census and the worklog load read back from `jira_raw` before they fetch."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import dlt

from pipelines.current_state import DELETION_SOURCES, current_issues_sql
from pipelines.jira import WarehouseIssue


def _query(pipeline: dlt.Pipeline, sql_template: str, table: str = "issues") -> list[tuple]:
    """Rows of a query on `jira_raw.<table>` (`{table}` in the template); none when the dataset or
    table does not exist yet."""
    with pipeline.sql_client() as client:
        if not client.has_dataset():
            return []
        qualified = client.make_qualified_table_name(table)
        try:
            return [tuple(row) for row in client.execute_sql(sql_template.format(table=qualified)) or []]
        except Exception as exc:
            if "does not exist" in str(exc) or "not found" in str(exc).lower():
                return []
            raise


def latest_updated(pipeline: dlt.Pipeline, table: str = "issues") -> dict[str, datetime]:
    """Per site (cloud_id), the latest `updated` of `jira_raw.<table>`: seeds a lost watermark."""
    rows = _query(pipeline, "SELECT cloud_id, max(updated) FROM {table} GROUP BY cloud_id", table)
    return {str(cloud_id): updated for cloud_id, updated in rows if updated is not None}


def warehouse_issues(pipeline: dlt.Pipeline) -> dict[str, list[WarehouseIssue]]:
    """Per site, every issue the warehouse holds now (id, key, project_key): the current state of
    the REST loads and the webhook drain, deletions seen left out. The census compares these."""
    with pipeline.sql_client() as client:
        if not client.has_dataset():
            return {}
        dataset = client.dataset_name.replace("'", "''")
        present = {
            name
            for (name,) in client.execute_sql(
                f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{dataset}'"
            )
            or []
        }
        sources = {
            table: client.make_qualified_table_name(table) if table in present else None
            for table in ("issues", "webhook_issues", *DELETION_SOURCES)
        }
        query = current_issues_sql(["cloud_id", "id", "key", "project_key", "updated"], sources)
        rows = (client.execute_sql(query) or []) if sources["issues"] or sources["webhook_issues"] else []
        by_site: dict[str, list[WarehouseIssue]] = defaultdict(list)
        for cloud_id, issue_id, key, project_key, _ in rows:
            by_site[str(cloud_id)].append(WarehouseIssue(str(issue_id), key, project_key))
    return dict(by_site)
