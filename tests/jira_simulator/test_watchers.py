"""Watchers and votes: derived from the issue, the same in the issue's fields and in their endpoints."""

from __future__ import annotations

from jira_simulator.watchers import voter_ids, watcher_ids


def test_watchers_are_the_creator_and_commenters_and_agree_with_the_issue_field(served) -> None:
    site = served.site("acme")
    issue = next(i for i in site.issues.values() if len({c.author_account_id for c in i.comments}) > 1)
    expected = list(dict.fromkeys([issue.creator_id, *(c.author_account_id for c in issue.comments)]))
    expected = [a for a in expected if served.world.users[a].account_type != "app"]
    assert watcher_ids(served.world, site, issue) == expected
    with served.client() as client:
        listed = client.get(f"{served.rest()}/issue/{issue.key}/watchers").json()
        field = client.get(f"{served.rest()}/issue/{issue.id}", params={"fields": "watches"}).json()
    assert [w["accountId"] for w in listed["watchers"]] == expected
    assert listed["self"].endswith(f"/issue/{issue.key}/watchers")
    assert field["fields"]["watches"] == {
        "self": listed["self"],
        "watchCount": len(expected),
        "isWatching": served.admin.account_id in expected,
    }


def test_votes_never_come_from_the_reporter_and_the_voter_sees_has_voted(served) -> None:
    site = served.site("acme")
    voted = [i for i in site.issues.values() if voter_ids(served.world, site, i)]
    assert 0.05 < len(voted) / len(site.issues) < 0.2
    assert all(i.reporter_id not in voter_ids(served.world, site, i) for i in voted)
    issue = voted[0]
    voter = served.world.users[voter_ids(served.world, site, issue)[0]]
    with served.client(voter) as client:
        votes = client.get(f"{served.rest()}/issue/{issue.key}/votes").json()
        field = client.get(f"{served.rest()}/issue/{issue.key}", params={"fields": "votes"}).json()
    assert votes["hasVoted"] is True and votes["votes"] == len(votes["voters"])
    assert field["fields"]["votes"] == {"self": votes["self"], "votes": votes["votes"], "hasVoted": True}


def test_time_tracking_fields_follow_the_logged_work(served) -> None:
    site = served.site("acme")
    issue = next(i for i in site.issues.values() if i.worklogs)
    spent = sum(w.time_spent_seconds for w in issue.worklogs)
    fields = "timespent,timetracking,progress,workratio,timeoriginalestimate"
    with served.client() as client:
        got = client.get(f"{served.rest()}/issue/{issue.key}", params={"fields": fields}).json()["fields"]
    assert got["timespent"] == spent
    assert got["timetracking"]["timeSpentSeconds"] == spent
    assert got["progress"] == {"progress": spent, "total": spent, "percent": 100}
    assert (got["workratio"], got["timeoriginalestimate"]) == (-1, None)


def test_field_lists_the_system_fields_of_a_real_site(served) -> None:
    with served.client() as client:
        fields = {f["id"]: f for f in client.get(f"{served.rest()}/field").json()}
        issue = client.get(f"{served.rest()}/issue/PLAT-1").json()["fields"]
    for system in (
        "issuekey", "attachment", "timetracking", "timespent", "timeestimate", "timeoriginalestimate",
        "watches", "votes", "security", "lastViewed", "progress", "workratio", "aggregatetimespent",
    ):  # fmt: skip
        assert system in fields and fields[system]["custom"] is False
    assert fields["issuekey"]["clauseNames"] == ["id", "issue", "issuekey", "key"]
    assert "schema" not in fields["parent"] and fields["customfield_10016"]["custom"] is True
    # Every field that is part of an issue is in `*all` (the default of GET issue); the listing-only
    # ones are not, and `parent` is left out of an issue that has none.
    listing_only = {"issuekey", "statusCategory", "thumbnail"}
    assert set(issue) | {"parent"} == set(fields) - listing_only
