"""Complete changelogs over HTTP: issue/{key}/changelog pages and changelog/bulkfetch."""

from __future__ import annotations


def test_issue_changelog_pages_oldest_first(served) -> None:
    issue = served.site("acme").find_issue("PLAT-3")
    seen: list[dict] = []
    with served.client() as client:
        url = f"{served.rest()}/issue/PLAT-3/changelog"
        first = client.get(url, params={"maxResults": 500}).json()
        second = client.get(url, params={"startAt": 100}).json()
    assert (first["maxResults"], first["startAt"], first["total"], first["isLast"]) == (100, 0, 150, False)
    assert "startAt=100" in first["nextPage"]
    assert (second["startAt"], second["isLast"], len(second["values"])) == (100, True, 50)
    seen = first["values"] + second["values"]
    assert [h["id"] for h in seen] == [h.id for h in issue.histories]
    assert seen[0]["items"][0]["field"] == "status" and seen[0]["created"].endswith(("+0100", "+0200"))


def test_bulkfetch_returns_every_history_sorted_and_paged(served) -> None:
    site = served.site("acme")
    keys = ["PLAT-3", "MOB-2", "PLAT-4", "PLAT-1", "NOPE-9"]
    issues = [site.find_issue(k) for k in keys if site.find_issue(k)]
    expected = sorted(
        ((h.created_ms, int(i.id), h.id) for i in issues for h in i.histories),
        key=lambda e: (e[0], e[1], int(e[2])),
    )
    assert len(expected) > 270
    got: list[tuple[str, str]] = []
    token = None
    pages = 0
    with served.client() as client:
        while True:
            body = {"issueIdsOrKeys": keys, "maxResults": 37, **({"nextPageToken": token} if token else {})}
            response = client.post(f"{served.rest()}/changelog/bulkfetch", json=body)
            assert response.status_code == 200, response.text
            page = response.json()
            pages += 1
            page_entries = [
                (log["issueId"], h) for log in page["issueChangeLogs"] for h in log["changeHistories"]
            ]
            assert len(page_entries) <= 37
            got += [(issue_id, h["id"]) for issue_id, h in page_entries]
            token = page.get("nextPageToken")
            if not token:
                break
    assert pages == -(-len(expected) // 37)
    plat3 = site.find_issue("PLAT-3").id
    assert sum(1 for issue_id, _ in got if issue_id == plat3) == 150  # search embeds only the newest 40
    assert sorted(got) == sorted((str(issue_id), history_id) for _, issue_id, history_id in expected)


def test_bulkfetch_field_filter_and_limits(served) -> None:
    issue = served.site("acme").find_issue("MOB-2")
    with served.client() as client:
        url = f"{served.rest()}/changelog/bulkfetch"
        only_status = client.post(url, json={"issueIdsOrKeys": ["MOB-2"], "fieldIds": ["assignee"]}).json()
        too_many = client.post(url, json={"issueIdsOrKeys": [str(n) for n in range(1001)]})
        none = client.post(url, json={"issueIdsOrKeys": []})
        wrong_token = client.post(url, json={"issueIdsOrKeys": ["PLAT-3"], "nextPageToken": "Y2wxOmFhOjEw"})
    histories = only_status["issueChangeLogs"][0]["changeHistories"]
    expected = [h for h in issue.histories if any(i.field == "assignee" for i in h.items)]
    assert [h["id"] for h in histories] == [h.id for h in expected]
    assert all(item["field"] == "assignee" for h in histories for item in h["items"])
    assert too_many.status_code == none.status_code == wrong_token.status_code == 400
