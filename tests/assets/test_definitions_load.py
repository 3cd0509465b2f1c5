"""Loading the definitions touches no disk, so any number of processes may load them at once.

Runs, sensor ticks, the daemon and the webserver all load the definitions, often in the same
second once schedules and automation are on. Loading used to create dlt's working directories
(`dlt.pipeline()` at definition time), and two processes creating the same one crashed with
`'NoneType' object has no attribute 'live_schemas'`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOADERS = 6

SYNC_FILE = """
version: 1
warehouse: {path: data/warehouse/warehouse.duckdb, publish_path: data/publish/jira_analytics.duckdb}
oauth: {token_dir: data/tokens}
webhooks: {inbox: data/inbox/inbox.sqlite}
sync: {history_start: 2024-01-01}
jobs:
  - {name: incremental_sync, select: 'key:"jira_raw/issue_updates"', cron: "*/15 * * * *"}
tenants:
  - id: t1
    sites:
      - name: one
        url: https://one.example.net
        team_sync: {method: groups_api}
        entities: [issues, projects, issue_types, statuses, users, groups, teams]
"""

LOAD = (
    "from assets.definitions import build_definitions; "
    "repo = build_definitions().get_repository_def(); "
    "print(len(repo.asset_graph.get_all_asset_keys()), len(repo.get_all_jobs()))"
)


def _tree(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


def test_many_processes_load_the_definitions_at_once_and_write_nothing(tmp_path: Path) -> None:
    (tmp_path / "jira_sync.yaml").write_text(SYNC_FILE)
    before = _tree(tmp_path)
    env = {
        **os.environ,
        "JIRA_SYNC_CONFIG": str(tmp_path / "jira_sync.yaml"),
        "PYTHONPATH": str(REPO),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DO_NOT_TRACK": "1",
    }
    env.pop("DAGSTER_HOME", None)
    dagster = str(Path(sys.executable).parent / "dagster")
    commands = [[sys.executable, "-c", LOAD]] * (LOADERS - 2) + [
        [dagster, "definitions", "validate", "-m", "assets.definitions"]
    ] * 2
    children = [
        subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for command in commands
    ]
    outputs = [child.communicate(timeout=180)[0] for child in children]
    failed = [
        (command, out)
        for command, child, out in zip(commands, children, outputs, strict=True)
        if child.returncode
    ]
    assert not failed, failed[0][1][-3000:]
    counts = {out.strip().splitlines()[-1] for out in outputs[: LOADERS - 2]}
    assert len(counts) == 1 and int(counts.pop().split()[0]) > 20
    assert _tree(tmp_path) == before, sorted(_tree(tmp_path) - before)
