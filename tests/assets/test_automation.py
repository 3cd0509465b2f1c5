"""What runs by itself: lineage from every writer of the issues tables, automation conditions on every
derived asset and check, coalescing, statuses and paces from the sync file, run tags, executor."""

from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.events import DagsterEvent, DagsterEventType

from assets.automation import AUTOMATION_SENSOR, STEP_TAG, TRIGGER_TAG
from assets.definitions import build_definitions
from pipelines import registry
from pipelines.config import load_sync_config
from pipelines.current_state import CURRENT_STATE_VIEWS

REPO = Path(__file__).resolve().parents[2]
DERIVED_GROUPS = {"jira", "analytics", "publish"}
REGISTRATIONS = dg.AssetKey(["jira", "webhook_registrations"])


@pytest.fixture(autouse=True)
def _quiet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    warnings.simplefilter("ignore", dg.BetaWarning)


def repo_config(tmp_path: Path, **changes):
    """The shipped sync file, with top-level keys replaced."""
    body = yaml.safe_load((REPO / "jira_sync.yaml").read_text())
    body.update(changes)
    path = tmp_path / "sync.yaml"
    path.write_text(yaml.safe_dump(body))
    return load_sync_config(path)


@pytest.fixture
def defs(tmp_path: Path) -> dg.Definitions:
    return build_definitions(repo_config(tmp_path))


def _keys(defs: dg.Definitions, selection: str) -> set[str]:
    graph = defs.resolve_asset_graph()
    return {k.to_user_string() for k in dg.AssetSelection.from_string(selection).resolve(graph)}


def test_the_sweep_census_and_drain_are_upstream_of_what_they_change(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    for writer in ("issue_updates", "issue_deletions", "webhook_events", "webhook_issues"):
        children = {k.to_user_string() for k in graph.get(dg.AssetKey(["jira_raw", writer])).child_keys}
        assert {"jira/issues", "jira/issue_type_categories", "jira/status_states"} <= children, writer
        assert "analytics/issue_status_history" in children, writer
    # so the shipped jobs' `+` means the sweep (census) and everything it changes, up to the snapshot
    swept = _keys(defs, 'key:"jira_raw/issue_updates"+')
    assert {
        "jira/issues",
        "analytics/issue_cycle_times",
        "analytics/flow_daily",
        "publish/analyst_snapshot",
    } <= swept
    assert "publish/analyst_snapshot" in _keys(defs, 'key:"jira_raw/issue_deletions"+')
    delivered_changelog = graph.get(dg.AssetKey(["jira_raw", "webhook_changelog"])).child_keys
    assert {"jira/status_states", "analytics/issue_status_history"} <= {
        k.to_user_string() for k in delivered_changelog
    }
    # the drain reads only the inbox: nothing is upstream of its tables (the flow goes one way)
    for table in ("webhook_events", "webhook_issues", "webhook_changelog"):
        assert not graph.get(dg.AssetKey(["jira_raw", table])).parent_keys, table


def test_the_lineage_shows_every_writer_the_registry_names(defs: dg.Definitions) -> None:
    """Each writer of each `jira_raw` table is an asset, and each writer of a table the current
    issues (changelog) derive from is upstream of the jira asset that reads them."""
    graph = defs.resolve_asset_graph()
    keys = graph.materializable_asset_keys
    for table in registry.TABLES:
        for writer in table.writers:
            assert dg.AssetKey(writer.split("/")) in keys, (table.name, writer)
    readers = {"issues": "jira/issues", "issue_changelog": "jira/status_states"}
    for view, sources in CURRENT_STATE_VIEWS.items():
        parents = {
            k.to_user_string() for k in graph.get(dg.AssetKey.from_user_string(readers[view])).parent_keys
        }
        writers = {w for source in sources for w in registry.table(source).writers}
        assert writers <= parents, (view, writers - parents)


def test_every_derived_asset_and_check_follows_its_upstream(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    derived = {k for k in graph.materializable_asset_keys if graph.get(k).group_name in DERIVED_GROUPS}
    assert len(derived) >= 13
    for key in derived - {REGISTRATIONS}:  # registrations follow Jira's clock (lifecycle sensor)
        assert graph.get(key).automation_condition.get_label() == "follows upstream", key
    for key in graph.materializable_asset_keys - derived:
        assert graph.get(key).automation_condition is None, key  # raw assets: schedules, sensors
    # checks of their own step; the others (webhook_expiry, webhook_quarantine) run in their asset's step
    checks = {key for definition in defs.asset_checks for key in definition.check_keys}
    assert {k.name for k in checks} >= {"webhook_miss_rate", "other_type_share", "analyst_snapshot_opens"}
    for key in checks:
        assert graph.get(key).automation_condition is not None, key


def test_every_job_runs_its_steps_in_one_process(defs: dg.Definitions) -> None:
    repo = defs.get_repository_def()
    assert {job.executor_def.name for job in repo.get_all_jobs()} == {"in_process"}
    assert repo.get_job("incremental_sync").tags[STEP_TAG] == "incremental_sync"


def test_schedules_sensors_and_automation_run_from_the_start(defs: dg.Definitions) -> None:
    repo = defs.get_repository_def()
    assert {s.name: s.default_status for s in repo.schedule_defs} == {
        name: dg.DefaultScheduleStatus.RUNNING
        for name in ("reference_sync_schedule", "incremental_sync_schedule", "issue_census_schedule")
    }
    sensors = {s.name: s for s in repo.sensor_defs}
    assert set(sensors) == {AUTOMATION_SENSOR, "jira_webhook_inbox", "jira_webhook_lifecycle"}
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in sensors.values())
    assert {n: s.minimum_interval_seconds for n, s in sensors.items()} == {
        AUTOMATION_SENSOR: 30,
        "jira_webhook_inbox": 5,
        "jira_webhook_lifecycle": 3600,
    }
    tick = dg.build_schedule_context(repository_def=repo)
    request = repo.get_schedule_def("incremental_sync_schedule").evaluate_tick(tick).run_requests[0]
    assert request.tags[TRIGGER_TAG] == "schedule incremental_sync_schedule"


def test_the_sync_file_switches_each_off_and_sets_the_pace(tmp_path: Path) -> None:
    body = yaml.safe_load((REPO / "jira_sync.yaml").read_text())
    for job in body["jobs"]:
        job["enabled"] = job["name"] != "incremental_sync"
    automation = {
        "freshness": {"enabled": False, "interval_seconds": 120},
        "webhook_inbox": {"enabled": False},
        "webhook_lifecycle": {"interval_seconds": 60},
    }
    repo = build_definitions(
        repo_config(tmp_path, jobs=body["jobs"], automation=automation)
    ).get_repository_def()
    assert (
        repo.get_schedule_def("incremental_sync_schedule").default_status == dg.DefaultScheduleStatus.STOPPED
    )
    assert repo.get_schedule_def("issue_census_schedule").default_status == dg.DefaultScheduleStatus.RUNNING
    sensors = {s.name: s for s in repo.sensor_defs}
    assert sensors[AUTOMATION_SENSOR].default_status == dg.DefaultSensorStatus.STOPPED
    assert sensors[AUTOMATION_SENSOR].minimum_interval_seconds == 120
    assert sensors["jira_webhook_inbox"].default_status == dg.DefaultSensorStatus.STOPPED
    assert sensors["jira_webhook_inbox"].minimum_interval_seconds == 5  # the default stays
    assert sensors["jira_webhook_lifecycle"].default_status == dg.DefaultSensorStatus.RUNNING
    assert sensors["jira_webhook_lifecycle"].minimum_interval_seconds == 60


def _materialized(instance: dg.DagsterInstance, *keys: dg.AssetKey) -> None:
    for key in keys:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))


def _requested(result) -> set[str]:
    return {r.key.to_user_string() for r in result.results if r.true_subset.size}


def test_fifty_drains_during_a_transform_run_coalesce_into_one_more_run(defs: dg.Definitions) -> None:
    instance = dg.DagsterInstance.ephemeral()
    graph = defs.resolve_asset_graph()
    drain = [dg.AssetKey(["jira_raw", t]) for t in ("webhook_events", "webhook_issues", "webhook_changelog")]
    _materialized(instance, *graph.materializable_asset_keys)
    cursor = dg.evaluate_automation_conditions(defs=defs, instance=instance).cursor

    _materialized(instance, *drain)
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    requested = _requested(first)
    assert {"jira/issues", "analytics/flow_daily", "publish/analyst_snapshot"} <= requested
    assert "publish/analyst_snapshot:analyst_snapshot_opens" in requested  # the checks come along
    assert not any(key.startswith("jira_raw/") for key in requested)

    # the transform run those requests become is in progress while fifty more drains land
    derived = frozenset(dg.AssetKey.from_user_string(k) for k in requested if ":" not in k)
    run = instance.create_run_for_job(
        job_def=defs.resolve_implicit_global_asset_job_def(), asset_selection=derived
    )
    instance.report_dagster_event(
        DagsterEvent(event_type_value=DagsterEventType.RUN_START.value, job_name=run.job_name),
        run_id=run.run_id,
    )
    cursor, transform_ticks = first.cursor, 1
    for drains in range(1, 51):  # a drain every ~5 s (inbox sensor), a tick every ~30 s (automation)
        _materialized(instance, *drain)
        if drains % 5 == 0:
            tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
            cursor = tick.cursor
            transform_ticks += "jira/issues" in _requested(tick)
    assert transform_ticks == 1  # nothing more is queued while the run has not done jira/issues

    instance.report_run_failed(run)  # finished (its outcome does not matter here)
    ticks = []
    for _ in range(3):
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
        cursor = tick.cursor
        ticks.append("jira/issues" in _requested(tick))
    assert ticks == [True, False, False]  # one run takes in all fifty drains
