"""Type and status mapping, jira.issues and the `other` share check, on hand-written raw rows."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from tests.assets.core.transform_world import (
    ALPHA,
    BETA,
    at,
    check_results,
    insert,
    new_warehouse,
    query,
    run_transforms,
    write_sync_file,
)
from tests.assets.core.transform_world import materialization as materialization_of

# The seed's table of typical Jira types (GuideMode docs) and what each must map to.
SEED_TYPES = {
    "Story": "feature",
    "New Feature": "feature",
    "Epic": "feature",
    "Bug": "bug",
    "Defect": "bug",
    "Task": "chore",
    "Technical Task": "chore",
    "Spike": "discovery",
    "Research": "discovery",
    "Incident": "incident",
    "Production Issue": "incident",
}
EXTRA_TYPES = {"Improvement": "other", "Bug Story": "bug", "Incident Task": "incident", "Sub-task": "chore"}
TYPE_IDS = {name: str(10000 + i) for i, name in enumerate([*SEED_TYPES, *EXTRA_TYPES])}

STATUSES = [  # id, name, category
    ("1", "To Do", "new"),
    ("3", "In Progress", "indeterminate"),
    ("4", "In Review", "indeterminate"),
    ("5", "Done", "done"),
    ("6", "Waiting for Customer", "indeterminate"),
    ("7", "Triage", "undefined"),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    directory = tmp_path_factory.mktemp("mappings")
    sync_file = write_sync_file(
        directory,
        alpha_projects={
            # custom mappings win over keywords: by name (any case) and by type id
            "ACME": {
                "types": {"bug": "chore", TYPE_IDS["Improvement"]: "feature"},
                "statuses": {"waiting for customer": "open", "4": "closed"},
            }
        },
    )
    warehouse = directory / "warehouse.duckdb"
    new_warehouse(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        insert(
            con,
            "projects",
            [
                {"cloud_id": ALPHA, "id": "100", "key": "ACME", "name": "Acme"},
                {"cloud_id": ALPHA, "id": "101", "key": "OPS", "name": "Operations"},
                {"cloud_id": BETA, "id": "200", "key": "WEB", "name": "Web"},
            ],
        )
        insert(
            con,
            "issue_types",
            [{"cloud_id": ALPHA, "id": type_id, "name": name} for name, type_id in TYPE_IDS.items()]
            + [{"cloud_id": ALPHA, "id": "20000", "name": "Ops Ticket", "scope_project_id": "101"}],
        )
        insert(
            con,
            "statuses",
            [{"cloud_id": ALPHA, "id": i, "name": n, "status_category_key": c} for i, n, c in STATUSES],
        )
        issues = []
        for project_id, project_key in (("100", "ACME"), ("101", "OPS")):
            for n, (name, type_id) in enumerate(TYPE_IDS.items()):
                issues.append(
                    {
                        "cloud_id": ALPHA,
                        "id": f"{project_id}{n:03d}",
                        "key": f"{project_key}-{n + 1}",
                        "project_id": project_id,
                        "project_key": project_key,
                        "issue_type_id": type_id,
                        "issue_type_name": name,
                        "status_id": "6",
                        "status_name": "Waiting for Customer",
                        "status_category_key": "indeterminate",
                        "summary": f"{name} in {project_key}",
                        "created": at(1),
                        "updated": at(2),
                        "synced_at": at(2),
                    }
                )
        # OPS is dominated by a type no keyword matches -> over the 20 % `other` threshold
        issues += [
            {
                "cloud_id": ALPHA,
                "id": f"9{n:03d}",
                "key": f"OPS-{100 + n}",
                "project_id": "101",
                "project_key": "OPS",
                "issue_type_id": "20000",
                "issue_type_name": "Ops Ticket",
                "status_id": "7",
                "status_name": "Triage",
                "status_category_key": "undefined",
                "created": at(1),
                "updated": at(2),
                "synced_at": at(2),
            }
            for n in range(10)
        ]
        # A type the catalogue of beta lacks, seen only on an issue
        issues.append(
            {
                "cloud_id": BETA,
                "id": "5000",
                "key": "WEB-1",
                "project_id": "200",
                "project_key": "WEB",
                "issue_type_id": "30000",
                "issue_type_name": "Outage",
                "status_id": "50",
                "status_name": "Live",
                "status_category_key": "done",
                "created": at(1),
                "updated": at(2),
                "synced_at": at(2),
            }
        )
        insert(con, "issues", issues)
        # a status that no longer exists in the workflow, seen only in a changelog
        insert(
            con,
            "issue_changelog",
            [
                {
                    "cloud_id": ALPHA,
                    "issue_id": "100000",
                    "history_id": "1",
                    "item_index": 0,
                    "created": at(1, 13),
                    "field": "status",
                    "field_id": "status",
                    "from_id": "99",
                    "from_string": "Legacy QA",
                    "to_id": "6",
                    "to_string": "Waiting for Customer",
                }
            ],
        )
    result = run_transforms(
        sync_file,
        selection=[dg.AssetKey(["jira", t]) for t in ("issue_type_categories", "status_states", "issues")],
    )
    return warehouse, result


def type_mapping(warehouse, project_key):
    return {
        name: (category, rule)
        for name, category, rule in query(
            warehouse,
            "SELECT issue_type_name, type_category, type_rule FROM jira.issue_type_categories WHERE project_key = ?",
            [project_key],
        )
    }


def test_every_seed_type_maps_as_the_seed_says(world):
    warehouse, _ = world
    mapping = type_mapping(warehouse, "OPS")
    for name, category in {**SEED_TYPES, **EXTRA_TYPES}.items():
        assert mapping[name][0] == category, name
    assert mapping["Production Issue"] == ("incident", "keyword:production")
    assert mapping["Technical Task"] == ("chore", "keyword:task")
    assert mapping["Improvement"] == ("other", "default")


def test_keyword_precedence_follows_the_sync_file_order(world):
    warehouse, _ = world
    mapping = type_mapping(warehouse, "OPS")
    # incident > bug > discovery > feature > chore
    assert mapping["Bug Story"] == ("bug", "keyword:bug")
    assert mapping["Incident Task"] == ("incident", "keyword:incident")


def test_custom_project_mappings_win_over_keywords(world):
    warehouse, _ = world
    acme = type_mapping(warehouse, "ACME")
    assert acme["Bug"] == ("chore", "custom:ACME")  # by name, case-insensitive
    assert acme["Improvement"] == ("feature", "custom:ACME")  # by type id
    assert acme["Story"] == ("feature", "keyword:story")
    assert type_mapping(warehouse, "OPS")["Bug"] == ("bug", "keyword:bug")  # other projects unaffected


def test_project_scoped_and_uncatalogued_types_are_mapped(world):
    warehouse, _ = world
    assert "Ops Ticket" in type_mapping(warehouse, "OPS")
    assert "Ops Ticket" not in type_mapping(warehouse, "ACME")
    assert type_mapping(warehouse, "WEB") == {"Outage": ("incident", "keyword:outage")}


def test_status_states_from_categories_and_overrides(world):
    warehouse, _ = world
    rows = query(
        warehouse,
        "SELECT project_key, status_name, state, state_rule FROM jira.status_states WHERE cloud_id = ?",
        [ALPHA],
    )
    states = {(project, name): (state, rule) for project, name, state, rule in rows}
    assert states[("OPS", "To Do")] == ("open", "category:new")
    assert states[("OPS", "In Progress")] == ("in_progress", "category:indeterminate")
    assert states[("OPS", "Done")] == ("closed", "category:done")
    assert states[("OPS", "Triage")] == ("open", "category:undefined")
    assert states[("OPS", "Waiting for Customer")] == ("in_progress", "category:indeterminate")
    assert states[("ACME", "Waiting for Customer")] == ("open", "override:ACME")  # by name
    assert states[("ACME", "In Review")] == ("closed", "override:ACME")  # by id
    assert states[("ACME", "Legacy QA")] == ("open", "category:unknown")  # only in history


def test_issues_carry_original_and_mapped_values(world):
    warehouse, _ = world
    rows = query(
        warehouse,
        """
        SELECT tenant_id, issue_key, issue_type_name, type_category, type_rule, status_name, state, state_rule
        FROM jira.issues WHERE issue_key IN ('ACME-4', 'OPS-4', 'WEB-1') ORDER BY issue_key
        """,
    )
    assert rows == [
        ("acme", "ACME-4", "Bug", "chore", "custom:ACME", "Waiting for Customer", "open", "override:ACME"),
        (
            "acme",
            "OPS-4",
            "Bug",
            "bug",
            "keyword:bug",
            "Waiting for Customer",
            "in_progress",
            "category:indeterminate",
        ),
        ("acme", "WEB-1", "Outage", "incident", "keyword:outage", "Live", "closed", "category:done"),
    ]
    (count,) = query(
        warehouse, "SELECT count(*) FROM jira.issues WHERE type_category IS NULL OR state IS NULL"
    )[0]
    assert count == 0


def test_assets_report_row_count_and_column_schema(world):
    _, result = world
    materialization = materialization_of(result, "jira", "issues")
    assert materialization.metadata["dagster/row_count"].value == 41
    columns = {c.name for c in materialization.metadata["dagster/column_schema"].value.columns}
    assert {"issue_id", "issue_key", "type_category", "type_rule", "state", "tenant_id"} <= columns


def test_other_share_check_warns_with_projects_and_type_names(world):
    _, result = world
    evaluation = check_results(result)["other_type_share"]
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["projects_over_threshold"].value == 1
    projects = evaluation.metadata["projects"].value
    assert [p["project"] for p in projects] == ["OPS"]
    assert projects[0]["other_type_names"] == ["Improvement", "Ops Ticket"]
    assert projects[0]["share_other"] == pytest.approx(11 / 25, abs=1e-4)
