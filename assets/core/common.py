"""Names shared by the transform areas: groups, raw asset keys, the SQL package."""

from __future__ import annotations

import dagster as dg

CORE_GROUP = "jira"
ANALYTICS_GROUP = "analytics"
PUBLISH_GROUP = "publish"
KINDS = {"duckdb", "sql"}


def raw_key(table: str) -> dg.AssetKey:
    """The asset key of a `jira_raw` table (assets/raw)."""
    return dg.AssetKey(["jira_raw", table])


def core_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["jira", table])


def analytics_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["analytics", table])
