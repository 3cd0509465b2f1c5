"""The sync file: the repo's copy loads, and common mistakes give the promised errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pipelines.config import SyncConfigError, load_sync_config

REPO_ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """
version: 1
tenants:
  - id: acme
    sites:
      - name: acme
        url: https://acme.atlassian.net
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sync.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(SyncConfigError) as caught:
        load_sync_config(path, environ=environ or {})
    return str(caught.value)


def test_repo_sync_file_loads() -> None:
    config = load_sync_config(REPO_ROOT / "jira_sync.yaml", environ={})
    assert config.source_path == REPO_ROOT / "jira_sync.yaml"
    assert [site.name for _, site in config.iter_sites()] == ["acme"]
    assert config.warehouse.path == Path("data/warehouse.duckdb")
    assert config.jobs[1].cron == "*/15 * * * *"
    assert list(config.mappings.type_keywords)[:2] == ["incident", "bug"]


def test_defaults_follow_the_seed(tmp_path: Path) -> None:
    config = load_sync_config(write(tmp_path, MINIMAL), environ={})
    site = config.tenants[0].sites[0]
    assert site.auth.method == "oauth"
    assert site.team_sync.method == "groups_api"
    assert list(config.mappings.type_keywords) == ["incident", "bug", "discovery", "feature", "chore"]
    assert "production" in config.mappings.type_keywords["incident"]
    assert config.http.concurrency == 8


def test_typo_in_a_key_suggests_the_closest(tmp_path: Path) -> None:
    text = MINIMAL + "        team_sync: {methd: groups_api}\n"
    message = error_of(write(tmp_path, text))
    assert "sync.yaml" in message
    assert "tenants[0].sites[0].team_sync.methd: unknown key; did you mean 'method'?" in message


def test_unknown_method_lists_the_valid_values(tmp_path: Path) -> None:
    text = MINIMAL + "        team_sync: {method: team_api}\n"
    message = error_of(write(tmp_path, text))
    assert "tenants[0].sites[0].team_sync.method: unknown value 'team_api'" in message
    assert "teams_api, groups_api, none" in message
    assert "did you mean teams_api?" in message


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("http: {concurrency: ten}", "http.concurrency: expected a whole number, got 'ten'; write e.g. 8"),
        ("http: {max_requests_per_second: fast}", "expected a number, got 'fast'; write e.g. 50"),
        (
            "http: {timeout_seconds: -3}",
            "http.timeout_seconds: must be greater than 0, got -3; write e.g. 60",
        ),
        ("sync: {incremental_overlap_minutes: 2.5}", "expected a whole number, got 2.5; write e.g. 10"),
        (
            "sync: {history_start: yesterday}",
            "expected a date, got 'yesterday'; write YYYY-MM-DD, e.g. 2020-01-01",
        ),
        ("webhooks: {refresh_before_days: x}", "webhooks.refresh_before_days: expected a whole number"),
    ],
)
def test_a_wrong_type_says_what_to_write(tmp_path: Path, yaml_text: str, expected: str) -> None:
    message = error_of(write(tmp_path, MINIMAL + yaml_text + "\n"))
    assert expected in message
    assert "Input should be" not in message  # pydantic's own wording names no fix


def test_a_wrong_boolean_in_a_list_item_says_true_or_false(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, MINIMAL + "        webhook: {enabled: maybe}\n"))
    assert "tenants[0].sites[0].webhook.enabled: expected true or false, got 'maybe'" in message


def test_bad_cron_names_the_five_field_form(tmp_path: Path) -> None:
    text = MINIMAL + "jobs:\n  - {name: nightly, select: '*', cron: '0 2 * *'}\n"
    message = error_of(write(tmp_path, text))
    assert "jobs[0].cron" in message
    assert "5 fields 'minute hour day-of-month month day-of-week'" in message


def test_bad_webhook_filter_names_the_clause(tmp_path: Path) -> None:
    text = MINIMAL + "        webhook: {enabled: true, jql_filter: 'project = ACME AND priority = High'}\n"
    message = error_of(write(tmp_path, text))
    assert "tenants[0].sites[0].webhook.jql_filter" in message
    assert "the clause `priority = High` is unsupported" in message
    assert "allowed fields: issueKey, project" in message


def test_missing_env_vars_are_listed_together(tmp_path: Path) -> None:
    text = MINIMAL + textwrap.indent(
        textwrap.dedent(
            """\
            team_sync:
              method: teams_api
              organization_id: org-1
              email_env: TEAMS_EMAIL
              api_token_env: TEAMS_TOKEN
            """
        ),
        "        ",
    )
    config = load_sync_config(write(tmp_path, text), environ={})
    with pytest.raises(SyncConfigError) as caught:
        config.check_environment({"JIRA_CLIENT_ID": "id", "TEAMS_EMAIL": "a@b.c"})
    message = str(caught.value)
    assert "3 problems" in message
    assert "oauth.client_secret_env: environment variable JIRA_SECRET is not set" in message
    assert "oauth.redirect_uri_env: environment variable JIRA_REDIRECT_URI is not set" in message
    assert "tenants[0].sites[0].team_sync.api_token_env: environment variable TEAMS_TOKEN" in message
    config.check_environment(
        {
            "JIRA_CLIENT_ID": "i",
            "JIRA_SECRET": "s",
            "JIRA_REDIRECT_URI": "u",
            "TEAMS_EMAIL": "e",
            "TEAMS_TOKEN": "t",
        }
    )


def test_literal_secret_in_an_env_key_is_rejected_without_echoing_it(tmp_path: Path) -> None:
    secret = "ATATT3xFfGF0T4bQzLw9xKq8"
    text = MINIMAL + f"        auth: {{method: api_token, email_env: JIRA_EMAIL, api_token_env: {secret}}}\n"
    message = error_of(write(tmp_path, text))
    assert "tenants[0].sites[0].auth.api_token_env: this looks like a literal secret" in message
    assert secret not in message


def test_env_name_must_look_like_a_variable(tmp_path: Path) -> None:
    text = MINIMAL + "        auth: {method: api_token, email_env: jira-email, api_token_env: JIRA_TOKEN}\n"
    message = error_of(write(tmp_path, text))
    assert "auth.email_env: 'jira-email' is not an environment variable name" in message


def test_site_needs_url_or_cloud_id_and_unique_names(tmp_path: Path) -> None:
    text = """
    tenants:
      - id: acme
        sites:
          - {name: one}
          - {name: two, cloud_id: c-2}
          - {name: two, url: https://two.atlassian.net}
    """
    message = error_of(write(tmp_path, text))
    assert "tenants[0].sites[0]: the site has neither url nor cloud_id" in message
    text = """
    tenants:
      - id: acme
        sites:
          - {name: two, cloud_id: c-2}
          - {name: two, url: https://two.atlassian.net}
    """
    message = error_of(write(tmp_path, text))
    assert "tenants[0].sites[1].name: duplicate site name 'two' (also at tenants[0].sites[0].name)" in message


def test_teams_api_needs_org_and_credentials(tmp_path: Path) -> None:
    text = MINIMAL + "        team_sync: {method: teams_api, email_env: TEAMS_EMAIL}\n"
    message = error_of(write(tmp_path, text))
    assert "tenants[0].sites[0].team_sync: method teams_api needs organization_id, api_token_env" in message


def test_variables_expand_with_defaults_and_report_missing(tmp_path: Path) -> None:
    text = MINIMAL + "warehouse:\n  path: ${WH:-data/wh.duckdb}\n  publish_path: ${PUB}/a.duckdb\n"
    assert "warehouse.publish_path: environment variable PUB is not set" in error_of(write(tmp_path, text))
    config = load_sync_config(write(tmp_path, text), environ={"PUB": "/srv", "WH": "/x.duckdb"})
    assert config.warehouse.path == Path("/x.duckdb")
    assert config.warehouse.publish_path == Path("/srv/a.duckdb")


def test_yaml_syntax_error_reports_the_line(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "version: 1\ntenants:\n  - id: acme\n    sites: [\n"))
    assert "YAML syntax error at line" in message


def test_duplicate_yaml_keys_are_rejected(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, MINIMAL + "version: 1\n"))
    assert "duplicate key 'version'" in message


def test_webhooks_need_oauth(tmp_path: Path) -> None:
    text = MINIMAL + (
        "        auth: {method: api_token, email_env: E, api_token_env: T}\n        webhook: {enabled: true}\n"
    )
    message = error_of(write(tmp_path, text))
    assert "webhook.mode dynamic needs auth.method: oauth" in message and "webhook.mode: admin" in message


def test_admin_webhooks_take_any_jql_and_need_a_url_and_admin_credentials(tmp_path: Path) -> None:
    api_token = "        auth: {method: api_token, email_env: E, api_token_env: T}\n"
    admin = "        webhook: {enabled: true, mode: admin, jql_filter: 'priority = High ORDER BY key'}\n"
    config = load_sync_config(write(tmp_path, MINIMAL + api_token + admin))
    site = config.tenants[0].sites[0]
    assert site.admin_webhook_credentials == ("E", "T")
    oauth = MINIMAL + "        webhook: {enabled: true, mode: admin}\n"
    assert "webhook.admin_email_env and webhook.admin_api_token_env" in error_of(write(tmp_path, oauth))
    with_admin = MINIMAL + (
        "        webhook: {enabled: true, mode: admin, admin_email_env: AE, admin_api_token_env: AT}\n"
    )
    config = load_sync_config(write(tmp_path, with_admin))
    assert config.tenants[0].sites[0].admin_webhook_credentials == ("AE", "AT")
    assert ("AE", "tenants[0].sites[0].webhook.admin_email_env") in config.required_environment()


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    assert "file not found" in error_of(tmp_path / "absent.yaml")


def test_publish_path_named_like_a_schema_is_refused(tmp_path):
    sync_file = tmp_path / "jira_sync.yaml"
    text = (
        Path("jira_sync.yaml")
        .read_text()
        .replace("${JIRA_SYNC_PUBLISH:-data/jira_analytics.duckdb}", "data/analytics.duckdb")
    )
    sync_file.write_text(text)
    with pytest.raises(SyncConfigError) as raised:
        load_sync_config(sync_file)
    message = str(raised.value)
    assert "warehouse.publish_path" in message and "jira_analytics.duckdb" in message


def test_quota_defaults_and_the_budget_store_beside_the_warehouse(tmp_path: Path) -> None:
    config = load_sync_config(write(tmp_path, MINIMAL), environ={})
    assert (config.quota.points_per_hour, config.quota.pool, config.quota.reserve_share) == (
        65000,
        "global",
        0.1,
    )
    assert config.quota_store_path == Path("data/quota.sqlite")
    text = MINIMAL.replace("version: 1", "version: 1\nwarehouse: {path: /srv/sync/wh.duckdb}")
    assert load_sync_config(write(tmp_path, text), environ={}).quota_store_path == Path(
        "/srv/sync/quota.sqlite"
    )


def test_quota_mistakes_and_the_postgres_store_variable(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, MINIMAL + "quota: {pool: shared, reserve_share: 2}\n"))
    assert "quota.pool" in message and "quota.reserve_share" in message
    text = MINIMAL + "quota: {store_url_env: JIRA_QUOTA_URL}\n"
    config = load_sync_config(write(tmp_path, text), environ={})
    assert ("JIRA_QUOTA_URL", "quota.store_url_env") in config.required_environment()


def test_project_default_team_is_a_name_or_id(tmp_path: Path) -> None:
    text = MINIMAL + "        mappings: {projects: {OPS: {team: ' Platform '}}}\n"
    config = load_sync_config(write(tmp_path, text), environ={})
    assert config.tenants[0].sites[0].mappings.projects["OPS"].team == "Platform"
    blank = MINIMAL + "        mappings: {projects: {OPS: {team: '  '}}}\n"
    message = error_of(write(tmp_path, blank))
    assert "tenants[0].sites[0].mappings.projects.OPS.team" in message and "name or ID" in message


def test_the_report_has_a_folder_and_periods_with_bounds(tmp_path: Path) -> None:
    config = load_sync_config(write(tmp_path, MINIMAL), environ={})
    assert (config.report.path, config.report.weeks, config.report.months) == (Path("data/report"), 26, 24)
    message = error_of(write(tmp_path, MINIMAL + "report: {weeks: 4}\n"))
    assert "report.weeks" in message and "12" in message
