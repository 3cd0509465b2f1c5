"""Jira Software's boards and sprints: the generated world, the agile REST API, the Sprint field."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from jira_simulator import agile
from jira_simulator.agile_model import SPRINT_FIELD
from jira_simulator.generator import generate_world
from jira_simulator.scenario import ScenarioError, load_scenario
from jira_simulator.truth import ground_truth

SCENARIOS = Path(__file__).resolve().parents[2] / "jira_simulator" / "scenarios"
AGILE_SCOPES = [
    "read:jira-work",
    "read:board-scope:jira-software",
    "read:board-scope.admin:jira-software",
    "read:project:jira",
    "read:sprint:jira-software",
]


def agile_url(served, site: str = "acme") -> str:
    return f"{served.base_url}/site/{site}/rest/agile/1.0"


def test_generated_boards_and_sprints_have_every_kind_and_state() -> None:
    world = generate_world(600, seed=5)
    acme = world.site_by_name("acme")
    assert acme is not None
    kinds = {b.type for b in acme.agile.boards.values()}
    assert kinds == {"scrum", "kanban", "simple"}
    states = {s.state for s in acme.agile.sprints.values()}
    assert states == {"closed", "active", "future"}
    items = [
        (i, item)
        for i in acme.issues.values()
        for h in i.histories
        for item in h.items
        if item.field == "Sprint"
    ]
    carried = [
        item
        for _, item in items
        if item.from_id and item.to_id and item.to_id.startswith(item.from_id + ", ")
    ]
    removed = [item for _, item in items if item.from_id and not item.to_id]
    assert carried and removed, "sprints close with open issues carried over, and issues leave sprints"
    assert all(item.field_id == SPRINT_FIELD and item.field_type == "custom" for _, item in items)


def test_the_sprint_field_replays_from_the_changelog_and_histories_stay_in_time_order() -> None:
    world = generate_world(600, seed=5)
    for site in world.sites.values():
        for issue in site.issues.values():
            created = [h.created_ms for h in issue.histories]
            assert created == sorted(created), issue.key
            changes = [item for h in issue.histories for item in h.items if item.field == "Sprint"]
            if changes:
                assert changes[-1].to_id == (", ".join(map(str, agile.sprint_ids(issue))) or None), issue.key


def test_pinned_hard_cases_never_join_a_sprint() -> None:
    world = generate_world(600, seed=5)
    acme = world.site_by_name("acme")
    assert acme is not None
    for key, histories in (("PLAT-3", 150), ("MOB-2", 120)):
        issue = acme.find_issue(key)
        assert issue is not None and len(issue.histories) == histories
        assert SPRINT_FIELD not in issue.custom_fields


def test_boards_configuration_and_sprints_over_rest(served) -> None:
    acme = served.site("acme")
    scrum = next(b for b in acme.agile.boards.values() if b.type == "scrum")
    kanban = next(b for b in acme.agile.boards.values() if b.type == "kanban")
    with served.client() as client:
        boards = client.get(f"{agile_url(served)}/board", params={"maxResults": 2}).json()
        assert (boards["maxResults"], boards["startAt"], boards["isLast"]) == (2, 0, False)
        assert boards["total"] == len(acme.agile.boards)
        first = boards["values"][0]
        assert set(first) == {"id", "self", "name", "type", "location"}
        assert first["self"].endswith(f"/rest/agile/1.0/board/{first['id']}")
        assert first["location"]["projectKey"] == acme.projects[acme.agile.boards[first["id"]].project_id].key
        config = client.get(f"{agile_url(served)}/board/{scrum.id}/configuration").json()
        assert config["estimation"] == {
            "type": "field",
            "field": {"fieldId": "customfield_10016", "displayName": "Story point estimate"},
        }
        assert [c["name"] for c in config["columnConfig"]["columns"]] == ["To Do", "In Progress", "Done"]
        refused = client.get(f"{agile_url(served)}/board/{kanban.id}/sprint")
        assert refused.status_code == 400
        assert refused.json() == {"errorMessages": ["The board does not support sprints"], "errors": {}}
        sprints: list[dict] = []
        start = 0
        while True:
            page = client.get(
                f"{agile_url(served)}/board/{scrum.id}/sprint", params={"startAt": start}
            ).json()
            sprints += page["values"]
            start += len(page["values"])
            if page["isLast"]:
                break
        missing = client.get(f"{agile_url(served)}/board/999")
    assert missing.status_code == 404
    expected = acme.agile.board_sprints(scrum.id)
    assert len(sprints) == len(expected) > 50
    states = [s["state"] for s in sprints]
    assert states == sorted(states, key={"closed": 0, "active": 1, "future": 2}.get)
    closed = next(s for s in sprints if s["state"] == "closed")
    assert {"startDate", "endDate", "completeDate", "createdDate", "originBoardId", "goal"} <= set(closed)
    assert closed["completeDate"].endswith("Z") and closed["originBoardId"] == scrum.id
    assert "completeDate" not in next(s for s in sprints if s["state"] == "active")


def test_sprint_issues_and_the_issue_field_agree(served) -> None:
    acme = served.site("acme")
    sprint = next(
        s for s in acme.agile.sprints.values() if s.state == "closed" and len(agile.issues_in(acme, s)) >= 2
    )
    members = agile.issues_in(acme, sprint)
    with served.client() as client:
        page = client.get(
            f"{agile_url(served)}/sprint/{sprint.id}/issue", params={"fields": "summary"}
        ).json()
        search = client.post(
            f"{served.rest()}/search/jql",
            json={"jql": f"key = {members[0].key}", "fields": [SPRINT_FIELD]},
        ).json()
        one = client.get(f"{agile_url(served)}/sprint/{sprint.id}").json()
    assert [i["key"] for i in page["issues"]] == [i.key for i in members]
    assert page["total"] == len(members)
    assert any(s["id"] == sprint.id for s in page["issues"][0]["fields"]["closedSprints"])
    value = search["issues"][0]["fields"][SPRINT_FIELD]
    assert {v["id"] for v in value} == set(agile.sprint_ids(members[0]))
    field = next(v for v in value if v["id"] == sprint.id)
    assert set(field) == {"id", "name", "state", "boardId", "goal", "startDate", "endDate", "completeDate"}
    assert one["state"] == "closed" and one["name"] == sprint.name


def test_oauth_callers_need_jira_softwares_granular_scopes(served) -> None:
    cloud_id = served.site("acme").cloud_id
    url = f"{served.base_url}/ex/jira/{cloud_id}/rest/agile/1.0/board"
    classic_only = served.access_token(["read:jira-work"])
    refused = httpx.get(url, headers={"Authorization": f"Bearer {classic_only}"}, timeout=10)
    assert refused.status_code == 401 and refused.json()["message"] == "Unauthorized; scope does not match"
    granted = served.access_token(AGILE_SCOPES)
    answer = httpx.get(url, headers={"Authorization": f"Bearer {granted}"}, timeout=10)
    assert answer.status_code == 200 and answer.json()["values"]


def test_completing_a_sprint_carries_open_issues_and_tells_the_webhooks(serve_world) -> None:
    world = load_scenario(SCENARIOS / "sprints.yaml")
    site = world.site_by_name("alpha")
    assert site is not None
    events: list = []
    with serve_world(world) as sim:
        world.listeners.append(events.append)
        admin = f"{sim.base_url}/_sim/sites/alpha"
        added = httpx.post(f"{admin}/sprints/23/issues", json={"issues": ["ALPHA-9"]}, timeout=10)
        assert added.status_code == 200 and added.json()["moved"] == ["ALPHA-9"]
        done = httpx.post(f"{admin}/sprints/23/complete", json={"move_to": 24}, timeout=10)
        assert done.status_code == 200, done.text
        again = httpx.post(f"{admin}/sprints/23/complete", json={}, timeout=10)
    assert sorted(done.json()["unfinished"]) == ["ALPHA-8", "ALPHA-9"]
    assert again.status_code == 409 and "only the active sprint" in again.json()["error"]
    alpha8 = site.find_issue("ALPHA-8")
    assert alpha8 is not None and agile.sprint_ids(alpha8) == [23, 24]
    last = alpha8.histories[-1].items[0]
    assert (last.field, last.from_id, last.to_id) == ("Sprint", "23", "23, 24")
    assert [e.kind for e in events].count("jira:issue_updated") == 3


def test_the_sprint_scenario_builds_and_its_truth_lists_membership() -> None:
    truth = ground_truth(load_scenario(SCENARIOS / "sprints.yaml"))
    alpha = truth["sites"]["13131313-1313-4131-8131-131313131313"]
    assert alpha["boards"]["ids"] == ["7", "8"]
    assert alpha["sprints"]["ids"] == ["21", "22", "23", "24"]
    assert "22:10005" in alpha["issue_sprints"]["ids"] and alpha["issue_sprints"]["count"] == 10


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("{at: 2024-02-28T10:00:00Z, sprints: [Nope]}", "unknown sprint 'Nope'"),
        ("{at: 2024-02-28T10:00:00Z, sprints: [S1], status: Done}", "a history of its own"),
    ],
)
def test_scenario_sprint_mistakes_name_the_key(tmp_path: Path, change: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "version: 1\nadmin: a\nusers: {a: {display_name: A, email: a@x.example}}\n"
        "sites:\n  - name: site\n    projects: [{key: PP, name: P, workflow: simple, issue_types: [Story]}]\n"
        "    boards: [{name: B, project: PP}]\n"
        "    sprints: [{name: S1, board: B, state: active, start: 2024-02-26T09:00:00Z, end: 2024-03-08T09:00:00Z}]\n"
        "    issues:\n      - {key: PP-1, type: Story, summary: x, created: 2024-02-27T09:00:00Z, reporter: a,\n"
        f"         history: [{change}]}}\n"
    )
    with pytest.raises(ScenarioError, match=message) as raised:
        load_scenario(path)
    assert "sites[0].issues[0].history[0]" in str(raised.value)
