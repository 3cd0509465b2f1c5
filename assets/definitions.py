"""The one Dagster entry point: merges the per-area definitions built from the sync file."""

from __future__ import annotations

import dagster as dg

from assets.resources import load_definitions_config

# Each area exposes build_definitions(config) -> dg.Definitions.
AREAS: list = []


def build_definitions() -> dg.Definitions:
    config = load_definitions_config()
    return dg.Definitions.merge(*(area.build_definitions(config) for area in AREAS))


defs = build_definitions()
