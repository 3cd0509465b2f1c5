"""Each fault mode of the whole simulator app, observed by a real HTTP client over loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from jira_simulator.app import create_app
from jira_simulator.faults import objects_returned
from jira_simulator.generator import generate_world
from jira_simulator.model import World
from jira_simulator.options import SimulatorOptions
from tests.jira_simulator.served import serve_app


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(issues=40, seed=1)


@pytest.fixture(scope="module")
def base_url(world: World) -> Iterator[str]:
    with serve_app(create_app(world, options=SimulatorOptions(seed=42))) as url:
        yield url


@pytest.fixture
def http(base_url: str, world: World) -> Iterator[httpx.Client]:
    """A Basic-auth (API token) client of the admin; the faults are reset after each test."""
    with httpx.Client(
        base_url=base_url, auth=(world.admin.email, world.admin.api_token), timeout=10
    ) as client:
        yield client
        reset = {
            "latency_ms": 0,
            "fault_rate_5xx": 0,
            "drop_rate": 0,
            "rate_429": 0,
            "retry_after_seconds": 1,
            "burst_per_second": None,
            "points_per_hour": None,
            "seed": 42,
        }
        assert client.put("/_sim/faults", json=reset).status_code == 200


def _bearer(http: httpx.Client) -> dict[str, str]:
    code = http.post("/_sim/oauth/grant", json={"scopes": ["read:jira-work", "read:jira-user"]}).json()[
        "code"
    ]
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "jira-sync-sim",
        "client_secret": "sim-secret",
    }
    return {"Authorization": f"Bearer {http.post('/oauth/token', json=body).json()['access_token']}"}


SITE_INFO = "/site/acme/rest/api/3/serverInfo"


def test_latency_is_asynchronous_so_concurrent_requests_overlap(http: httpx.Client, base_url: str) -> None:
    http.put("/_sim/faults", json={"latency_ms": 400})
    durations: list[float] = []

    def one() -> None:
        started = time.perf_counter()
        httpx.get(f"{base_url}{SITE_INFO}", timeout=10).raise_for_status()
        durations.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    assert min(durations) >= 0.4
    assert wall < 1.2  # four sequential sleeps would take 1.6 s


def test_random_429_carries_atlassians_headers(http: httpx.Client) -> None:
    http.put("/_sim/faults", json={"rate_429": 1, "retry_after_seconds": 2})
    response = http.get(SITE_INFO)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.headers["RateLimit-Reason"] == "jira-burst-based"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Limit"]) > 0
    assert datetime.fromisoformat(response.headers["X-RateLimit-Reset"]).tzinfo is not None
    assert response.json()["errorMessages"]
    assert http.get("/_sim/faults").status_code == 200  # the admin API is never faulted


def test_random_5xx_are_json_and_reproducible_from_the_seed(http: httpx.Client) -> None:
    def statuses() -> list[int]:
        http.put("/_sim/faults", json={"fault_rate_5xx": 0.5, "seed": 7})
        return [http.get(SITE_INFO).status_code for _ in range(30)]

    first = statuses()
    assert set(first) - {200} <= {500, 502, 503, 504}
    assert 200 in first and len(set(first)) >= 3
    assert statuses() == first
    http.put("/_sim/faults", json={"fault_rate_5xx": 1})
    failed = http.get(SITE_INFO)
    assert failed.status_code >= 500 and failed.json()["errorMessages"]


def test_dropped_connection_gives_the_client_no_response_at_all(http: httpx.Client, base_url: str) -> None:
    http.put("/_sim/faults", json={"drop_rate": 1})
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        httpx.get(f"{base_url}{SITE_INFO}", timeout=5)
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(f"GET {SITE_INFO} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        try:
            received = raw.recv(1024)
        except ConnectionResetError:
            received = b""
    assert received == b""  # no status line, no bytes: the connection was simply closed


def test_burst_limit_is_per_endpoint_and_refills(http: httpx.Client) -> None:
    http.put("/_sim/faults", json={"burst_per_second": 5})
    statuses = [http.get(SITE_INFO).status_code for _ in range(12)]
    assert statuses[:5] == [200] * 5 and 429 in statuses
    refused = http.get(SITE_INFO)
    assert refused.status_code == 429
    assert refused.headers["RateLimit-Reason"] == "jira-burst-based"
    assert refused.headers["RateLimit-Policy"] == '"jira-burst-based";q=5;w=1'
    assert http.get("/site/globex/rest/api/3/serverInfo").status_code == 200  # another site, another bucket
    time.sleep(0.5)
    assert http.get(SITE_INFO).status_code == 200


def test_points_quota_blocks_oauth_traffic_until_the_simulated_hour_rolls_over(
    http: httpx.Client, world: World
) -> None:
    hour_ms = 3_600_000
    now = world.clock.now_ms()
    world.clock.advance(hour_ms - now % hour_ms + 60_000)  # one minute into a fresh hour
    bearer = _bearer(http)
    http.put("/_sim/faults", json={"points_per_hour": 40})
    gateway = f"/ex/jira/{world.site_by_name('acme').cloud_id}/rest/api/3"  # type: ignore[union-attr]
    key = next(iter(world.site_by_name("acme").issue_ids_by_key))  # type: ignore[union-attr]
    first = http.get(f"{gateway}/issue/{key}", headers=bearer, auth=None)  # 1 + 1 issue = 2 points
    assert first.status_code == 200
    assert first.headers["RateLimit-Policy"] == '"global-app-quota";q=40;w=3600'
    assert "X-RateLimit-NearLimit" not in first.headers
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("40", "38")
    users = http.get(f"{gateway}/users/search", params={"maxResults": 15}, headers=bearer, auth=None)
    assert users.status_code == 200 and len(users.json()) == 15  # 1 + 15 users x 2 = 31 points
    near = http.get(f"{gateway}/issue/{key}", headers=bearer, auth=None)  # 35 used, 5 left (< 20%)
    assert near.headers["X-RateLimit-NearLimit"] == "true"
    assert near.headers["RateLimit"].startswith('"global-app-quota";r=5;')
    while http.get(f"{gateway}/issue/{key}", headers=bearer, auth=None).status_code == 200:
        pass
    refused = http.get(f"{gateway}/issue/{key}", headers=bearer, auth=None)
    assert refused.status_code == 429
    assert refused.headers["RateLimit-Reason"] == "jira-quota-global-based"
    assert 3000 <= int(refused.headers["Retry-After"]) <= 3540
    assert refused.headers["X-RateLimit-Reset"].endswith(":00:00Z")
    assert http.get(f"/site/acme/rest/api/3/issue/{key}").status_code == 200  # API-token traffic is exempt
    assert http.get("/_sim/faults").json()["points"]["left"] == 0
    world.clock.advance(hour_ms)
    assert http.get(f"{gateway}/issue/{key}", headers=_bearer(http), auth=None).status_code == 200


def test_request_log_counts_per_endpoint_template_and_status(http: httpx.Client) -> None:
    http.post("/_sim/requests/reset")
    http.get(SITE_INFO)
    http.get("/site/globex/rest/api/3/serverInfo")
    http.put("/_sim/faults", json={"fault_rate_5xx": 1, "seed": 1})
    http.get(SITE_INFO)
    http.put("/_sim/faults", json={"fault_rate_5xx": 0, "drop_rate": 1})
    with pytest.raises(httpx.TransportError):
        http.get(SITE_INFO)
    http.put("/_sim/faults", json={"drop_rate": 0})
    http.get("/nowhere")
    log = http.get("/_sim/requests").json()
    template = "/site/{site_name}/rest/api/{version}/serverInfo"
    counts = {(r["endpoint"], r["status"]): r["count"] for r in log["requests"]}
    assert counts[(template, "200")] == 2
    assert counts[(template, "dropped")] == 1
    assert sum(c for (e, s), c in counts.items() if e == template and s.startswith("5")) == 1
    assert log["total"] == 5


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"drop_rate": 2}, "drop_rate"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"rate_429": None}, "rate_429 cannot be null"),
        ({"burst": 5}, "burst"),
    ],
)
def test_bad_fault_settings_are_refused(http: httpx.Client, body: dict, fragment: str) -> None:
    response = http.put("/_sim/faults", json=body)
    assert response.status_code == 400 and fragment in response.json()["error"]


def test_points_cost_counts_objects_and_identity_objects_double() -> None:
    assert objects_returned("/rest/api/3/search/jql", b'{"issues":[{},{},{}]}') == 3
    assert objects_returned("/rest/api/3/issue/ABC-1", b'{"id":"1","key":"ABC-1"}') == 1
    assert objects_returned("/rest/api/3/group/member", b'{"values":[{},{}],"total":2}') == 4
    assert objects_returned("/rest/api/3/users/search", b"[{},{},{}]") == 6
    assert objects_returned("/rest/api/3/webhook", b"") == 0
