"""Every command the README shows works as written, or says in one line what is missing.

Each command of the README (code blocks and inline code) is listed in `EXERCISED` with the test
that runs it, and that test must exist: a command added to the README without a test fails
here. The shell backfill and the dlt command, which no other test runs, are run here exactly as
written against a connected simulator.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from jira_sync.demo_world import ConnectedDemo, DemoOptions, connected_demo

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
BACKFILL = (
    ".venv/bin/jira-sync config check && DAGSTER_HOME=$PWD .venv/bin/dagster asset materialize -m assets.definitions "
    "--select jira_raw/issues,jira_raw/issue_changelog --partition-range 2024-01-01...2024-06-01"
)
DLT_INFO = ".venv/bin/dlt pipeline --pipelines-dir data/dlt jira_issue_updates info"

# README command -> the test that runs it (path::name), or how CI runs it.
EXERCISED = {
    "make run": "tests/jira_sync/test_cli.py::test_the_demo_runs_every_asset_and_equals_the_truth",
    "make run [SCENARIO=file] [ISSUES=n] [SEED=s] [WAREHOUSE=path]": "tests/test_readme_commands.py::test_every_make_target_the_readme_names_exists",
    "make test": ".ci/run",
    "make dev": "tests/jira_sync/test_dev_connect.py::test_connect_page_works_under_make_dev",
    "DAGSTER_HOME=$PWD .venv/bin/dg dev": "tests/jira_sync/test_dev.py::test_dev_started_in_the_background_stops_all_children_on_sigterm",
    "make chaos": "tests/test_readme_commands.py::test_every_make_target_the_readme_names_exists",
    "make bench": "tests/test_readme_commands.py::test_every_make_target_the_readme_names_exists",
    "make lint": "tests/test_readme_commands.py::test_every_make_target_the_readme_names_exists",
    BACKFILL: "tests/test_readme_commands.py::test_the_shell_backfill_runs_as_written",
    DLT_INFO: "tests/test_readme_commands.py::test_the_shell_backfill_runs_as_written",
    ".venv/bin/jira-sync sql": "tests/jira_sync/test_sql_shell.py::test_a_file_and_a_pipe",
    "jira-sync sql": "tests/jira_sync/test_sql_shell.py::test_a_file_and_a_pipe",
    ".venv/bin/jira-sync sql --mode csv -f my_query.sql > out.csv": "tests/jira_sync/test_sql_shell.py::test_a_file_and_a_pipe",
    '.venv/bin/jira-sync sql -c "FROM snapshot_info LIMIT 5"': "tests/jira_sync/test_sql_shell.py::test_a_query_runs_read_only_in_utc",
    "jira-sync config check": "tests/jira_sync/test_cli.py::test_config_check_reports_the_missing_environment_then_passes",
    "jira-sync plan backfill --from 2021-01": "tests/pipelines/jira/test_plan.py::test_the_command_prints_the_plan_and_names_bad_months",
    "jira-sync connect --tenant acme": "tests/jira_sync/test_cli.py::test_connect_listens_only_on_a_loopback_callback",
    "jira-sync webhooks create": "tests/jira_sync/test_webhooks_cli.py::test_lifecycle_from_the_command_line",
    "jira-sync webhooks quarantined": "tests/assets/webhooks/test_webhook_ingest.py::test_poison_deliveries_are_quarantined_and_the_deliveries_around_them_apply",
    "jira-sync webhooks retry-quarantined": "tests/assets/webhooks/test_webhook_ingest.py::test_poison_deliveries_are_quarantined_and_the_deliveries_around_them_apply",
    "jira-sync-receiver --host 0.0.0.0 --port 8000": "tests/webhook_receiver/test_receiver_scale_out.py::test_four_receivers_store_every_acknowledged_delivery_once_across_a_kill",
    "export JIRA_CLIENT_ID=...  JIRA_SECRET=...  JIRA_REDIRECT_URI=https://sync.example.com/auth/jira/callback": "tests/jira_sync/test_cli.py::test_config_check_reports_the_missing_environment_then_passes",
    "export JIRA_TEAMS_EMAIL=you@example.com  JIRA_TEAMS_API_TOKEN=...": "tests/jira_sync/test_cli.py::test_config_check_reports_the_missing_environment_then_passes",
}


def readme_commands() -> set[str]:
    """Shell lines of the README's code blocks and its inline code that start like a command."""
    start = r"(?:make |\.venv/bin/|export |DAGSTER_HOME=|jira-sync |jira-sync-receiver )"
    found: set[str] = set()
    in_block = False
    for line in README.splitlines():
        if line.strip().startswith("```"):
            in_block = not in_block
        elif in_block and re.match(rf"\s*{start}", line):
            found.add(line.split("  #")[0].strip())
    found |= {m.group(1).strip() for m in re.finditer(rf"`({start}[^`]*)`", README)}
    return found


def test_every_readme_command_has_a_test_that_runs_it() -> None:
    assert readme_commands() - set(EXERCISED) == set(), "add the command's test to EXERCISED"
    for where in set(EXERCISED.values()):
        if where == ".ci/run":
            assert "make test" in (REPO / ".ci/run").read_text()
            continue
        path, name = where.split("::")
        assert re.search(rf"^def {name}\(", (REPO / path).read_text(), re.MULTILINE), where


def test_every_make_target_the_readme_names_exists() -> None:
    targets = {c.split()[1] for c in readme_commands() if c.startswith("make ")}
    assert targets >= {"run", "test", "dev", "chaos", "bench", "lint"}
    for target in targets:
        dry = subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True, text=True, timeout=60)
        assert dry.returncode == 0, (target, dry.stderr)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[ConnectedDemo]:
    options = DemoOptions(
        issues=200, seed=3, warehouse=tmp_path / "data" / "warehouse.duckdb", demo_dir=tmp_path / "demo"
    )
    with connected_demo(options) as running:
        yield running


def _shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_shell_backfill_runs_as_written(demo: ConnectedDemo, tmp_path: Path) -> None:
    assert BACKFILL in README and DLT_INFO in README
    # The README's relative paths (.venv/bin, data/dlt) from a directory that has them.
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster.yaml")
    plain = {k: v for k, v in os.environ.items() if k != "JIRA_SYNC_CONFIG" and not k.startswith("JIRA_")}

    # Without the sync file's variables: one line per missing variable, and Dagster never starts.
    missing = _shell(BACKFILL, tmp_path, {**plain, "JIRA_SYNC_CONFIG": demo.environ["JIRA_SYNC_CONFIG"]})
    assert missing.returncode != 0
    said = missing.stdout + missing.stderr
    assert re.search(r"environment variable \w+ is not set; export \w+=\.\.\. before the run", said), said
    assert "Traceback" not in said and "PostProcessingError" not in said

    done = _shell(BACKFILL, tmp_path, {**plain, **demo.environ})
    said = done.stdout + done.stderr
    assert done.returncode == 0, said[-3000:]
    assert re.search(
        r"issues of site \w+ \(tenant demo\) created 2024-01-01 00:00 \.\. 2024-07-01 00:00 UTC finished",
        said,
    ), said[-3000:]
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        months = con.execute("SELECT min(created), max(created), count(*) FROM jira_raw.issues").fetchone()
    assert months[2] > 0 and str(months[0]) >= "2024-01-01" and str(months[1]) < "2024-07-01 01", months

    info = _shell(DLT_INFO.replace("jira_issue_updates", "jira_issues"), tmp_path, plain)
    assert info.returncode == 0, info.stdout + info.stderr
    assert "Found pipeline jira_issues" in info.stdout
