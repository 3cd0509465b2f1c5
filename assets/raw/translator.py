"""How a dlt resource of the Jira sources becomes a Dagster asset in the `jira_raw` group."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.extract.source import DltSource

from assets.raw.catalog import DATASET, DESCRIPTIONS, GROUP, KIND_TAG, table_spec_metadata
from pipelines.config import SyncConfig


def table_name(data: DltResourceTranslatorData) -> str:
    name = data.resource.table_name
    return name if isinstance(name, str) else data.resource.name


@dataclass
class JiraRawTranslator(DagsterDltTranslator):
    """Keys `["jira_raw", <table>]`, no phantom upstream assets, the domain description, a kind tag.

    The destination comes from the sync file: the specs are built without a dlt pipeline (see
    `raw_assets`), because making one creates dlt's working directory.
    """

    kind: str = "reference"
    destination: str = "duckdb"

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        table = table_name(data)
        destination = self.destination
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
                metadata={"dagster/storage_kind": destination},
            )
            .merge_attributes(metadata=table_spec_metadata(table))
        )


def raw_assets(
    source: DltSource, *, name: str, kind: str, config: SyncConfig, **options: Any
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """`@dlt_assets` for a Jira source, built with no side effect on disk.

    dagster-dlt needs a pipeline only to name the destination of the specs; `dlt.pipeline()` would
    create its working directory when the definitions load, and processes loading them at the
    same moment (a run, a sensor, the webserver) raced on it. Each step makes its own pipeline.
    """
    return dlt_assets(
        dlt_source=source,
        dlt_pipeline=None,  # type: ignore[arg-type]
        name=name,
        dagster_dlt_translator=JiraRawTranslator(kind=kind, destination=config.warehouse.destination),
        **options,
    )
