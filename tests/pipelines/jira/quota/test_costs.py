"""Points per request, as Atlassian counts them (its own examples first)."""

from __future__ import annotations

import orjson

from pipelines.jira.quota.costs import actual_points, objects_in, request_cost

REST = "https://api.atlassian.com/ex/jira/c1/rest/api/3"


def test_atlassians_examples() -> None:
    issue = orjson.dumps({"id": "10001", "key": "ABC-123", "fields": {}})
    assert actual_points("GET", f"{REST}/issue/ABC-123", 200, issue) == 2
    members = orjson.dumps({"values": [{"accountId": str(i)} for i in range(8)], "total": 8})
    assert actual_points("GET", f"{REST}/group/member?groupname=my-group", 200, members) == 17
    assert actual_points("POST", f"{REST}/issue", 201, b'{"id":"1","key":"A-1"}') == 1  # writes: base only


def test_reads_by_post_are_charged_per_object() -> None:
    page = orjson.dumps({"issues": [{"id": str(i)} for i in range(3)], "nextPageToken": "t"})
    assert actual_points("POST", f"{REST}/search/jql", 200, page) == 4
    changelogs = orjson.dumps({"issueChangeLogs": [{"issueId": "1"}, {"issueId": "2"}]})
    assert actual_points("POST", f"{REST}/changelog/bulkfetch", 200, changelogs) == 3
    assert actual_points("POST", f"{REST}/search/approximate-count", 200, b'{"count":1234}') == 1


def test_identity_objects_cost_two_and_refusals_nothing() -> None:
    assert actual_points("GET", f"{REST}/users/search", 200, orjson.dumps([{}, {}, {}])) == 7
    assert actual_points("GET", f"{REST}/search/jql", 401, b"{}") == 0
    assert actual_points("GET", f"{REST}/search/jql", 429, b"{}") == 0
    assert actual_points("GET", f"{REST}/issue/NOPE-1", 404, b'{"errorMessages":["x"]}') == 1
    assert objects_in(b"not json") == 0 and objects_in(b"") == 0 and objects_in(b'{"count":3}') == 0


def test_upper_bounds_come_from_the_page_size_asked_for() -> None:
    body = orjson.dumps({"jql": "x", "maxResults": 100, "expand": "changelog"})
    assert request_cost("POST", f"{REST}/search/jql", {}, body).points == 101
    assert request_cost("GET", f"{REST}/search/jql", {"maxResults": "5000"}, None).points == 5001
    assert request_cost("GET", f"{REST}/search/jql", {}, None).points == 51  # Jira's default page: 50
    ids = orjson.dumps({"issueIdsOrKeys": [str(i) for i in range(37)], "maxResults": 10000})
    assert request_cost("POST", f"{REST}/changelog/bulkfetch", {}, ids).points == 38
    assert request_cost("POST", f"{REST}/search/approximate-count", {}, b'{"jql":"x"}').points == 1
    assert request_cost("GET", f"{REST}/users/search", {"maxResults": "1000"}, None).points == 2001
    assert request_cost("GET", f"{REST}/group/member", {"maxResults": "50"}, None).points == 101
    assert request_cost("GET", f"{REST}/issue/ABC-1", {}, None).points == 2
    assert request_cost("POST", f"{REST}/webhook", {}, b"{}").points == 1
    assert request_cost("PUT", f"{REST}/webhook/refresh", {}, b"{}").points == 1
    assert request_cost("GET", f"{REST}/status", {}, None).points == 201  # unpaged: a generous guess
