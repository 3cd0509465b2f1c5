"""The configuration and sharing surface: who may read what, and that it agrees with the world
(role actors, schemes, components, filters and dashboards of its projects, groups and users)."""

from __future__ import annotations

import httpx
import pytest

from jira_simulator.model import User
from jira_simulator.sharing import can_see


def _staff(served, site: str = "acme", *, admin: bool = False) -> User:
    """An active colleague with an API token who is (not) a Jira admin on the site."""
    found = served.site(site)
    admins = {
        a
        for g in found.groups.values()
        if g.name in ("jira-administrators", "site-admins")
        for a in g.member_ids
    }
    return next(
        u
        for u in served.world.users.values()
        if u.api_token and u.active and u.email and u.account_id in found.user_ids
        and u is not served.admin and (u.account_id in admins) == admin
    )  # fmt: skip


ADMIN_ONLY = {
    "/screens": 403,
    "/screenscheme": 403,
    "/issuetypescheme": 403,
    "/workflowscheme": 403,
    "/statuses/search": 401,  # the spec documents 401 for a caller without the permission
    "/workflows/search": 401,
    "/applicationrole": 403,
    "/role": 403,
    "/field/customfield_10060/context": 403,
    "/settings/columns": 403,
    "/auditing/record": 403,
    "/configuration/timetracking": 403,
}


def test_admin_only_operations_refuse_colleagues_with_the_documented_status(served) -> None:
    colleague = _staff(served)
    with served.client(colleague) as client, served.client() as admin:
        for path, status in ADMIN_ONLY.items():
            refused = client.get(f"{served.rest()}{path}")
            assert refused.status_code == status, path
            assert set(refused.json()) == {"errorMessages", "errors"}
            assert admin.get(f"{served.rest()}{path}").status_code == 200, path


def test_reads_need_credentials_and_the_operations_scope(served) -> None:
    with httpx.Client(timeout=10) as anonymous:
        for path in ("/dashboard", "/filter/search", "/permissions", "/instance/license", "/component"):
            assert anonymous.get(f"{served.rest()}{path}").status_code == 401, path
    token = served.access_token(["read:jira-work"])
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as oauth:
        assert oauth.get(f"{served.gateway()}/filter/search").status_code == 200
        refused = oauth.get(f"{served.gateway()}/role")  # manage:jira-configuration
    assert refused.status_code == 401 and refused.json()["message"] == "Unauthorized; scope does not match"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/component/99999", 404),
        ("/project/NOPE/role/10002", 404),
        ("/project/PLAT/role/99", 404),
        ("/role/99", 404),
        ("/dashboard/99999", 404),
        ("/filter/99999", 400),
        ("/screens/99/tabs", 404),
        ("/applicationrole/nope", 404),
        ("/issue/NOPE-1/watchers", 404),
        ("/workflowscheme/1", 404),
        ("/field/summary/context", 404),
        ("/version/99999", 404),
        ("/mypermissions", 400),
    ],
)
def test_unknown_objects_answer_the_documented_status(served, path: str, status: int) -> None:
    with served.client() as client:
        assert client.get(f"{served.rest()}{path}").status_code == status


def test_role_actors_follow_the_projects_lead_and_the_sites_groups(served) -> None:
    site = served.site("acme")
    plat = site.find_project("PLAT")
    with served.client() as client:
        admins = client.get(f"{served.rest()}/project/PLAT/role/10002").json()
        members = client.get(f"{served.rest()}/project/PLAT/role/10100").json()
    users = [
        a["actorUser"]["accountId"] for a in admins["actors"] if a["type"] == "atlassian-user-role-actor"
    ]
    groups = {a["name"] for a in admins["actors"] if a["type"] == "atlassian-group-role-actor"}
    assert users == [plat.lead_account_id] and groups == {"jira-administrators", "site-admins"}
    assert [a["name"] for a in members["actors"]] == ["jira-software-users"]
    assert admins["self"].endswith(f"/project/{plat.id}/role/10002")


def test_my_permissions_follow_the_permission_scheme_and_lost_browse(served) -> None:
    colleague = _staff(served)
    wanted = {"permissions": "ADMINISTER,BROWSE_PROJECTS,DELETE_ISSUES,EDIT_ISSUES", "projectKey": "PLAT"}
    with served.client() as admin, served.client(colleague) as client:
        mine = admin.get(f"{served.rest()}/mypermissions", params=wanted).json()["permissions"]
        theirs = client.get(f"{served.rest()}/mypermissions", params=wanted).json()["permissions"]
    assert all(p["havePermission"] for p in mine.values())
    assert {k: p["havePermission"] for k, p in theirs.items()} == {
        "ADMINISTER": False,
        "BROWSE_PROJECTS": True,
        "DELETE_ISSUES": False,  # Administrators only in the default scheme
        "EDIT_ISSUES": True,
    }
    assert theirs["EDIT_ISSUES"]["id"] == "12"


def test_schemes_match_the_company_managed_projects(served) -> None:
    site = served.site("acme")
    plat, web = site.find_project("PLAT"), site.find_project("WEB")
    with served.client() as client:
        type_schemes = client.get(
            f"{served.rest()}/issuetypescheme/project", params={"projectId": plat.id}
        ).json()["values"]
        (scheme,) = type_schemes
        mapping = client.get(
            f"{served.rest()}/issuetypescheme/mapping",
            params={"issueTypeSchemeId": scheme["issueTypeScheme"]["id"]},
        ).json()["values"]
        workflows = client.get(
            f"{served.rest()}/workflowscheme/project", params=[("projectId", plat.id), ("projectId", web.id)]
        ).json()["values"]
        scoped = client.get(f"{served.rest()}/statuses/search", params={"projectId": web.id}).json()["values"]
    assert [m["issueTypeId"] for m in mapping] == plat.issue_type_ids
    assert [w["projectIds"] for w in workflows] == [[plat.id]]  # team-managed WEB has no scheme
    assert workflows[0]["workflowScheme"]["defaultWorkflow"] == site.workflows[plat.workflow_id].name
    assert {s["name"] for s in scoped} == {"To Do", "In Progress", "Done"}
    assert all(s["scope"] == {"type": "PROJECT", "project": {"id": web.id}} for s in scoped)


def test_components_carry_their_lead_and_issue_counts(served) -> None:
    site = served.site("acme")
    plat = site.find_project("PLAT")
    led = next(c for c in plat.components if c.lead_account_id)
    with served.client() as client:
        body = client.get(f"{served.rest()}/component/{led.id}").json()
        count = client.get(f"{served.rest()}/component/{led.id}/relatedIssueCounts").json()
        page = client.get(f"{served.rest()}/component", params={"projectIdsOrKeys": "PLAT"}).json()
    assert body["lead"]["accountId"] == led.lead_account_id and body["assigneeType"] == "COMPONENT_LEAD"
    assert count["issueCount"] == sum(1 for i in site.issues.values() if led.id in i.component_ids)
    assert [c["id"] for c in page["values"]] == [c.id for c in plat.components]


def test_filters_and_dashboards_are_seen_only_where_shared(served) -> None:
    site = served.site("acme")
    colleague = _staff(served)
    private = next(f for f in site.filters.values() if not f.share_permissions)
    owner = served.world.users[private.owner_account_id]
    with served.client(owner) as mine, served.client() as admin:
        owned = {f["id"] for f in mine.get(f"{served.rest()}/filter/my").json()}
        found = admin.get(f"{served.rest()}/filter/search", params={"maxResults": 100}).json()
        override = admin.get(
            f"{served.rest()}/filter/search", params={"maxResults": 100, "overrideSharePermissions": "true"}
        ).json()
        dashboards = admin.get(f"{served.rest()}/dashboard", params={"maxResults": 100}).json()
        hidden = admin.get(f"{served.rest()}/filter/{private.id}")
    assert private.id in owned
    visible = {f["id"] for f in found["values"]}
    expected = {
        f.id for f in site.filters.values()
        if can_see(served.world, site, f.share_permissions, f.owner_account_id, served.admin.account_id)
    }  # fmt: skip
    assert visible == expected and (private.id in visible) == (
        private.owner_account_id == served.admin.account_id
    )
    assert override["total"] == len(site.filters)
    assert hidden.status_code == (200 if private.owner_account_id == served.admin.account_id else 400)
    assert "10000" in {d["id"] for d in dashboards["dashboards"]}  # the system dashboard, shared globally
    board = next(f for f in site.filters.values() if f.name == "Filter for PLAT board")
    assert board.owner_account_id == site.find_project("PLAT").lead_account_id
    with served.client(colleague) as client:
        shared = client.get(f"{served.rest()}/filter/{board.id}/permission").json()
    assert (
        shared == [{"id": board.share_permissions[0].id, "type": "project", "project": shared[0]["project"]}]
        and shared[0]["project"]["key"] == "PLAT"
    )


def test_severity_options_are_the_values_issues_carry(served) -> None:
    site = served.site("globex")
    carried = {
        (i.custom_fields["customfield_10060"]["id"], i.custom_fields["customfield_10060"]["value"])
        for i in site.issues.values()
        if "customfield_10060" in i.custom_fields
    }
    with served.client() as client:
        (context,) = client.get(f"{served.rest('globex')}/field/customfield_10060/context").json()["values"]
        options = client.get(
            f"{served.rest('globex')}/field/customfield_10060/context/{context['id']}/option"
        ).json()["values"]
        license_info = client.get(f"{served.rest('globex')}/instance/license").json()
    assert carried <= {(o["id"], o["value"]) for o in options}
    assert {a["id"] for a in license_info["applications"]} == {"jira-software", "jira-servicedesk"}


def test_each_boards_configuration_names_a_filter_jira_answers(served) -> None:
    site = served.site("acme")
    board = next(iter(site.agile.boards.values()))
    with served.client() as client:
        configuration = client.get(
            f"{served.base_url}/site/acme/rest/agile/1.0/board/{board.id}/configuration"
        ).json()
        saved = client.get(f"{served.rest()}/filter/{configuration['filter']['id']}").json()
    project = site.projects[board.project_id]
    assert saved["name"] == f"Filter for {board.name}" and saved["jql"].startswith(f"project = {project.key}")
    assert saved["owner"]["accountId"] == project.lead_account_id
