"""Which projects a site's webhook filter covers, for the miss-rate comparison."""

from __future__ import annotations

import pytest

from assets.webhooks.miss_rate import filter_project_keys


@pytest.mark.parametrize(
    ("jql", "keys"),
    [
        ("project = ACME", ["ACME"]),
        ('project = "ACME"', ["ACME"]),
        ("project in (ACME, OPS)", ["ACME", "OPS"]),
        ("PROJECT IN ('ACME','OPS') AND issuetype = Bug", ["ACME", "OPS"]),
        ("project = ACME AND status != Done", ["ACME"]),
    ],
)
def test_project_clauses_name_the_projects(jql, keys):
    assert filter_project_keys(jql) == keys


@pytest.mark.parametrize(
    "jql",
    [None, "project != null", "issuetype = Bug", "project = ACME OR project = OPS", "project not in (ACME)"],
)
def test_anything_else_compares_every_project(jql):
    assert filter_project_keys(jql) is None
