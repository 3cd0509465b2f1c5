"""Hand-written `jira_raw` worlds for the transform tests: a temp warehouse, a sync file, and a
Dagster run of the real transform assets over them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import yaml

from assets.analytics import AREA_ASSETS as ANALYTICS_ASSETS
from assets.analytics.checks import ANALYTICS_CHECKS
from assets.core import CORE_ASSETS
from assets.core.checks import CORE_CHECKS
from assets.core.raw_views import create_contract_tables
from assets.publish.checks import analyst_snapshot_opens
from assets.publish.snapshot import analyst_snapshot
from assets.resources import SyncConfigResource, WarehouseResource
from tests.check_text import assert_evaluation_is_honest

TRANSFORMS = [
    *CORE_ASSETS,
    *ANALYTICS_ASSETS,
    analyst_snapshot,
    *CORE_CHECKS,
    *ANALYTICS_CHECKS,
    analyst_snapshot_opens,
]

ALPHA = "cloud-alpha"  # groups_api site
BETA = "cloud-beta"  # teams_api site
ORG = "org-1"


def at(day: int, hour: int = 12, minute: int = 0, month: int = 3) -> datetime:
    """A UTC timestamp in 2026 (month 3 by default)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def write_sync_file(
    directory: Path,
    *,
    alpha_projects: Mapping[str, Any] | None = None,
    type_keywords: Mapping[str, list[str]] | None = None,
    accounts_csv: Path | None = None,
    other_share_warn: float = 0.2,
    publish_name: str = "jira_analytics.duckdb",
) -> Path:
    """A sync file with tenant acme and two sites: alpha (groups_api), beta (teams_api, org-1)."""
    mappings: dict[str, Any] = {"other_share_warn": other_share_warn}
    if type_keywords is not None:
        mappings["type_keywords"] = dict(type_keywords)
    document = {
        "version": 1,
        "warehouse": {
            "path": str(directory / "warehouse.duckdb"),
            "publish_path": str(directory / "published" / publish_name),
        },
        "mappings": mappings,
        "tenants": [
            {
                "id": "acme",
                "accounts_csv": str(accounts_csv) if accounts_csv else None,
                "sites": [
                    {
                        "name": "alpha",
                        "url": "https://alpha.atlassian.net",
                        "team_sync": {"method": "groups_api"},
                        "mappings": {"projects": dict(alpha_projects or {})},
                    },
                    {
                        "name": "beta",
                        "cloud_id": BETA,
                        "team_sync": {
                            "method": "teams_api",
                            "organization_id": ORG,
                            "email_env": "TEAMS_EMAIL",
                            "api_token_env": "TEAMS_TOKEN",
                        },
                    },
                ],
            }
        ],
    }
    path = directory / "jira_sync.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def new_warehouse(path: Path) -> None:
    """An empty warehouse with every jira_raw table of the contract, and the two sites."""
    with duckdb.connect(str(path)) as con:
        create_contract_tables(con)
        insert(
            con,
            "sites",
            [
                # alpha has no cloud_id in the sync file: it resolves through jira_raw.sites
                {
                    "cloud_id": ALPHA,
                    "tenant_id": "acme",
                    "name": "alpha",
                    "url": "https://alpha.atlassian.net",
                },
                {"cloud_id": BETA, "tenant_id": "acme", "name": "beta", "url": "https://beta.atlassian.net"},
            ],
        )


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert dict rows into jira_raw.<table> (columns not given are null)."""
    rows = list(rows)
    columns = sorted({column for row in rows for column in row})
    if not rows:
        return
    marks = ", ".join("?" for _ in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    con.executemany(
        f'INSERT INTO jira_raw."{table}" ({names}) VALUES ({marks})',
        [[row.get(c) for c in columns] for row in rows],
    )


def run_transforms(
    sync_file: Path, selection: Sequence[Any] | None = None, raise_on_error: bool = True
) -> dg.ExecuteInProcessResult:
    """Materialize the transform assets (and run their checks) as Dagster runs them."""
    document = yaml.safe_load(sync_file.read_text(encoding="utf-8"))
    return dg.materialize(
        TRANSFORMS,
        resources={
            "warehouse": WarehouseResource(path=document["warehouse"]["path"]),
            "sync_config": SyncConfigResource(path=str(sync_file)),
        },
        instance=dg.DagsterInstance.ephemeral(),
        selection=selection,
        raise_on_error=raise_on_error,
    )


def query(warehouse: Path, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()


def check_results(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    """The asset check evaluations of a run, by check name (each one's text agrees with its metadata)."""
    evaluations = {
        evaluation.check_name: evaluation
        for evaluation in (
            event.event_specific_data
            for event in result.all_events
            if event.event_type_value == "ASSET_CHECK_EVALUATION"
        )
    }
    for evaluation in evaluations.values():
        assert_evaluation_is_honest(evaluation)
    return evaluations


def materialization(result: dg.ExecuteInProcessResult, *key: str) -> dg.AssetMaterialization:
    """The materialization of one asset in a run."""
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(list(key))]
    return event.materialization


def insert_statuses(
    con: duckdb.DuckDBPyConnection,
    statuses: Mapping[str, tuple[str, str]],
    clouds: Sequence[str] = (ALPHA, BETA),
) -> None:
    """The same workflow statuses ({id: (name, category key)}) on every site of `clouds`."""
    insert(
        con,
        "statuses",
        [
            {"cloud_id": cloud, "id": status_id, "name": name, "status_category_key": category}
            for cloud in clouds
            for status_id, (name, category) in statuses.items()
        ],
    )


def insert_people(
    con: duckdb.DuckDBPyConnection,
    cloud_id: str,
    people: Sequence[str],
    groups: Mapping[str, tuple[str, Sequence[str]]],
) -> None:
    """Atlassian users with emails (`<id>@acme.io`), and Jira groups {id: (name, members)} of one site."""
    insert(
        con,
        "users",
        [
            {
                "cloud_id": cloud_id,
                "account_id": person,
                "email_address": f"{person}@acme.io",
                "account_type": "atlassian",
            }
            for person in people
        ],
    )
    insert(
        con,
        "groups",
        [{"cloud_id": cloud_id, "group_id": g, "name": name} for g, (name, _) in groups.items()],
    )
    insert(
        con,
        "group_members",
        [
            {"cloud_id": cloud_id, "group_id": g, "account_id": m}
            for g, (_, members) in groups.items()
            for m in members
        ],
    )
