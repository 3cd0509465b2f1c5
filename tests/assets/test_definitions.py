"""The Dagster definitions generated from a sync file: keys, groups, pools, partitions, jobs."""

from __future__ import annotations

import os
import re
import warnings
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from assets.definitions import build_definitions
from assets.jobs import ISSUES_BACKFILL_JOB
from assets.resources import WAREHOUSE_POOL, shared_resources
from pipelines import published_tables, registry
from pipelines.config import SyncConfigError, load_sync_config

REPO = Path(__file__).resolve().parents[2]

SECRET_VARS = (
    "JIRA_CLIENT_ID",
    "JIRA_SECRET",
    "JIRA_REDIRECT_URI",
    "JIRA_TEAMS_EMAIL",
    "JIRA_TEAMS_API_TOKEN",
)
# Every registered table but the webhook area's (the repo's sync file selects every entity).
RAW_TABLES = {t.name for t in registry.TABLES if t.source != registry.WEBHOOK_SOURCE}
WEBHOOK_TABLES = {t.name for t in registry.TABLES if t.source == registry.WEBHOOK_SOURCE}
# Snapshot tables are tagged `reference`; the issue loads, sweep, census and worklogs `issues`.
ISSUE_TABLES = {t.name for t in registry.TABLES if t.source not in ("jira_reference", "jira_teams")}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in a scratch directory (dlt creates its working dirs relative to it), no secrets set."""
    monkeypatch.chdir(tmp_path)
    for name in SECRET_VARS:
        monkeypatch.delenv(name, raising=False)
    warnings.simplefilter("ignore", dg.BetaWarning)


def write_sync_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sync.yaml"
    path.write_text(body)
    return path


SITE = """
tenants:
  - id: t1
    sites:
      - name: one
        url: https://one.example.net
        team_sync: {method: %s}
        entities: [%s]
"""


def small_config(tmp_path: Path, entities: str, team_method: str = "none", jobs: str = ""):
    body = "version: 1\nsync: {history_start: 2024-03-15}\n" + jobs + SITE % (team_method, entities)
    return load_sync_config(write_sync_file(tmp_path, body))


def raw_keys(defs: dg.Definitions) -> set[str]:
    """The jira_raw tables that have a materializable asset (other areas may reference more)."""
    graph = defs.resolve_asset_graph()
    return {
        node.key.path[1]
        for node in graph.asset_nodes
        if node.key.path[0] == "jira_raw" and node.is_materializable
    }


def test_repo_sync_file_loads_without_any_secret_set() -> None:
    assert not any(os.environ.get(name) for name in SECRET_VARS)
    defs = build_definitions(load_sync_config(REPO / "jira_sync.yaml"))
    dg.Definitions.validate_loadable(defs)
    # the drain's tables belong to the webhooks area; every other raw table is ours.
    assert raw_keys(defs) - WEBHOOK_TABLES == RAW_TABLES
    assert raw_keys(defs) >= WEBHOOK_TABLES


def test_repo_sync_file_loads_with_placeholder_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRET_VARS:
        monkeypatch.setenv(name, "placeholder")
    defs = build_definitions(load_sync_config(REPO / "jira_sync.yaml"))
    dg.Definitions.validate_loadable(defs)


def test_raw_assets_keys_groups_pools_kinds_and_descriptions() -> None:
    defs = build_definitions(load_sync_config(REPO / "jira_sync.yaml"))
    graph = defs.resolve_asset_graph()
    for table in RAW_TABLES:
        node = graph.get(dg.AssetKey(["jira_raw", table]))
        assert node.group_name == "jira_raw", table
        assert node.pools == {WAREHOUSE_POOL}, table
        assert node.description and len(node.description) > 40, table
        assert {"dlt", "duckdb"} <= set(node.kinds), table
        expected_kind = "issues" if table in ISSUE_TABLES else "reference"
        assert node.tags["jira_sync/kind"] == expected_kind, table
        # no phantom upstream assets from dagster-dlt's default translator
        assert all(parent.path[0] == "jira_raw" for parent in node.parent_keys), table


def test_every_raw_asset_shows_the_registry_columns_with_their_descriptions() -> None:
    """The UI's column schema of each jira_raw asset comes from the registry, before any run."""
    defs = build_definitions(load_sync_config(REPO / "jira_sync.yaml"))
    graph = defs.resolve_asset_graph()
    for table in registry.TABLES:
        node = graph.get(dg.AssetKey(["jira_raw", table.name]))
        schema = node.metadata["dagster/column_schema"]
        shown = {c.name: c.description for c in schema.columns}
        assert shown == {c.name: c.description for c in table.columns}, table.name
        keys = {c.name for c in schema.columns if "primary_key" in c.constraints.other}
        assert keys == set(table.key), table.name
        assert node.metadata["dagster/table_name"] == f"jira_raw.{table.name}"


def test_every_published_table_asset_shows_its_columns_with_their_descriptions() -> None:
    """jira/* and analytics/* assets show the published-table registry's columns before any run."""
    defs = build_definitions(load_sync_config(REPO / "jira_sync.yaml"))
    graph = defs.resolve_asset_graph()
    shown_tables = set()
    for node in graph.asset_nodes:
        if node.key.path[0] not in ("jira", "analytics"):
            continue
        table = published_tables.table(".".join(node.key.path))  # every such asset is registered
        schema = node.metadata["dagster/column_schema"]
        assert [(c.name, c.description) for c in schema.columns] == [
            (c.name, c.description) for c in table.columns
        ], table.qualified_name
        assert node.metadata["dagster/table_name"] == table.qualified_name
        shown_tables.add(table.qualified_name)
    assert {"jira.issues", "analytics.issue_teams", "analytics.flow_daily"} <= shown_tables


def test_issues_are_monthly_partitions_from_history_start_to_the_current_month(tmp_path: Path) -> None:
    defs = build_definitions(small_config(tmp_path, "issues"))
    graph = defs.resolve_asset_graph()
    for table in ("issues", "issue_changelog"):
        node = graph.get(dg.AssetKey(["jira_raw", table]))
        partitions = node.partitions_def
        assert isinstance(partitions, dg.TimeWindowPartitionsDefinition)
        keys = partitions.get_partition_keys()
        assert keys[0] == "2024-03-01"  # the month of history_start
        assert keys[-1] == datetime.now(UTC).strftime("%Y-%m-01")  # end_offset: the current month exists
        assert node.backfill_policy == dg.BackfillPolicy.single_run()
        assert "created never changes" in (node.description or "")
    for table in ("issue_updates", "issue_deletions", "project_access"):
        assert graph.get(dg.AssetKey(["jira_raw", table])).partitions_def is None
    backfill = defs.resolve_job_def(ISSUES_BACKFILL_JOB)
    assert backfill.partitions_def is not None
    assert {k.path[1] for k in backfill.asset_layer.selected_asset_keys} == {"issues", "issue_changelog"}


def test_only_what_the_sites_select_is_defined(tmp_path: Path) -> None:
    defs = build_definitions(small_config(tmp_path, "projects, users"))
    assert raw_keys(defs) - WEBHOOK_TABLES == {"sites", "projects", "users"}
    assert ISSUES_BACKFILL_JOB not in {job.name for job in defs.jobs}

    defs = build_definitions(small_config(tmp_path, "statuses, teams", team_method="groups_api"))
    assert raw_keys(defs) - WEBHOOK_TABLES == {
        "sites",
        "statuses",
        "status_categories",
        "groups",
        "group_members",
    }


def test_teams_api_sites_define_the_teams_assets(tmp_path: Path) -> None:
    team_sync = "teams_api, organization_id: org-1, email_env: T_EMAIL, api_token_env: T_TOKEN"
    body = "version: 1\n" + SITE % (team_sync, "teams")
    defs = build_definitions(load_sync_config(write_sync_file(tmp_path, body)))
    assert raw_keys(defs) - WEBHOOK_TABLES == {"sites", "teams", "team_members"}
    secrets = shared_resources(load_sync_config(tmp_path / "sync.yaml"))["jira_secrets"]
    assert {s.env for s in secrets.secrets} >= {"T_EMAIL", "T_TOKEN", "JIRA_SECRET"}


def test_jobs_and_schedules_come_from_the_sync_file(tmp_path: Path) -> None:
    jobs = (
        "jobs:\n"
        "  - {name: refs, select: 'tag:\"jira_sync/kind\"=\"reference\"', cron: '0 2 * * *'}\n"
        "  - {name: census, select: 'key:\"jira_raw/issue_deletions\"'}\n"
        "  - {name: current_month, select: 'key:\"jira_raw/issues\"', cron: '0 * * * *'}\n"
    )
    defs = build_definitions(small_config(tmp_path, "issues, projects", jobs=jobs))
    refs = defs.resolve_job_def("refs")
    assert {k.path[1] for k in refs.asset_layer.selected_asset_keys} == {"sites", "projects"}
    # the census multi-asset writes both of its tables, so a selection of one brings the other
    census = defs.resolve_job_def("census")
    assert {k.path[1] for k in census.asset_layer.selected_asset_keys} == {
        "issue_deletions",
        "project_access",
    }
    assert {s.name for s in defs.schedules} == {"refs_schedule", "current_month_schedule"}
    schedules = {
        name: defs.resolve_schedule_def(name) for name in ("refs_schedule", "current_month_schedule")
    }
    assert schedules["refs_schedule"].cron_schedule == "0 2 * * *"
    assert schedules["current_month_schedule"].cron_schedule == "0 * * * *"
    # the partitioned job's schedule re-syncs the month of each tick
    tick = dg.build_schedule_context(
        scheduled_execution_time=datetime(2025, 5, 3, 7, tzinfo=UTC), repository_def=defs.get_repository_def()
    )
    request = schedules["current_month_schedule"].evaluate_tick(tick).run_requests[0]
    assert request.partition_key == "2025-05-01"


@pytest.mark.parametrize(
    ("select", "promise"),
    [
        ("grop:jira_raw", "is not a Dagster asset selection"),
        ('key:"jira_raw/issues', "is not a Dagster asset selection"),
        ("group:no_such_group", "matches no asset"),
    ],
)
def test_a_bad_job_selection_names_the_file_and_the_key(tmp_path: Path, select: str, promise: str) -> None:
    jobs = f"jobs:\n  - name: ok\n    select: 'group:jira_raw'\n  - name: broken\n    select: '{select}'\n"
    config = small_config(tmp_path, "issues", jobs=jobs)
    with pytest.raises(SyncConfigError) as caught:
        build_definitions(config)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'sync.yaml'}: jobs[1].select: ")
    assert promise in message
    assert "group:jira_raw" in message  # says what to write instead


def test_a_misspelt_term_beside_a_valid_one_is_refused_with_the_close_name(tmp_path: Path) -> None:
    jobs = (
        "jobs:\n"
        "  - {name: both, select: 'group:jira or group:analytcs'}\n"
        "  - {name: sweep, select: 'key:\"jira_raw/issue_update\"+ or group:publish'}\n"
    )
    with pytest.raises(SyncConfigError) as caught:
        build_definitions(small_config(tmp_path, "issues", jobs=jobs))
    assert caught.value.problems == [
        (
            "jobs[0].select",
            "'group:jira or group:analytcs': the term group:\"analytcs\" matches no asset; did you mean "
            "group:analytics? (groups: analytics, jira, jira_raw, publish, webhooks); fix it or remove it",
        ),
        (
            "jobs[1].select",
            '\'key:"jira_raw/issue_update"+ or group:publish\': the term key:"jira_raw/issue_update" '
            "matches no asset; did you mean key:jira_raw/issue_updates?; fix it or remove it",
        ),
    ]


def test_job_descriptions_say_what_the_job_is_for_and_when_it_runs(tmp_path: Path) -> None:
    jobs = (
        "jobs:\n"
        "  - {name: sweep, description: Issues changed since the last sweep., "
        "select: 'key:\"jira_raw/issue_updates\"', cron: '*/15 * * * *'}\n"
        "  - {name: rebuild, select: 'group:jira or group:analytics'}\n"
    )
    defs = build_definitions(small_config(tmp_path, "issues", jobs=jobs))
    sweep = defs.resolve_job_def("sweep").description or ""
    assert sweep.startswith("Issues changed since the last sweep.\n\nRuns on the schedule sweep_schedule")
    assert "cron '*/15 * * * *', UTC" in sweep
    rebuild = defs.resolve_job_def("rebuild").description or ""
    assert re.match(r"Materializes \d+ asset\(s\): \d+ in analytics, \d+ in jira\.\n\nNo schedule", rebuild)
    assert "`dg launch --job rebuild`" in rebuild
    assert f"jobs[1] of {tmp_path / 'sync.yaml'}" in rebuild


def test_the_repo_sync_files_jobs_have_descriptions() -> None:
    config = load_sync_config(REPO / "jira_sync.yaml")
    assert all(job.description and len(job.description) > 40 for job in config.jobs)


@pytest.mark.parametrize("name", [ISSUES_BACKFILL_JOB, "main_incremental_sweep_and_worklogs"])
def test_a_job_may_not_take_a_built_in_jobs_name(tmp_path: Path, name: str) -> None:
    jobs = f"jobs:\n  - name: {name}\n    select: 'group:jira_raw'\n"
    with pytest.raises(SyncConfigError, match=r"jobs\[0\]\.name: .*name of a built-in job"):
        build_definitions(small_config(tmp_path, "issues", jobs=jobs))


def test_the_main_jobs_steps_are_jobs_of_the_definitions(tmp_path: Path) -> None:
    repo = build_definitions(small_config(tmp_path, "issues, projects, users")).get_repository_def()
    steps = {
        name: {k.to_user_string() for k in repo.get_job(name).asset_layer.executable_asset_keys}
        for name in (
            "main_reference_data_and_teams",
            "main_incremental_sweep_and_worklogs",
            "main_issue_census",
        )
    }
    assert steps["main_incremental_sweep_and_worklogs"] == {"jira_raw/issue_updates"}  # no worklogs entity
    assert steps["main_issue_census"] == {"jira_raw/issue_deletions", "jira_raw/project_access"}
    assert "jira_raw/users" in steps["main_reference_data_and_teams"]
    rest = {
        k.to_user_string()
        for k in repo.get_job("main_transforms_webhooks_and_publish").asset_layer.executable_asset_keys
    }
    assert "publish/analyst_snapshot" in rest and not any(k.startswith("jira_raw/issue") for k in rest)


def test_secrets_are_env_vars_resolved_at_run_time_not_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIRA_SECRET", "s3cr3t-value-never-in-definitions")
    config = load_sync_config(REPO / "jira_sync.yaml")
    secrets = shared_resources(config)["jira_secrets"]
    by_env = {s.env: s.value for s in secrets.secrets}
    assert isinstance(by_env["JIRA_SECRET"], dg.EnvVar)
    assert by_env["JIRA_SECRET"] == "JIRA_SECRET"  # the variable's name, not its value


def test_another_destination_loads_without_its_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    body = "version: 1\nwarehouse: {destination: postgres, credentials_env: WAREHOUSE_URL}\n" + SITE % (
        "none",
        "issues",
    )
    config = load_sync_config(write_sync_file(tmp_path, body))
    defs = build_definitions(config)
    node = defs.resolve_asset_graph().get(dg.AssetKey(["jira_raw", "issues"]))
    assert "postgres" in node.kinds
    assert "WAREHOUSE_URL" in {s.env for s in shared_resources(config)["jira_secrets"].secrets}


def test_postgres_gets_every_area_another_destination_the_raw_area_only(tmp_path: Path) -> None:
    def groups(destination: str) -> set[str]:
        body = f"version: 1\nwarehouse: {{destination: {destination}, credentials_env: WAREHOUSE_URL}}\n"
        defs = build_definitions(
            load_sync_config(write_sync_file(tmp_path, body + SITE % ("none", "issues")))
        )
        return {node.group_name for node in defs.resolve_asset_graph().asset_nodes}

    assert groups("postgres") == groups("duckdb") >= {"jira_raw", "jira", "analytics", "publish", "webhooks"}
    assert groups("snowflake") == {"jira_raw"}  # the SQL transforms run on DuckDB or PostgreSQL
