"""Identity linking and teams over two runs, on hand-written raw rows."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from tests.assets.core.transform_world import (
    ALPHA,
    BETA,
    ORG,
    check_results,
    insert,
    new_warehouse,
    query,
    run_transforms,
    write_sync_file,
)

IDENTITY = [
    dg.AssetKey(["jira", t])
    for t in ("accounts", "user_links", "unlinked_users", "teams", "team_members", "primary_teams")
]


def user(cloud_id, account_id, name, email, account_type="atlassian"):
    return {
        "cloud_id": cloud_id,
        "account_id": account_id,
        "display_name": name,
        "email_address": email,
        "account_type": account_type,
        "active": True,
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("identity")
    accounts_csv = directory / "accounts.csv"
    accounts_csv.write_text(
        "account_id,email,name\nA-1, Ann@Acme.io ,Ann Imported\nA-2,,Nobody\n", encoding="utf-8"
    )
    sync_file = write_sync_file(directory, accounts_csv=accounts_csv)
    warehouse = directory / "warehouse.duckdb"
    new_warehouse(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        insert(
            con,
            "users",
            [
                user(ALPHA, "u1", "Ann", "ann@acme.io"),
                user(ALPHA, "u2", "Bob", " BOB@acme.io"),
                user(ALPHA, "u3", "Hidden", None),
                user(ALPHA, "bot1", "Automation for Jira", None, "app"),
                user(ALPHA, "c1", "Customer", "cust@client.com", "customer"),
                user(ALPHA, "c2", "Anonymous customer", None, "customer"),
                user(ALPHA, "p4", "Carol", "cust@client.com"),  # same email as a customer: another kind
                user(BETA, "d1", "Dan", "dan@acme.io"),
            ],
        )
        insert(
            con,
            "groups",
            [
                {"cloud_id": ALPHA, "group_id": "g1", "name": "developers"},
                {"cloud_id": ALPHA, "group_id": "g2", "name": "jira-admins"},
            ],
        )
        insert(
            con,
            "group_members",
            [{"cloud_id": ALPHA, "group_id": "g1", "account_id": a} for a in ("u1", "u2", "u3")]
            + [{"cloud_id": ALPHA, "group_id": "g2", "account_id": "u1"}],
        )
        insert(
            con,
            "teams",
            [
                {
                    "organization_id": ORG,
                    "team_id": "t1",
                    "cloud_id": BETA,
                    "display_name": "Platform",
                    "state": "ACTIVE",
                },
                {"organization_id": "org-2", "team_id": "t2", "cloud_id": None, "display_name": "Elsewhere"},
            ],
        )
        insert(
            con,
            "team_members",
            [{"organization_id": ORG, "team_id": "t1", "account_id": a} for a in ("u2", "d1", "x9")]
            + [{"organization_id": "org-2", "team_id": "t2", "account_id": "d1"}],
        )
    first = run_transforms(sync_file, selection=IDENTITY)
    first_links = query(warehouse, "SELECT * FROM jira.user_links ORDER BY cloud_id, jira_account_id")
    first_accounts = query(warehouse, "SELECT account_id, kind, email, source FROM jira.accounts ORDER BY 1")

    # Second run: Bob changed his email; Bob appears on beta; a new alpha user has Bob's old email.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE jira_raw.users SET email_address = 'robert@newmail.com' WHERE account_id = 'u2'")
        insert(
            con,
            "users",
            [user(BETA, "u2", "Bob", "robert@newmail.com"), user(ALPHA, "e1", "Bobby", "bob@acme.io")],
        )
    second = run_transforms(sync_file, selection=IDENTITY)
    return {
        "warehouse": warehouse,
        "first": first,
        "second": second,
        "first_links": first_links,
        "first_accounts": first_accounts,
    }


def links(warehouse):
    return {
        (cloud_id, jira_id): (account_id, method)
        for cloud_id, jira_id, account_id, method in query(
            warehouse, "SELECT cloud_id, jira_account_id, account_id, link_method FROM jira.user_links"
        )
    }


def test_first_run_links_by_csv_email_and_new_accounts(runs):
    by_user = {(c, j): (a, m) for (_t, c, j, a, m, _at) in runs["first_links"]}
    assert by_user[(ALPHA, "u1")] == ("A-1", "csv_import")  # email matched case- and space-insensitively
    bob_account, method = by_user[(ALPHA, "u2")]
    assert method == "new_account" and bob_account.startswith("jira-")
    assert by_user[(BETA, "d1")][1] == "new_account"
    assert (ALPHA, "u3") not in by_user  # hidden email: no link
    accounts = {a: (kind, email, source) for a, kind, email, source in runs["first_accounts"]}
    assert accounts["A-1"] == ("person", "ann@acme.io", "csv")
    assert accounts[bob_account] == ("person", "bob@acme.io", "jira")


def test_bots_and_customers_are_kept_apart_from_people(runs):
    warehouse = runs["warehouse"]
    kinds = dict(
        query(
            warehouse,
            """
            SELECT l.jira_account_id, a.kind FROM jira.user_links AS l
            JOIN jira.accounts AS a USING (tenant_id, account_id)
            WHERE l.jira_account_id IN ('bot1', 'c1', 'p4')
            """,
        )
    )
    assert kinds == {"bot1": "bot", "c1": "customer", "p4": "person"}
    current = links(warehouse)
    assert current[(ALPHA, "c1")][0] != current[(ALPHA, "p4")][0]  # same email, different kinds


def test_hidden_email_users_are_listed_with_reason(runs):
    rows = query(runs["warehouse"], "SELECT jira_account_id, reason FROM jira.unlinked_users ORDER BY 1")
    assert rows == [("c2", "no_email"), ("u3", "hidden_email")]
    evaluation = check_results(runs["second"])["unlinked_users_listed"]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["by_reason"].value == {"hidden_email": 1, "no_email": 1}


def test_link_by_account_id_survives_an_email_change(runs):
    warehouse = runs["warehouse"]
    first = {(c, j): (a, m, at) for (_t, c, j, a, m, at) in runs["first_links"]}
    current = links(warehouse)
    bob_account = first[(ALPHA, "u2")][0]
    assert current[(ALPHA, "u2")] == (bob_account, "new_account")  # the link is kept as it was made
    assert current[(BETA, "u2")] == (bob_account, "account_id")  # same Atlassian account, another site
    assert current[(ALPHA, "e1")] == (bob_account, "email")  # someone now using Bob's old address
    (accounts_with_new_email,) = query(
        warehouse, "SELECT count(*) FROM jira.accounts WHERE email = 'robert@newmail.com'"
    )[0]
    assert accounts_with_new_email == 0
    # nothing of the first run was rebuilt: every link row is still there, linked_at included
    assert set(runs["first_links"]) <= set(query(warehouse, "SELECT * FROM jira.user_links"))
    assert query(warehouse, "SELECT count(*) FROM jira.accounts")[0][0] == len(runs["first_accounts"])


def test_teams_from_both_methods_with_members_resolved(runs):
    warehouse = runs["warehouse"]
    teams = query(warehouse, "SELECT cloud_id, team_id, team_name, source FROM jira.teams ORDER BY 1, 2")
    assert teams == [
        (ALPHA, "g1", "developers", "groups_api"),
        (ALPHA, "g2", "jira-admins", "groups_api"),
        (BETA, "t1", "Platform", "teams_api"),
    ]
    current = links(warehouse)
    members = {
        (team, jira_id): account
        for team, jira_id, account in query(
            warehouse, "SELECT team_id, jira_account_id, account_id FROM jira.team_members"
        )
    }
    assert members[("g1", "u1")] == "A-1"
    assert members[("g1", "u3")] is None  # unlinked member
    assert members[("t1", "u2")] == current[(BETA, "u2")][0]
    assert members[("t1", "d1")] == current[(BETA, "d1")][0]
    assert members[("t1", "x9")] is None  # not a user of any site
    assert ("t2", "d1") not in members  # another organization's team


def test_primary_team_is_the_smallest(runs):
    rows = query(
        runs["warehouse"],
        "SELECT cloud_id, jira_account_id, team_id, team_name, team_count FROM jira.primary_teams ORDER BY 1, 2",
    )
    assert rows == [
        (ALPHA, "u1", "g2", "jira-admins", 2),  # developers has 3 members, jira-admins 1
        (ALPHA, "u2", "g1", "developers", 1),
        (ALPHA, "u3", "g1", "developers", 1),
        (BETA, "d1", "t1", "Platform", 1),
        (BETA, "u2", "t1", "Platform", 1),
        (BETA, "x9", "t1", "Platform", 1),
    ]


def test_accounts_csv_errors_name_the_file_and_key(tmp_path):
    bad_csv = tmp_path / "accounts.csv"
    bad_csv.write_text("id,mail\n1,a@b.c\n", encoding="utf-8")
    sync_file = write_sync_file(tmp_path, accounts_csv=bad_csv)
    new_warehouse(tmp_path / "warehouse.duckdb")
    result = run_transforms(sync_file, selection=IDENTITY[:3], raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.cause.message
    assert "tenants[0].accounts_csv" in message and "account_id, email, name" in message
