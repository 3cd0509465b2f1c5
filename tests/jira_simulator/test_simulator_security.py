"""Request authentication and scopes over HTTP: Basic on site URLs, Bearer through the gateway."""

from __future__ import annotations

import httpx

from jira_simulator.generator import generate_world
from jira_simulator.security import NOT_AUTHENTICATED

UNAUTHORIZED = {"code": 401, "message": "Unauthorized"}
SCOPE_MISMATCH = {"code": 401, "message": "Unauthorized; scope does not match"}


def test_basic_auth_with_email_and_api_token(served) -> None:
    url = f"{served.rest()}/myself"
    ok = httpx.get(url, auth=served.admin_auth)
    wrong_token = httpx.get(url, auth=(served.admin.email, "not-the-token"))
    unknown = httpx.get(url, auth=("nobody@example.com", served.options.api_token))
    anonymous = httpx.get(url)
    assert ok.status_code == 200
    assert ok.headers["X-AAccountId"] == served.admin.account_id == ok.json()["accountId"]
    for refused in (wrong_token, unknown, anonymous):
        assert refused.status_code == 401
        assert refused.json() == {"errorMessages": [NOT_AUTHENTICATED], "errors": {}}
        assert "X-AAccountId" not in refused.headers
    assert httpx.get(f"{served.rest()}/serverInfo").status_code == 200  # anonymous is allowed there


def test_inactive_users_cannot_sign_in(served) -> None:
    inactive = next(u for u in served.world.users.values() if not u.active and u.email)
    assert httpx.get(f"{served.rest()}/myself", auth=(inactive.email, "anything")).status_code == 401


def test_bearer_tokens_only_work_through_the_gateway(served) -> None:
    token = served.access_token(["read:jira-work", "read:jira-user"])
    headers = {"Authorization": f"Bearer {token}"}
    through_gateway = httpx.get(f"{served.gateway()}/myself", headers=headers)
    against_site = httpx.get(f"{served.rest()}/myself", headers=headers)
    assert through_gateway.status_code == 200
    assert through_gateway.headers["X-AAccountId"] == served.admin.account_id
    assert against_site.status_code == 401


def test_gateway_scopes_are_enforced(served) -> None:
    token = served.access_token(["read:jira-work"])
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers) as client:
        search = client.get(f"{served.gateway()}/search/jql", params={"jql": "project = PLAT"})
        users = client.get(f"{served.gateway()}/users/search")
        members = client.get(f"{served.gateway()}/group/member", params={"groupname": "site-admins"})
    assert search.status_code == 200
    assert (users.status_code, users.json()) == (401, SCOPE_MISMATCH)
    assert (members.status_code, members.json()) == (401, SCOPE_MISMATCH)
    admin_token = served.access_token(["read:jira-work", "read:jira-user", "manage:jira-configuration"])
    granted = httpx.get(
        f"{served.gateway()}/group/member",
        params={"groupname": "site-admins"},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert granted.status_code == 200 and granted.json()["total"] == 1


def test_gateway_refuses_bad_tokens_and_sites_outside_the_grant(served) -> None:
    acme_only = served.access_token(["read:jira-work"], cloud_ids=[served.site("acme").cloud_id])
    headers = {"Authorization": f"Bearer {acme_only}"}
    other_site = httpx.get(f"{served.gateway('globex')}/serverInfo", headers=headers)
    garbage = httpx.get(f"{served.gateway()}/serverInfo", headers={"Authorization": "Bearer nope"})
    basic = httpx.get(f"{served.gateway()}/serverInfo", auth=served.admin_auth)
    for refused in (other_site, garbage, basic):
        assert (refused.status_code, refused.json()) == (401, UNAUTHORIZED)


def test_expired_access_tokens_are_refused(serve_world) -> None:
    with serve_world(generate_world(20, seed=2)) as sim:
        token = sim.access_token(["read:jira-work"])
        headers = {"Authorization": f"Bearer {token}"}
        before = httpx.get(f"{sim.gateway()}/serverInfo", headers=headers)
        httpx.post(f"{sim.base_url}/_sim/clock/advance", json={"seconds": 3601}).raise_for_status()
        after = httpx.get(f"{sim.gateway()}/serverInfo", headers=headers)
    assert before.status_code == 200
    assert (after.status_code, after.json()) == (401, UNAUTHORIZED)


def test_doubled_slashes_are_tolerated(served) -> None:
    with served.client() as client:
        plain = client.get(f"{served.rest()}/issue/PLAT-1")
        doubled = client.get(f"{served.base_url}/site/acme//rest/api/3//issue//PLAT-1")
        wrong_version = client.get(f"{served.base_url}/site/acme/rest/api/4/myself")
    assert doubled.status_code == 200 and doubled.json()["id"] == plain.json()["id"]
    assert wrong_version.status_code == 404
