"""Boards, sprints and worklogs from the simulator over HTTP into DuckDB: increments, deletions, and
what a site without Jira Software or with another Sprint field is told."""

from __future__ import annotations

from pathlib import Path

import pytest

from jira_simulator.process import SimulatorProcess
from pipelines.destination import make_pipeline
from pipelines.jira import JiraHttp, jira_reference, jira_worklogs
from tests.pipelines.jira.simkit import Connected, connect


def load(connected: Connected, name: str, source) -> dict[str, int]:
    """Run `source` into the warehouse; rows loaded per table."""
    pipeline = make_pipeline(name, connected.config, pipelines_dir=connected.workdir / "dlt")
    pipeline.run(source).raise_on_failed_jobs()
    return dict(pipeline.last_trace.last_normalize_info.row_counts)


def ids(connected: Connected, table: str, cloud_id: str) -> list[str]:
    return sorted(
        r[0] for r in connected.query(f"select id from jira_raw.{table} where cloud_id = '{cloud_id}'")
    )


def test_worklogs_follow_edits_and_deletions_incrementally(tmp_path: Path) -> None:
    with SimulatorProcess(issues=200, seed=4) as sim:
        connected = connect(sim, tmp_path)
        acme = sim.cloud_ids["acme"]
        resolved = connected.resolve()
        first = JiraHttp(connected.config.http)
        load(connected, "worklogs", jira_worklogs(resolved.sites, resolved.failures, http=first))
        resolved.failures.raise_if_any()
        truth = sim.truth()["sites"][acme]["worklogs"]
        assert ids(connected, "worklogs", acme) == sorted(truth["ids"])
        assert connected.query("select count(*) from jira_raw.worklogs where issue_id is null") == [(0,)]
        [(worklog_id, issue_id)] = connected.query(
            f"select id, issue_id from jira_raw.worklogs where cloud_id = '{acme}' order by id::int limit 1"
        )
        sim.admin("POST", "clock/advance", {"seconds": 120})
        sim.admin("DELETE", f"sites/acme/issues/{issue_id}/worklogs/{worklog_id}")
        logged = sim.admin("POST", f"sites/acme/issues/{issue_id}/worklogs", {"seconds": 1200})
        second = JiraHttp(connected.config.http)
        rows = load(connected, "worklogs", jira_worklogs(resolved.sites, resolved.failures, http=second))
        resolved.failures.raise_if_any()
        truth = sim.truth()["sites"][acme]["worklogs"]
    assert worklog_id not in truth["ids"] and logged["id"] in truth["ids"]
    assert ids(connected, "worklogs", acme) == sorted(truth["ids"])
    [(seconds,)] = connected.query(
        f"select time_spent_seconds from jira_raw.worklogs where id = '{logged['id']}'"
    )
    assert seconds == 1200
    # The increment reads from the watermarks: the new worklog and the deletion's tombstone only,
    # with one updated page and one deleted page per site (and one list for the change).
    assert rows["worklogs"] == 2
    assert second.stats.requests == 5


def test_boards_and_sprints_follow_a_completed_sprint(tmp_path: Path) -> None:
    with SimulatorProcess(issues=200, seed=4) as sim:
        connected = connect(sim, tmp_path)
        acme = sim.cloud_ids["acme"]
        resolved = connected.resolve()
        load(
            connected,
            "reference",
            jira_reference(resolved.sites, resolved.failures).with_resources("boards", "sprints"),
        )
        resolved.failures.raise_if_any()
        truth = sim.truth()["sites"][acme]
        assert ids(connected, "boards", acme) == sorted(truth["boards"]["ids"])
        assert ids(connected, "sprints", acme) == sorted(truth["sprints"]["ids"])
        [(active, board)] = connected.query(
            f"select id, board_id from jira_raw.sprints where cloud_id = '{acme}' and state = 'active' "
            "order by id::int limit 1"
        )
        [(upcoming,)] = connected.query(
            f"select min(id::int)::varchar from jira_raw.sprints where cloud_id = '{acme}' "
            f"and board_id = '{board}' and state = 'future'"
        )
        sim.admin("POST", f"sites/acme/sprints/{active}/complete", {"move_to": int(upcoming)})
        load(
            connected,
            "reference",
            jira_reference(resolved.sites, resolved.failures).with_resources("boards", "sprints"),
        )
        resolved.failures.raise_if_any()
    states = dict(
        connected.query(
            f"select id, state from jira_raw.sprints where id in ('{active}', '{upcoming}') "
            f"and cloud_id = '{acme}'"
        )
    )
    assert states == {active: "closed", upcoming: "future"}
    [(estimation,)] = connected.query(
        f"select estimation_field_id from jira_raw.boards where cloud_id = '{acme}' and id = '{board}'"
    )
    assert estimation == "customfield_10016"
    assert connected.query("select count(*) from jira_raw.sprints where complete_date < start_date") == [(0,)]


@pytest.mark.parametrize(
    ("scopes", "site_settings", "message"),
    [
        (["read:jira-work", "read:jira-user"], {}, "with the admin scopes"),
        (
            None,
            {"issues": {"sprint_field": "customfield_99999"}},
            "write `issues.sprint_field: customfield_10020`",
        ),
    ],
)
def test_a_site_is_told_what_to_change(tmp_path: Path, scopes, site_settings: dict, message: str) -> None:
    with SimulatorProcess(issues=60, seed=4) as sim:
        connected = connect(sim, tmp_path, sites={"acme": site_settings}, scopes=scopes)
        resolved = connected.resolve()
        source = jira_reference(resolved.sites, resolved.failures).with_resources("boards", "sprints")
        load(connected, "reference", source)
    failures = resolved.failures.lines()
    acme = [line for line in failures if "site acme" in line]
    assert acme and message in acme[0], failures
    if scopes is None:  # only the site with the wrong field fails; the other one loads
        assert not any("site globex" in line for line in failures), failures
