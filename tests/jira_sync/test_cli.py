"""The `jira-sync` command line: the main job end to end, definitions validation, config check, connect."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import httpx
import pytest

from jira_sync.cli import SUBCOMMAND_MODULES, build_parser, main
from jira_sync.connect import ConnectError, loopback_port

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET_VARS = (
    "JIRA_CLIENT_ID",
    "JIRA_SECRET",
    "JIRA_REDIRECT_URI",
    "JIRA_TEAMS_EMAIL",
    "JIRA_TEAMS_API_TOKEN",
)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS and k != "JIRA_SYNC_CONFIG"}
    env.update(RUNTIME__DLTHUB_TELEMETRY="false", DO_NOT_TRACK="1", **extra)
    return env


def test_the_demo_runs_every_asset_and_equals_the_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster.yaml")  # a real instance, in the temp dir
    completed = subprocess.run(
        [str(BIN / "jira-sync"), "demo", "--issues", "120", "--seed", "5", "--warehouse", "data/w.duckdb"],
        cwd=tmp_path,
        env=clean_env(DAGSTER_HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = completed.stdout
    assert completed.returncode == 0, out + completed.stderr[-3000:]
    served = re.search(r"^simulator (http://127\.0\.0\.1:\d+)", out, re.M)
    assert served
    assert "connected tenant demo by OAuth consent: acme, globex" in out
    # one progress line before and after each step, with timing
    for step in ("reference data and teams", "issues backfill", "incremental sweep", "issue census"):
        assert re.search(rf"^\[\d/\d\] {step}.*: done in \d+\.\d s", out, re.M), step
    assert "one run" in out  # the backfill over every month is a single range run
    checks = re.findall(r"^  (OK      |MISMATCH) jira_raw\.(\w+)", out, re.M)
    assert {table for _status, table in checks} >= {
        "issues",
        "issue_changelog",
        "projects",
        "issue_types",
        "statuses",
        "status_categories",
        "users",
        "groups",
        "group_members",
        "teams",
        "team_members",
        "sites",
    }
    assert all(status.strip() == "OK" for status, _table in checks), out
    assert len([t for _s, t in checks if t == "issues"]) == 2  # both sites
    assert re.search(r"sync HTTP: [1-9]\d* requests", out)
    assert re.search(r"jira_raw\.issues\s+120$", out, re.M)
    # what analysts open: the flow report beside the warehouse, and the SQL shell's command
    assert "flow report  data/report/flow_report.html" in out
    assert "jira-sync sql --snapshot data/jira_analytics.duckdb" in out
    report = tmp_path / "data" / "report"
    assert (report / "flow_report.html").stat().st_size > 500_000  # Vega inlined
    assert sorted(p.name for p in (report / "images").glob("*.png")) == [
        "aging_wip.png",
        "bug_share.png",
        "cumulative_flow.png",
        "cycle_time.png",
        "team_trend.png",
        "throughput.png",
    ]
    # every check's outcome is printed; a fresh install with no webhook traffic is no failure
    assert re.search(r"^asset checks \(\d+ evaluated\)$", out, re.M)
    listed = re.findall(r"^  (passed|WARN|ERROR) +(\S+) (\w+): (.*)$", out, re.M)
    names = {name for _label, _asset, name, _text in listed}
    assert {
        "webhook_miss_rate",
        "analyst_snapshot_opens",
        "webhook_expiry",
        "status_history_consistent",
    } <= names
    assert not [row for row in listed if row[0] == "ERROR"], out
    miss_rate = next(text for _label, _asset, name, text in listed if name == "webhook_miss_rate")
    assert miss_rate.startswith("not enough data yet: demo/acme: no webhook registered or delivered yet")
    assert "OK: no check failed with severity ERROR" in out
    # the runs are in the instance of DAGSTER_HOME, named after their step and tagged
    assert (tmp_path / ".dagster_home" / "storage").is_dir()
    monkeypatch.chdir(tmp_path)  # dagster.yaml's storage paths are relative
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        runs = sorted(instance.get_runs(), key=lambda run: run.run_id)
        assert {run.job_name for run in runs} == {
            "main_reference_data_and_teams",
            "issues_backfill",
            "main_incremental_sweep_and_worklogs",
            "main_issue_census",
            "main_transforms_webhooks_and_publish",
        }
        assert {run.tags["jira_sync/trigger"] for run in runs} == {"make run"}
        # the run ids printed are whole (an 8-character prefix opens nothing in the UI), with links
        printed = re.findall(r"; run ([0-9a-f-]+)\)$", out, re.M)
        assert sorted(printed) == [run.run_id for run in runs]
        for run in runs:
            assert f"http://127.0.0.1:3000/runs/{run.run_id}  {run.job_name}" in out
        backfill = next(run for run in runs if run.job_name == "issues_backfill")
        assert backfill.tags["jira_sync/step"].startswith("issues backfill")
        assert (
            backfill.tags["dagster/asset_partition_range_start"]
            < backfill.tags["dagster/asset_partition_range_end"]
        )
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{served.group(1)}/_sim/health", timeout=2)


def test_dagster_definitions_validate_on_the_repo_sync_file_with_no_secrets(tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate"],
        cwd=REPO,
        env=clean_env(DAGSTER_HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "All code locations passed validation" in completed.stderr + completed.stdout


def test_config_check_reports_the_missing_environment_then_passes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in SECRET_VARS:
        monkeypatch.delenv(name, raising=False)
    assert main(["config", "check", "--file", str(REPO / "jira_sync.yaml")]) == 1
    out = capsys.readouterr().out
    assert "tenant acme: 1 site(s)" in out
    assert "reference_sync: tag:" in out and "cron '0 2 * * *'" in out
    # what will run by itself, and when
    assert re.search(
        r"^    schedule incremental_sync_schedule +running +cron '\*/15 \* \* \* \*' UTC, next 20", out, re.M
    )
    assert re.search(
        r"^    sensor +default_automation_condition_sensor +running +every 30 s: \d+ derived assets and \d+ checks follow",
        out,
        re.M,
    )
    assert re.search(r"^    sensor +jira_webhook_inbox +running +every 5 s", out, re.M)
    assert re.search(r"^    sensor +jira_webhook_lifecycle +running +every 1 h", out, re.M)
    assert re.search(r"^    job +transforms +- +on demand", out, re.M)
    assert "environment variable JIRA_SECRET is not set" in out and "oauth.client_secret_env" in out
    assert "tenants[0].sites[0].team_sync.api_token_env" in out

    for name in SECRET_VARS:
        monkeypatch.setenv(name, "placeholder-value")
    assert main(["config", "check", "--file", str(REPO / "jira_sync.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("jira_sync.yaml: OK")
    assert "placeholder-value" not in out


def test_config_check_names_a_bad_job_selection(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    text = (
        (REPO / "jira_sync.yaml")
        .read_text()
        .replace("group:jira or group:analytics", "grup:jira or group:analytics")
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    assert main(["config", "check", "--file", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"error: {bad}: jobs[3].select: 'grup:jira or group:analytics" in out
    assert "is not a Dagster asset selection" in out


def test_config_check_catches_a_misspelt_group_beside_a_valid_one_and_counts_every_problem(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in SECRET_VARS:
        monkeypatch.delenv(name, raising=False)
    text = (REPO / "jira_sync.yaml").read_text().replace("or group:analytics", "or group:analytcs")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    assert main(["config", "check", "--file", str(bad)]) == 1
    out = capsys.readouterr().out
    assert 'the term group:"analytcs" matches no asset; did you mean group:analytics?' in out
    # the selection problem and the five missing variables, counted the same everywhere
    assert "5 problems:" in out
    assert out.rstrip().endswith(f"{bad}: 6 problems")


def test_the_demo_runs_the_repo_sync_files_jobs() -> None:
    import yaml

    from jira_sync.demo_world import STANDARD_JOBS

    assert yaml.safe_load((REPO / "jira_sync.yaml").read_text())["jobs"] == STANDARD_JOBS


def test_config_check_names_an_invalid_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text("version: 1\ntenant: []\n")
    assert main(["config", "check", "--file", str(bad)]) == 1
    assert f"error: {bad}:" in capsys.readouterr().out


def test_connect_listens_only_on_a_loopback_callback() -> None:
    assert loopback_port("http://127.0.0.1:8765/oauth/callback") == 8765
    with pytest.raises(ConnectError, match="not a loopback callback.*JIRA_REDIRECT_URI"):
        loopback_port("https://sync.example.com/auth/jira/callback")


def test_every_subcommand_is_registered_under_its_name() -> None:
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(commands) == set(SUBCOMMAND_MODULES) >= {"demo", "dev", "connect", "config", "webhooks", "sql"}
    for name in SUBCOMMAND_MODULES:  # each module registers the name it is listed under
        only = build_parser(name)._subparsers._group_actions[0].choices  # type: ignore[union-attr]
        assert set(only) == {name}


def test_a_dead_main_job_run_is_failed_and_its_pool_slot_freed(tmp_path: Path) -> None:
    import dagster as dg
    from dagster._core.storage.dagster_run import DagsterRun

    from jira_sync.main_job import PID_TAG, release_stale_pool_slots

    gone = subprocess.Popen(["true"])
    gone.wait()
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots("warehouse", 1)
        dead = DagsterRun(
            job_name="__ASSET_JOB", status=dg.DagsterRunStatus.STARTED, tags={PID_TAG: str(gone.pid)}
        )
        alive = DagsterRun(
            job_name="__ASSET_JOB", status=dg.DagsterRunStatus.STARTED, tags={PID_TAG: str(os.getpid())}
        )
        for run in (dead, alive):
            instance.add_run(run)
        assert storage.claim_concurrency_slot("warehouse", dead.run_id, "jira_issues").is_claimed

        assert release_stale_pool_slots(instance) == [dead.run_id]
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED
        assert storage.get_concurrency_info("warehouse").active_run_ids == set()
