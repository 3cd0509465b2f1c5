"""OAuth 2.0 (3LO) of the simulator over loopback HTTP: consent, code exchange, rotation, sites."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from jira_simulator.app import create_app
from jira_simulator.generator import generate_world
from jira_simulator.model import World
from jira_simulator.options import SimulatorOptions
from tests.jira_simulator.served import serve_app

CLIENT = {"client_id": "jira-sync-sim", "client_secret": "sim-secret"}
REDIRECT = "http://127.0.0.1:9/callback"
ALL_SCOPES = ["read:jira-work", "read:jira-user", "manage:jira-webhook", "read:me", "offline_access"]


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(issues=20, seed=3)


@pytest.fixture(scope="module")
def base_url(world: World) -> Iterator[str]:
    with serve_app(create_app(world, options=SimulatorOptions())) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


def _code(http: httpx.Client, scopes: list[str] = ALL_SCOPES, **extra: object) -> str:
    response = http.post("/_sim/oauth/grant", json={"scopes": scopes, "redirect_uri": REDIRECT, **extra})
    assert response.status_code == 200, response.text
    return response.json()["code"]


def _tokens(http: httpx.Client, scopes: list[str] = ALL_SCOPES) -> dict:
    body = {
        "grant_type": "authorization_code",
        "code": _code(http, scopes),
        "redirect_uri": REDIRECT,
        **CLIENT,
    }
    response = http.post("/oauth/token", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _refresh(http: httpx.Client, token: str) -> httpx.Response:
    return http.post("/oauth/token", json={"grant_type": "refresh_token", "refresh_token": token, **CLIENT})


def test_consent_page_lists_scopes_and_both_sites_and_accept_redirects_with_code(
    http: httpx.Client, world: World
) -> None:
    params = {
        "audience": "api.atlassian.com",
        "client_id": "jira-sync-sim",
        "scope": "read:jira-work offline_access",
        "redirect_uri": REDIRECT,
        "state": "st-1",
        "response_type": "code",
        "prompt": "consent",
    }
    page = http.get("/authorize", params=params)
    assert page.status_code == 200
    assert "read:jira-work" in page.text and "offline_access" in page.text
    for site in world.sites.values():
        assert f'value="{site.cloud_id}" checked' in page.text
    txn = page.text.split('name="txn" value="', 1)[1].split('"', 1)[0]
    cloud_ids = [s.cloud_id for s in world.sites.values()]
    answer = http.post("/authorize", data={"txn": txn, "decision": "accept", "cloud_id": cloud_ids})
    assert answer.status_code == 302
    target = urlsplit(answer.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT
    query = parse_qs(target.query)
    assert query["state"] == ["st-1"]
    body = {"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT, **CLIENT}
    tokens = http.post("/oauth/token", json=body)
    assert tokens.status_code == 200
    assert tokens.json()["expires_in"] == 3600
    assert tokens.json()["scope"] == "offline_access read:jira-work"
    again = http.post("/oauth/token", json=body)  # codes are single use
    assert again.status_code == 403 and again.json()["error"] == "invalid_grant"
    replay = http.post("/authorize", data={"txn": txn, "decision": "accept", "cloud_id": cloud_ids})
    assert replay.status_code == 400  # a consent request is answered once


def test_deny_redirects_with_access_denied_and_unknown_client_gets_error_page(http: httpx.Client) -> None:
    params = {
        "audience": "api.atlassian.com",
        "client_id": "jira-sync-sim",
        "scope": "read:jira-work",
        "redirect_uri": REDIRECT,
        "state": "st-2",
        "response_type": "code",
    }
    page = http.get("/authorize", params=params)
    txn = page.text.split('name="txn" value="', 1)[1].split('"', 1)[0]
    answer = http.post("/authorize", data={"txn": txn, "decision": "deny"})
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["location"]).query) == {
        "error": ["access_denied"],
        "state": ["st-2"],
    }
    unknown = http.get("/authorize", params={**params, "client_id": "someone-else"})
    assert unknown.status_code == 400
    assert "someone-else" in unknown.text


def test_code_exchange_checks_redirect_uri_and_client_secret(http: httpx.Client) -> None:
    code = _code(http)
    wrong_uri = http.post(
        "/oauth/token",
        json={"grant_type": "authorization_code", "code": code, "redirect_uri": "http://evil/", **CLIENT},
    )
    assert wrong_uri.status_code == 403 and wrong_uri.json()["error"] == "invalid_grant"
    wrong_secret = http.post(
        "/oauth/token",
        json={**CLIENT, "client_secret": "nope", "grant_type": "authorization_code", "code": _code(http)},
    )
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "access_denied"
    form = http.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": _code(http), "redirect_uri": REDIRECT, **CLIENT},
    )
    assert form.status_code == 200 and form.json()["token_type"] == "Bearer"


def test_refresh_rotates_and_the_old_token_fails_with_invalid_grant(http: httpx.Client) -> None:
    first = _tokens(http)["refresh_token"]
    rotated = _refresh(http, first)
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first
    reused = _refresh(http, first)
    assert reused.status_code == 403
    assert reused.json() == {
        "error": "invalid_grant",
        "error_description": "Unknown or invalid refresh token.",
    }
    assert _refresh(http, second).status_code == 200


def test_concurrent_refresh_with_the_same_token_has_exactly_one_winner(
    base_url: str, http: httpx.Client
) -> None:
    token = _tokens(http)["refresh_token"]
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        with httpx.Client(base_url=base_url, timeout=10) as own:
            barrier.wait()
            statuses.append(_refresh(own, token).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [403] * 7


def test_no_refresh_token_without_offline_access(http: httpx.Client) -> None:
    tokens = _tokens(http, ["read:jira-work", "read:me"])
    assert "refresh_token" not in tokens and tokens["access_token"]


def test_accessible_resources_lists_both_sites_until_one_is_dropped(
    http: httpx.Client, world: World, base_url: str
) -> None:
    response = http.post("/_sim/oauth/grant", json={"scopes": ALL_SCOPES, "redirect_uri": REDIRECT})
    grant_id = response.json()["grant_id"]
    body = {"grant_type": "authorization_code", "code": response.json()["code"], "redirect_uri": REDIRECT}
    access = http.post("/oauth/token", json={**body, **CLIENT}).json()["access_token"]
    auth = {"Authorization": f"Bearer {access}"}
    sites = http.get("/oauth/token/accessible-resources", headers=auth).json()
    assert sorted(s["id"] for s in sites) == sorted(world.sites)
    for entry in sites:
        site = world.sites[entry["id"]]
        assert entry["url"] == f"{base_url}/site/{site.name}"
        assert entry["name"] == site.name
        assert "manage:jira-webhook" in entry["scopes"]
    dropped = sorted(world.sites)[0]
    changed = http.post("/_sim/oauth/remove-site", json={"cloud_id": dropped, "grant_id": grant_id})
    assert changed.json() == {"grants_changed": [grant_id]}
    after = http.get("/oauth/token/accessible-resources", headers=auth).json()
    assert [s["id"] for s in after] == [c for c in sorted(world.sites) if c != dropped]
    assert http.get("/oauth/token/accessible-resources").status_code == 401


def test_me_needs_read_me_scope(http: httpx.Client, world: World) -> None:
    with_me = _tokens(http)["access_token"]
    me = http.get("/me", headers={"Authorization": f"Bearer {with_me}"})
    assert me.status_code == 200
    assert me.json()["account_id"] == world.admin_account_id
    assert me.json()["email"] == world.admin.email
    without = _tokens(http, ["read:jira-work"])["access_token"]
    refused = http.get("/me", headers={"Authorization": f"Bearer {without}"})
    assert refused.status_code == 401
    assert refused.json() == {"code": 401, "message": "Unauthorized; scope does not match"}


def test_access_tokens_expire_after_an_hour_of_simulated_time(http: httpx.Client, world: World) -> None:
    tokens = _tokens(http)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert http.get("/me", headers=auth).status_code == 200
    world.clock.advance(3601 * 1000)
    try:
        assert http.get("/me", headers=auth).status_code == 401
        assert _refresh(http, tokens["refresh_token"]).status_code == 200
    finally:
        world.clock.advance(-3601 * 1000)


def test_refresh_token_dies_after_90_idle_days(http: httpx.Client, world: World) -> None:
    token = _tokens(http)["refresh_token"]
    world.clock.advance(91 * 86_400_000)
    try:
        assert _refresh(http, token).status_code == 403
    finally:
        world.clock.advance(-91 * 86_400_000)


def test_revoke_kills_the_grants_refresh_tokens(http: httpx.Client) -> None:
    response = http.post("/_sim/oauth/grant", json={"scopes": ALL_SCOPES, "redirect_uri": REDIRECT})
    grant_id = response.json()["grant_id"]
    body = {"grant_type": "authorization_code", "code": response.json()["code"], "redirect_uri": REDIRECT}
    refresh_token = http.post("/oauth/token", json={**body, **CLIENT}).json()["refresh_token"]
    revoked = http.post("/_sim/oauth/revoke", json={"grant_id": grant_id})
    assert revoked.json() == {"revoked_refresh_tokens": 1}
    assert _refresh(http, refresh_token).json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["read jira"]}, "not an Atlassian scope"),
        ({"scopes": ["read:me"], "cloud_ids": ["no-such-site"]}, "no-such-site"),
        ({"scopes": ["read:me"], "colud_ids": []}, "colud_ids"),
        ({"scopes": ["read:me"], "account_id": "nobody"}, "nobody"),
    ],
)
def test_admin_grant_rejects_bad_input_clearly(http: httpx.Client, body: dict, fragment: str) -> None:
    response = http.post("/_sim/oauth/grant", json=body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]
    assert response.json()["error"].startswith("POST /_sim/oauth/grant")


CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.mark.browser
def test_consent_in_a_real_browser_with_one_site_unchecked(
    base_url: str, world: World, http: httpx.Client, tmp_path: Path
) -> None:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(
            f"headless Chromium is not installed ({CHROMIUM} / {CHROMEDRIVER}); CI's .ci/run installs it"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    callback = f"{base_url}/_sim/health"  # any page of ours: only the redirect's query matters
    acme, globex = world.site_by_name("acme"), world.site_by_name("globex")
    assert acme is not None and globex is not None
    query = {
        "audience": "api.atlassian.com",
        "client_id": "jira-sync-sim",
        "scope": "read:jira-work offline_access",
        "redirect_uri": callback,
        "state": "browser-1",
        "response_type": "code",
        "prompt": "consent",
    }
    try:
        driver.get(f"{base_url}/authorize?{urlencode(query)}")
        box = driver.find_element(By.CSS_SELECTOR, f'input[value="{globex.cloud_id}"]')
        assert box.is_selected()
        box.click()
        driver.find_element(By.ID, "accept").click()
        WebDriverWait(driver, 20).until(lambda d: d.current_url.startswith(callback))
        redirected = urlsplit(driver.current_url)
    finally:
        driver.quit()
    params = parse_qs(redirected.query)
    assert f"{redirected.scheme}://{redirected.netloc}{redirected.path}" == callback and params["state"] == [
        "browser-1"
    ]
    body = {"grant_type": "authorization_code", "code": params["code"][0], "redirect_uri": callback, **CLIENT}
    access = http.post("/oauth/token", json=body).json()["access_token"]
    sites = http.get(
        "/oauth/token/accessible-resources", headers={"Authorization": f"Bearer {access}"}
    ).json()
    assert [s["id"] for s in sites] == [acme.cloud_id]
