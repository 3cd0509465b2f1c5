"""Credentials that stop working fail their own site only, saying what to do; the others load.

Each scenario connects fresh grants (what the consent page does) for its tenants, breaks one
credential in the simulator, materializes the reference and team assets as Dagster runs them,
and checks the run's failure message and which sites landed in the warehouse:

- a revoked grant (`/_sim/oauth/revoke`) whose access token has also expired: re-connect;
- a refresh token expired after 90 unused days: re-connect, while an API-token site loads;
- a site removed from the grant's accessible-resources (`/_sim/oauth/remove-site`);
- a wrong Atlassian API token for the Teams API: the teams fail, every site's data loads.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from jira_simulator.process import SimulatorProcess
from pipelines.auth.oauth import ADMIN_SCOPES, REQUIRED_SCOPES, AtlassianOAuthClient
from pipelines.auth.token_store import TokenStore
from tests.reliability.reliability_kit import failure_message, materialize_unpartitioned, report

REDIRECT_URI = "http://127.0.0.1:9/auth/jira/callback"
ENTITIES = ["projects", "issue_types", "statuses", "users", "groups", "teams"]
TEAMS_ENV = {"JIRA_TEAMS_EMAIL": "", "JIRA_TEAMS_API_TOKEN": ""}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    with SimulatorProcess(issues=20, seed=4) as simulator:
        yield simulator


class Scenario:
    """Tenants connected to the simulator, a sync file naming them, and the run's environment."""

    def __init__(self, sim: SimulatorProcess, workdir: Path) -> None:
        self.sim = sim
        self.workdir = workdir
        self.tenants: list[dict] = []
        self.grants: dict[str, str] = {}  # tenant -> grant id
        self.figures: dict[str, object] = {}
        self.organization = sim.truth()["sites"][sim.cloud_ids["acme"]]["organization_id"]
        self.environ = {
            "JIRA_CLIENT_ID": sim.client_id,
            "JIRA_SECRET": sim.client_secret,
            "JIRA_REDIRECT_URI": REDIRECT_URI,
            "JIRA_TEAMS_EMAIL": sim.admin_email,
            "JIRA_TEAMS_API_TOKEN": sim.api_token,
            "SITE_EMAIL": sim.admin_email,
            "SITE_API_TOKEN": sim.api_token,
        }

    def site(self, name: str, *, auth: str = "oauth", teams: bool = False) -> dict:
        entry = {
            "name": name,
            "url": self.sim.site_url(name),
            "cloud_id": self.sim.cloud_ids[name],
            "auth": {"method": "oauth"}
            if auth == "oauth"
            else {"method": "api_token", "email_env": "SITE_EMAIL", "api_token_env": "SITE_API_TOKEN"},
            "team_sync": {"method": "groups_api"},
            "entities": ENTITIES,
        }
        if teams:
            entry["team_sync"] = {
                "method": "teams_api",
                "organization_id": self.organization,
                "email_env": "JIRA_TEAMS_EMAIL",
                "api_token_env": "JIRA_TEAMS_API_TOKEN",
            }
        return entry

    def tenant(self, tenant_id: str, *sites: dict) -> None:
        """Declare a tenant; its OAuth sites are connected by one consent (one grant)."""
        self.tenants.append({"id": tenant_id, "sites": list(sites)})
        oauth_ids = [s["cloud_id"] for s in sites if s["auth"]["method"] == "oauth"]
        if not oauth_ids:
            return
        client = AtlassianOAuthClient(
            self.sim.base_url, self.sim.base_url, self.sim.client_id, self.sim.client_secret, REDIRECT_URI
        )
        grant = self.sim.admin(
            "POST",
            "oauth/grant",
            {"scopes": REQUIRED_SCOPES + ADMIN_SCOPES, "cloud_ids": oauth_ids, "redirect_uri": REDIRECT_URI},
        )
        tokens = client.exchange_code(grant["code"])
        TokenStore(self.workdir / "tokens").save(
            tenant_id, tokens, client.accessible_resources(tokens.access_token)
        )
        self.grants[tenant_id] = grant["grant_id"]

    def sync_file(self) -> Path:
        document = {
            "version": 1,
            "warehouse": {"path": str(self.warehouse)},
            "atlassian": {"auth_url": self.sim.base_url, "api_url": self.sim.base_url},
            "oauth": {"token_dir": str(self.workdir / "tokens")},
            "http": {"max_requests_per_second": 500, "concurrency": 4, "max_attempts": 3},
            "tenants": self.tenants,
        }
        path = self.workdir / "jira_sync.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    @property
    def warehouse(self) -> Path:
        return self.workdir / "warehouse.duckdb"

    def run(self) -> tuple[dg.ExecuteInProcessResult, str]:
        self.sim.admin("POST", "requests/reset")
        started = time.monotonic()
        result = materialize_unpartitioned(self.sync_file(), self.environ)
        message = failure_message(result)
        self.figures = {
            "run_s": time.monotonic() - started,
            "requests": self.sim.admin("GET", "requests")["total"],
            "failure_lines": message.count("\n  - "),  # one per failed site or organization
        }
        return result, message

    def loaded_sites(self, table: str) -> set[str]:
        names = {cloud_id: name for name, cloud_id in self.sim.cloud_ids.items()}
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            rows = con.execute(f"SELECT DISTINCT cloud_id FROM jira_raw.{table}").fetchall()
        return {names[cloud_id] for (cloud_id,) in rows}

    def teams_loaded(self) -> int:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'jira_raw' AND table_name = 'teams'"
            ).fetchone()[0]
            return con.execute("SELECT count(*) FROM jira_raw.teams").fetchone()[0] if exists else 0


def assert_only(scenario: Scenario, healthy: set[str]) -> None:
    for table in ("projects", "issue_types", "statuses", "users", "groups"):
        assert scenario.loaded_sites(table) == healthy, table


def test_a_revoked_grant_with_an_expired_access_token_fails_its_tenant_only(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    scenario = Scenario(sim, tmp_path)
    scenario.tenant("acme", scenario.site("acme"))
    scenario.tenant("globex", scenario.site("globex"))
    sim.admin("POST", "oauth/revoke", {"grant_id": scenario.grants["acme"]})
    sim.admin("POST", "clock/advance", {"seconds": 2 * 3600})  # every issued access token expired

    result, message = scenario.run()

    assert not result.success
    assert "re-connect site acme (tenant acme): the refresh token was rejected (invalid_grant)" in message
    assert "run `jira-sync connect --tenant acme` or open /auth/jira/connect" in message
    assert "globex" not in message
    assert sim.client_secret not in message
    assert_only(scenario, {"globex"})  # globex refreshed its token (rotated, stored) and loaded
    report("credentials, revoked grant", loaded_sites="globex", **scenario.figures)


def test_an_expired_refresh_token_fails_its_site_and_an_api_token_site_loads(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    scenario = Scenario(sim, tmp_path)
    scenario.tenant("acme", scenario.site("acme"))
    scenario.tenant("basic", scenario.site("globex", auth="api_token"))
    sim.admin("POST", "clock/advance", {"days": 91})  # refresh tokens die after 90 days unused

    result, message = scenario.run()

    assert not result.success
    assert "re-connect site acme (tenant acme): the refresh token was rejected (invalid_grant)" in message
    assert "globex" not in message
    assert_only(scenario, {"globex"})
    report("credentials, expired refresh token", loaded_sites="globex (API token)", **scenario.figures)


def test_a_site_removed_from_accessible_resources_fails_that_site_only(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    scenario = Scenario(sim, tmp_path)
    scenario.tenant("acme", scenario.site("acme"), scenario.site("globex"))
    sim.admin(
        "POST",
        "oauth/remove-site",
        {"cloud_id": sim.cloud_ids["globex"], "grant_id": scenario.grants["acme"]},
    )

    result, message = scenario.run()

    assert not result.success
    assert "re-connect site globex (tenant acme): Jira refuses even a freshly refreshed token" in message
    assert "select the site, with the admin scopes, on the consent page" in message
    assert "site acme" not in message
    assert_only(scenario, {"acme"})
    report("credentials, site removed from the grant", loaded_sites="acme", **scenario.figures)


def test_a_wrong_teams_api_token_fails_the_teams_only(sim: SimulatorProcess, tmp_path: Path) -> None:
    scenario = Scenario(sim, tmp_path)
    scenario.tenant("acme", scenario.site("acme", teams=True), scenario.site("globex", teams=True))
    wrong = "wrong-teams-token-5f0e9c"
    scenario.environ["JIRA_TEAMS_API_TOKEN"] = wrong

    result, message = scenario.run()

    assert not result.success
    failed_steps = {e.step_key for e in result.all_events if e.is_step_failure}
    assert failed_steps == {"jira_teams"}
    assert f"teams of organization {scenario.organization}" in message and "HTTP 401" in message
    assert (
        "check JIRA_TEAMS_EMAIL and JIRA_TEAMS_API_TOKEN (named by tenants[0].sites[0].team_sync" in message
    )
    assert wrong not in message
    assert_only(scenario, {"acme", "globex"})
    assert scenario.teams_loaded() == 0
    report("credentials, wrong Teams API token", loaded_sites="acme, globex", **scenario.figures)
