"""Core transforms (schema `jira`): mappings, issues, identity, teams, and their checks."""

from __future__ import annotations

import dagster as dg

from assets.core.checks import CORE_CHECKS
from assets.core.identity import identity
from assets.core.issues import issues
from assets.core.mappings import issue_type_categories, status_states
from assets.core.teams import teams
from pipelines.config import SyncConfig

CORE_ASSETS = [issue_type_categories, status_states, issues, identity, teams]


def build_definitions(config: SyncConfig) -> dg.Definitions:
    """The `jira` group; the mappings and site settings are read from the sync file at run time."""
    return dg.Definitions(assets=CORE_ASSETS, asset_checks=CORE_CHECKS)
