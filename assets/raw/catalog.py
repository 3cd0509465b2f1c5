"""The `jira_raw` tables: what each holds, and which sync-file entities need it.

The sync file selects entities per site (`entities: [issues, projects, ...]`); a table is synced,
and its asset defined, only when at least one site needs it.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from pipelines import registry
from pipelines.config import SiteConfig, SyncConfig

DATASET = registry.DATASET
GROUP = "jira_raw"
KIND_TAG = "jira_sync/kind"
DESCRIPTIONS: dict[str, str] = {t.name: t.description for t in registry.TABLES}


def registered_column_schema(
    table: registry.Table, stored: Mapping[str, str] | None = None
) -> dg.TableSchema:
    """The Dagster column schema of a registered table: every column with its description, type
    (as `stored` by the destination when given, else the registry's) and constraints."""
    keys, merge = set(table.key), set(table.merge_key)
    columns = [c for c in table.columns if stored is None or c.name in stored]
    if stored is not None:  # columns the destination has beyond the registry (an older layout)
        extra = [
            registry.Column(n, registry.TEXT, "Not in the registry.")
            for n in stored
            if n not in table.column_names
        ]
        columns += extra
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=stored[c.name] if stored is not None else c.type.duckdb.lower(),
                description=c.description,
                constraints=dg.TableColumnConstraints(
                    nullable=c.name not in table.required_columns,
                    other=[
                        label
                        for label, names in (
                            ("primary_key", keys),
                            ("merge_key", merge),
                            ("hard_delete", {table.hard_delete}),
                        )
                        if c.name in names
                    ],
                ),
            )
            for c in columns
        ]
    )


def table_spec_metadata(table: str) -> dict[str, object]:
    """Definition-time metadata of a raw asset: its columns (with descriptions) and table name."""
    registered = registry.table(table)
    return {
        "dagster/column_schema": registered_column_schema(registered),
        "dagster/table_name": f"{DATASET}.{table}",
    }


def reference_tables(config: SyncConfig) -> list[str]:
    """The reference tables some site needs; `sites` is always written."""
    entities = {entity for _tenant, site in config.iter_sites() for entity in site.entities}
    if any(_groups_become_teams(site) for _tenant, site in config.iter_sites()):
        entities.add("groups")
    return registry.tables_of(entities, source="jira_reference")


def syncs_teams(config: SyncConfig) -> bool:
    """Atlassian Teams are synced when a site selects `teams` with the teams_api method."""
    return any(site.syncs_teams_api for _tenant, site in config.iter_sites())


def syncs(config: SyncConfig, entity: str) -> bool:
    """Whether some site selects `entity`."""
    return any(entity in site.entities for _tenant, site in config.iter_sites())


def syncs_issues(config: SyncConfig) -> bool:
    return syncs(config, "issues")


def _groups_become_teams(site: SiteConfig) -> bool:
    return "teams" in site.entities and site.team_sync.method == "groups_api"
