"""Refusals as Jira Cloud answers them: RFC 7807 for paths and methods no endpoint serves, the
`ErrorCollection` for everything else (measured shapes: see `jira_simulator/errors.py`)."""

from __future__ import annotations

import httpx

PROBLEM = "application/problem+json;charset=UTF-8"


def test_a_path_no_endpoint_serves_is_rfc_7807_whoever_calls(served) -> None:
    with served.client() as admin, httpx.Client(timeout=10) as anonymous:
        answers = {
            "/rest/api/3/nopesuchroute": admin.get(f"{served.rest()}/nopesuchroute"),
            "/rest/api/3/serverInfo/extra": anonymous.get(f"{served.rest()}/serverInfo/extra"),
            "/rest/api/4/serverInfo": admin.get(f"{served.base_url}/site/acme/rest/api/4/serverInfo"),
            "/rest/nope/thing": anonymous.delete(f"{served.base_url}/site/acme/rest/nope/thing"),
            "/rest/api/2/issue/PLAT-1/nope": admin.post(f"{served.rest(version=2)}/issue/PLAT-1/nope?x=1"),
        }
    for instance, response in answers.items():
        assert response.status_code == 404, (instance, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json() == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": f"No endpoint {response.request.method} {instance}.",
            "instance": instance,
        }


def test_the_gateway_names_the_path_jira_sees(served) -> None:
    token = served.access_token(["read:jira-work"])
    response = httpx.get(
        f"{served.gateway()}/nopesuchroute", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 404
    assert response.json()["instance"] == "/rest/api/3/nopesuchroute"


def test_a_method_the_path_does_not_take_is_405_naming_the_ones_it_does(served) -> None:
    with served.client() as client:
        put = client.put(f"{served.rest()}/serverInfo")
        get_count = client.get(f"{served.rest()}/search/approximate-count")
        options = client.options(f"{served.rest()}/serverInfo")
        options_search = client.options(f"{served.rest()}/search/jql")
    assert put.status_code == 405 and put.headers["content-type"] == PROBLEM
    assert put.headers["allow"] == "GET"
    assert put.json() == {
        "type": "about:blank",
        "title": "Method Not Allowed",
        "status": 405,
        "detail": "Method 'PUT' is not supported.",
        "instance": "/rest/api/3/serverInfo",
    }
    assert (get_count.status_code, get_count.headers["allow"]) == (405, "POST")
    # OPTIONS is answered, not refused: 200, an empty body, the methods without spaces.
    assert (options.status_code, options.content, options.headers["allow"]) == (200, b"", "GET,HEAD,OPTIONS")
    assert set(options_search.headers["allow"].split(",")) == {"GET", "POST", "HEAD", "OPTIONS"}


def test_paths_outside_the_rest_surfaces_keep_plain_answers(served) -> None:
    response = httpx.get(f"{served.base_url}/_sim/nope", timeout=10)
    assert response.status_code == 404 and response.text == "Not Found"


def test_unreadable_bodies_get_jiras_sentences(served) -> None:
    with served.client() as client:
        empty = client.post(f"{served.rest()}/search/jql", content=b"")
        broken = client.post(
            f"{served.rest()}/search/jql", content=b'{"jql": ', headers={"content-type": "application/json"}
        )
        listed = client.post(f"{served.rest()}/search/jql", json=["project = PLAT"])
    assert [r.json()["errorMessages"] for r in (empty, broken, listed)] == [
        ["No content to map to Object due to end of input"],
        ["There was an error parsing JSON. Check that your request body is valid."],
        ["Invalid request payload. Refer to the REST API documentation and try again."],
    ]
