"""OAuth connect and callback against the bundled simulator's 3LO server (codes from `/_sim/oauth/grant`)."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from jira_simulator.process import SimulatorProcess
from pipelines.auth.oauth import ADMIN_SCOPES, REQUIRED_SCOPES
from pipelines.auth.scopes import ALL_SCOPES, BASE_SCOPES
from pipelines.auth.token_store import TokenStore
from pipelines.config import load_sync_config
from tests.webhook_receiver.receiver_servers import write_sync_file
from tests.webhook_receiver.receiver_testkit import bearer, delivery_headers, issue_payload
from webhook_receiver.app import create_app
from webhook_receiver.settings import ReceiverSettings, settings_from_sync_config

REDIRECT_URI = "http://testserver/auth/jira/callback"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    with SimulatorProcess(issues=10, seed=7) as simulator:
        yield simulator


def receiver_settings(tmp_path: Path, sim: SimulatorProcess, **env_overrides: str | None) -> ReceiverSettings:
    env = {
        "JIRA_CLIENT_ID": sim.client_id,
        "JIRA_SECRET": sim.client_secret,
        "JIRA_REDIRECT_URI": REDIRECT_URI,
    }
    env.update({key: value for key, value in env_overrides.items() if value is not None})
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key)
    config = load_sync_config(write_sync_file(tmp_path, sim), environ=env)
    return settings_from_sync_config(config, environ=env, lookup_reload_seconds=0)


@pytest.fixture
def settings(tmp_path: Path, sim: SimulatorProcess) -> ReceiverSettings:
    return receiver_settings(tmp_path, sim)


@pytest.fixture
def client(settings: ReceiverSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def start_connect(client: TestClient, query: str = "tenant=acme") -> tuple[str, dict[str, list[str]]]:
    """GET /auth/jira/connect; returns the authorize URL and its query."""
    response = client.get(f"/auth/jira/connect?{query}", follow_redirects=False)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    return location, parse_qs(urlsplit(location).query)


def consent(sim: SimulatorProcess, scopes: list[str], state: str, redirect_uri: str = REDIRECT_URI) -> str:
    """What clicking Accept on the consent page does: a grant and its one-time code."""
    return sim.admin("POST", "oauth/grant", {"scopes": scopes, "state": state, "redirect_uri": redirect_uri})[
        "code"
    ]


def test_connect_redirects_to_authorize_with_state_and_required_scopes(
    client: TestClient, sim: SimulatorProcess
) -> None:
    location, query = start_connect(client)
    assert location.startswith(f"{sim.base_url}/authorize?")
    assert query["client_id"] == [sim.client_id]
    assert query["redirect_uri"] == [REDIRECT_URI]
    assert query["response_type"] == ["code"]
    # both sites sync every entity and have dynamic webhooks: the sync needs every scope
    assert query["scope"][0].split() == list(ALL_SCOPES)
    assert len(query["state"][0]) >= 32
    _, again = start_connect(client)
    assert again["state"] != query["state"]  # random per attempt
    _, admin = start_connect(client, "tenant=acme&admin=1")
    assert set(admin["scope"][0].split()) == set(REQUIRED_SCOPES + ADMIN_SCOPES) == set(ALL_SCOPES)


def test_callback_stores_tokens_0600_and_lists_the_connected_sites(
    client: TestClient, settings: ReceiverSettings, sim: SimulatorProcess
) -> None:
    _, query = start_connect(client, "tenant=acme&admin=1")
    state = query["state"][0]
    code = consent(sim, REQUIRED_SCOPES + ADMIN_SCOPES, state)
    page = client.get(f"/auth/jira/callback?code={code}&state={state}")
    assert page.status_code == 200, page.text
    assert "Connected tenant acme" in page.text
    assert "with admin permissions" in page.text
    for name, cloud_id in sim.cloud_ids.items():
        assert cloud_id in page.text
        assert sim.site_url(name) in page.text
    assert code not in page.text
    token_file = settings.token_dir / "acme.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    saved = {site.id: site.url for site in TokenStore(settings.token_dir).sites("acme")}
    assert saved == {cloud_id: sim.site_url(name) for name, cloud_id in sim.cloud_ids.items()}
    # the state is single-use
    replay = client.get(f"/auth/jira/callback?code={code}&state={state}")
    assert replay.status_code == 400
    assert "Unknown or expired connect attempt" in replay.text


def test_connected_url_only_site_accepts_deliveries(
    client: TestClient, settings: ReceiverSettings, sim: SimulatorProcess
) -> None:
    """`acme` is declared by URL only: its cloud id comes from the sites saved at connect time."""
    body = orjson.dumps(issue_payload(site_url=sim.site_url("acme")))
    headers = delivery_headers("wh-before", authorization=None)
    before = client.post(
        "/webhooks/jira/acme", content=body, headers=headers | {"Authorization": _sim_bearer(sim)}
    )
    assert before.status_code == 403
    _, query = start_connect(client)
    code = consent(sim, list(ALL_SCOPES), query["state"][0])
    assert client.get(f"/auth/jira/callback?code={code}&state={query['state'][0]}").status_code == 200
    after = client.post(
        "/webhooks/jira/acme",
        content=body,
        headers=delivery_headers("wh-after", authorization=_sim_bearer(sim)),
    )
    assert after.status_code == 200, after.text


def _sim_bearer(sim: SimulatorProcess) -> str:
    return bearer(sim.client_secret, issuer=sim.client_id)


@pytest.mark.parametrize(
    ("query", "status", "text"),
    [
        ("state=never-issued&code=abc", 400, "Unknown or expired connect attempt"),
        ("code=abc", 400, "Unknown or expired connect attempt"),
    ],
)
def test_callback_without_a_valid_state_is_refused(
    client: TestClient, settings: ReceiverSettings, query: str, status: int, text: str
) -> None:
    response = client.get(f"/auth/jira/callback?{query}")
    assert response.status_code == status
    assert text in response.text
    assert "Start again from /auth/jira/connect" in response.text
    assert not (settings.token_dir / "acme.json").exists()


def test_expired_state_is_refused(
    client: TestClient, settings: ReceiverSettings, sim: SimulatorProcess
) -> None:
    _, query = start_connect(client)
    state = query["state"][0]
    with sqlite3.connect(settings.inbox_path) as connection:
        connection.execute("UPDATE oauth_states SET expires_at = 0 WHERE state = ?", (state,))
    code = consent(sim, REQUIRED_SCOPES, state)
    response = client.get(f"/auth/jira/callback?code={code}&state={state}")
    assert response.status_code == 400
    assert "expired" in response.text
    assert not (settings.token_dir / "acme.json").exists()


def test_denied_consent_shows_the_troubleshooting_steps(
    client: TestClient, settings: ReceiverSettings
) -> None:
    _, query = start_connect(client)
    response = client.get(f"/auth/jira/callback?error=access_denied&state={query['state'][0]}")
    assert response.status_code == 403
    assert "access_denied" in response.text
    assert "Verify JIRA_CLIENT_ID and JIRA_SECRET are correct" in response.text
    assert "Check the callback URL matches exactly: http://testserver/auth/jira/callback" in response.text
    assert "{APP_URL}" not in response.text
    assert "Ensure all required scopes are configured in the app" in response.text
    assert not (settings.token_dir / "acme.json").exists()


def test_missing_admin_scopes_are_named_and_nothing_is_saved(
    client: TestClient, settings: ReceiverSettings, sim: SimulatorProcess
) -> None:
    """The app in the developer console lacks the admin scopes: Atlassian grants fewer than asked."""
    _, query = start_connect(client, "tenant=acme&admin=1")
    state = query["state"][0]
    code = consent(sim, REQUIRED_SCOPES + ["read:jira-work"], state)
    response = client.get(f"/auth/jira/callback?code={code}&state={state}")
    assert response.status_code == 403
    assert "The grant lacks scopes" in response.text
    assert "manage:jira-webhook" in response.text
    assert "Ensure all required scopes are configured in the app" in response.text
    assert "re-authenticate with admin scopes if needed" in response.text
    assert not (settings.token_dir / "acme.json").exists()


def test_code_for_another_redirect_uri_is_rejected_with_the_callback_hint(
    client: TestClient, settings: ReceiverSettings, sim: SimulatorProcess
) -> None:
    _, query = start_connect(client)
    state = query["state"][0]
    code = consent(sim, REQUIRED_SCOPES, state, redirect_uri="https://elsewhere.example/auth/jira/callback")
    response = client.get(f"/auth/jira/callback?code={code}&state={state}")
    assert response.status_code == 400
    assert "The authorization code was rejected" in response.text
    assert "Check the callback URL matches exactly" in response.text


def test_wrong_client_secret_points_at_the_credentials(tmp_path: Path, sim: SimulatorProcess) -> None:
    settings = receiver_settings(tmp_path, sim, JIRA_SECRET="not-the-app-secret")
    with TestClient(create_app(settings)) as client:
        _, query = start_connect(client)
        state = query["state"][0]
        code = consent(sim, REQUIRED_SCOPES, state)
        response = client.get(f"/auth/jira/callback?code={code}&state={state}")
    assert response.status_code in (400, 502)
    assert "Verify JIRA_CLIENT_ID and JIRA_SECRET are correct" in response.text
    assert "not-the-app-secret" not in response.text
    assert not (settings.token_dir / "acme.json").exists()


def test_wrong_callback_url_is_explained_before_leaving(tmp_path: Path, sim: SimulatorProcess) -> None:
    settings = receiver_settings(tmp_path, sim, JIRA_REDIRECT_URI="http://testserver/oauth/callback")
    with TestClient(create_app(settings)) as client:
        response = client.get("/auth/jira/connect?tenant=acme", follow_redirects=False)
    assert response.status_code == 500
    assert "Wrong callback URL" in response.text
    assert "JIRA_REDIRECT_URI is &#x27;http://testserver/oauth/callback&#x27;" in response.text
    assert "this receiver&#x27;s callback is http://testserver/auth/jira/callback" in response.text
    assert "Check the callback URL matches exactly: http://testserver/auth/jira/callback" in response.text
    assert "{APP_URL}" not in response.text


def test_connect_without_oauth_settings_names_the_variables(tmp_path: Path, sim: SimulatorProcess) -> None:
    settings = receiver_settings(tmp_path, sim, JIRA_CLIENT_ID=None, JIRA_REDIRECT_URI=None)
    with TestClient(create_app(settings)) as client:
        response = client.get("/auth/jira/connect?tenant=acme", follow_redirects=False)
        callback = client.get("/auth/jira/callback?code=x&state=y")
    assert response.status_code == 503
    assert "Set JIRA_CLIENT_ID, JIRA_REDIRECT_URI" in response.text
    assert callback.status_code == 503


@pytest.mark.parametrize(
    ("query", "status", "text"),
    [("", 400, "this receiver&#x27;s tenants are: acme"), ("tenant=initech", 404, "Unknown tenant")],
)
def test_connect_needs_a_known_tenant(client: TestClient, query: str, status: int, text: str) -> None:
    response = client.get(f"/auth/jira/connect?{query}", follow_redirects=False)
    assert response.status_code == status
    assert text in response.text


def test_no_connect_routes_when_disabled(tmp_path: Path, sim: SimulatorProcess) -> None:
    settings = receiver_settings(tmp_path, sim).model_copy(update={"connect_enabled": False})
    with TestClient(create_app(settings)) as client:
        assert client.get("/auth/jira/connect?tenant=acme").status_code == 404


def test_simulator_consent_page_is_reachable_from_the_redirect(client: TestClient) -> None:
    location, _ = start_connect(client)
    consent_page = httpx.get(location, timeout=10)
    assert consent_page.status_code == 200
    assert 'id="accept"' in consent_page.text


def narrow_settings(tmp_path: Path, sim: SimulatorProcess) -> ReceiverSettings:
    """A tenant whose sync needs issues and their metadata only: no users, groups or webhooks."""
    env = {
        "JIRA_CLIENT_ID": sim.client_id,
        "JIRA_SECRET": sim.client_secret,
        "JIRA_REDIRECT_URI": REDIRECT_URI,
    }
    text = write_sync_file(tmp_path, sim).read_text()
    text = text.replace(
        "webhook: {enabled: true}",
        "webhook: {enabled: false}\n        entities: [issues, projects, issue_types, statuses]",
    )
    path = tmp_path / "narrow.yaml"
    path.write_text(text)
    return settings_from_sync_config(
        load_sync_config(path, environ=env), environ=env, lookup_reload_seconds=0
    )


def test_plain_connect_asks_for_what_the_sync_needs_and_says_what_it_gave_up(
    tmp_path: Path, sim: SimulatorProcess
) -> None:
    settings = narrow_settings(tmp_path, sim)
    store = TokenStore(settings.token_dir)
    with TestClient(create_app(settings)) as client:
        _, admin = start_connect(client, "tenant=acme&admin=1")
        code = consent(sim, list(ALL_SCOPES), admin["state"][0])
        assert client.get(f"/auth/jira/callback?code={code}&state={admin['state'][0]}").status_code == 200
        _, plain = start_connect(client)
        assert plain["scope"][0].split() == list(BASE_SCOPES)  # read:me offline_access read:jira-work
        code = consent(sim, list(BASE_SCOPES), plain["state"][0])
        page = client.get(f"/auth/jira/callback?code={code}&state={plain['state'][0]}")
    assert page.status_code == 200
    assert "with the scopes this tenant's sync file needs" in page.text
    given_up = page.text.split("which also had <code>", 1)[1].split("</code>", 1)[0].split()
    assert set(given_up) == set(ALL_SCOPES) - set(BASE_SCOPES)
    assert "the sync file does not need them" in page.text
    assert "data-capability='users' data-allowed='false' data-needed='false'" in page.text
    assert "data-capability='dynamic webhooks' data-allowed='false' data-needed='false'" in page.text
    assert "data-allowed='true' data-needed='true'" in page.text  # issues
    saved = store.token_set("acme")
    assert saved is not None and set(saved.scopes) == set(BASE_SCOPES)


def test_a_grant_narrower_than_the_sync_needs_never_replaces_the_working_one(
    client: TestClient, settings: ReceiverSettings, sim: SimulatorProcess
) -> None:
    _, first = start_connect(client)
    code = consent(sim, list(ALL_SCOPES), first["state"][0])
    assert client.get(f"/auth/jira/callback?code={code}&state={first['state'][0]}").status_code == 200
    store = TokenStore(settings.token_dir)
    working = store.token_set("acme")
    _, again = start_connect(client)
    # the app in the developer console lost the webhook scope: Atlassian grants less than asked
    fewer = [scope for scope in ALL_SCOPES if scope != "manage:jira-webhook"]
    code = consent(sim, fewer, again["state"][0])
    refused = client.get(f"/auth/jira/callback?code={code}&state={again['state'][0]}")
    assert refused.status_code == 403
    assert (
        "missing: manage:jira-webhook" in refused.text and "the tenant keeps the grant it had" in refused.text
    )
    assert store.token_set("acme") == working
