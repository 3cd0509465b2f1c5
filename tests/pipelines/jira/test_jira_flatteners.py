"""Flatteners on Jira-shaped JSON (shapes from the API reference and Atlassian's OpenAPI examples)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from pipelines.jira import helpers, pages
from pipelines.jira.tables import SCHEMAS, timestamps

ISSUE = {
    "id": "10040",
    "key": "TES-41",
    "self": "https://example.atlassian.net/rest/api/3/issue/10040",
    "fields": {
        "summary": "Unit test summary",
        "issuetype": {"id": "10001", "name": "Story", "subtask": False, "hierarchyLevel": 0},
        "status": {
            "name": "In Progress",
            "id": "3",
            "statusCategory": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
        },
        "project": {"id": "10000", "key": "TES", "name": "test1", "projectTypeKey": "software"},
        "assignee": None,
        "reporter": {"accountId": "5c5f880629be9642ba529340", "displayName": "R"},
        "creator": {"accountId": "5c5f880629be9642ba529340"},
        "priority": {"name": "High", "id": "2"},
        "created": "2019-02-15T19:01:52.971-0800",
        "updated": "2019-02-16T08:00:00.000+0530",
        "resolution": None,
        "resolutiondate": None,
        "statuscategorychangedate": "2019-02-15T20:00:00.000-0800",
        "duedate": "2019-03-01",
        "labels": ["test-label", "ü"],
        "parent": {"id": "10039", "key": "TES-40", "fields": {"summary": "Parent"}},
        "customfield_10016": 5.0,
    },
    "changelog": {
        "startAt": 0,
        "maxResults": 2,
        "total": 2,
        "histories": [
            {
                "id": "10227",
                "author": {"accountId": "5c5f880629be9642ba529340"},
                "created": "2019-02-15T19:30:00.000-0800",
                "items": [
                    {
                        "field": "status",
                        "fieldtype": "jira",
                        "fieldId": "status",
                        "from": "10001",
                        "fromString": "To Do",
                        "to": "3",
                        "toString": "In Progress",
                    },
                    {
                        "field": "labels",
                        "fieldtype": "jira",
                        "from": None,
                        "fromString": "",
                        "to": None,
                        "toString": "x",
                    },
                ],
            },
            {
                "id": "10226",
                "author": None,
                "created": "2019-02-15T19:10:00.000-0800",
                "items": [{"field": "summary"}],
            },
        ],
    },
}


def test_issue_row_follows_the_contract() -> None:
    columns = helpers.IssueColumns("cloud-1", "2026-11-28T10:00:00+00:00", extra_fields=["customfield_10016"])
    issue = pages.issue_from_json(ISSUE, columns.extra_fields)
    columns.add_issue(issue, issue.changelog.histories)
    table = columns.issues_table()
    assert table.schema == SCHEMAS["issues"]
    row = table.to_pylist()[0]
    assert row["cloud_id"] == "cloud-1"
    assert row["key"] == "TES-41"
    assert (row["project_id"], row["project_key"]) == ("10000", "TES")
    assert (row["issue_type_id"], row["issue_type_name"]) == ("10001", "Story")
    assert (row["status_id"], row["status_name"], row["status_category_key"]) == (
        "3",
        "In Progress",
        "indeterminate",
    )
    assert row["priority_name"] == "High"
    assert row["resolution_name"] is None and row["resolved"] is None
    assert (row["parent_id"], row["parent_key"]) == ("10039", "TES-40")
    assert row["assignee_account_id"] is None
    assert row["reporter_account_id"] == row["creator_account_id"] == "5c5f880629be9642ba529340"
    assert row["labels"] == '["test-label","ü"]'
    assert row["extra_fields"] == '{"customfield_10016":5.0}'
    # -0800 and +0530 offsets end up as the same instants in UTC.
    assert row["created"] == datetime(2019, 2, 16, 3, 1, 52, 971000, tzinfo=UTC)
    assert row["updated"] == datetime(2019, 2, 16, 2, 30, tzinfo=UTC)
    assert row["due_date"].isoformat() == "2019-03-01"
    assert row["changelog_total"] == 2
    assert row["deleted"] is False


def test_changelog_rows_one_per_item() -> None:
    columns = helpers.IssueColumns("cloud-1", "2026-11-28T10:00:00+00:00")
    issue = pages.issue_from_json(ISSUE)
    columns.add_issue(issue, issue.changelog.histories)
    rows = columns.changelog_table().to_pylist()
    assert [(r["history_id"], r["item_index"]) for r in rows] == [("10227", 0), ("10227", 1), ("10226", 0)]
    status = rows[0]
    assert status["issue_id"] == "10040"
    assert (status["from_id"], status["from_string"], status["to_id"], status["to_string"]) == (
        "10001",
        "To Do",
        "3",
        "In Progress",
    )
    assert status["field_id"] == "status" and status["field_type"] == "jira"
    assert status["created"] == datetime(2019, 2, 16, 3, 30, tzinfo=UTC)
    assert rows[2]["author_account_id"] is None


def test_unknown_changelog_keeps_stored_rows() -> None:
    columns = helpers.IssueColumns("cloud-1", "2026-11-28T10:00:00+00:00")
    columns.add_issue(pages.issue_from_json(ISSUE), None)
    assert columns.changelog_table().num_rows == 0
    assert columns.issues_table()["changelog_total"].to_pylist() == [2]


def test_changelog_completeness() -> None:
    def complete(issue: dict) -> bool:
        return pages.issue_from_json(issue).changelog_complete()

    assert complete(ISSUE)
    truncated = {"changelog": {"startAt": 0, "maxResults": 40, "total": 150, "histories": [{}] * 40}}
    assert not complete(truncated)
    assert not complete({"id": "1"})
    assert complete({"changelog": {"total": 0, "histories": []}})


def test_reference_rows() -> None:
    user = {
        "accountId": "5b10a2844c20165700ede21g",
        "accountType": "atlassian",
        "active": False,
        "displayName": "Mia Krystof",
        "key": "",
        "name": "",
    }
    row = helpers.user_row("c", user)
    assert row["email_address"] is None and row["active"] is False and row["account_type"] == "atlassian"
    status = {"id": "3", "name": "In Progress", "statusCategory": {"id": 4, "key": "indeterminate"}}
    assert helpers.status_row("c", status)["status_category_id"] == "4"
    category = {"id": 4, "key": "indeterminate", "name": "In Progress", "colorName": "yellow"}
    assert helpers.status_category_row("c", category) == {
        "cloud_id": "c",
        "id": "4",
        "key": "indeterminate",
        "name": "In Progress",
        "color_name": "yellow",
    }
    issue_type = {
        "id": "10005",
        "name": "Task",
        "subtask": False,
        "hierarchyLevel": 0,
        "scope": {"project": {"id": 7}},
    }
    assert helpers.issue_type_row("c", issue_type)["scope_project_id"] == "7"
    project = {"id": "10000", "key": "TES", "lead": {"accountId": "a"}, "projectCategory": {"name": "Ops"}}
    assert helpers.project_row("c", project)["category_name"] == "Ops"


def test_timestamps_accept_jira_iso_epoch_and_zulu() -> None:
    values = ["2019-02-15T19:01:52.971-0800", None]
    assert timestamps(values).to_pylist()[0] == datetime(2019, 2, 16, 3, 1, 52, 971000, tzinfo=UTC)
    mixed = timestamps([1492070429, "2024-01-02T10:00:00Z", 1700000000000])
    assert mixed.to_pylist() == [
        datetime(2017, 4, 13, 8, 0, 29, tzinfo=UTC),
        datetime(2024, 1, 2, 10, 0, tzinfo=UTC),
        datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC),
    ]


def test_decoded_pages_flatten_to_the_same_tables_as_converted_dicts() -> None:
    """Search pages decoded from bytes (imports) and issues converted from parsed dicts (webhook
    deliveries) give the same tables."""
    import copy

    bare = copy.deepcopy(ISSUE)
    bare["id"], bare["fields"] = "10041", {"summary": None, "status": {"id": 7}, "labels": None}
    no_log = {"id": "10042", "key": "TES-43", "fields": {"created": "2019-02-15T19:01:52.971-0800"}}
    page = {"issues": [ISSUE, bare, no_log], "nextPageToken": None}
    for extra in ((), ("customfield_10016", "customfield_missing")):
        decoded = pages.search_decoder(extra).decode(orjson.dumps(page))
        by_dict = helpers.IssueColumns("cloud-1", "2026-11-28T10:00:00+00:00", extra_fields=extra)
        by_struct = helpers.IssueColumns("cloud-1", "2026-11-28T10:00:00+00:00", extra_fields=extra)
        for raw, issue in zip(page["issues"], decoded.issues or [], strict=True):
            converted = pages.issue_from_json(raw, extra)
            assert issue.changelog_complete() == converted.changelog_complete()
            by_dict.add_issue(converted, converted.changelog.histories if converted.changelog else None)
            by_struct.add_issue(issue, issue.changelog.histories if issue.changelog else None)
        assert by_struct.issues_table().equals(by_dict.issues_table(), check_metadata=True)
        assert by_struct.changelog_table().equals(by_dict.changelog_table(), check_metadata=True)
        assert by_struct.changelog_table().num_rows == 6


def test_bulk_changelog_pages_decode() -> None:
    body = {"issueChangeLogs": [{"issueId": "10040", "changeHistories": ISSUE["changelog"]["histories"]}]}
    page = pages.BULK_CHANGELOG_DECODER.decode(orjson.dumps(body))
    columns = helpers.IssueColumns("cloud-1", "2026-11-28T10:00:00+00:00")
    columns.add_histories("10040", page.issueChangeLogs[0].changeHistories or [])
    expected = helpers.IssueColumns("cloud-1", "2026-11-28T10:00:00+00:00")
    expected.add_histories("10040", [pages.history_from_json(h) for h in ISSUE["changelog"]["histories"]])
    assert columns.changelog_table().equals(expected.changelog_table())
    assert page.nextPageToken is None
