"""The one Dagster entry point: merges the per-area definitions built from the sync file."""

from __future__ import annotations

import dagster as dg

from assets import analytics, core, publish, raw, webhooks
from assets.jobs import build_job_definitions
from assets.resources import load_definitions_config, shared_resources
from pipelines.config import SyncConfig

# Each area exposes build_definitions(config) -> dg.Definitions and binds no shared resource
# (they are bound once below: Dagster refuses two resource objects under one key).
AREAS: list = [raw, core, analytics, webhooks, publish]


def build_definitions(config: SyncConfig | None = None) -> dg.Definitions:
    """Every area's definitions, the sync file's jobs and schedules, and the shared resources."""
    config = config or load_definitions_config()
    assets = dg.Definitions.merge(
        *(area.build_definitions(config) for area in AREAS),
        dg.Definitions(resources=shared_resources(config)),
    )
    return dg.Definitions.merge(assets, build_job_definitions(config, assets))


@dg.definitions
def defs() -> dg.Definitions:
    """Loaded lazily by Dagster's tools (the sync file is read then, not at import)."""
    return build_definitions()
