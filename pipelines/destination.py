"""The dlt pipeline that loads the Jira sources into the warehouse (dataset `jira_raw`).

DuckDB by default (the file `warehouse.path`); any other dlt destination by name, with its
credentials read from the variable named by `warehouse.credentials_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import dlt
from dlt.common.destination import Destination
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from pipelines.config import SyncConfig, SyncConfigError

DATASET = "jira_raw"
DEFAULT_PIPELINES_DIR = Path("data/dlt")

# dlt reads its settings from the environment; a caller's explicit value wins.
_DLT_SETTINGS = {"RUNTIME__DLTHUB_TELEMETRY": "false"}


def _has_adbc_postgres() -> bool:
    """Whether ADBC's PostgreSQL driver (the `postgres` extra) is installed."""
    try:
        import adbc_driver_postgresql  # noqa: F401
    except ImportError:
        return False
    return True


def make_pipeline(
    pipeline_name: str,
    config: SyncConfig,
    *,
    pipelines_dir: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dlt.Pipeline:
    """A dlt pipeline writing `jira_raw` to the configured destination.

    `pipelines_dir` defaults to data/dlt (dagster-dlt drops it before each run anyway; state is
    restored from the destination). Telemetry is off.
    """
    environ = os.environ if environ is None else environ
    for key, value in _DLT_SETTINGS.items():
        os.environ.setdefault(key, value)
    warehouse = config.warehouse
    if warehouse.destination == "duckdb":
        path = Path(warehouse.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Bounded memory for merges (DuckDB spills to disk beyond it); row order is irrelevant
        # to merges, and not preserving it saves memory and time.
        settings = {"memory_limit": warehouse.duckdb_memory_limit, "preserve_insertion_order": False}
        destination = dlt.destinations.duckdb(
            credentials=DuckDbCredentials(str(path), global_config=settings)
        )
    else:
        credentials = None
        if warehouse.credentials_env:
            credentials = environ.get(warehouse.credentials_env)
            if not credentials:
                raise SyncConfigError(
                    config.source_path,
                    [
                        (
                            "warehouse.credentials_env",
                            f"environment variable {warehouse.credentials_env} is not set; export it with the "
                            f"{warehouse.destination} credentials (e.g. a connection string)",
                        )
                    ],
                )
        if warehouse.destination == "postgres" and _has_adbc_postgres():
            # Arrow tables go in as parquet through ADBC's binary COPY: fast, and it keeps an empty
            # string apart from NULL (dlt's CSV COPY reads every empty nullable text as NULL, so
            # PostgreSQL would hold NULL where DuckDB holds '')
            destination = dlt.destinations.postgres(
                credentials=credentials, preferred_loader_file_format="parquet"
            )
        else:
            destination = Destination.from_reference(warehouse.destination, credentials=credentials)
    return dlt.pipeline(
        pipeline_name=pipeline_name,
        destination=destination,
        dataset_name=DATASET,
        pipelines_dir=str(pipelines_dir or DEFAULT_PIPELINES_DIR),
    )
