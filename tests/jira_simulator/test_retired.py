"""Archived and trashed projects: listed by status, out of search and truth, their issues still
reachable by direct link, and the live world exactly as it was without them."""

from __future__ import annotations

from datetime import datetime, timedelta

from jira_simulator.generator import generate_world
from jira_simulator.truth import ground_truth

JIRA_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"


def _keys(page: dict) -> list[str]:
    return [p["key"] for p in page["values"]]


def test_project_search_lists_retired_projects_only_by_status(served) -> None:
    staff = next(
        u
        for u in served.world.users.values()
        if u.api_token and u.active and u.email and u.account_id in served.site("acme").user_ids
        and u is not served.admin and not any(
            u.account_id in g.member_ids and g.name in ("jira-administrators", "site-admins")
            for g in served.site("acme").groups.values()
        )
    )  # fmt: skip
    url = f"{served.rest()}/project/search"
    with served.client() as admin, served.client(staff) as colleague:
        live = admin.get(url).json()
        archived = admin.get(url, params={"status": "archived", "expand": "lead"}).json()
        trashed = admin.get(url, params={"status": "deleted"}).json()
        everything = admin.get(url, params={"status": "live,archived,deleted"}).json()
        trash_for_staff = colleague.get(url, params={"status": "deleted"}).json()
    assert "LEGACY" not in _keys(live) and "HACK" not in _keys(live)
    assert _keys(archived) == ["LEGACY"] and _keys(trashed) == ["HACK"]
    assert {"LEGACY", "HACK", "PLAT"} <= set(_keys(everything))
    assert trash_for_staff["values"] == []  # the trash is a Jira admin's
    (legacy,) = archived["values"]
    assert legacy["archived"] is True and legacy["archivedBy"]["accountId"] == served.admin.account_id
    (hack,) = trashed["values"]
    deleted = datetime.strptime(hack["deletedDate"], JIRA_TIME)
    assert datetime.strptime(hack["retentionTillDate"], JIRA_TIME) - deleted == timedelta(days=60)
    assert hack["deleted"] is True and "archived" not in hack


def test_retired_issues_are_out_of_search_but_open_by_direct_link(served) -> None:
    with served.client() as client:
        by_project = client.get(f"{served.rest()}/search/jql", params={"jql": "project = LEGACY"})
        by_key = client.get(f"{served.rest()}/search/jql", params={"jql": "key in (LEGACY-1, HACK-1)"})
        count = client.post(
            f"{served.rest()}/search/approximate-count", json={"jql": "key in (LEGACY-1, HACK-1)"}
        )
        archived_issue = client.get(f"{served.rest()}/issue/LEGACY-1")
        trashed_issue = client.get(f"{served.rest()}/issue/HACK-1/changelog")
        archived_project = client.get(f"{served.rest()}/project/LEGACY")
        trashed_project = client.get(f"{served.rest()}/project/HACK")
    assert by_project.status_code == 400
    assert by_project.json()["errorMessages"] == [
        "The value 'LEGACY' does not exist for the field 'project'."
    ]
    assert by_key.json()["issues"] == [] and count.json() == {"count": 0}
    assert archived_issue.status_code == 200 and archived_issue.json()["key"] == "LEGACY-1"
    assert trashed_issue.status_code == 200
    assert archived_project.status_code == 200 and archived_project.json()["archived"] is True
    assert trashed_project.status_code == 404


def test_retired_projects_leave_the_live_world_and_the_truth_as_they_were() -> None:
    world = generate_world(300, seed=4)
    small = generate_world(99, seed=4)  # too small for retired projects
    truth = ground_truth(world)
    for site in world.sites.values():
        retired = [p for p in site.projects.values() if not p.live]
        assert sorted(p.archived for p in retired) == [False, True]
        retired_ids = {p.id for p in retired}
        live_issues = [int(i.id) for i in site.issues.values() if i.project_id not in retired_ids]
        retired_issues = [int(i.id) for i in site.issues.values() if i.project_id in retired_ids]
        assert len(retired_issues) == 32 and min(retired_issues) > max(live_issues)
        site_truth = truth["sites"][site.cloud_id]
        assert not retired_ids & set(site_truth["projects"]["ids"])
        assert site_truth["issues"]["count"] == len(live_issues)
    assert all(p.live for s in small.sites.values() for p in s.projects.values())
