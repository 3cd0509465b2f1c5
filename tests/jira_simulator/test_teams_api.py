"""The Teams public API over loopback HTTP: cursor pages, both hosts, Basic auth only."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from jira_simulator import mutations
from jira_simulator.app import create_app
from jira_simulator.generator import generate_world
from jira_simulator.model import Organization, World
from jira_simulator.options import SimulatorOptions
from tests.jira_simulator.served import serve_app


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(issues=0, seed=11)


@pytest.fixture(scope="module")
def org(world: World) -> Organization:
    return next(iter(world.organizations.values()))


@pytest.fixture(scope="module")
def http(world: World) -> Iterator[httpx.Client]:
    app = create_app(world, options=SimulatorOptions())
    admin = world.admin
    with (
        serve_app(app) as url,
        httpx.Client(base_url=url, auth=(admin.email, admin.api_token), timeout=10) as client,
    ):
        yield client


def _all_teams(http: httpx.Client, path: str, **params: object) -> list[dict]:
    teams: list[dict] = []
    cursor = None
    while True:
        page = http.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        teams += page.json()["entities"]
        cursor = page.json()["cursor"]
        if cursor is None:
            return teams


def test_teams_are_paged_by_cursor_and_site_scoped_teams_need_their_site_id(
    http: httpx.Client, world: World, org: Organization
) -> None:
    service_site = world.site_by_name("globex").cloud_id  # type: ignore[union-attr]
    path = f"/public/teams/v1/org/{org.org_id}/teams"
    with_site = _all_teams(http, path, siteId=service_site, size=2)
    expected = {t.team_id for t in org.teams.values() if t.site_cloud_id in (None, service_site)}
    assert [t["teamId"] for t in with_site] == sorted(expected)  # each team exactly once
    names = {t["displayName"]: t for t in with_site}
    assert "Support Heroes" in names and names["Design Guild"]["state"] == "ARCHIVED"
    assert set(names["Platform"]) >= {
        "teamId",
        "displayName",
        "state",
        "teamType",
        "organizationId",
        "creatorId",
    }
    without_site = _all_teams(http, path)
    assert "Support Heroes" not in {t["displayName"] for t in without_site}
    on_site_host = _all_teams(
        http, f"/site/acme/gateway/api/public/teams/v1/org/{org.org_id}/teams", siteId=service_site
    )
    assert on_site_host == with_site


def test_members_are_paged_with_first_and_after(http: httpx.Client, org: Organization) -> None:
    team = next(t for t in org.teams.values() if t.display_name == "Platform")
    path = f"/public/teams/v1/org/{org.org_id}/teams/{team.team_id}/members"
    members: list[str] = []
    after = None
    pages = 0
    while True:
        page = http.post(path, json={"first": 3, **({"after": after} if after else {})}).json()
        members += [m["accountId"] for m in page["results"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert members == team.member_ids and pages == -(-len(team.member_ids) // 3)
    assert http.post(path).json()["results"] == [
        {"accountId": a} for a in team.member_ids
    ]  # no body: defaults


def test_only_basic_auth_with_a_valid_api_token_is_accepted(http: httpx.Client, org: Organization) -> None:
    path = f"/public/teams/v1/org/{org.org_id}/teams"
    grant = http.post("/_sim/oauth/grant", json={"scopes": ["read:jira-user"]}).json()
    body = {"grant_type": "authorization_code", "code": grant["code"], "client_id": "jira-sync-sim"}
    token = http.post("/oauth/token", json={**body, "client_secret": "sim-secret"}).json()["access_token"]
    bearer = httpx.get(
        f"{str(http.base_url).rstrip('/')}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    assert bearer.status_code == 403 and "OAuth2" in bearer.json()["message"]
    assert httpx.get(f"{str(http.base_url).rstrip('/')}{path}").status_code == 401
    wrong = http.get(path, auth=("admin@jira-sim.example", "not-the-token"))
    assert wrong.status_code == 401


def test_team_lookup_404_410_and_bad_paging_input(
    http: httpx.Client, world: World, org: Organization
) -> None:
    team = mutations.create_team(world, org, display_name="Short-lived")
    path = f"/public/teams/v1/org/{org.org_id}/teams"
    assert http.get(f"{path}/{team.team_id}").json()["displayName"] == "Short-lived"
    mutations.set_team_state(world, org, team.team_id, "DELETED")
    assert http.get(f"{path}/{team.team_id}").status_code == 410
    assert http.post(f"{path}/{team.team_id}/members").status_code == 410
    assert http.get(f"{path}/no-such-team").status_code == 404
    assert team.team_id not in {t["teamId"] for t in _all_teams(http, path)}
    assert http.get(path, params={"size": 301}).status_code == 400
    bad_cursor = http.get(path, params={"cursor": "garbage"})
    assert bad_cursor.status_code == 400 and "cursor" in bad_cursor.json()["message"]
    assert http.get("/public/teams/v1/org/no-such-org/teams").status_code == 404
