"""Scenario files: the bundled examples load as written; mistakes name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from jira_simulator.generator import generate_world
from jira_simulator.scenario import ScenarioError, load_scenario
from jira_simulator.timefmt import parse_iso
from jira_simulator.truth import ground_truth

SCENARIOS = Path(__file__).resolve().parents[2] / "jira_simulator" / "scenarios"


def test_small_scenario_has_exactly_the_written_histories() -> None:
    world = load_scenario(SCENARIOS / "small.yaml")
    alpha = world.site_by_name("alpha")
    story = alpha.find_issue("ALPHA-1")
    statuses = [i.to_string for h in story.histories for i in h.items if i.field == "status"]
    assert statuses == [
        "Selected for Development",
        "In Progress",
        "In Review",
        "QA",
        "Done",
        "Reopened",
        "In Progress",
        "In Review",
        "QA",
        "Done",
    ]
    assert alpha.statuses[story.status_id].name == "Done"
    assert story.resolved_ms == story.updated_ms == parse_iso("2024-02-03T12:00:00Z")
    assert alpha.resolutions[story.resolution_id].name == "Done"
    assert alpha.priorities[story.priority_id].name == "High"
    assert [c.body for c in story.comments] == ["Ready for review."]
    subtask = alpha.find_issue("ALPHA-2")
    assert subtask.parent_id == story.id and alpha.resolutions[subtask.resolution_id].name == "Won't Do"
    kaizen = alpha.find_issue("ALPHA-3")
    assert kaizen.labels == ["team", "process"] and kaizen.custom_fields["customfield_10016"] == 5
    assert [i.field for i in kaizen.histories[0].items] == ["labels", "Story point estimate"]
    beta = world.site_by_name("beta")
    incident = beta.find_issue("HELP-1")
    moves = [(i.from_string, i.to_string) for h in incident.histories for i in h.items if i.field == "status"]
    assert moves == [("To Do", "Done")]
    assert world.users[incident.reporter_id].account_type == "customer"
    assert world.admin.email == "alice@small.example" and world.admin.api_token == "sim-api-token"


def test_small_scenario_truth() -> None:
    truth = ground_truth(load_scenario(SCENARIOS / "small.yaml"))
    alpha = truth["sites"]["11111111-1111-4111-8111-111111111111"]
    assert alpha["issues"]["count"] == 3 and alpha["issue_changelog"]["count"] == 19
    assert alpha["group_members"]["count"] == 3  # the inactive member included
    (org,) = truth["organizations"].values()
    assert org["teams"]["count"] == 2 and org["team_members"]["count"] == 4


def test_default_scenario_reproduces_the_generated_default() -> None:
    assert ground_truth(load_scenario(SCENARIOS / "default.yaml")) == ground_truth(generate_world())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\nusers: [", "not valid YAML"),
        ("- just a list", "a scenario is a YAML mapping"),
        (
            "version: 1\nusers:\n  a: {display_name: A, email: a@x, colour: blue}\n",
            "users.a.colour: Extra inputs",
        ),
        (
            "version: 1\nusers:\n  a: {display_name: A, email: a@x, time_zone: Mars/Olympus}\n",
            "users.a.time_zone",
        ),
        (
            "version: 1\nusers:\n  a: {display_name: A, email: a@x}\nsites: [{name: Big Site}]\n",
            "sites[0].name: Value error, 'Big Site' cannot be a site name",
        ),
        (
            "version: 1\nusers:\n  a: {display_name: A, email: a@x}\nsites:\n  - name: site\n"
            "    projects: [{key: PR, name: P}]\n"
            "    issues: [{key: PR-1, type: Task, summary: x, created: 2024-01-01T00:00:00Z, reporter: zed}]\n",
            "sites[0].issues[0].reporter: unknown user 'zed'",
        ),
        (
            "version: 1\nusers:\n  a: {display_name: A, email: a@x}\nsites:\n  - name: site\n"
            "    projects: [{key: PR, name: P}]\n"
            "    issues:\n      - key: PR-1\n        type: Task\n        summary: x\n"
            "        created: 2024-01-02T00:00:00Z\n        reporter: a\n"
            "        history: [{at: 2024-01-01T00:00:00Z, status: Done}]\n",
            "sites[0].issues[0].history[0].at: history entries must be in time order",
        ),
        (
            "version: 1\ngenerate: {issues: 5}\nusers:\n  a: {display_name: A, email: a@x}\n",
            "generate: cannot be combined",
        ),
    ],
)
def test_mistakes_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the scenario file"):
        load_scenario(tmp_path / "nope.yaml")
