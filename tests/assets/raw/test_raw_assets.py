"""Real materializations of the raw assets against the simulator over HTTP, into temp DuckDB files.

One simulator (two sites, one organization) serves the module. A full load into a baseline
warehouse is made once; tests that change the warehouse work on a copy of it, and tests that
change the simulator compare with the truth read after their change.
"""

from __future__ import annotations

import shutil
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from assets import raw
from assets.resources import shared_resources
from jira_simulator.world import build_world
from jira_sync.demo_world import ConnectedDemo, DemoOptions, connected_demo
from jira_sync.main_job import RANGE_END_TAG, RANGE_START_TAG
from jira_sync.truth_check import check_warehouse
from pipelines import registry
from pipelines.config import load_sync_config

ISSUES, SEED = 240, 11
# The snapshot tables (every site selects every entity in the demo sync file).
REFERENCE = [
    dg.AssetKey(["jira_raw", t.name]) for t in registry.TABLES if t.source in ("jira_reference", "jira_teams")
]
WORKLOGS = [dg.AssetKey(["jira_raw", "worklogs"])]
ISSUE_KEYS = [dg.AssetKey(["jira_raw", "issues"]), dg.AssetKey(["jira_raw", "issue_changelog"])]
SWEEP = [dg.AssetKey(["jira_raw", "issue_updates"])]
CENSUS = [dg.AssetKey(["jira_raw", "issue_deletions"]), dg.AssetKey(["jira_raw", "project_access"])]


@dataclass
class Loaded:
    demo: ConnectedDemo
    warehouse: Path  # the baseline: reference + every issue partition, never modified by tests
    truth: dict  # the simulator's truth right after the baseline load
    results: list[dg.ExecuteInProcessResult]
    results_path: Path  # the sync file of the baseline load


def sync_file(demo: ConnectedDemo, directory: Path, warehouse: Path) -> Path:
    """The demo sync file with its own warehouse (and dlt working dirs under `directory`)."""
    body = yaml.safe_load(demo.sync_file.read_text())
    body["warehouse"]["path"] = str(warehouse)
    path = directory / "jira_sync.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def materialize(
    path: Path, selection: list[dg.AssetKey], *, months: tuple[str, str] | None = None
) -> dg.ExecuteInProcessResult:
    config = load_sync_config(path)
    tags = {RANGE_START_TAG: months[0], RANGE_END_TAG: months[1]} if months else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.materialize(
            raw.build_definitions(config).assets,
            resources=shared_resources(config),
            selection=selection,
            tags=tags,
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )


def all_months(path: Path) -> tuple[str, str]:
    config = load_sync_config(path)
    issues = next(a for a in raw.build_definitions(config).assets if ISSUE_KEYS[0] in a.keys)
    partitions = issues.partitions_def
    return partitions.get_first_partition_key(), partitions.get_last_partition_key()


def ids(warehouse: Path, sql: str) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {str(row[0]) for row in con.execute(sql).fetchall()}


def pairs(warehouse: Path, sql: str) -> set[tuple[str, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {(str(a), str(b)) for a, b in con.execute(sql).fetchall()}


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    return "\n".join(
        str(e.step_failure_data.error.to_string()) for e in result.all_events if e.is_step_failure
    )


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    base = tmp_path_factory.mktemp("raw")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.chdir(base)  # dlt working dirs (data/dlt) go here
    options = DemoOptions(
        issues=ISSUES, seed=SEED, warehouse=base / "baseline.duckdb", demo_dir=base / "demo"
    )
    with connected_demo(options) as demo:
        for name, value in demo.environ.items():
            monkeypatch.setenv(name, value)
        path = sync_file(demo, base, options.warehouse)
        results = [
            materialize(path, REFERENCE),
            materialize(path, ISSUE_KEYS, months=all_months(path)),
            materialize(path, WORKLOGS),
        ]
        yield Loaded(demo, options.warehouse, demo.simulator.truth(), results, path)
    monkeypatch.undo()


@pytest.fixture
def workdir(loaded: Loaded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_full_load_equals_truth_for_both_sites(loaded: Loaded) -> None:
    for result in loaded.results:
        assert result.success, failure_message(result)
    sites = {s.id: s.name for s in loaded.demo.sites}
    assert len(sites) == 2
    checks = check_warehouse(loaded.warehouse, loaded.truth, sites)
    assert {c.table for c in checks} >= {
        "issues",
        "issue_changelog",
        "teams",
        "team_members",
        "group_members",
    }
    assert [c.line() for c in checks if not c.ok] == []
    assert all(c.warehouse > 0 for c in checks), [c.line() for c in checks if not c.warehouse]


def test_every_materialization_has_row_count_and_column_schema(loaded: Loaded) -> None:
    truth_issues = sum(site["issues"]["count"] for site in loaded.truth["sites"].values())
    events = [e for r in loaded.results for e in r.get_asset_materialization_events()]
    assert {e.asset_key for e in events} == set(REFERENCE) | set(ISSUE_KEYS) | set(WORKLOGS)
    for event in events:
        metadata = event.materialization.metadata
        assert metadata["dagster/row_count"].value > 0, event.asset_key
        columns = {c.name for c in metadata["dagster/column_schema"].value.columns}
        assert "cloud_id" in columns or "organization_id" in columns, event.asset_key
        assert (metadata.get("http_requests") or metadata["run_http_requests"]).value > 0
    issues = next(e for e in events if e.asset_key == ISSUE_KEYS[0]).materialization.metadata
    assert issues["dagster/row_count"].value == truth_issues


def test_each_partition_counts_its_own_rows(loaded: Loaded) -> None:
    """One range run materializes every month; each month's row count is that month's, not the run's."""
    world = build_world(issues=ISSUES, seed=SEED)
    month_of = {
        (c, i.id): datetime.fromtimestamp(i.created_ms / 1000, UTC).strftime("%Y-%m-01")
        for c, s in world.sites.items()
        for i in s.issues.values()
    }
    history_month = {
        (c, h.id): month_of[(c, i.id)]
        for c, s in world.sites.items()
        for i in s.issues.values()
        for h in i.histories
    }
    truth = loaded.truth["sites"]
    expected = {
        "issues": Counter(month_of[(c, i)] for c, s in truth.items() for i in s["issues"]["ids"]),
        "issue_changelog": Counter(
            history_month[(c, item.split(":")[0])]
            for c, s in truth.items()
            for item in s["issue_changelog"]["ids"]
        ),
    }
    backfill = loaded.results[1]
    months = all_months(loaded.results_path)
    for table in expected:
        events = [
            e.materialization
            for e in backfill.get_asset_materialization_events()
            if e.asset_key == dg.AssetKey(["jira_raw", table])
        ]
        counts = {e.partition: e.metadata["dagster/partition_row_count"].value for e in events}
        assert min(counts) == months[0] and max(counts) == months[1]
        assert {k: v for k, v in counts.items() if v} == dict(expected[table]), table
        assert sum(counts.values()) == sum(expected[table].values())
        # what the run did as a whole is named so on every partition, never as the partition's own
        first = events[0].metadata
        assert "rows_loaded" not in first and "http_requests" not in first
        assert first["run_rows_loaded"].value == sum(expected[table].values())
        assert first["run_partitions"].value == len(counts)


def test_two_partition_backfill_equals_truth_for_its_window_and_reruns_change_nothing(
    loaded: Loaded, workdir: Path
) -> None:
    # created dates and histories from the same deterministic world the simulator serves;
    # which issues and changelog items exist from its live truth (ids are unique per site)
    world = build_world(issues=ISSUES, seed=SEED)
    created = {(c, i.id): i.created_ms for c, s in world.sites.items() for i in s.issues.values()}
    truth = loaded.demo.simulator.truth()["sites"]
    live = {(c, i) for c, s in truth.items() for i in s["issues"]["ids"]}
    months = sorted({datetime.fromtimestamp(created[k] / 1000, UTC).strftime("%Y-%m") for k in live})
    first, second = months[-3], months[-2]  # two adjacent, recent (busier) months
    start = datetime.fromisoformat(f"{first}-01T00:00:00+00:00")
    end = datetime.fromisoformat(f"{second}-01T00:00:00+00:00").replace(month=int(second[5:]) % 12 + 1)
    if second.endswith("-12"):
        end = end.replace(year=end.year + 1)
    expected = {k for k in live if start.timestamp() * 1000 <= created[k] < end.timestamp() * 1000}
    assert expected

    warehouse = workdir / "window.duckdb"
    path = sync_file(loaded.demo, workdir, warehouse)
    first_run = materialize(path, ISSUE_KEYS, months=(f"{first}-01", f"{second}-01"))
    assert first_run.success, failure_message(first_run)
    issues_sql = "SELECT cloud_id, id FROM jira_raw.issues"
    assert pairs(warehouse, issues_sql) == expected
    histories = {
        (c, h.id)
        for c, s in world.sites.items()
        for i in s.issues.values()
        if (c, i.id) in expected
        for h in i.histories
    }
    expected_changelog = {
        (c, item)
        for c, s in truth.items()
        for item in s["issue_changelog"]["ids"]
        if (c, item.split(":")[0]) in histories
    }
    changelog_sql = "SELECT cloud_id, history_id || ':' || item_index FROM jira_raw.issue_changelog"
    assert expected_changelog
    assert pairs(warehouse, changelog_sql) == expected_changelog

    def snapshot() -> list[tuple]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute(
                "SELECT (SELECT count(*) FROM jira_raw.issues), (SELECT count(*) FROM jira_raw.issue_changelog),"
                " (SELECT count(DISTINCT (cloud_id, id)) FROM jira_raw.issues)"
            ).fetchall()

    before = snapshot()
    for months_run in ((f"{second}-01", f"{second}-01"), (f"{first}-01", f"{second}-01")):
        rerun = materialize(path, ISSUE_KEYS, months=months_run)
        assert rerun.success, failure_message(rerun)
        assert snapshot() == before
    assert pairs(warehouse, issues_sql) == expected


def test_a_429_storm_still_ends_equal_to_truth(loaded: Loaded, workdir: Path) -> None:
    sim = loaded.demo.simulator
    warehouse = workdir / "storm.duckdb"
    path = sync_file(loaded.demo, workdir, warehouse)
    sim.admin("PUT", "faults", {"rate_429": 0.3, "retry_after_seconds": 0})
    try:
        result = materialize(path, ISSUE_KEYS, months=all_months(path))
    finally:
        sim.admin("PUT", "faults", {"rate_429": 0.0, "retry_after_seconds": 1})
    assert result.success, failure_message(result)
    checks = check_warehouse(warehouse, sim.truth(), {s.id: s.name for s in loaded.demo.sites})
    issue_checks = [c for c in checks if c.table in ("issues", "issue_changelog")]
    assert len(issue_checks) == 4
    assert [c.line() for c in issue_checks if not c.ok] == []
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["run_http_throttled"].value > 0
    assert metadata["run_http_retries"].value >= metadata["run_http_throttled"].value


def test_incremental_sweep_picks_up_a_change(loaded: Loaded, workdir: Path) -> None:
    sim = loaded.demo.simulator
    warehouse = workdir / "sweep.duckdb"
    shutil.copy(loaded.warehouse, warehouse)
    path = sync_file(loaded.demo, workdir, warehouse)
    site = loaded.demo.sites[0]
    issue_id = sorted(loaded.truth["sites"][site.id]["issues"]["ids"], key=int)[0]
    sim.admin("PUT", f"sites/{site.name}/issues/{issue_id}", {"summary": "changed by the sweep test"})

    result = materialize(path, SWEEP)
    assert result.success, failure_message(result)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        summary = con.execute(
            "SELECT summary FROM jira_raw.issues WHERE cloud_id = ? AND id = ?", [site.id, issue_id]
        ).fetchone()
        updates = con.execute(
            "SELECT count(*) FROM jira_raw.issue_updates WHERE cloud_id = ? AND id = ?", [site.id, issue_id]
        ).fetchone()
        changelog = con.execute(
            "SELECT count(*) FROM jira_raw.issue_changelog WHERE cloud_id = ? AND issue_id = ? AND field = 'summary'"
            " AND to_string = 'changed by the sweep test'",
            [site.id, issue_id],
        ).fetchone()
    assert summary == ("changed by the sweep test",)
    assert updates == (1,)
    assert changelog == (1,)
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["issues_merged"].value >= 1
    # a quiet sweep only re-reads the overlap: a handful of requests, not a full import
    assert metadata["http_requests"].value < 20


def test_census_removes_a_deleted_issue_and_records_why(loaded: Loaded, workdir: Path) -> None:
    sim = loaded.demo.simulator
    warehouse = workdir / "census.duckdb"
    shutil.copy(loaded.warehouse, warehouse)
    path = sync_file(loaded.demo, workdir, warehouse)
    site = loaded.demo.sites[1]
    issue_id = sorted(loaded.truth["sites"][site.id]["issues"]["ids"], key=int)[-1]
    sim.admin("DELETE", f"sites/{site.name}/issues/{issue_id}")

    result = materialize(path, CENSUS)
    assert result.success, failure_message(result)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        left = con.execute(
            "SELECT count(*) FROM jira_raw.issues WHERE cloud_id = ? AND id = ?", [site.id, issue_id]
        ).fetchone()
        changelog = con.execute(
            "SELECT count(*) FROM jira_raw.issue_changelog WHERE cloud_id = ? AND issue_id = ?",
            [site.id, issue_id],
        ).fetchone()
        deletions = con.execute("SELECT cloud_id, id, reason FROM jira_raw.issue_deletions").fetchall()
        access = con.execute("SELECT DISTINCT status FROM jira_raw.project_access").fetchall()
    assert left == (0,) and changelog == (0,)
    assert deletions == [(site.id, issue_id, "census")]
    assert access == [("visible",)]
    checks = check_warehouse(warehouse, sim.truth(), {s.id: s.name for s in loaded.demo.sites})
    assert [c.line() for c in checks if c.table == "issues" and not c.ok] == []


def test_a_failing_site_lets_the_others_land_then_fails_saying_what_to_do(
    loaded: Loaded, workdir: Path
) -> None:
    warehouse = workdir / "partial.duckdb"
    path = sync_file(loaded.demo, workdir, warehouse)
    body = yaml.safe_load(path.read_text())
    stranger = dict(body["tenants"][0]["sites"][0], name="stranger", url="https://stranger.example.net")
    body["tenants"][0]["sites"].append(stranger)
    path.write_text(yaml.safe_dump(body))

    result = materialize(path, REFERENCE[:3])
    assert not result.success
    message = failure_message(result)
    assert "site stranger (tenant demo)" in message
    assert "re-connect" in message and "select it on the consent page" in message
    assert loaded.demo.environ["JIRA_SECRET"] not in message
    healthy = {s.id for s in loaded.demo.sites}
    assert ids(warehouse, "SELECT cloud_id FROM jira_raw.sites") == healthy
    assert ids(warehouse, "SELECT DISTINCT cloud_id FROM jira_raw.projects") == healthy
