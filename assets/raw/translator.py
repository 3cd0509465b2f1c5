"""How a dlt resource of the Jira sources becomes a Dagster asset in the `jira_raw` group."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData

from assets.raw.catalog import DATASET, DESCRIPTIONS, GROUP, KIND_TAG


def table_name(data: DltResourceTranslatorData) -> str:
    name = data.resource.table_name
    return name if isinstance(name, str) else data.resource.name


@dataclass
class JiraRawTranslator(DagsterDltTranslator):
    """Keys `["jira_raw", <table>]`, no phantom upstream assets, the domain description, a kind tag."""

    kind: str = "reference"

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        table = table_name(data)
        destination = data.destination.destination_name if data.destination else "duckdb"
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(
                key=dg.AssetKey([DATASET, table]),
                group_name=GROUP,
                description=DESCRIPTIONS.get(table, f"Jira {table} (dlt resource {data.resource.name})."),
                deps=[],
                tags={KIND_TAG: self.kind},
                kinds={"dlt", destination},
            )
        )
