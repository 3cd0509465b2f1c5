"""search/jql over HTTP: cursor pages, caps, fields, JQL errors, time zones, the removed search."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from jira_simulator.generator import generate_world
from jira_simulator.rest.search import REMOVED_SEARCH


def page_through(client: httpx.Client, url: str, body: dict, between_pages=None) -> list[dict]:
    issues: list[dict] = []
    token = None
    pages = 0
    while True:
        response = client.post(url, json={**body, **({"nextPageToken": token} if token else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        assert "total" not in page
        issues += page["issues"]
        pages += 1
        token = page.get("nextPageToken")
        if token is None:
            assert page["isLast"] is True
            return issues
        assert page["isLast"] is False
        if between_pages:
            between_pages(pages)


def test_every_matching_issue_exactly_once_across_pages(served) -> None:
    site = served.site("acme")
    projects = {p.id for p in site.projects.values() if p.key in ("PLAT", "MOB")}
    expected = {i.id for i in site.issues.values() if i.project_id in projects}
    with served.client() as client:
        issues = page_through(
            client,
            f"{served.rest()}/search/jql",
            {"jql": "project in (PLAT, MOB) ORDER BY updated DESC", "fields": ["summary"], "maxResults": 7},
        )
    ids = [i["id"] for i in issues]
    assert len(ids) == len(set(ids)) == len(expected) > 50
    assert set(ids) == expected


def test_updates_between_pages_neither_repeat_nor_lose_issues(serve_world) -> None:
    """Issues updated while a client pages (ORDER BY updated) still come exactly once, with new data."""
    world = generate_world(300, seed=11)
    with serve_world(world) as sim, sim.client() as client:
        site = sim.site("acme")
        plat = site.find_project("PLAT")
        expected = {i.id for i in site.issues.values() if i.project_id == plat.id}
        ordered = sorted(
            (i for i in site.issues.values() if i.project_id == plat.id), key=lambda i: i.updated_ms
        )

        def touch(page: int) -> None:
            # An issue already served jumps to the end of the `updated` order (a keyset cursor would
            # serve it again); one not served yet is changed before its page comes.
            for issue in (ordered[page - 1], ordered[-page]):
                response = httpx.put(
                    f"{sim.base_url}/_sim/sites/acme/issues/{issue.key}", json={"summary": f"edited {page}"}
                )
                assert response.status_code == 200, response.text
            created = httpx.post(
                f"{sim.base_url}/_sim/sites/acme/issues",
                json={"project": "PLAT", "issue_type": "Task", "summary": f"new {page}"},
            )
            assert created.status_code == 201, created.text

        issues = page_through(
            client,
            f"{sim.rest()}/search/jql",
            {
                "jql": "project = PLAT ORDER BY updated ASC",
                "fields": ["summary", "updated"],
                "maxResults": 10,
            },
            between_pages=touch,
        )
    ids = [i["id"] for i in issues]
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == expected
    summaries = {i["id"]: i["fields"]["summary"] for i in issues}
    assert summaries[ordered[-1].id] == "edited 1", (
        "an issue edited before its page was served shows the new data"
    )


def test_default_fields_are_id_key_self_only(served) -> None:
    with served.client() as client:
        page = client.get(f"{served.rest()}/search/jql", params={"jql": "project = PLAT"}).json()
    assert len(page["issues"]) == 50  # default maxResults
    assert all(set(issue) == {"id", "key", "self"} for issue in page["issues"])
    assert page["issues"][0]["self"] == f"{served.rest()}/issue/{page['issues'][0]['id']}"


def test_max_results_caps(served) -> None:
    with served.client() as client:
        with_fields = client.get(
            f"{served.rest()}/search/jql",
            params={"jql": "created >= 0", "fields": "summary,status", "maxResults": 1000},
        ).json()
        ids_only = client.get(
            f"{served.rest()}/search/jql", params={"jql": "created >= 0", "fields": "id", "maxResults": 5000}
        ).json()
        too_many = client.get(
            f"{served.rest()}/search/jql", params={"jql": "created >= 0", "maxResults": 5001}
        )
    assert len(with_fields["issues"]) == 100 and with_fields["isLast"] is False
    site = served.site("acme")
    searchable = [i for i in site.issues.values() if site.projects[i.project_id].live]
    assert len(ids_only["issues"]) == len(searchable) and ids_only["isLast"] is True
    assert too_many.status_code == 400


def test_fields_selection(served) -> None:
    with served.client() as client:
        everything = client.get(
            f"{served.rest()}/search/jql",
            params=[("jql", "key = PLAT-3"), ("fields", "*all"), ("fields", "-comment,-worklog")],
        ).json()["issues"][0]["fields"]
        some = client.post(
            f"{served.rest()}/search/jql",
            json={"jql": "key = PLAT-3", "fields": ["summary", "status", "nope"]},
        ).json()["issues"][0]["fields"]
    assert {"summary", "status", "created", "updated", "assignee", "customfield_10016"} <= set(everything)
    assert "comment" not in everything and "worklog" not in everything
    assert set(some) == {"summary", "status"}


def test_embedded_changelog_is_truncated_like_jira(served) -> None:
    issue = served.site("acme").find_issue("PLAT-3")
    assert len(issue.histories) == 150
    with served.client() as client:
        found = client.post(
            f"{served.rest()}/search/jql",
            json={"jql": "key = PLAT-3", "fields": ["status"], "expand": "changelog"},
        ).json()["issues"][0]
    changelog = found["changelog"]
    assert changelog["total"] == 150
    assert changelog["maxResults"] == len(changelog["histories"]) == 40
    assert [h["id"] for h in changelog["histories"]] == [h.id for h in reversed(issue.histories[-40:])]


def test_unbounded_and_invalid_jql_get_jiras_400(served) -> None:
    with served.client() as client:
        url = f"{served.rest()}/search/jql"
        unbounded = client.get(url, params={"jql": "order by key desc"})
        empty = client.post(url, json={})
        syntax = client.get(url, params={"jql": "project = PLAT AND"})
        unknown_field = client.get(url, params={"jql": "watchCount > 1"})
        unknown_project = client.get(url, params={"jql": "project = NOPE"})
        bad_date = client.get(url, params={"jql": 'updated >= "yesterday-ish"'})
    assert unbounded.status_code == empty.status_code == 400
    assert unbounded.json() == {
        "errorMessages": [
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
        ],
        "errors": {},
    }
    assert syntax.status_code == 400 and "Error in the JQL Query" in syntax.json()["errorMessages"][0]
    assert unknown_field.json()["errorMessages"] == [
        "Field 'watchCount' does not exist or you do not have permission to view it."
    ]
    assert unknown_project.json()["errorMessages"] == [
        "The value 'NOPE' does not exist for the field 'project'."
    ]
    assert "Date value 'yesterday-ish' for field 'updated' is invalid" in bad_date.json()["errorMessages"][0]


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_removed_search_answers_410(served, version: int, method: str) -> None:
    with served.client() as client:
        response = client.request(
            method, f"{served.rest(version=version)}/search", params={"jql": "project = PLAT"}
        )
    assert response.status_code == 410
    assert response.json() == {"errorMessages": [REMOVED_SEARCH], "errors": {}}


def test_approximate_count_is_post_only(served) -> None:
    site = served.site("globex")
    expected = sum(1 for i in site.issues.values() if site.projects[i.project_id].key == "HELP")
    with served.client() as client:
        counted = client.post(
            f"{served.rest('globex')}/search/approximate-count", json={"jql": "project = HELP"}
        )
        as_get = client.get(
            f"{served.rest('globex')}/search/approximate-count", params={"jql": "project = HELP"}
        )
    assert counted.json() == {"count": expected}
    assert as_get.status_code == 405


def test_dates_without_zone_are_read_in_the_callers_zone(served) -> None:
    """Same JQL string, two users (UTC-11 and UTC+14): different answers; epoch ms: the same answer."""
    site = served.site("acme")
    issue = site.find_issue("PLAT-4")
    far_east = next(
        u
        for u in served.world.users.values()
        if u.time_zone == "Pacific/Kiritimati" and u.api_token and u.account_id in site.user_ids
    )
    assert served.admin.time_zone == "Pacific/Pago_Pago"
    utc_wall_clock = datetime.fromtimestamp(issue.updated_ms // 60_000 * 60, UTC).strftime("%Y/%m/%d %H:%M")
    local = f'key = PLAT-4 AND updated >= "{utc_wall_clock}"'
    epoch = f"key = PLAT-4 AND updated >= {issue.updated_ms // 60_000 * 60_000}"

    def keys(user, jql: str) -> list[str]:
        with served.client(user) as client:
            response = client.post(f"{served.rest()}/search/jql", json={"jql": jql, "fields": ["updated"]})
        assert response.status_code == 200, response.text
        return [i["key"] for i in response.json()["issues"]]

    # "HH:mm" in Pago Pago is 11 hours after the same wall clock in UTC: the issue is not newer.
    assert keys(served.admin, local) == []
    # In Kiritimati the same string is 14 hours before UTC: the issue is newer.
    assert keys(far_east, local) == ["PLAT-4"]
    assert keys(served.admin, epoch) == keys(far_east, epoch) == ["PLAT-4"]


def test_tokens_are_bound_to_their_jql(served) -> None:
    with served.client() as client:
        url = f"{served.rest()}/search/jql"
        first = client.post(url, json={"jql": "project = PLAT", "maxResults": 5}).json()
        other = client.post(url, json={"jql": "project = MOB", "nextPageToken": first["nextPageToken"]})
        garbage = client.post(url, json={"jql": "project = PLAT", "nextPageToken": "not-a-token"})
    assert other.status_code == 400 and garbage.status_code == 400


def test_reconcile_issues_limit(served) -> None:
    ids = [int(i) for i in list(served.site("acme").issues)[:51]]
    with served.client() as client:
        url = f"{served.rest()}/search/jql"
        ok = client.post(url, json={"jql": "project = PLAT", "reconcileIssues": ids[:50]})
        too_many = client.post(url, json={"jql": "project = PLAT", "reconcileIssues": ids})
    assert ok.status_code == 200
    assert too_many.status_code == 400


def test_v2_plain_text_and_v3_documents(served) -> None:
    issue = next(i for i in served.site("acme").issues.values() if i.description)
    with served.client() as client:
        v2 = client.get(
            f"{served.rest(version=2)}/issue/{issue.key}", params={"fields": "description"}
        ).json()
        v3 = client.get(
            f"{served.rest(version=3)}/issue/{issue.key}", params={"fields": "description"}
        ).json()
    assert v2["fields"]["description"] == issue.description
    assert v3["fields"]["description"]["type"] == "doc"
    assert v2["self"].startswith(served.rest(version=2))
