"""Atlassian Teams (public Teams API, Basic email + API token): one organization's full snapshot.

OAuth apps cannot call this API, hence Basic auth. Site-scoped teams are listed only when `siteId`
matches, so the organization's snapshot is the union over every configured site of that org.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from pipelines.jira import helpers, settings
from pipelines.jira.client import (
    JiraHttp,
    JiraRequestError,
    describe_request,
    jira_error_messages,
    raise_for_jira_status,
)
from pipelines.jira.paginators import team_members_paginator, teams_paginator
from pipelines.jira.runtime import TeamsRuntime
from pipelines.jira.tables import from_rows

HOOKS = {"response": [raise_for_jira_status]}


@dataclass(frozen=True)
class TeamsSnapshot:
    organization_id: str
    teams: pa.Table
    members: pa.Table


class TeamsCredentialsRefused(JiraRequestError):
    """The Teams API refused the organization's email + API token; the message names the variables."""


def fetch_teams_snapshot(http: JiraHttp, org: TeamsRuntime) -> TeamsSnapshot:
    try:
        return _fetch_teams_snapshot(http, org)
    except JiraRequestError as exc:
        response = exc.response
        if response is None or response.status_code not in (401, 403):
            raise
        detail = jira_error_messages(response)
        raise TeamsCredentialsRefused(
            f"{describe_request(response.request)} -> HTTP {response.status_code}"
            + (f": {detail}" if detail else "")
            + f" (the Teams API takes an Atlassian account email and API token, not OAuth: check {org.credentials};"
            f" the account must be an admin of organization {org.organization_id})",
            response=response,
        ) from None


def _fetch_teams_snapshot(http: JiraHttp, org: TeamsRuntime) -> TeamsSnapshot:
    client = http.rest_client(org.base_url, org.auth)
    teams: dict[str, dict] = {}
    site_of_team: dict[str, str] = {}
    for cloud_id in org.site_cloud_ids:
        params = {"siteId": cloud_id, "size": settings.TEAMS_PAGE_SIZE}
        for page in client.paginate(
            "/teams", params=params, paginator=teams_paginator(), data_selector="entities", hooks=HOOKS
        ):
            for team in page:
                team_id = str(team["teamId"])
                if team_id not in teams:
                    teams[team_id] = helpers.team_row(org.organization_id, cloud_id, team)
                    site_of_team[team_id] = cloud_id
    members = []
    for team_id, cloud_id in site_of_team.items():
        for page in client.paginate(
            f"/teams/{team_id}/members",
            method="POST",
            params={"siteId": cloud_id},
            json={"first": settings.TEAM_MEMBERS_PAGE_SIZE},
            paginator=team_members_paginator(),
            data_selector="results",
            hooks=HOOKS,
        ):
            members.extend(
                {"organization_id": org.organization_id, "team_id": team_id, "account_id": m.get("accountId")}
                for m in page
            )
    return TeamsSnapshot(
        org.organization_id, from_rows("teams", list(teams.values())), from_rows("team_members", members)
    )
