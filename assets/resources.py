"""Resources shared by every area: the sync file, the DuckDB warehouse, dlt and the secrets.

`assets/definitions.py` binds these once for all areas (Dagster refuses two different resource
objects under one key), so an area only declares the parameters it needs (`warehouse:
WarehouseResource`, ...). Secrets are `dg.EnvVar`s named by the sync file: Dagster reads them when a
run starts, never when the definitions load, and never shows their values in the UI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dlt import DagsterDltResource

from pipelines.config import SyncConfig, load_sync_config

# DuckDB admits one writing process per file, and a writer blocks even read-only openers: every
# asset, check and sensor-triggered step that opens the warehouse runs in this pool (limit 1 in
# dagster.yaml).
WAREHOUSE_POOL = "warehouse"


def sync_config_path() -> Path:
    return Path(os.environ.get("JIRA_SYNC_CONFIG", "jira_sync.yaml"))


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> SyncConfig:
    return load_sync_config(Path(path))


def load_definitions_config() -> SyncConfig:
    """The sync file as the definitions see it (no secrets are read here)."""
    path = sync_config_path()
    return _load(str(path), path.stat().st_mtime if path.exists() else 0.0)


class SyncConfigResource(dg.ConfigurableResource):
    """The validated sync file; `check_environment` runs when a step needs credentials."""

    path: str

    def load(self) -> SyncConfig:
        return load_sync_config(Path(self.path))


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. Open it only inside a step that holds the warehouse pool."""

    path: str

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path)
        try:
            yield con
        finally:
            con.close()


class SecretValue(dg.Config):
    """One environment variable named by the sync file (`*_env` keys) and its value."""

    env: str
    value: str


class JiraSecretsResource(dg.ConfigurableResource):
    """The secrets the sync file names, resolved by Dagster when a run starts.

    `environ()` is what the pipelines receive instead of `os.environ`, so a step sees exactly the
    variables the sync file declares and nothing is read at import time.
    """

    secrets: list[SecretValue] = []

    def environ(self) -> dict[str, str]:
        return {secret.env: secret.value for secret in self.secrets}


def secret_env_names(config: SyncConfig) -> list[str]:
    """Every environment variable a run needs (sorted, without duplicates)."""
    return sorted({name for name, _key in config.required_environment() if name})


def shared_resources(config: SyncConfig) -> dict[str, object]:
    """The resources every area may request, built from the sync file."""
    return {
        "sync_config": SyncConfigResource(path=str(config.source_path)),
        "warehouse": WarehouseResource(path=str(config.warehouse.path)),
        "dlt": DagsterDltResource(),
        "jira_secrets": JiraSecretsResource(
            secrets=[SecretValue(env=name, value=dg.EnvVar(name)) for name in secret_env_names(config)]
        ),
    }
