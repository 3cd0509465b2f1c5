"""Names shared by the transform areas: groups, raw asset keys, the SQL package."""

from __future__ import annotations

import dagster as dg

from pipelines import registry
from pipelines.current_state import CURRENT_STATE_VIEWS

CORE_GROUP = "jira"
ANALYTICS_GROUP = "analytics"
PUBLISH_GROUP = "publish"
KINDS = {"duckdb", "sql"}


def raw_key(table: str) -> dg.AssetKey:
    """The asset key of a `jira_raw` table (assets/raw)."""
    return dg.AssetKey(["jira_raw", table])


def issue_table_deps(table: str) -> list[dg.AssetKey]:
    """Every asset that writes a table the current `raw_<table>` (issues or issue_changelog) is
    derived from (the REST loads, the sweep, the census, the webhook drain): selections
    (`key:"jira_raw/issue_updates"+`) and automation follow each of them."""
    tables = CURRENT_STATE_VIEWS[table] + (CURRENT_STATE_VIEWS["issues"] if table != "issues" else ())
    writers = dict.fromkeys(w for name in tables for w in registry.table(name).writers)
    return [dg.AssetKey(w.split("/")) for w in writers]


def core_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["jira", table])


def analytics_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["analytics", table])
