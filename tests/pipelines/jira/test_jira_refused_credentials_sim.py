"""Credentials Jira stops accepting: the message names the site or variables and what to do.

- an OAuth site removed from the grant (accessible-resources): the refreshed token is refused
  too, so the site fails once with a re-connect line (not one generic 401 per table);
- a wrong Teams API token: the failure names the variables that hold the email and token.
"""

from __future__ import annotations

from pathlib import Path

from jira_simulator.process import SimulatorProcess
from pipelines.jira import jira_reference, jira_teams
from tests.pipelines.jira.simkit import connect
from tests.pipelines.jira.test_jira_sync_sim import run


def test_a_site_removed_from_the_grant_asks_to_reconnect_it_and_the_other_site_loads(tmp_path: Path) -> None:
    with SimulatorProcess(issues=10, seed=3) as sim:
        connected = connect(sim, tmp_path)
        [grant] = sim.admin("GET", "oauth/grants")["grants"]
        sim.admin(
            "POST", "oauth/remove-site", {"cloud_id": sim.cloud_ids["globex"], "grant_id": grant["grant_id"]}
        )
        resolved = connected.resolve()
        source = jira_reference(resolved.sites, resolved.failures).with_resources("projects", "statuses")
        run(connected, "reference", source)

    assert resolved.failures.lines() == [
        "re-connect site globex (tenant acme): Jira refuses even a freshly refreshed token for this site "
        "(HTTP 401: Unauthorized): the grant no longer reaches the site or lacks a scope; select the site, "
        "with the admin scopes, on the consent page; run `jira-sync connect --tenant acme` or open "
        "/auth/jira/connect"
    ]
    acme = [(sim.cloud_ids["acme"],)]
    assert connected.query("select distinct cloud_id from jira_raw.projects") == acme
    assert connected.query("select distinct cloud_id from jira_raw.statuses") == acme


def test_a_wrong_teams_api_token_names_the_variables_to_fix(tmp_path: Path) -> None:
    with SimulatorProcess(issues=10, seed=3) as sim:
        connected = connect(sim, tmp_path)
        connected.environ["JIRA_TEAMS_API_TOKEN"] = "not-the-token"
        resolved = connected.resolve()
        run(connected, "teams", jira_teams(resolved.teams, resolved.failures))

    [line] = resolved.failures.lines()
    assert line.startswith("teams of organization ")
    assert "/teams -> HTTP 401" in line
    assert "check JIRA_TEAMS_EMAIL and JIRA_TEAMS_API_TOKEN (named by tenants[0].sites[0].team_sync." in line
    assert "not-the-token" not in line
