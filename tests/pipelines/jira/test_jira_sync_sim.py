"""The dlt sources against the simulator over HTTP, loaded into a real DuckDB file.

Every table equals the simulator's ground truth for both sites and the organization; windows
are exact and idempotent; the incremental sweep, the census and lost access behave; a user far
from UTC makes the sweep skip nothing; 4xx answers fail the site, naming the request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from jira_simulator.process import SimulatorProcess
from jira_sync.truth_check import ORGANIZATION_TABLES, SITE_TABLES
from pipelines.destination import make_pipeline
from pipelines.jira import (
    JiraHttp,
    WarehouseIssue,
    jira_issue_census,
    jira_issue_updates,
    jira_issues,
    jira_reference,
    jira_teams,
    jira_worklogs,
)
from tests.pipelines.jira.simkit import Connected, connect

ALL_TIME = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
PRIMARY_KEYS = {
    "issues": "cloud_id, id",
    "issue_changelog": "cloud_id, history_id, item_index",
    "users": "cloud_id, account_id",
    "group_members": "cloud_id, group_id, account_id",
    "team_members": "organization_id, team_id, account_id",
}


def run(connected: Connected, name: str, source) -> None:
    pipeline = make_pipeline(name, connected.config, pipelines_dir=connected.workdir / "dlt")
    pipeline.run(source).raise_on_failed_jobs()


def full_sync(connected: Connected) -> JiraHttp:
    resolved = connected.resolve()
    assert not resolved.failures, resolved.failures.lines()
    http = JiraHttp(connected.config.http)
    run(connected, "reference", jira_reference(resolved.sites, resolved.failures, http=http))
    run(connected, "teams", jira_teams(resolved.teams, resolved.failures, http=http))
    run(connected, "issues", jira_issues(resolved.sites, resolved.failures, *ALL_TIME, http=http))
    run(connected, "worklogs", jira_worklogs(resolved.sites, resolved.failures, http=http))
    resolved.failures.raise_if_any()
    return http


def assert_equals_truth(connected: Connected) -> None:
    truth = connected.sim.truth()
    for cloud_id, site in truth["sites"].items():
        for table, id_sql in SITE_TABLES.items():
            loaded = connected.query(f"select {id_sql} from jira_raw.{table} where cloud_id = '{cloud_id}'")
            assert sorted(r[0] for r in loaded) == sorted(site[table]["ids"]), f"{site['name']} {table}"
    for org_id, org in truth["organizations"].items():
        for table, id_sql in ORGANIZATION_TABLES.items():
            loaded = connected.query(
                f"select {id_sql} from jira_raw.{table} where organization_id = '{org_id}'"
            )
            assert sorted(r[0] for r in loaded) == sorted(org[table]["ids"]), f"{org_id} {table}"
    for table, key in PRIMARY_KEYS.items():
        duplicates = connected.query(
            f"select {key}, count(*) from jira_raw.{table} group by all having count(*) > 1"
        )
        assert duplicates == [], table


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Connected, JiraHttp]]:
    with SimulatorProcess(issues=240, seed=7) as sim:
        connected = connect(sim, tmp_path_factory.mktemp("synced"))
        yield connected, full_sync(connected)


def test_full_sync_equals_truth_for_both_sites(synced: tuple[Connected, JiraHttp]) -> None:
    connected, http = synced
    assert_equals_truth(connected)
    assert connected.query("select count(distinct cloud_id) from jira_raw.issues") == [(2,)]
    assert sorted(connected.query("select name from jira_raw.sites")) == [("acme",), ("globex",)]
    # Every answer is a 200 but the one each team-managed (simple) board without sprints gives when
    # asked for its sprints: 400 "The board does not support sprints".
    [(simple_boards,)] = connected.query("select count(*) from jira_raw.boards where type = 'simple'")
    assert http.stats.requests > 0 and http.stats.by_status.keys() <= {200, 400}
    assert http.stats.by_status[400] == simple_boards


def test_the_150_history_changelog_is_complete(synced: tuple[Connected, JiraHttp]) -> None:
    connected, _ = synced
    [(issue_id, total, histories)] = connected.query(
        """select i.id, i.changelog_total, count(distinct c.history_id)
           from jira_raw.issues i join jira_raw.issue_changelog c on c.cloud_id = i.cloud_id and c.issue_id = i.id
           where i.key = 'PLAT-3' group by all"""
    )
    assert total == histories == 150
    truncated = connected.query(
        """select count(*) from jira_raw.issues i where changelog_total > 40 and changelog_total <>
           (select count(distinct history_id) from jira_raw.issue_changelog c
            where c.cloud_id = i.cloud_id and c.issue_id = i.id)"""
    )
    assert truncated == [(0,)]


def test_created_windows_equal_their_share_and_rerun_changes_nothing(
    synced: tuple[Connected, JiraHttp], tmp_path: Path
) -> None:
    full, _ = synced
    [(middle,)] = full.query("select min(created) + (max(created) - min(created)) / 2 from jira_raw.issues")
    start = middle.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    second = (start + timedelta(days=32)).replace(day=1)
    end = (second + timedelta(days=32)).replace(day=1)
    expected = sorted(
        full.query(
            f"select cloud_id, id from jira_raw.issues where created >= '{start}' and created < '{end}'"
        )
    )
    assert expected, "the chosen months hold issues"
    windowed = connect(full.sim, tmp_path / "windowed")
    resolved = windowed.resolve()
    for lower, upper in ((start, second), (second, end)):  # a two-partition backfill
        run(windowed, "issues", jira_issues(resolved.sites, resolved.failures, lower, upper))
    resolved.failures.raise_if_any()
    assert sorted(windowed.query("select cloud_id, id from jira_raw.issues")) == expected
    snapshots = {
        "issues": "select * exclude (synced_at) from jira_raw.issues order by all",
        "issue_changelog": "select * from jira_raw.issue_changelog order by all",
    }
    before = {table: windowed.query(sql) for table, sql in snapshots.items()}
    run(windowed, "issues", jira_issues(resolved.sites, resolved.failures, start, second))
    assert {table: windowed.query(sql) for table, sql in snapshots.items()} == before
    changelog_expected = full.query(
        f"""select count(*) from jira_raw.issue_changelog c join jira_raw.issues i
            on i.cloud_id = c.cloud_id and i.id = c.issue_id where i.created >= '{start}' and i.created < '{end}'"""
    )
    assert windowed.query("select count(*) from jira_raw.issue_changelog") == changelog_expected


def test_a_4xx_fails_its_site_naming_the_request_and_the_other_site_loads(
    synced: tuple[Connected, JiraHttp], tmp_path: Path
) -> None:
    broken = connect(
        synced[0].sim, tmp_path / "broken", sites={"globex": {"issues": {"jql": "nosuchfield = 1"}}}
    )
    resolved = broken.resolve()
    run(broken, "issues", jira_issues(resolved.sites, resolved.failures, *ALL_TIME))
    [line] = resolved.failures.lines()
    cloud_id = broken.sim.cloud_ids["globex"]
    request = rf"POST /ex/jira/{cloud_id}/rest/api/3/search/(jql|approximate-count)"
    assert re.match(rf"site globex \(tenant acme\) \[issues\]: {request} -> HTTP 400: .*nosuchfield", line), (
        line
    )
    assert "check the site's `issues.jql`" in line
    assert broken.query("select distinct cloud_id from jira_raw.issues") == [(broken.sim.cloud_ids["acme"],)]


def warehouse_state(connected: Connected) -> tuple[dict, dict]:
    watermarks = dict(connected.query("select cloud_id, max(updated) from jira_raw.issues group by all"))
    known: dict[str, list[WarehouseIssue]] = {}
    for cloud_id, issue_id, key, project_key in connected.query(
        "select cloud_id, id, key, project_key from jira_raw.issues"
    ):
        known.setdefault(cloud_id, []).append(WarehouseIssue(issue_id, key, project_key))
    return watermarks, known


def test_sweep_skips_nothing_for_a_user_far_from_utc_then_census_and_lost_access(tmp_path: Path) -> None:
    """The connecting admin lives at UTC-11: a JQL date without zone is read 11 hours late."""
    with SimulatorProcess(issues=120, seed=11) as sim:
        connected = connect(sim, tmp_path)
        myself = admin_myself(sim)
        offset = datetime.now(ZoneInfo(myself["timeZone"])).utcoffset()
        assert offset is not None and abs(offset) >= timedelta(hours=10), myself["timeZone"]
        full_sync(connected)
        acme = sim.cloud_ids["acme"]
        [(changed_key, deleted_key)] = connected.query(
            f"""select min(key) filter (where project_key = 'PLAT'), max(key) filter (where project_key = 'PLAT')
                from jira_raw.issues where cloud_id = '{acme}'"""
        )
        [(hidden_project, hidden_count)] = connected.query(
            f"""select project_key, count(*) from jira_raw.issues where cloud_id = '{acme}'
                and project_key <> 'PLAT' group by all order by 2 desc limit 1"""
        )
        sim.admin("PUT", f"sites/acme/issues/{changed_key}", {"summary": "changed by the test"})
        created = sim.admin(
            "POST", "sites/acme/issues", {"project": "PLAT", "issue_type": "Bug", "summary": "new"}
        )
        sim.admin("DELETE", f"sites/acme/issues/{deleted_key}")
        sim.admin(
            "POST", f"sites/acme/projects/{hidden_project}/hidden-from", {"account_id": myself["accountId"]}
        )

        resolved = connected.resolve()
        watermarks, known = warehouse_state(connected)
        http = JiraHttp(connected.config.http)
        sweep = jira_issue_updates(
            resolved.sites, resolved.failures, timedelta(minutes=10), watermarks, http=http, run_id="run-1"
        )
        run(connected, "sweep", sweep)
        resolved.failures.raise_if_any()
        assert connected.query(f"select summary from jira_raw.issues where key = '{changed_key}'") == [
            ("changed by the test",)
        ]
        assert connected.query(f"select key from jira_raw.issues where id = '{created['id']}'") == [
            (created["key"],)
        ]
        found = {
            r[0] for r in connected.query("select id from jira_raw.issue_updates where run_id = 'run-1'")
        }
        assert created["id"] in found
        for table, key in PRIMARY_KEYS.items():
            assert (
                connected.query(f"select {key} from jira_raw.{table} group by all having count(*) > 1") == []
            )
        # The hazard is real: the same bound as a zone-less JQL date (UTC wall time, as peers
        # render it) is read in the admin's zone and misses the change the sweep found.
        since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
        assert naive_search(connected, f'key = {changed_key} AND updated >= "{since}"') == []
        assert naive_search(connected, f"key = {changed_key}") == [changed_key]
        assert http.stats.requests < 10, "a quiet sweep reads a handful of pages, not the history"

        _, known = warehouse_state(connected)
        still_in_jira = set(sim.truth()["sites"][acme]["issues"]["ids"])
        expected_gone = {
            i.key for i in known[acme] if i.id not in still_in_jira and i.project_key != hidden_project
        }
        assert deleted_key in expected_gone  # with its sub-tasks, if any: Jira deletes those too
        run(connected, "census", jira_issue_census(resolved.sites, resolved.failures, known))
        resolved.failures.raise_if_any()
        assert connected.query(f"select count(*) from jira_raw.issues where key = '{deleted_key}'") == [(0,)]
        deletions = connected.query("select key, reason from jira_raw.issue_deletions")
        assert {key for key, _ in deletions} == expected_gone
        assert {reason for _, reason in deletions} == {"census"}
        assert connected.query(
            "select count(*) from jira_raw.issue_changelog c where c.issue_id not in (select id from jira_raw.issues)"
        ) == [(0,)]
        access = dict(
            ((key, status), count)
            for key, status, count in connected.query(
                f"select project_key, status, issues_in_warehouse from jira_raw.project_access where cloud_id = '{acme}'"
            )
        )
        assert access[(hidden_project, "lost_access")] == hidden_count
        assert connected.query(
            f"select count(*) from jira_raw.issues where cloud_id = '{acme}' and project_key = '{hidden_project}'"
        ) == [(hidden_count,)], "lost access is reported, not turned into deletions"


def admin_myself(sim: SimulatorProcess) -> dict:
    response = httpx.get(f"{sim.site_url('acme')}/rest/api/3/myself", auth=(sim.admin_email, sim.api_token))
    response.raise_for_status()
    return response.json()


def naive_search(connected: Connected, jql: str) -> list[str]:
    """Keys a search returns for the admin (API token, so dates are read in the admin's zone)."""
    sim = connected.sim
    response = httpx.post(
        f"{sim.site_url('acme')}/rest/api/3/search/jql",
        json={"jql": jql, "fields": ["updated"]},
        auth=(sim.admin_email, sim.api_token),
    )
    response.raise_for_status()
    return [issue["key"] for issue in response.json()["issues"]]


def test_api_token_sites_and_unreachable_oauth_sites(
    synced: tuple[Connected, JiraHttp], tmp_path: Path
) -> None:
    sim = synced[0].sim
    mixed = connect(
        sim,
        tmp_path / "mixed",
        sites={
            "acme": {
                "auth": {
                    "method": "api_token",
                    "email_env": "JIRA_TEAMS_EMAIL",
                    "api_token_env": "JIRA_TEAMS_API_TOKEN",
                }
            },
            "globex": {"cloud_id": "00000000-0000-0000-0000-000000000000"},
        },
    )
    resolved = mixed.resolve()
    [acme] = resolved.sites
    assert acme.api_base_url == sim.site_url("acme") and acme.cloud_id == sim.cloud_ids["acme"]
    [line] = resolved.failures.lines()
    assert line.startswith("re-connect site globex (tenant acme): the stored grant does not reach cloud id")
    source = jira_reference(resolved.sites, resolved.failures).with_resources("statuses")
    run(mixed, "reference", source)
    truth = sim.truth()["sites"][sim.cloud_ids["acme"]]["statuses"]["ids"]
    assert sorted(r[0] for r in mixed.query("select id from jira_raw.statuses")) == sorted(truth)


def test_configured_extra_fields_are_requested_and_kept(
    synced: tuple[Connected, JiraHttp], tmp_path: Path
) -> None:
    sim = synced[0].sim
    scoped = connect(
        sim, tmp_path / "extra", sites={"acme": {"issues": {"extra_fields": ["customfield_10016"]}}}
    )
    resolved = scoped.resolve()
    acme = [site for site in resolved.sites if site.name == "acme"]
    run(scoped, "issues", jira_issues(acme, resolved.failures, *ALL_TIME))
    resolved.failures.raise_if_any()
    loaded = dict(
        scoped.query("select id, extra_fields::json->>'customfield_10016' from jira_raw.issues order by id")
    )
    in_jira: dict[str, object] = {}
    body: dict = {"jql": "created >= 0", "fields": ["customfield_10016"], "maxResults": 100}
    while True:
        page = httpx.post(
            f"{sim.site_url('acme')}/rest/api/3/search/jql", json=body, auth=(sim.admin_email, sim.api_token)
        )
        page.raise_for_status()
        answer = page.json()
        in_jira.update((issue["id"], issue["fields"].get("customfield_10016")) for issue in answer["issues"])
        if not answer.get("nextPageToken"):
            break
        body["nextPageToken"] = answer["nextPageToken"]
    assert loaded.keys() == in_jira.keys()
    with_points = {i: float(v) for i, v in in_jira.items() if v is not None}
    assert with_points, "the simulated site has story points"
    assert {i: float(v) for i, v in loaded.items() if v is not None} == with_points
