"""Ground truth: deterministic, equal to what the REST surfaces serve, live with mutations."""

from __future__ import annotations

import httpx

from jira_simulator.generator import generate_world
from jira_simulator.truth import ground_truth

TABLES = (
    "issues",
    "issue_changelog",
    "projects",
    "issue_types",
    "statuses",
    "status_categories",
    "users",
    "groups",
    "group_members",
)


def test_truth_is_deterministic() -> None:
    first, again, other = (ground_truth(generate_world(400, seed=s)) for s in (3, 3, 4))
    assert first == again
    assert first != other
    for site in first["sites"].values():
        assert set(TABLES) <= set(site)
        assert all(site[t]["count"] == len(site[t]["ids"]) > 0 for t in TABLES)
    (org,) = first["organizations"].values()
    assert org["teams"]["count"] == 6 and org["team_members"]["count"] > 20


def _all_issue_ids(client: httpx.Client, rest: str) -> list[str]:
    ids: list[str] = []
    body: dict = {"jql": "created >= 0", "fields": ["id"], "maxResults": 5000}
    while True:
        page = client.post(f"{rest}/search/jql", json=body).json()
        ids += [i["id"] for i in page["issues"]]
        if "nextPageToken" not in page:
            return ids
        body["nextPageToken"] = page["nextPageToken"]


def test_truth_equals_what_the_rest_surfaces_serve(served) -> None:
    truth = httpx.get(f"{served.base_url}/_sim/truth").json()
    with served.client() as client:
        for cloud_id, expected in truth["sites"].items():
            rest = served.rest(expected["name"])
            issue_ids = _all_issue_ids(client, rest)
            assert sorted(issue_ids, key=int) == expected["issues"]["ids"]
            changelog: list[str] = []
            for start in range(0, len(issue_ids), 1000):
                body = {"issueIdsOrKeys": issue_ids[start : start + 1000], "maxResults": 10000}
                while True:
                    page = client.post(f"{rest}/changelog/bulkfetch", json=body).json()
                    changelog += [
                        f"{h['id']}:{n}"
                        for log in page["issueChangeLogs"]
                        for h in log["changeHistories"]
                        for n in range(len(h["items"]))
                    ]
                    if "nextPageToken" not in page:
                        break
                    body["nextPageToken"] = page["nextPageToken"]
            assert sorted(changelog) == sorted(expected["issue_changelog"]["ids"])
            projects = client.get(f"{rest}/project/search", params={"maxResults": 100}).json()["values"]
            assert sorted(p["id"] for p in projects) == sorted(expected["projects"]["ids"])
            assert sorted(s["id"] for s in client.get(f"{rest}/status").json()) == sorted(
                expected["statuses"]["ids"]
            )
            types = client.get(f"{rest}/issuetype").json()
            assert sorted(t["id"] for t in types) == sorted(expected["issue_types"]["ids"])
            categories = client.get(f"{rest}/statuscategory").json()
            assert sorted(str(c["id"]) for c in categories) == sorted(expected["status_categories"]["ids"])
            users = client.get(f"{rest}/users/search", params={"maxResults": 1000}).json()
            assert [u["accountId"] for u in users] == expected["users"]["ids"]
            groups = client.get(f"{rest}/group/bulk").json()["values"]
            assert [g["groupId"] for g in groups] == expected["groups"]["ids"]
            members = [
                f"{g['groupId']}:{m['accountId']}"
                for g in groups
                for m in client.get(
                    f"{rest}/group/member", params={"groupId": g["groupId"], "includeInactiveUsers": "true"}
                ).json()["values"]
            ]
            assert sorted(members) == sorted(expected["group_members"]["ids"])
            assert cloud_id == served.site(expected["name"]).cloud_id


def test_truth_follows_admin_mutations(serve_world) -> None:
    with serve_world(generate_world(60, seed=8)) as sim:
        cloud_id = sim.site("acme").cloud_id

        def issues() -> set[str]:
            return set(httpx.get(f"{sim.base_url}/_sim/truth").json()["sites"][cloud_id]["issues"]["ids"])

        before = issues()
        created = httpx.post(
            f"{sim.base_url}/_sim/sites/acme/issues",
            json={"project": "OPS", "issue_type": "Task", "summary": "new"},
        )
        assert created.status_code == 201, created.text
        new_id = created.json()["id"]
        assert issues() == before | {new_id}
        httpx.delete(f"{sim.base_url}/_sim/sites/acme/issues/{new_id}").raise_for_status()
        assert issues() == before
        ops = sim.site("acme").find_project("OPS")
        hidden = httpx.post(
            f"{sim.base_url}/_sim/sites/acme/projects/OPS/hidden-from",
            json={"account_id": sim.admin.account_id},
        )
        assert hidden.status_code < 300, hidden.text
        assert issues() == {i for i in before if sim.site("acme").issues[i].project_id != ops.id}
