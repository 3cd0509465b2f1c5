"""Sampled responses of every REST v3 endpoint the simulator serves, validated against Atlassian's spec.

The spec is `../shared/reference/jira-openapi-v3.json` (next to the repository; CI has it), or the
file named by `JIRA_OPENAPI_SPEC`. Responses are validated as responses (read-only properties
allowed, `additionalProperties: false` enforced, `nullable` honoured). Date-times are checked
against Jira's own rendering `yyyy-MM-dd'T'HH:mm:ss.SSS+hhmm` (Jira's wire format is not RFC
3339, so a plain RFC 3339 checker would reject real Jira too).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import FormatChecker
from openapi_schema_validator import OAS30ReadValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from starlette.routing import Route

from jira_simulator.rest import routes as rest_routes
from jira_simulator.schemes import site_schemes
from jira_simulator.sharing import can_see
from jira_simulator.watchers import voter_ids

SPEC_PATH = Path(
    os.environ.get(
        "JIRA_OPENAPI_SPEC",
        Path(__file__).resolve().parents[3] / "shared" / "reference" / "jira-openapi-v3.json",
    )
)
pytestmark = pytest.mark.skipif(
    not SPEC_PATH.exists(),
    reason=f"Atlassian's OpenAPI spec is not at {SPEC_PATH} (CI provides ../shared; or set JIRA_OPENAPI_SPEC)",
)
SPEC_URI = "urn:jira-openapi-v3"
JIRA_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$")


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time")
    def date_time(value: object) -> bool:
        return not isinstance(value, str) or bool(JIRA_DATE_TIME.match(value))

    @checker.checks("date")
    def date(value: object) -> bool:
        return not isinstance(value, str) or bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))

    @checker.checks("uri")
    def uri(value: object) -> bool:
        # Absolute loopback URLs; system avatars are site-relative (`/secure/useravatar?...`), as a
        # real site lists them (Airbyte's capture, stream `avatars`).
        return not isinstance(value, str) or value.startswith(("http://127.0.0.1:", "/secure/"))

    @checker.checks("uuid")
    def is_uuid(value: object) -> bool:
        if not isinstance(value, str):
            return True
        uuid.UUID(value)
        return True

    @checker.checks("int32")
    def int32(value: object) -> bool:
        return not isinstance(value, int) or -(2**31) <= value < 2**31

    @checker.checks("int64")
    def int64(value: object) -> bool:
        return not isinstance(value, int) or -(2**63) <= value < 2**63

    return checker


# Keys real sites send that Atlassian's schema leaves out (its `additionalProperties: false` would
# reject them), each with the evidence; the validator adds them to the schema and nothing else.
SPEC_GAPS = {
    # `serverInfo`: the spec's own example response carries `"defaultLocale": {"locale": "en_AU"}`,
    # and real Cloud answers recorded by Jellyfish's jf_agent tests carry `{"locale": "en_US"}`.
    "ServerInformation": {"defaultLocale": {"$ref": "#/components/schemas/Locale"}},
    # `filter/search?expand=...isWritable`: Airbyte's capture of a real site's filters carries
    # `"isWritable": true` (source-jira integration_tests/expected_records.jsonl, stream `filters`).
    "FilterDetails": {"isWritable": {"type": "boolean"}},
    # `screenscheme`: the schema marks `screens` write-only, yet the spec's own example response and
    # Airbyte's capture of a real site (stream `screen_schemes`) carry `"screens": {"default": 1}`.
    "ScreenScheme": {"screens": {"$ref": "#/components/schemas/ScreenTypesAsRead"}},
}
# Operations whose documented response schema is not what Jira answers to the sampled request.
RESPONSE_GAPS = {
    # Without `globalId` Jira answers every remote link of the issue, a list (the operation's own
    # description: "otherwise all remote issue links are returned"); the schema is the single link.
    ("GET", "/issue/{issueIdOrKey}/remotelink"): {
        "type": "array",
        "items": {"$ref": "#/components/schemas/RemoteIssueLink"},
    },
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded = json.loads(SPEC_PATH.read_text())
    schemas = loaded["components"]["schemas"]
    schemas["ScreenTypesAsRead"] = {k: v for k, v in schemas["ScreenTypes"].items() if k != "writeOnly"}
    for schema, properties in SPEC_GAPS.items():
        loaded["components"]["schemas"][schema]["properties"].update(properties)
    return loaded


@pytest.fixture(scope="module")
def validate(spec: dict[str, Any]):
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4))
    checker = _format_checker()

    def check(spec_path: str, method: str, status: int, body: Any) -> list[str]:
        """Violations of `body` against the spec's schema for this operation and status (or a named schema)."""
        if spec_path.startswith("#/components/schemas/"):
            schema: Any = {"$ref": spec_path}
        elif (method, spec_path) in RESPONSE_GAPS:
            schema = RESPONSE_GAPS[(method, spec_path)]
        else:
            responses = spec["paths"][f"/rest/api/3{spec_path}"][method.lower()]["responses"]
            content = responses[str(status)].get("content", {})
            schema = (content.get("application/json") or {}).get("schema")
        assert schema is not None, f"the spec has no JSON schema for {method} {spec_path} {status}"
        pointer = json.dumps(schema)
        for ref in re.findall(r'"\$ref": "#([^"]+)"', pointer):
            pointer = pointer.replace(f'"#{ref}"', f'"{SPEC_URI}#{ref}"')
        validator = OAS30ReadValidator(json.loads(pointer), registry=registry, format_checker=checker)
        return [
            f"{method} {spec_path} -> {'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in validator.iter_errors(body)
        ]

    return check


# per site: (a software project, another project (team-managed on acme), an issue with > 100 histories)
SITES = {"acme": ("PLAT", "WEB", "PLAT-3"), "globex": ("CORE", "HELP", "CORE-4")}


Sample = tuple[str, str, str, dict[str, Any]]


def samples(served, site_name: str = "acme") -> list[Sample]:
    """(method, spec path, concrete path, request kwargs) for every REST route served."""
    return core_samples(served, site_name) + configuration_samples(served, site_name)


def core_samples(served, site_name: str) -> list[Sample]:
    """Issues, search, changelogs, work, users, groups, projects and the site's basic metadata."""
    software, other, long_history = SITES[site_name]
    acme = served.site(site_name)
    issues = list(acme.issues.values())
    with_comments = next(i for i in issues if i.comments)
    with_worklogs = next(i for i in issues if i.worklogs)
    voted = next(i for i in issues if voter_ids(served.world, acme, i))
    subtask = next(i for i in issues if i.parent_id and acme.issue_types[i.issue_type_id].subtask)
    project = acme.find_project(software)
    team_managed = acme.find_project(other)
    group = next(g for g in acme.groups.values() if g.name == "former-staff")
    hidden_email = next(
        u
        for u in served.world.users.values()
        if u.email and not u.email_visible and u.account_id in acme.user_ids
    )
    worklog_ids = [int(w.id) for i in issues for w in i.worklogs][:5]
    keys = [i.key for i in issues[:20]] + [long_history, "NOPE-1"]
    scoped_type = (
        next(t for t in acme.issue_types.values() if t.scope_project_id) if site_name == "acme" else None
    )
    everything = {"fields": "*all", "expand": "changelog,names,schema,transitions,renderedFields"}
    return [
        ("GET", "/search/jql", "/search/jql", {"params": {"jql": f"project = {software}"}}),
        (
            "GET",
            "/search/jql",
            "/search/jql",
            {"params": {"jql": f"project in ({software}, {other})", **everything}},
        ),
        (
            "POST",
            "/search/jql",
            "/search/jql",
            {
                "json": {
                    "jql": f"parent = {subtask.parent_id} OR key = {long_history}",
                    "fields": ["*all"],
                    "expand": "changelog",
                }
            },
        ),
        (
            "POST",
            "/search/approximate-count",
            "/search/approximate-count",
            {"json": {"jql": f"project = {other}"}},
        ),
        (
            "POST",
            "/issue/bulkfetch",
            "/issue/bulkfetch",
            {"json": {"issueIdsOrKeys": keys, "fields": ["*all"], "expand": ["changelog", "names"]}},
        ),
        ("GET", "/issue/{issueIdOrKey}", f"/issue/{long_history}", {"params": everything}),
        ("GET", "/issue/{issueIdOrKey}", f"/issue/{subtask.key}", {}),
        (
            "GET",
            "/issue/{issueIdOrKey}/changelog",
            f"/issue/{long_history}/changelog",
            {"params": {"startAt": 50}},
        ),
        (
            "POST",
            "/changelog/bulkfetch",
            "/changelog/bulkfetch",
            {"json": {"issueIdsOrKeys": keys, "maxResults": 50}},
        ),
        ("GET", "/issue/{issueIdOrKey}/comment", f"/issue/{with_comments.key}/comment", {}),
        (
            "GET",
            "/issue/{issueIdOrKey}/comment/{id}",
            f"/issue/{with_comments.key}/comment/{with_comments.comments[0].id}",
            {},
        ),
        ("GET", "/issue/{issueIdOrKey}/worklog", f"/issue/{with_worklogs.key}/worklog", {}),
        (
            "GET",
            "/issue/{issueIdOrKey}/worklog/{id}",
            f"/issue/{with_worklogs.key}/worklog/{with_worklogs.worklogs[0].id}",
            {},
        ),
        ("GET", "/issue/{issueIdOrKey}/transitions", f"/issue/{software}-1/transitions", {}),
        ("GET", "/issue/{issueIdOrKey}/watchers", f"/issue/{with_comments.key}/watchers", {}),
        ("GET", "/issue/{issueIdOrKey}/votes", f"/issue/{voted.key}/votes", {}),
        ("GET", "/worklog/updated", "/worklog/updated", {"params": {"since": 0}}),
        ("GET", "/worklog/deleted", "/worklog/deleted", {}),
        ("POST", "/worklog/list", "/worklog/list", {"json": {"ids": worklog_ids}}),
        ("GET", "/myself", "/myself", {"params": {"expand": "groups,applicationRoles"}}),
        ("GET", "/serverInfo", "/serverInfo", {}),
        ("GET", "/users", "/users", {"params": {"maxResults": 1000}}),
        ("GET", "/users/search", "/users/search", {"params": {"maxResults": 1000}}),
        ("GET", "/user", "/user", {"params": {"accountId": hidden_email.account_id, "expand": "groups"}}),
        (
            "GET",
            "/user/bulk",
            "/user/bulk",
            {"params": [("accountId", a) for a in acme.user_ids[:15]]},
        ),
        ("GET", "/user/groups", "/user/groups", {"params": {"accountId": served.admin.account_id}}),
        ("GET", "/group/bulk", "/group/bulk", {}),
        (
            "GET",
            "/group/member",
            "/group/member",
            {"params": {"groupId": group.group_id, "includeInactiveUsers": "true"}},
        ),
        ("GET", "/groups/picker", "/groups/picker", {"params": {"query": "jira"}}),
        (
            "GET",
            "/project/search",
            "/project/search",
            {"params": {"expand": "description,lead,issueTypes,url,insight", "maxResults": 2}},
        ),
        (
            "GET",
            "/project/search",
            "/project/search",
            {"params": {"status": "archived,deleted", "expand": "description,lead,issueTypes,url,insight"}},
        ),
        ("GET", "/project", "/project", {}),
        ("GET", "/project/{projectIdOrKey}", f"/project/{team_managed.key}", {}),
        ("GET", "/project/{projectIdOrKey}/versions", f"/project/{project.key}/versions", {}),
        (
            "GET",
            "/project/{projectIdOrKey}/version",
            f"/project/{project.key}/version",
            {"params": {"maxResults": 2}},
        ),
        ("GET", "/project/{projectIdOrKey}/components", f"/project/{project.key}/components", {}),
        ("GET", "/project/{projectIdOrKey}/component", f"/project/{project.key}/component", {}),
        ("GET", "/project/{projectIdOrKey}/statuses", f"/project/{team_managed.key}/statuses", {}),
        ("GET", "/project/{projectIdOrKey}/role", f"/project/{project.key}/role", {}),
        ("GET", "/issuetype", "/issuetype", {}),
        ("GET", "/issuetype/{id}", f"/issuetype/{scoped_type.id if scoped_type else '10004'}", {}),
        ("GET", "/issuetype/project", "/issuetype/project", {"params": {"projectId": team_managed.id}}),
        ("GET", "/status", "/status", {}),
        ("GET", "/status/{idOrName}", "/status/In Review", {}),
        ("GET", "/statuscategory", "/statuscategory", {}),
        ("GET", "/statuscategory/{idOrKey}", "/statuscategory/indeterminate", {}),
        ("GET", "/priority", "/priority", {}),
        ("GET", "/priority/{id}", "/priority/2", {}),
        ("GET", "/priority/search", "/priority/search", {"params": {"maxResults": 2}}),
        ("GET", "/resolution", "/resolution", {}),
        ("GET", "/resolution/{id}", "/resolution/10001", {}),
        ("GET", "/resolution/search", "/resolution/search", {}),
        ("GET", "/project/type", "/project/type", {}),
        ("GET", "/project/type/{projectTypeKey}", "/project/type/service_desk", {}),
        ("GET", "/projectCategory", "/projectCategory", {}),
        ("GET", "/projectCategory/{id}", "/projectCategory/10000", {}),
        ("GET", "/role", "/role", {}),
        ("GET", "/workflow/search", "/workflow/search", {"params": {"expand": "statuses,transitions"}}),
        ("GET", "/field", "/field", {}),
    ]


def configuration_samples(served, site_name: str) -> list[Sample]:
    """Components, workflows and statuses, schemes and screens, permissions, roles, filters,
    dashboards, fields, the instance and project settings."""
    software, other, long_history = SITES[site_name]
    site = served.site(site_name)
    admin = served.admin.account_id
    project = site.find_project(software)
    other_project = site.find_project(other)
    component = project.components[0]
    version = project.versions[0]
    filters = [
        f
        for f in site.filters.values()
        if can_see(served.world, site, f.share_permissions, f.owner_account_id, admin)
    ]
    board_filter = next(f for f in filters if f.name.startswith("Filter for "))
    dashboard = next(
        d
        for d in site.dashboards.values()
        if not d.system and can_see(served.world, site, d.share_permissions, d.owner_account_id, admin)
    )
    schemes = site_schemes(site)
    screen = schemes.screens[-1]
    workflow_scheme = schemes.workflow_schemes[0]
    scoped_status = next((s for s in site.statuses.values() if s.scope_project_id), None)
    every = {
        "expand": "description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,sharePermissions,editPermissions,isWritable,subscriptions"
    }
    return [
        ("GET", "/component", "/component", {"params": {"projectIdsOrKeys": software, "orderBy": "-name"}}),
        ("GET", "/component", "/component", {"params": {"maxResults": 5}}),
        ("GET", "/component/{id}", f"/component/{component.id}", {}),
        ("GET", "/component/{id}/relatedIssueCounts", f"/component/{component.id}/relatedIssueCounts", {}),
        ("GET", "/statuses/search", "/statuses/search", {}),
        (
            "GET",
            "/statuses/search",
            "/statuses/search",
            {"params": {"projectId": scoped_status.scope_project_id if scoped_status else other_project.id}},
        ),
        ("GET", "/statuses", "/statuses", {"params": [("id", "3"), ("id", "10000")]}),
        ("GET", "/workflows/search", "/workflows/search", {"params": {"expand": "values.transitions"}}),
        ("GET", "/workflowscheme", "/workflowscheme", {}),
        ("GET", "/workflowscheme/{id}", f"/workflowscheme/{workflow_scheme.id}", {}),
        ("GET", "/workflowscheme/project", "/workflowscheme/project", {"params": {"projectId": project.id}}),
        ("GET", "/screens", "/screens", {}),
        ("GET", "/screens/{screenId}/tabs", f"/screens/{screen.id}/tabs", {}),
        (
            "GET",
            "/screens/{screenId}/tabs/{tabId}/fields",
            f"/screens/{screen.id}/tabs/{screen.tab_id}/fields",
            {},
        ),
        ("GET", "/screenscheme", "/screenscheme", {"params": {"orderBy": "name"}}),
        ("GET", "/issuetypescreenscheme", "/issuetypescreenscheme", {}),
        (
            "GET",
            "/issuetypescreenscheme/project",
            "/issuetypescreenscheme/project",
            {"params": {"projectId": project.id}},
        ),
        ("GET", "/issuetypescheme", "/issuetypescheme", {}),
        (
            "GET",
            "/issuetypescheme/project",
            "/issuetypescheme/project",
            {"params": {"projectId": project.id}},
        ),
        ("GET", "/issuetypescheme/mapping", "/issuetypescheme/mapping", {}),
        ("GET", "/permissions", "/permissions", {}),
        (
            "GET",
            "/mypermissions",
            "/mypermissions",
            {
                "params": {
                    "permissions": "BROWSE_PROJECTS,ADMINISTER,EDIT_ISSUES,MANAGE_SPRINTS_PERMISSION",
                    "projectKey": software,
                }
            },
        ),
        ("GET", "/permissionscheme", "/permissionscheme", {"params": {"expand": "permissions"}}),
        ("GET", "/permissionscheme/{schemeId}", "/permissionscheme/0", {}),
        ("GET", "/permissionscheme/{schemeId}/permission", "/permissionscheme/0/permission", {}),
        ("GET", "/project/{projectKeyOrId}/permissionscheme", f"/project/{software}/permissionscheme", {}),
        ("GET", "/role", "/role", {}),
        ("GET", "/role/{id}", "/role/10002", {}),
        ("GET", "/role/{id}/actors", "/role/10100/actors", {}),
        ("GET", "/project/{projectIdOrKey}/role", f"/project/{software}/role", {}),
        ("GET", "/project/{projectIdOrKey}/role/{id}", f"/project/{software}/role/10002", {}),
        ("GET", "/project/{projectIdOrKey}/role/{id}", f"/project/{other}/role/10100", {}),
        ("GET", "/project/{projectIdOrKey}/roledetails", f"/project/{software}/roledetails", {}),
        ("GET", "/filter/search", "/filter/search", {}),
        ("GET", "/filter/search", "/filter/search", {"params": {**every, "orderBy": "-favourite_count"}}),
        ("GET", "/filter/{id}", f"/filter/{board_filter.id}", {}),
        ("GET", "/filter/my", "/filter/my", {"params": {"includeFavourites": "true"}}),
        ("GET", "/filter/favourite", "/filter/favourite", {}),
        ("GET", "/filter/defaultShareScope", "/filter/defaultShareScope", {}),
        ("GET", "/filter/{id}/permission", f"/filter/{board_filter.id}/permission", {}),
        ("GET", "/filter/{id}/columns", f"/filter/{board_filter.id}/columns", {}),
        ("GET", "/dashboard", "/dashboard", {}),
        ("GET", "/dashboard/search", "/dashboard/search", {"params": {"orderBy": "-favorite_count"}}),
        ("GET", "/dashboard/{id}", f"/dashboard/{dashboard.id}", {}),
        ("GET", "/dashboard/{id}", "/dashboard/10000", {}),
        ("GET", "/field/search", "/field/search", {"params": {"type": "custom"}}),
        ("GET", "/field/search", "/field/search", {"params": {"orderBy": "name", "maxResults": 100}}),
        ("GET", "/field/{fieldId}/context", "/field/customfield_10060/context", {}),
        (
            "GET",
            "/field/{fieldId}/context/{contextId}/option",
            "/field/customfield_10060/context/10160/option",
            {},
        ),
        ("GET", "/customFieldOption/{id}", "/customFieldOption/10101", {}),
        ("GET", "/instance/license", "/instance/license", {}),
        ("GET", "/applicationrole", "/applicationrole", {}),
        ("GET", "/applicationrole/{key}", "/applicationrole/jira-software", {}),
        ("GET", "/application-properties", "/application-properties", {}),
        ("GET", "/configuration", "/configuration", {}),
        ("GET", "/configuration/timetracking", "/configuration/timetracking", {}),
        ("GET", "/configuration/timetracking/list", "/configuration/timetracking/list", {}),
        ("GET", "/settings/columns", "/settings/columns", {}),
        ("GET", "/avatar/{type}/system", "/avatar/project/system", {}),
        ("GET", "/auditing/record", "/auditing/record", {"params": {"limit": 5}}),
        ("GET", "/label", "/label", {}),
        ("GET", "/issueLinkType", "/issueLinkType", {}),
        ("GET", "/issueLinkType/{issueLinkTypeId}", "/issueLinkType/10003", {}),
        ("GET", "/issue/{issueIdOrKey}/remotelink", f"/issue/{long_history}/remotelink", {}),
        ("GET", "/issue/{issueIdOrKey}/properties", f"/issue/{long_history}/properties", {}),
        ("GET", "/project/recent", "/project/recent", {}),
        ("GET", "/project/{projectId}/email", f"/project/{project.id}/email", {}),
        ("GET", "/project/{projectIdOrKey}/avatars", f"/project/{software}/avatars", {}),
        ("GET", "/project/{projectIdOrKey}/properties", f"/project/{software}/properties", {}),
        ("GET", "/project/{projectKeyOrId}/securitylevel", f"/project/{software}/securitylevel", {}),
        ("GET", "/project/{projectId}/hierarchy", f"/project/{project.id}/hierarchy", {}),
        ("GET", "/version/{id}", f"/version/{version.id}", {}),
        ("GET", "/version/{id}/relatedIssueCounts", f"/version/{version.id}/relatedIssueCounts", {}),
        ("GET", "/version/{id}/unresolvedIssueCount", f"/version/{version.id}/unresolvedIssueCount", {}),
        ("GET", "/user/search", "/user/search", {"params": {"query": "a"}}),
        ("GET", "/user/assignable/search", "/user/assignable/search", {"params": {"project": software}}),
        ("GET", "/user/picker", "/user/picker", {"params": {"query": "a"}}),
    ]


def _served_routes() -> set[tuple[str, str]]:
    served: set[tuple[str, str]] = set()
    for route in rest_routes():
        assert isinstance(route, Route)
        for method in route.methods or ():
            if method != "HEAD":
                served.add((method, route.path))
    return served


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_served_route_is_sampled(served) -> None:
    sampled = {(method, _template(spec_path)) for method, spec_path, _, _ in samples(served)}
    # The removed /search answers 410 only; its spec schema describes the old 200 body.
    missing = {(m, p) for m, p in _served_routes() if (m, _template(p)) not in sampled and p != "/search"}
    assert missing == set()


def test_sampled_v3_responses_match_the_openapi_spec(served, validate) -> None:
    violations: list[str] = []
    with served.client() as client:
        for site in SITES:
            for method, spec_path, path, kwargs in samples(served, site):
                response = client.request(method, f"{served.rest(site)}{path}", **kwargs)
                assert response.status_code == 200, (
                    f"{method} {path}: {response.status_code} {response.text[:300]}"
                )
                violations += validate(spec_path, method, 200, response.json())
    assert violations == [], "\n".join(violations)


def test_error_and_gateway_responses_match_the_spec(served, validate) -> None:
    """Jira's error collection on refusals; a gateway-served issue validates the same way."""
    token = served.access_token(["read:jira-work", "read:jira-user"])
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        issue = client.get(f"{served.gateway()}/issue/PLAT-3", params={"expand": "changelog"})
        myself = client.get(f"{served.gateway()}/myself")
    assert issue.status_code == myself.status_code == 200
    assert issue.json()["self"].startswith(served.gateway())
    assert validate("/issue/{issueIdOrKey}", "GET", 200, issue.json()) == []
    assert validate("/myself", "GET", 200, myself.json()) == []
    error_collection = "#/components/schemas/ErrorCollection"
    with served.client() as client:
        missing = client.get(f"{served.rest()}/issue/NOPE-1")
        too_many = client.post(
            f"{served.rest()}/issue/bulkfetch", json={"issueIdsOrKeys": [str(n) for n in range(101)]}
        )
        jql = client.post(f"{served.rest()}/search/approximate-count", json={"jql": "order by key"})
    assert (missing.status_code, too_many.status_code, jql.status_code) == (404, 400, 400)
    assert validate(error_collection, "GET", 404, missing.json()) == []
    assert validate(error_collection, "POST", 400, too_many.json()) == []
    # A JQL refusal is a plain ErrorCollection too (which allows no `warningMessages`).
    assert validate(error_collection, "POST", 400, jql.json()) == []


def test_refusals_of_the_configuration_surface_are_error_collections(served, validate) -> None:
    """Every refusal the new read endpoints give validates as Atlassian's ErrorCollection."""
    site = served.site("acme")
    admins = {
        a
        for g in site.groups.values()
        if g.name in ("jira-administrators", "site-admins")
        for a in g.member_ids
    }
    colleague = next(
        u
        for u in served.world.users.values()
        if u.api_token and u.active and u.email and u.account_id in site.user_ids
        and u is not served.admin and u.account_id not in admins
    )  # fmt: skip
    with served.client(colleague) as client, served.client() as admin:
        refusals = [
            client.get(f"{served.rest()}/screens"),
            client.get(f"{served.rest()}/statuses/search"),
            client.get(f"{served.rest()}/project/PLAT/permissionscheme"),
            admin.get(f"{served.rest()}/filter/99999"),
            admin.get(f"{served.rest()}/component/99999"),
            admin.get(f"{served.rest()}/project/PLAT/role/99"),
            admin.get(f"{served.rest()}/mypermissions"),
            admin.get(f"{served.rest()}/dashboard/99999"),
            admin.get(f"{served.rest()}/field/customfield_10016/context/10116/option"),
            admin.post(f"{served.rest()}/search/jql", content=b"[1]"),
        ]
    assert [r.status_code for r in refusals] == [403, 401, 403, 400, 404, 404, 400, 404, 400, 400]
    for response in refusals:
        assert (
            validate("#/components/schemas/ErrorCollection", "GET", response.status_code, response.json())
            == []
        )
