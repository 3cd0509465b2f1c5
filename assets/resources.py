"""Resources shared by every area: the sync file and the DuckDB warehouse."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import dagster as dg
import duckdb

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
