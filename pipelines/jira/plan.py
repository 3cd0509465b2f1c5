"""What a backfill will cost before it runs: issues, requests, Atlassian points and hours.

A 1M-issue history over OAuth costs about a million points, some fifteen hours of a whole app's
default quota (65,000 points an hour shared by every tenant), while API-token traffic is not
charged points at all. The plan asks Jira two cheap questions per site and window: how many
issues (`search/approximate-count`, the count the backfill itself plans its windows with) and,
from one sample page, how many issues' embedded changelogs are truncated (each of those needs
`changelog/bulkfetch`). From these it counts what the backfill will send, with the same page
sizes and windows, and prices it with Atlassian's rule (1 point a request, plus 1 per issue
returned; `quota.costs`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipelines.config import SyncConfig
from pipelines.jira import WINDOWS_PER_WORKER
from pipelines.jira.client import JiraHttp
from pipelines.jira.issues import approximate_count, issue_pages
from pipelines.jira.runtime import SiteRuntime
from pipelines.jira.settings import CHANGELOG_BULK_MAX_ISSUES, SEARCH_PAGE_SIZE
from pipelines.jira.windows import Window


@dataclass
class SitePlan:
    """The estimate for one site and window."""

    label: str
    auth_method: str
    issues: int
    truncated_share: float  # of the sample page: issues whose changelog needs a bulk fetch
    search_requests: int
    changelog_requests: int
    planning_requests: int
    points: int  # what OAuth would be charged; API-token traffic is not charged points

    @property
    def requests(self) -> int:
        return self.search_requests + self.changelog_requests + self.planning_requests


def plan_site(http: JiraHttp, site: SiteRuntime, window: Window) -> SitePlan:
    """Count and sample one site's window (2 requests) and price the backfill of it."""
    client = http.rest_client(site.api_base_url, site.auth)
    scope = site.config.issues.jql
    issues = approximate_count(client, window.where(scope))
    sample = next(iter(issue_pages(client, window.jql(scope))), []) if issues else []
    truncated = sum(1 for issue in sample if not issue.changelog_complete())
    share = truncated / len(sample) if sample else 0.0
    windows = min(http.config.concurrency * WINDOWS_PER_WORKER, max(1, math.ceil(issues / SEARCH_PAGE_SIZE)))
    # Each window ends on a partial page; an empty window still answers one page.
    search_requests = math.ceil(issues / SEARCH_PAGE_SIZE) + (windows - 1 if issues else 1)
    bulk_issues = round(issues * share)
    # Long histories cluster (old, busy issues), so the truncated issues share few pages: about one
    # bulk fetch per window, more when a window holds over CHANGELOG_BULK_MAX_ISSUES of them.
    changelog_requests = (
        max(windows, math.ceil(bulk_issues / CHANGELOG_BULK_MAX_ISSUES)) if bulk_issues else 0
    )
    # A worker that runs dry splits a busy window; the busy one reads on to the split point, and
    # its last page returns issues past it that are dropped, yet charged (measured: a quarter to
    # three quarters of a page per extra worker, half on average; tests/pipelines/jira/test_plan.py,
    # benchmarks/quota_backfill.py).
    overfetched = round((min(http.config.concurrency, windows) - 1) * SEARCH_PAGE_SIZE * 0.5) if issues else 0
    planning_requests = 1  # the backfill's own approximate count
    points = (
        (search_requests + issues + overfetched) + (changelog_requests + bulk_issues) + planning_requests * 2
    )
    return SitePlan(
        label=site.label,
        auth_method=site.config.auth.method_for("backfill"),
        issues=issues,
        truncated_share=share,
        search_requests=search_requests,
        changelog_requests=changelog_requests,
        planning_requests=planning_requests,
        points=points,
    )


@dataclass
class BackfillPlan:
    window: Window
    sites: list[SitePlan]
    points_per_hour: int
    backfill_share: float  # of each hour the budget lets a backfill use (1 - reserve_share)
    requests_per_second: float  # the sync file's request-rate limit per run

    @property
    def oauth_points(self) -> int:
        return sum(site.points for site in self.sites if site.auth_method == "oauth")

    @property
    def oauth_hours(self) -> float:
        """Hours the OAuth sites' points take at the backfill's share of the app's quota."""
        return self.oauth_points / (self.points_per_hour * self.backfill_share)

    def request_hours(self, requests: int) -> float:
        return requests / self.requests_per_second / 3600

    def lines(self) -> list[str]:
        """The plan as a person reads it."""
        out = [f"backfill of issues created {self.window.label()}"]
        for site in self.sites:
            out.append(
                f"  {site.label} ({site.auth_method}): about {site.issues:,} issues, {site.requests:,} requests "
                f"({site.search_requests:,} search pages, {site.changelog_requests:,} changelog bulk fetches; "
                f"{site.truncated_share:.0%} of a sample page had truncated changelogs), "
                f"{site.points:,} points if charged"
            )
        requests = sum(site.requests for site in self.sites)
        seconds = self.request_hours(requests) * 3600
        token_time = f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
        out.append(
            f"  OAuth: {self.oauth_points:,} points of the app's quota = {self.oauth_hours:.1f} h at "
            f"{self.backfill_share:.0%} of {self.points_per_hour:,} points/h (quota.points_per_hour, "
            "less quota.reserve_share kept for sweeps and webhook refreshes of every tenant)"
        )
        out.append(
            f"  API token (auth.backfill_method: api_token): 0 points; {requests:,} requests take at least "
            f"{token_time} at http.max_requests_per_second "
            f"{self.requests_per_second:g} (Jira's burst limits apply)"
        )
        return out


def plan_backfill(
    http: JiraHttp, sites: list[SiteRuntime], window: Window, config: SyncConfig
) -> BackfillPlan:
    return BackfillPlan(
        window=window,
        sites=[plan_site(http, site, window) for site in sites if site.syncs("issues")],
        points_per_hour=config.quota.points_per_hour,
        backfill_share=1 - config.quota.reserve_share,
        requests_per_second=config.http.max_requests_per_second,
    )
