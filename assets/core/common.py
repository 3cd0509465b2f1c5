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


# The issues tables belong to the partitioned backfill (`jira_raw/issues`, `jira_raw/issue_changelog`),
# but the sweep, the census and the webhook drain write them too: whatever reads them depends on
# all of these, so selections (`key:"jira_raw/issue_updates"+`) and automation follow every writer.
ISSUE_TABLE_WRITERS = ("issue_updates", "issue_deletions", "webhook_events")


def issue_table_deps(table: str) -> list[dg.AssetKey]:
    """`jira_raw/<table>` (issues or issue_changelog) and every asset that also writes that table."""
    return [raw_key(table), *(raw_key(writer) for writer in ISSUE_TABLE_WRITERS)]


def core_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["jira", table])


def analytics_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["analytics", table])
