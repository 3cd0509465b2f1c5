"""Resources shared by every area: the sync file, the warehouse, dlt and the secrets.

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

from assets.warehouse import ENGINES, Warehouse
from assets.warehouse.postgres import PostgresWarehouse
from pipelines.config import SyncConfig, load_sync_config

# DuckDB admits one writing process per file, and a writer blocks even read-only openers: every
# asset, check and sensor-triggered step that opens the warehouse runs in this pool (limit 1 in
# dagster.yaml). On PostgreSQL the pool keeps the same order of writers: the transforms replace
# tables that the webhook ingest and dlt's merges also write.
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
    """The warehouse the transforms run on: the DuckDB file `path`, or PostgreSQL at `postgres_url`
    (an `EnvVar`: read when a run starts, never shown). Open it only inside a step that holds the
    warehouse pool. Both engines run the same SQL (assets/warehouse)."""

    path: str
    engine: str = "duckdb"
    postgres_url: str | None = None
    postgres_work_mem: str = "256MB"

    @contextmanager
    def connect(self) -> Iterator[Warehouse]:
        if self.engine == "postgres":
            if not self.postgres_url:
                raise RuntimeError(
                    "the warehouse is PostgreSQL but its connection string is empty: set the variable "
                    "named by warehouse.credentials_env in the sync file"
                )
            with PostgresWarehouse(self.postgres_url, work_mem=self.postgres_work_mem) as con:
                yield con
            return
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path)
        try:
            yield con
        finally:
            con.close()


def warehouse_resource(config: SyncConfig) -> WarehouseResource:
    """The warehouse of a sync file (its PostgreSQL credentials stay an environment variable)."""
    warehouse = config.warehouse
    if warehouse.destination == "postgres":
        return WarehouseResource(
            path=str(warehouse.path),
            engine="postgres",
            postgres_url=dg.EnvVar(warehouse.credentials_env) if warehouse.credentials_env else None,
            postgres_work_mem=warehouse.postgres_work_mem,
        )
    return WarehouseResource(path=str(warehouse.path))


def transforms_supported(config: SyncConfig) -> bool:
    """Whether the SQL transforms, webhook ingest and publish run on this destination."""
    return config.warehouse.destination in ENGINES


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
        "warehouse": warehouse_resource(config),
        "dlt": DagsterDltResource(),
        "jira_secrets": JiraSecretsResource(
            secrets=[SecretValue(env=name, value=dg.EnvVar(name)) for name in secret_env_names(config)]
        ),
    }
