"""Jira REST endpoints, page sizes and the issue field list the sources request."""

from __future__ import annotations

SEARCH_JQL = "/rest/api/3/search/jql"
APPROXIMATE_COUNT = "/rest/api/3/search/approximate-count"
CHANGELOG_BULKFETCH = "/rest/api/3/changelog/bulkfetch"
PROJECT_SEARCH = "/rest/api/3/project/search"
ISSUE_TYPES = "/rest/api/3/issuetype"
STATUSES = "/rest/api/3/status"
STATUS_CATEGORIES = "/rest/api/3/statuscategory"
USERS_SEARCH = "/rest/api/3/users/search"
GROUPS_BULK = "/rest/api/3/group/bulk"
GROUP_MEMBERS = "/rest/api/3/group/member"

# search/jql with fields + changelog: Jira returns at most 100 such issues a page (often fewer).
SEARCH_PAGE_SIZE = 100
# id-only census pages: "The greatest number of items returned per page is achieved when
# requesting id or key only. It returns max 5000 issues."
CENSUS_PAGE_SIZE = 5000
# changelog/bulkfetch: up to 1000 issue ids a request, up to 10000 histories a page.
CHANGELOG_BULK_MAX_ISSUES = 1000
CHANGELOG_BULK_PAGE_SIZE = 10000
PROJECT_PAGE_SIZE = 100  # project/search caps maxResults at 100
USERS_PAGE_SIZE = 1000  # users/search: "limited to 1000"
GROUPS_PAGE_SIZE = 50
GROUP_MEMBERS_PAGE_SIZE = 50  # group/member: "between 1 and 50"
TEAMS_PAGE_SIZE = 300  # Teams API list: max 300
TEAM_MEMBERS_PAGE_SIZE = 50

# The fields analytics needs, requested explicitly: search/jql returns only `id` by default, and
# `*all` would drag every custom field and rich-text body across the wire (slow, and most of it
# unused). Each one feeds a column of jira_raw.issues:
ISSUE_FIELDS: tuple[str, ...] = (
    "summary",  # what the issue is (tables, dashboards)
    "issuetype",  # type id + name: the feature/bug/chore/discovery/incident mapping
    "status",  # status id/name + statusCategory.key: the open/in_progress/closed mapping
    "project",  # project id/key: per-project mappings, census, lost-access reports
    "priority",  # triage and incident analytics
    "resolution",  # done-vs-won't-do among closed issues
    "resolutiondate",  # resolved: lead time end
    "created",  # lead time start; the backfill partition key
    "updated",  # incremental watermark
    "statuscategorychangedate",  # when the issue last changed status category
    "duedate",  # planning analytics
    "labels",  # free-form grouping
    "parent",  # sub-task / epic hierarchy (parent id + key)
    "assignee",  # who works on it (account id; identity linking)
    "reporter",  # who asked (account id)
    "creator",  # who filed it (account id)
)
