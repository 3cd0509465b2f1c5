"""Users and groups over HTTP: every account kind, hidden emails, inactive group members."""

from __future__ import annotations


def test_users_search_lists_every_account_kind_and_hides_private_emails(served) -> None:
    site = served.site("globex")
    with served.client() as client:
        first = client.get(f"{served.rest('globex')}/users/search", params={"maxResults": 10}).json()
        everyone = client.get(f"{served.rest('globex')}/users/search", params={"maxResults": 5000}).json()
        after = client.get(f"{served.rest('globex')}/users", params={"startAt": len(everyone)}).json()
    assert isinstance(first, list) and len(first) == 10
    assert [u["accountId"] for u in everyone] == site.user_ids and after == []
    kinds = {u["accountType"] for u in everyone}
    assert kinds == {"atlassian", "app", "customer"}
    assert any(not u["active"] for u in everyone)
    for user in everyone:
        account = served.world.users[user["accountId"]]
        assert ("emailAddress" in user) == bool(account.email and account.email_visible)


def test_myself_shows_the_callers_own_hidden_email(served) -> None:
    hidden = next(
        u
        for u in served.world.users.values()
        if u.email
        and not u.email_visible
        and u.api_token
        and u.active
        and u.account_id in served.site("acme").user_ids
    )
    with served.client(hidden) as client:
        me = client.get(f"{served.rest()}/myself").json()
        as_seen_by_self = client.get(f"{served.rest()}/user", params={"accountId": hidden.account_id}).json()
    with served.client() as client:
        as_seen_by_admin = client.get(f"{served.rest()}/user", params={"accountId": hidden.account_id}).json()
    assert me["emailAddress"] == as_seen_by_self["emailAddress"] == hidden.email
    assert "emailAddress" not in as_seen_by_admin


def test_group_members_inactive_only_on_request_and_paged_by_50(served) -> None:
    site = served.site("acme")
    former = next(g for g in site.groups.values() if g.name == "former-staff")
    users = next(g for g in site.groups.values() if g.name == "jira-software-users")
    with served.client() as client:
        url = f"{served.rest()}/group/member"
        active_only = client.get(url, params={"groupId": former.group_id}).json()
        with_inactive = client.get(
            url, params={"groupId": former.group_id, "includeInactiveUsers": "true"}
        ).json()
        big = client.get(url, params={"groupname": users.name, "maxResults": 500}).json()
        missing = client.get(url, params={"groupId": "nope"})
        groups = client.get(f"{served.rest()}/group/bulk", params={"maxResults": 3}).json()
    assert active_only["total"] == 0 and with_inactive["total"] == len(former.member_ids) == 3
    assert big["maxResults"] == 50 and len(big["values"]) == min(50, big["total"])
    assert missing.status_code == 404
    assert groups["total"] == len(site.groups) and len(groups["values"]) == 3 and groups["isLast"] is False


def test_user_bulk_pages(served) -> None:
    ids = served.site("acme").user_ids[:12]
    with served.client() as client:
        page = client.get(f"{served.rest()}/user/bulk", params=[("accountId", a) for a in ids]).json()
        missing = client.get(f"{served.rest()}/user/bulk")
    assert (page["total"], page["maxResults"], len(page["values"]), page["isLast"]) == (12, 10, 10, False)
    assert missing.status_code == 400


def test_myself_sizes_its_groups_and_application_roles_and_expands_them(served) -> None:
    site = served.site("globex")
    admin = served.admin.account_id
    groups = {g.name for g in site.groups.values() if admin in g.member_ids}
    with served.client() as client:
        plain = client.get(f"{served.rest('globex')}/myself").json()
        expanded = client.get(
            f"{served.rest('globex')}/myself", params={"expand": "groups,applicationRoles"}
        ).json()
    assert plain["expand"] == "groups,applicationRoles"
    assert plain["groups"] == {"size": len(groups), "items": []}
    assert plain["applicationRoles"] == {"size": 2, "items": []}  # Software and Service Management
    assert {g["name"] for g in expanded["groups"]["items"]} == groups
    roles = {r["key"]: r for r in expanded["applicationRoles"]["items"]}
    assert set(roles) == {"jira-software", "jira-servicedesk"}
    software = roles["jira-software"]
    assert software["defaultGroups"] == ["jira-software-users"]
    assert software["userCount"] + software["remainingSeats"] == software["numberOfSeats"]
