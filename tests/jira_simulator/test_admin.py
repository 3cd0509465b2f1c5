"""The `/_sim/` admin API over loopback HTTP: mutations, clock, and clear errors for bad input."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from jira_simulator.app import create_app
from jira_simulator.generator import generate_world
from jira_simulator.model import IssueEvent, World
from jira_simulator.options import SimulatorOptions
from tests.jira_simulator.served import serve_app


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(issues=40, seed=7)


@pytest.fixture(scope="module")
def http(world: World) -> Iterator[httpx.Client]:
    with (
        serve_app(create_app(world, options=SimulatorOptions())) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield client


def test_issue_lifecycle_through_the_admin_api(http: httpx.Client, world: World) -> None:
    seen: list[IssueEvent] = []
    world.listeners.append(seen.append)
    try:
        created = http.post(
            "/_sim/sites/acme/issues", json={"project": "PLAT", "issue_type": "Bug", "summary": "Boom"}
        )
        assert created.status_code == 201
        key = created.json()["key"]
        updated = http.put(f"/_sim/sites/acme/issues/{key}", json={"summary": "Boom!", "labels": ["backend"]})
        assert updated.status_code == 200 and updated.json()["history_id"]
        cleared = http.put(f"/_sim/sites/acme/issues/{key}", json={"assignee": None})
        assert cleared.json()["history_id"] is None  # it had no assignee: nothing changed
        done = http.post(f"/_sim/sites/acme/issues/{key}/transition", json={"status": "Done"})
        assert done.status_code == 200
        moved = http.post(f"/_sim/sites/acme/issues/{key}/move", json={"project": "MOB"})
        assert moved.json()["key"].startswith("MOB-")
        site_id = world.site_by_name("acme").cloud_id  # type: ignore[union-attr]
        gone = http.delete(f"/_sim/sites/{site_id}/issues/{key}")  # by cloud id, by the old key
        assert gone.json() == {"deleted": [moved.json()["key"]]}
        assert http.delete(f"/_sim/sites/acme/issues/{key}").status_code == 404
    finally:
        world.listeners.remove(seen.append)
    assert [e.event_type_name for e in seen] == [
        "issue_created",
        "issue_updated",
        "issue_generic",
        "issue_moved",
        None,
    ]


def test_clock_advances_by_seconds_or_days(http: httpx.Client) -> None:
    before = http.get("/_sim/clock").json()
    after = http.post("/_sim/clock/advance", json={"days": 1}).json()
    assert after["offset_ms"] - before["offset_ms"] == 86_400_000
    assert (
        http.post("/_sim/clock/advance", json={"seconds": 30}).json()["offset_ms"]
        == after["offset_ms"] + 30_000
    )
    both = http.post("/_sim/clock/advance", json={"seconds": 1, "days": 1})
    assert both.status_code == 400 and 'exactly one of "seconds" or "days"' in both.json()["error"]
    backwards = http.post("/_sim/clock/advance", json={"seconds": -5})
    assert backwards.status_code == 400 and "forward" in backwards.json()["error"]


def test_users_groups_teams_and_project_access(http: httpx.Client, world: World) -> None:
    account = next(a for a in world.site_by_name("acme").user_ids if a != world.admin_account_id)  # type: ignore[union-attr]
    user = http.patch(f"/_sim/users/{account}", json={"email_visible": False, "time_zone": "Asia/Tokyo"})
    assert user.json()["email_visible"] is False and world.users[account].time_zone == "Asia/Tokyo"
    group = http.post("/_sim/sites/acme/groups", json={"name": "on-call"}).json()
    added = http.post(f"/_sim/sites/acme/groups/{group['group_id']}/members", json={"account_id": account})
    assert added.json()["member_ids"] == [account]
    assert http.delete(f"/_sim/sites/acme/groups/on-call/members/{account}").json()["member_ids"] == []
    assert http.delete("/_sim/sites/acme/groups/on-call").status_code == 204
    org = next(iter(world.organizations))
    team = http.post(
        f"/_sim/orgs/{org}/teams", json={"display_name": "Night Shift", "member_ids": [account]}
    ).json()
    archived = http.put(f"/_sim/orgs/{org}/teams/{team['team_id']}/state", json={"state": "ARCHIVED"})
    assert archived.json()["state"] == "ARCHIVED"
    hidden = http.post("/_sim/sites/acme/projects/PLAT/hidden-from", json={"account_id": account})
    assert hidden.json() == {"project": "PLAT", "hidden_from": [account]}
    shown = http.delete(f"/_sim/sites/acme/projects/PLAT/hidden-from/{account}")
    assert shown.json()["hidden_from"] == []


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fragment"),
    [
        (
            "POST",
            "/_sim/sites/acme/issues",
            {"project": "PLAT", "summary": "x"},
            400,
            "issue_type: Field required",
        ),
        (
            "POST",
            "/_sim/sites/acme/issues",
            {"project": "PLAT", "issue_type": "Bug", "summary": "x", "colour": 1},
            400,
            "colour",
        ),
        (
            "POST",
            "/_sim/sites/nowhere/issues",
            {"project": "PLAT", "issue_type": "Bug", "summary": "x"},
            404,
            "no site 'nowhere'",
        ),
        ("PUT", "/_sim/sites/acme/issues/PLAT-99999", {"summary": "x"}, 404, "no issue 'PLAT-99999'"),
        ("PUT", "/_sim/sites/acme/issues/PLAT-1", {"due_date": "tomorrow"}, 400, "due_date"),
        ("POST", "/_sim/sites/acme/issues/PLAT-1/transition", {"status": "Nope"}, 400, "no status 'Nope'"),
        ("PATCH", "/_sim/users/ghost", {"active": False}, 404, "no user with accountId 'ghost'"),
        ("PATCH", "/_sim/users/ghost", {"active": None}, 400, "active cannot be null"),
        ("POST", "/_sim/sites/acme/groups", {"name": "site-admins"}, 409, "already has a group"),
    ],
)
def test_bad_admin_requests_get_specific_json_errors(
    http: httpx.Client, method: str, path: str, body: dict, status: int, fragment: str
) -> None:
    response = http.request(method, path, json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error.startswith(f"{method} {path}") and fragment in error


def test_a_body_that_is_not_json_is_a_400(http: httpx.Client) -> None:
    response = http.post("/_sim/clock/advance", content=b"days=1")
    assert response.status_code == 400 and "invalid body" in response.json()["error"]
