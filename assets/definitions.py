"""The one Dagster entry point: merges the per-area definitions built from the sync file."""

from __future__ import annotations

import dagster as dg

from assets import analytics, core, publish, raw, webhooks
from assets.automation import automation_sensor
from assets.core.sql import published_spec_metadata
from assets.jobs import build_job_definitions
from assets.resources import load_definitions_config, shared_resources, transforms_supported
from pipelines import published_tables
from pipelines.config import SyncConfig

# Each area exposes build_definitions(config) -> dg.Definitions and binds no shared resource
# (they are bound once below: Dagster refuses two resource objects under one key).
AREAS: list = [raw, core, analytics, webhooks, publish]
# The raw area loads through dlt into any destination; these areas run the transforms' SQL, so
# they exist when the warehouse is DuckDB or PostgreSQL (assets/warehouse).
SQL_AREAS = (core, analytics, webhooks, publish)


def areas_for(config: SyncConfig) -> list:
    if transforms_supported(config):
        return AREAS
    return [area for area in AREAS if area not in SQL_AREAS]


def build_definitions(config: SyncConfig | None = None) -> dg.Definitions:
    """Every area's definitions, the sync file's jobs and schedules, the automation sensor, and the
    shared resources.

    Every job runs its steps in the run's own process (in-process executor): a warehouse step holds
    the pool alone anyway, and a process per step cost seconds of start-up each (33 s instead of
    2.3 s for the transforms from the UI).
    """
    config = config or load_definitions_config()
    assets = dg.Definitions.merge(
        *(area.build_definitions(config) for area in areas_for(config)),
        dg.Definitions(
            resources=shared_resources(config),
            sensors=[automation_sensor(config.automation.freshness)],
            executor=dg.in_process_executor,
        ),
    )
    assets = assets.map_asset_specs(func=with_published_columns)
    return dg.Definitions.merge(assets, build_job_definitions(config, assets))


def with_published_columns(spec: dg.AssetSpec) -> dg.AssetSpec:
    """A published table's asset shows its columns and their descriptions before it ever runs."""
    registered = published_tables.find(".".join(spec.key.path))
    if registered is None:
        return spec
    return spec.merge_attributes(metadata=published_spec_metadata(registered))


@dg.definitions
def defs() -> dg.Definitions:
    """Loaded lazily by Dagster's tools (the sync file is read then, not at import)."""
    return build_definitions()
