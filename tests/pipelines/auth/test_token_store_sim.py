"""The token store against the simulator's OAuth server (rotating, single-use refresh tokens).

Two processes refreshing at once must not burn the one refresh token; a dead grant says which
site to re-connect; files are private; tokens never show in reprs or messages; an access token
the gateway refuses early is refreshed once and the request re-sent.
"""

from __future__ import annotations

import multiprocessing
import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jira_simulator.process import SimulatorProcess
from pipelines.auth.oauth import ReconnectRequired
from pipelines.auth.token_store import TokenStore
from pipelines.destination import make_pipeline
from pipelines.jira import JiraHttp, jira_reference
from tests.pipelines.auth.refresh_worker import refresh_and_use
from tests.pipelines.jira.simkit import TENANT, Connected, connect


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    with SimulatorProcess(issues=20, seed=3) as running:
        yield running


def expire_stored_token(store: TokenStore) -> None:
    """Make the stored access token look expired (as an hour later), keeping the refresh token."""
    tokens = store.token_set(TENANT)
    assert tokens is not None
    store.save(
        TENANT, replace(tokens, expires_at=datetime.now(UTC) - timedelta(minutes=1)), store.sites(TENANT)
    )


def live_refresh_tokens(sim: SimulatorProcess) -> list[int]:
    return [g["live_refresh_tokens"] for g in sim.admin("GET", "oauth/grants")["grants"]]


def test_concurrent_refreshes_in_two_processes_burn_nothing(sim: SimulatorProcess, tmp_path: Path) -> None:
    connected = connect(sim, tmp_path)
    store = TokenStore(connected.config.oauth.token_dir)
    for _round in range(3):
        expire_stored_token(store)
        context = multiprocessing.get_context("spawn")
        barrier, results = context.Barrier(2), context.Queue()
        client_args = (sim.client_id, sim.client_secret, connected.environ["JIRA_REDIRECT_URI"])
        workers = [
            context.Process(
                target=refresh_and_use,
                args=(TENANT, str(store.token_dir), sim.base_url, client_args, barrier, results),
            )
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        assert [o[0] for o in outcomes] == ["ok", "ok"], outcomes
        assert outcomes[0][1] == outcomes[1][1], "both processes use the one refreshed token"
        assert [o[2] for o in outcomes] == [200, 200]
    assert sum(live_refresh_tokens(sim)) >= 1
    # The rotated refresh token that was persisted still works.
    expire_stored_token(store)
    assert store.access_token(TENANT, connected.oauth_client())


def test_files_are_private_and_tokens_never_printed(sim: SimulatorProcess, tmp_path: Path) -> None:
    connected = connect(sim, tmp_path)
    store = TokenStore(connected.config.oauth.token_dir)
    path = store.path(TENANT)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.token_dir.stat().st_mode) == 0o700
    tokens = store.token_set(TENANT)
    assert tokens is not None and tokens.refresh_token
    for text in (
        repr(tokens),
        str(tokens),
        repr(connected.oauth_client()),
        repr(connected.resolve().sites[0].auth),
    ):
        assert tokens.access_token not in text and tokens.refresh_token not in text
        assert sim.client_secret not in text


def test_a_dead_grant_names_the_sites_to_reconnect(sim: SimulatorProcess, tmp_path: Path) -> None:
    connected = connect(sim, tmp_path)
    store = TokenStore(connected.config.oauth.token_dir)
    tokens = store.token_set(TENANT)
    sim.admin("POST", "oauth/revoke", {})
    expire_stored_token(store)
    with pytest.raises(ReconnectRequired) as caught:
        store.access_token(TENANT, connected.oauth_client())
    message = str(caught.value)
    sites = sorted(site.name for site in store.sites(TENANT))
    assert sites == ["acme", "globex"]
    assert message in {
        f"re-connect site {', '.join(names)} (tenant acme): the refresh token was rejected (invalid_grant); "
        "run `jira-sync connect --tenant acme` or open /auth/jira/connect"
        for names in (sites, sites[::-1])
    }
    assert tokens is not None and tokens.refresh_token not in message


def test_an_access_token_refused_early_is_refreshed_once(tmp_path: Path) -> None:
    with SimulatorProcess(issues=10, seed=5) as own:
        connected: Connected = connect(own, tmp_path)
        before = TokenStore(connected.config.oauth.token_dir).token_set(TENANT)
        own.admin("POST", "clock/advance", {"seconds": 7200})  # the gateway now sees an expired token
        resolved = connected.resolve()
        http = JiraHttp(connected.config.http)
        source = jira_reference(resolved.sites, resolved.failures, http=http).with_resources(
            "status_categories"
        )
        make_pipeline("auth", connected.config, pipelines_dir=tmp_path / "dlt").run(source)
        resolved.failures.raise_if_any()
        after = TokenStore(connected.config.oauth.token_dir).token_set(TENANT)
        assert before is not None and after is not None and after.refresh_token != before.refresh_token
        assert http.stats.by_status[401] >= 1 and http.stats.by_status[200] == 2
        assert connected.query("select count(*) from jira_raw.status_categories") == [(8,)]
