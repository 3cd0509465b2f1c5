"""Compare every `jira_raw` table with the simulator's ground truth, per site and organization.

The truth names its tables as `jira_raw` does and identifies rows the same way (composite ids are
`"<history_id>:<item_index>"`, `"<group_id>:<account_id>"`, `"<team_id>:<account_id>"`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.registry import TABLES

# table -> SQL expression of the row id the truth uses, per scope of the truth (registry.Truth)
SITE_TABLES: dict[str, str] = {t.name: t.truth.row_id for t in TABLES if t.truth and t.truth.scope == "site"}
ORGANIZATION_TABLES: dict[str, str] = {
    t.name: t.truth.row_id for t in TABLES if t.truth and t.truth.scope == "organization"
}
# Truth the transforms derive (schema.table -> row id): sprint membership is the issues' Sprint field.
DERIVED_SITE_TABLES: dict[str, str] = {"jira.issue_sprints": "sprint_id || ':' || issue_id"}


@dataclass
class TableCheck:
    table: str
    owner: str  # "site <name>" or "organization <id>"
    warehouse: int
    truth: int
    missing: list[str]
    extra: list[str]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.extra and self.warehouse == self.truth

    def line(self) -> str:
        name = self.table if "." in self.table else f"jira_raw.{self.table}"
        head = f"{'OK      ' if self.ok else 'MISMATCH'} {name:<27} {self.owner:<28}"
        text = f"{head} {self.warehouse:>7} rows, truth {self.truth:>7}"
        if self.missing:
            text += f"; missing {len(self.missing)} (e.g. {', '.join(self.missing[:3])})"
        if self.extra:
            text += f"; extra {len(self.extra)} (e.g. {', '.join(self.extra[:3])})"
        if not self.missing and not self.extra and self.warehouse != self.truth:
            text += "; duplicate rows"
        return text


def _check(table: str, owner: str, found: list[str], truth: dict[str, Any]) -> TableCheck:
    expected = [str(i) for i in truth["ids"]]
    found_set, expected_set = set(found), set(expected)
    return TableCheck(
        table=table,
        owner=owner,
        warehouse=len(found),
        truth=int(truth["count"]),
        missing=sorted(expected_set - found_set),
        extra=sorted(found_set - expected_set),
    )


# (table, SQL expression of the row id, owner column, owner value) -> the ids found (none when
# the table does not exist: None or []); owner column None reads every row. A table is a jira_raw
# table's name, or `schema.table` for a derived one, checked only once the transforms built it.
IdReader = Callable[[str, str, str | None, str | None], list[str] | None]


def check_warehouse(warehouse: Path, truth: dict[str, Any], site_names: dict[str, str]) -> list[TableCheck]:
    """`check_ids` on a DuckDB warehouse file."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:

        def read_ids(table: str, expr: str, owner_column: str, owner: str) -> list[str]:
            schema, _, name = table.rpartition(".")
            if not _has(con, schema or "jira_raw", name):
                return None
            rows = con.execute(
                f"SELECT {expr} FROM {schema or 'jira_raw'}.{name} WHERE {owner_column} = ?", [owner]
            ).fetchall()
            return [str(row[0]) for row in rows]

        return check_ids(read_ids, truth, site_names)
    finally:
        con.close()


def check_ids(read_ids: IdReader, truth: dict[str, Any], site_names: dict[str, str]) -> list[TableCheck]:
    """One check per (table, site) and (table, organization) of the truth that the sync covers.

    `site_names` maps the cloud ids the sync file selects to their names; truth for other sites
    is ignored. `read_ids` reads the warehouse, whatever its destination.
    """
    checks: list[TableCheck] = []
    for cloud_id, site in truth["sites"].items():
        if cloud_id not in site_names:
            continue
        owner = f"site {site_names[cloud_id]}"
        for table, expr in SITE_TABLES.items():
            found = read_ids(table, expr, "cloud_id", cloud_id) or []
            checks.append(_check(table, owner, found, site[table]))
        for table, expr in DERIVED_SITE_TABLES.items():
            truth_name = table.rpartition(".")[2]
            derived = read_ids(table, expr, "cloud_id", cloud_id) if truth_name in site else None
            if derived is not None:
                checks.append(_check(table, owner, derived, site[truth_name]))
    organizations = {site["organization_id"] for cid, site in truth["sites"].items() if cid in site_names}
    for org_id, organization in truth["organizations"].items():
        if org_id not in organizations:
            continue
        for table, expr in ORGANIZATION_TABLES.items():
            found = read_ids(table, expr, "organization_id", org_id) or []
            checks.append(_check(table, f"organization {org_id[:12]}", found, organization[table]))
    found_sites = [
        i for cloud_id in site_names for i in read_ids("sites", "cloud_id", "cloud_id", cloud_id) or []
    ]
    checks.append(
        _check("sites", "all sites", found_sites, {"count": len(site_names), "ids": list(site_names)})
    )
    return checks


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])
