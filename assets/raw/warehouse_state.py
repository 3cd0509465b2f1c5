"""What the sweep and the census read back from `jira_raw` before they fetch."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import dlt

from pipelines.jira import WarehouseIssue


def _query(pipeline: dlt.Pipeline, sql_template: str) -> list[tuple]:
    """Rows of a query on `jira_raw.issues`; none when the dataset or table does not exist yet."""
    with pipeline.sql_client() as client:
        if not client.has_dataset():
            return []
        table = client.make_qualified_table_name("issues")
        try:
            return [tuple(row) for row in client.execute_sql(sql_template.format(issues=table)) or []]
        except Exception as exc:
            if "does not exist" in str(exc) or "not found" in str(exc).lower():
                return []
            raise


def issue_watermarks(pipeline: dlt.Pipeline) -> dict[str, datetime]:
    """Per site (cloud_id), the latest `updated` the warehouse holds: seeds the sweep's watermark."""
    rows = _query(pipeline, "SELECT cloud_id, max(updated) FROM {issues} GROUP BY cloud_id")
    return {str(cloud_id): updated for cloud_id, updated in rows if updated is not None}


def warehouse_issues(pipeline: dlt.Pipeline) -> dict[str, list[WarehouseIssue]]:
    """Per site, every issue the warehouse holds (id, key, project_key): the census compares these."""
    by_site: dict[str, list[WarehouseIssue]] = defaultdict(list)
    for cloud_id, issue_id, key, project_key in _query(
        pipeline, "SELECT cloud_id, id, key, project_key FROM {issues}"
    ):
        by_site[str(cloud_id)].append(WarehouseIssue(str(issue_id), key, project_key))
    return dict(by_site)
