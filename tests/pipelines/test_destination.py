"""The warehouse pipeline: DuckDB file with bounded merge memory, or a named destination."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import SyncConfig, SyncConfigError
from pipelines.destination import DATASET, make_pipeline

SITES = [{"id": "acme", "sites": [{"name": "acme", "cloud_id": "c-1"}]}]


def test_duckdb_pipeline_writes_jira_raw_to_the_configured_file(tmp_path: Path) -> None:
    config = SyncConfig.model_validate(
        {"warehouse": {"path": str(tmp_path / "wh" / "w.duckdb")}, "tenants": SITES}
    )
    pipeline = make_pipeline("p", config, pipelines_dir=tmp_path / "dlt")
    assert pipeline.dataset_name == DATASET
    assert pipeline.pipelines_dir == str(tmp_path / "dlt")
    credentials = pipeline.destination.config_params["credentials"]
    assert credentials.database == str(tmp_path / "wh" / "w.duckdb")
    assert credentials.global_config == {"memory_limit": "128MB", "preserve_insertion_order": False}


def test_other_destinations_need_their_credentials_variable(tmp_path: Path) -> None:
    config = SyncConfig.model_validate(
        {"warehouse": {"destination": "postgres", "credentials_env": "WH_URL"}, "tenants": SITES}
    )
    with pytest.raises(
        SyncConfigError, match="warehouse.credentials_env: environment variable WH_URL is not set"
    ):
        make_pipeline("p", config, pipelines_dir=tmp_path, environ={})
