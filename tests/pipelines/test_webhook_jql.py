"""The dynamic-webhook JQL subset: accepted filters pass, others name the offending clause."""

from __future__ import annotations

import pytest

from pipelines.webhook_jql import validate_webhook_jql


@pytest.mark.parametrize(
    "jql",
    [
        "project = ACME",
        'project = "MYPROJECT" AND issuetype != "Sub-task"',
        "project IN (ACME, OPS) AND status NOT IN (Done, 'Won''t Do')".replace("''", ""),
        "(project = A OR project = B) AND assignee = currentUser()",
        "issueKey = ACME-1 OR reporter != 5b10ac8d82e05b22cc7d4ef5",
        "issue.property[flags].blocked = true",
        "cf[10014] = EPIC-1",
        "Project = a and IssueType = Bug",
    ],
)
def test_supported_filters_pass(jql: str) -> None:
    validate_webhook_jql(jql)


@pytest.mark.parametrize(
    ("jql", "clause"),
    [
        ("project = A AND watchCount > 3", "`watchCount > 3`"),
        ("project = A AND priority = High", "`priority = High`"),
        ("summary ~ login", "`summary ~ login`"),
        ("project = A AND updated >= -1d", "`updated >= -1d`"),
        ("status WAS Done", "`status WAS Done`"),
        ("project = A ORDER BY key", "`ORDER BY`"),
        ("NOT project = A", "`NOT ...`"),
    ],
)
def test_unsupported_clauses_are_named(jql: str, clause: str) -> None:
    with pytest.raises(ValueError, match="is unsupported") as caught:
        validate_webhook_jql(jql)
    assert clause in str(caught.value)
    assert "operators: =, !=, IN, NOT IN" in str(caught.value)


@pytest.mark.parametrize("jql", ["", "project =", "project IN (A, B", "(project = A", "project = A AND"])
def test_malformed_filters_fail(jql: str) -> None:
    with pytest.raises(ValueError, match="webhook JQL filter"):
        validate_webhook_jql(jql)
