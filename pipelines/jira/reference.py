"""Complete per-site snapshots of the reference entities (fetched fully before anything is yielded).

A snapshot is merged with merge_key cloud_id, so it replaces the site's rows; fetching it whole
first means a site that fails half-way yields nothing and keeps its previous rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from dlt.sources.helpers.rest_client import RESTClient

from pipelines.jira import helpers, settings
from pipelines.jira.client import JiraHttp, raise_for_jira_status
from pipelines.jira.paginators import ArrayPagePaginator, PageBeanPaginator
from pipelines.jira.runtime import SiteRuntime
from pipelines.jira.tables import from_rows

HOOKS = {"response": [raise_for_jira_status]}


def _client(http: JiraHttp, site: SiteRuntime) -> RESTClient:
    return http.rest_client(site.api_base_url, site.auth)


def page_bean_values(
    client: RESTClient, path: str, page_size: int, params: dict | None = None
) -> Iterator[dict]:
    for page in client.paginate(
        path,
        params=dict(params or {}),
        paginator=PageBeanPaginator(page_size),
        data_selector="values",
        hooks=HOOKS,
    ):
        yield from page


def sites_table(sites: list[SiteRuntime]) -> pa.Table:
    rows = [{"cloud_id": s.cloud_id, "tenant_id": s.tenant_id, "name": s.name, "url": s.url} for s in sites]
    return from_rows("sites", rows)


def projects_table(http: JiraHttp, site: SiteRuntime) -> pa.Table:
    client = _client(http, site)
    values = page_bean_values(
        client, settings.PROJECT_SEARCH, settings.PROJECT_PAGE_SIZE, {"expand": "lead,description"}
    )
    return from_rows("projects", [helpers.project_row(site.cloud_id, p) for p in values])


def issue_types_table(http: JiraHttp, site: SiteRuntime) -> pa.Table:
    items = http.get_json(_client(http, site), settings.ISSUE_TYPES)
    return from_rows("issue_types", [helpers.issue_type_row(site.cloud_id, t) for t in items])


def statuses_table(http: JiraHttp, site: SiteRuntime) -> pa.Table:
    items = http.get_json(_client(http, site), settings.STATUSES)
    return from_rows("statuses", [helpers.status_row(site.cloud_id, s) for s in items])


def status_categories_table(http: JiraHttp, site: SiteRuntime) -> pa.Table:
    items = http.get_json(_client(http, site), settings.STATUS_CATEGORIES)
    return from_rows("status_categories", [helpers.status_category_row(site.cloud_id, c) for c in items])


def users_table(http: JiraHttp, site: SiteRuntime) -> pa.Table:
    client = _client(http, site)
    rows: dict[str, dict] = {}
    for page in client.paginate(
        settings.USERS_SEARCH,
        paginator=ArrayPagePaginator(settings.USERS_PAGE_SIZE),
        data_selector="$",
        hooks=HOOKS,
    ):
        for user in page:
            row = helpers.user_row(site.cloud_id, user)
            rows[row["account_id"]] = row
    return from_rows("users", list(rows.values()))


def groups_table(http: JiraHttp, site: SiteRuntime) -> pa.Table:
    values = page_bean_values(_client(http, site), settings.GROUPS_BULK, settings.GROUPS_PAGE_SIZE)
    return from_rows("groups", [helpers.group_row(site.cloud_id, g) for g in values])


def group_members_table(http: JiraHttp, site: SiteRuntime, group_ids: list[str]) -> pa.Table:
    client = _client(http, site)
    rows = []
    for group_id in group_ids:
        params = {"groupId": group_id, "includeInactiveUsers": "true"}
        if group_id.startswith(helpers.GROUP_NAME_PREFIX):
            params = {
                "groupname": group_id.removeprefix(helpers.GROUP_NAME_PREFIX),
                "includeInactiveUsers": "true",
            }
        for user in page_bean_values(
            client, settings.GROUP_MEMBERS, settings.GROUP_MEMBERS_PAGE_SIZE, params
        ):
            rows.append(
                {"cloud_id": site.cloud_id, "group_id": group_id, "account_id": user.get("accountId")}
            )
    return from_rows("group_members", rows)
