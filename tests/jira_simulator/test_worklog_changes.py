"""Worklogs that are edited and deleted: worklog/updated, worklog/deleted and worklog/list agree."""

from __future__ import annotations

import httpx

from jira_simulator.generator import generate_world


def changed(client: httpx.Client, url: str, since: int = 0) -> tuple[list[dict], int]:
    """Every page of a ChangedWorklogs endpoint from `since`; the values and the last `until`."""
    values: list[dict] = []
    while True:
        page = client.get(url, params={"since": since}).json()
        values += page["values"]
        since = page["until"]
        if page["lastPage"]:
            return values, since


def test_generated_worklogs_are_edited_and_deleted_without_touching_the_generators() -> None:
    world = generate_world(600, seed=5)
    again = generate_world(600, seed=5)
    for site in world.sites.values():
        assert site.deleted_worklogs
        live = {w.id for i in site.issues.values() for w in i.worklogs}
        assert not live & {d.id for d in site.deleted_worklogs}
        edited = [w for i in site.issues.values() for w in i.worklogs if w.updated_ms > w.created_ms]
        assert edited
    same = [(d.id, d.deleted_ms) for s in again.sites.values() for d in s.deleted_worklogs]
    assert same == [(d.id, d.deleted_ms) for s in world.sites.values() for d in s.deleted_worklogs]


def test_updated_deleted_and_list_describe_exactly_the_live_worklogs(serve_world) -> None:
    world = generate_world(600, seed=5)
    with serve_world(world) as sim:
        site = sim.site("acme")
        base = sim.rest()
        with sim.client() as client:
            updated, until = changed(client, f"{base}/worklog/updated")
            deleted, deleted_until = changed(client, f"{base}/worklog/deleted")
            ids = [v["worklogId"] for v in updated]
            listed = [
                w
                for n in range(0, len(ids), 1000)
                for w in client.post(f"{base}/worklog/list", json={"ids": ids[n : n + 1000]}).json()
            ]
            issue = next(i for i in site.issues.values() if len(i.worklogs) >= 1)
            worklog = issue.worklogs[0]
            gone = httpx.delete(
                f"{sim.base_url}/_sim/sites/acme/issues/{issue.key}/worklogs/{worklog.id}", timeout=10
            )
            assert gone.status_code == 200, gone.text
            later, _ = changed(client, f"{base}/worklog/deleted", deleted_until)
            logged = httpx.post(
                f"{sim.base_url}/_sim/sites/acme/issues/{issue.key}/worklogs",
                json={"seconds": 600},
                timeout=10,
            ).json()
            fresh, _ = changed(client, f"{base}/worklog/updated", until)
    visible = {
        p.id for p in site.projects.values() if not p.archived and sim.admin.account_id not in p.hidden_from
    }
    live = {w.id for i in site.issues.values() if i.project_id in visible for w in i.worklogs} | {worklog.id}
    live.discard(logged["id"])
    assert {str(v["worklogId"]) for v in updated} == live
    assert {w["id"] for w in listed} == live
    assert {str(v["worklogId"]) for v in deleted} == {d.id for d in site.deleted_worklogs} - {worklog.id}
    assert [str(v["worklogId"]) for v in later] == [worklog.id]
    assert [str(v["worklogId"]) for v in fresh] == [logged["id"]]


def test_deleting_an_issue_lists_its_worklogs_as_deleted(serve_world) -> None:
    world = generate_world(300, seed=3)
    with serve_world(world) as sim:
        site = sim.site("acme")
        issue = next(
            i
            for i in site.issues.values()
            if i.worklogs and not any(c.parent_id == i.id for c in site.issues.values())
        )
        ids = {w.id for w in issue.worklogs}
        before = len(site.deleted_worklogs)
        assert (
            httpx.delete(f"{sim.base_url}/_sim/sites/acme/issues/{issue.key}", timeout=10).status_code == 200
        )
        with sim.client() as client:
            _, since = changed(client, f"{sim.rest()}/worklog/deleted")
    assert {d.id for d in site.deleted_worklogs[before:]} == ids
    assert since == site.deleted_worklogs[-1].deleted_ms
