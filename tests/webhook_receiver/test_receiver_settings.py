"""Receiver settings from the sync file: tenants and sites, OAuth variables by the names it gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import load_sync_config
from webhook_receiver.settings import settings_from_sync_config

ROOT = Path(__file__).resolve().parents[2]


def test_repository_sync_file_maps_tenants_sites_and_inbox() -> None:
    config = load_sync_config(ROOT / "jira_sync.yaml", environ={})
    settings = settings_from_sync_config(config, environ={})
    [tenant] = settings.tenants
    assert tenant.tenant_id == "acme"
    [site] = tenant.sites
    assert (site.name, site.cloud_id, site.webhooks_enabled) == (
        "acme",
        "00000000-0000-0000-0000-000000000000",
        True,
    )
    assert site.normalised_url == "https://acme.atlassian.net"
    assert settings.inbox_path == Path("data/inbox.sqlite")
    assert settings.token_dir == Path("data/tokens")
    assert settings.oauth.auth_url == "https://auth.atlassian.com"
    assert settings.oauth.missing_for_connect() == ["JIRA_CLIENT_ID", "JIRA_SECRET", "JIRA_REDIRECT_URI"]


def test_oauth_values_come_from_the_variables_the_sync_file_names(tmp_path: Path) -> None:
    sync_file = tmp_path / "sync.yaml"
    sync_file.write_text(
        """
version: 1
oauth:
  client_id_env: ACME_JIRA_ID
  client_secret_env: ACME_JIRA_SECRET
  redirect_uri_env: ACME_JIRA_CALLBACK
tenants:
  - id: acme
    sites:
      - {name: a, url: "https://a.atlassian.net", team_sync: {method: none}}
"""
    )
    environ = {
        "ACME_JIRA_ID": "client-1",
        "ACME_JIRA_SECRET": "s3cret-value",
        "ACME_JIRA_CALLBACK": "https://sync.example.com/auth/jira/callback",
        "JIRA_SECRET": "not-this-one",
    }
    settings = settings_from_sync_config(
        load_sync_config(sync_file, environ=environ), environ=environ, inbox_path=tmp_path / "x.sqlite"
    )
    assert settings.oauth.client_id == "client-1"
    assert settings.oauth.client_secret is not None
    assert settings.oauth.client_secret.get_secret_value() == "s3cret-value"
    assert settings.oauth.missing_for_connect() == []
    assert "s3cret-value" not in repr(settings)
    assert settings.inbox_path == tmp_path / "x.sqlite"
    # webhooks default to disabled for a site that does not enable them
    assert settings.tenants[0].sites[0].webhooks_enabled is False
    partial = settings_from_sync_config(
        load_sync_config(sync_file, environ={}), environ={"ACME_JIRA_ID": "x"}
    )
    assert partial.oauth.missing_for_connect() == ["ACME_JIRA_SECRET", "ACME_JIRA_CALLBACK"]


def test_out_of_range_limits_are_refused(tmp_path: Path) -> None:
    config = load_sync_config(ROOT / "jira_sync.yaml", environ={})
    with pytest.raises(ValueError, match="max_body_bytes"):
        settings_from_sync_config(config, environ={}, max_body_bytes=10)
