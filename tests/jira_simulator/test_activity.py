"""The activity driver over loopback HTTP: issues change while simulated days pass, expiries are counted."""

from __future__ import annotations

import time

import httpx
import pytest

from jira_simulator.activity import DAY_MS, ActivityDriver, ActivityPlan
from jira_simulator.generator import generate_world
from jira_simulator.model import Webhook, World
from jira_simulator.truth import issue_states
from tests.jira_simulator.served import serve_world


def _webhook(world: World, site: str, webhook_id: int, expires_in_ms: int) -> Webhook:
    target = world.site_by_name(site)
    assert target is not None
    hook = Webhook(
        id=webhook_id,
        client_id=world.app.client_id,
        owner_account_id=world.admin_account_id,
        url="http://127.0.0.1:9/hook",
        events=["comment_created"],  # never delivered here: only its expiry matters
        jql_filter="project = PLAT",
        field_ids_filter=None,
        expiration_ms=world.clock.now_ms() + expires_in_ms,
    )
    target.webhooks[webhook_id] = hook
    return hook


def _wait_stopped(http: httpx.Client, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = http.get("/_sim/activity").json()
        if not report["running"]:
            return report
        time.sleep(0.05)
    raise AssertionError("the activity driver did not finish its days")


def test_days_of_activity_change_the_truth_and_count_expiries() -> None:
    world = generate_world(issues=80, seed=3)
    expiring = _webhook(world, "acme", 900, expires_in_ms=DAY_MS)  # expires on the first simulated day
    kept = _webhook(world, "globex", 901, expires_in_ms=40 * DAY_MS)  # outlives the run
    start_ms = world.clock.now_ms()
    before = {cloud: set(issues) for cloud, issues in issue_states(world).items()}
    with serve_world(world) as sim, httpx.Client(base_url=sim.base_url, timeout=10) as http:
        started = http.post(
            "/_sim/activity/start", json={"changes_per_day": 40, "seconds_per_day": 0.4, "days": 3, "seed": 5}
        )
        assert started.status_code == 200 and started.json()["running"] is True
        report = _wait_stopped(http)
        truth = http.get("/_sim/truth/issues").json()

    changes = report["changes"]
    assert len(changes) == sum(report["changes_made"].values()) >= 110  # 120 ticks, a few may find nothing
    assert set(report["changes_made"]) == {"create", "edit", "transition", "delete"}
    assert all(count > 0 for count in report["changes_made"].values())
    assert [c["at_ms"] for c in changes] == sorted(c["at_ms"] for c in changes)
    assert world.clock.now_ms() - start_ms >= 3 * DAY_MS
    assert report["expiries"] == [
        {
            "cloud_id": world.site_by_name("acme").cloud_id,
            "site": "acme",
            "webhook_id": 900,
            "expired_at_ms": expiring.expiration_ms,
        }  # type: ignore[union-attr]
    ]
    assert kept.expiration_ms > world.clock.now_ms()

    deleted = {(c["cloud_id"], i) for c in changes if c["kind"] == "delete" for i in c["deleted_ids"]}
    created = {(c["cloud_id"], c["issue_id"]) for c in changes if c["kind"] == "create"}
    now = {(cloud, issue_id) for cloud, issues in truth.items() for issue_id in issues}
    assert not deleted & now
    assert created - deleted <= now
    assert now == ({(c, i) for c, ids in before.items() for i in ids} | created) - deleted
    last_change: dict[tuple[str, str], int] = {}
    for change in changes:
        if change["kind"] != "delete":
            last_change[(change["cloud_id"], change["issue_id"])] = change["at_ms"]
    for (cloud, issue_id), at_ms in last_change.items():
        if (cloud, issue_id) in now:
            assert truth[cloud][issue_id]["updated_ms"] == at_ms


def test_transitions_follow_the_workflow_and_creates_use_the_first_status() -> None:
    world = generate_world(issues=40, seed=4)
    driver = ActivityDriver(world)
    driver.plan = ActivityPlan(seed=9)
    for _ in range(30):
        before = {(s.cloud_id, i.id): i.status_id for s in world.sites.values() for i in s.issues.values()}
        change = driver.step("transition")
        assert change is not None
        site = world.sites[change.cloud_id]
        issue = site.issues[change.issue_id]
        workflow = site.workflows.get(site.projects[issue.project_id].workflow_id or "")
        if workflow is not None:
            source = before[(change.cloud_id, issue.id)]
            allowed = {t.to_status_id for t in workflow.transitions_from(source)} - {source}
            assert issue.status_id in allowed
        assert issue.histories[-1].items[-1].field in ("status", "resolution")
    created = driver.step("create")
    assert created is not None
    site = world.sites[created.cloud_id]
    issue = site.issues[created.issue_id]
    assert issue.created_ms == created.at_ms and not site.issue_types[issue.issue_type_id].subtask


def test_bad_plans_are_refused_naming_the_key() -> None:
    with serve_world(generate_world(issues=10, seed=1)) as sim, httpx.Client(base_url=sim.base_url) as http:
        bad = http.post("/_sim/activity/start", json={"changes_per_day": 0})
        assert bad.status_code == 400 and "changes_per_day" in bad.json()["error"]
        mix = http.post("/_sim/activity/start", json={"mix": {"create": 0}})
        assert mix.status_code == 400 and "mix" in mix.json()["error"]
        site = http.post("/_sim/activity/start", json={"sites": ["nope"]})
        assert site.status_code == 404 and "nope" in site.json()["error"]
        since = http.get("/_sim/activity", params={"since": "x"})
        assert since.status_code == 400
        assert http.post("/_sim/activity/stop").json()["running"] is False


@pytest.mark.parametrize("kind", ["edit", "delete"])
def test_each_kind_of_change_is_one_issue_event(kind: str) -> None:
    world = generate_world(issues=30, seed=2)
    events = []
    world.listeners.append(events.append)
    change = ActivityDriver(world).step(kind)  # type: ignore[arg-type]
    assert change is not None and change.kind == kind
    assert events and events[0].issue.id == change.issue_id
    expected = "jira:issue_deleted" if kind == "delete" else "jira:issue_updated"
    assert {e.kind for e in events} == {expected}


def test_a_clock_jump_counts_the_webhooks_it_lets_expire_and_a_refreshed_one_is_safe() -> None:
    world = generate_world(issues=10, seed=1)
    lapsing = _webhook(world, "acme", 1, expires_in_ms=5 * DAY_MS)
    refreshed = _webhook(world, "globex", 2, expires_in_ms=5 * DAY_MS)
    with serve_world(world) as sim, httpx.Client(base_url=sim.base_url, timeout=10) as http:
        before = world.clock.now_ms()
        first = http.post("/_sim/activity/advance", json={"days": 4})
        assert first.status_code == 200 and first.json()["expiries"] == []
        refreshed.expiration_ms = world.clock.now_ms() + 30 * DAY_MS  # what PUT /webhook/refresh does
        report = http.post("/_sim/activity/advance", json={"days": 4}).json()
        assert http.post("/_sim/activity/advance", json={"days": 0}).status_code == 400
    assert world.clock.now_ms() - before >= 8 * DAY_MS
    assert [(e["site"], e["webhook_id"], e["expired_at_ms"]) for e in report["expiries"]] == [
        ("acme", 1, lapsing.expiration_ms)
    ]
