"""The `jira_raw` tables: what each holds, and which sync-file entities need it.

The sync file selects entities per site (`entities: [issues, projects, ...]`); a table is synced,
and its asset defined, only when at least one site needs it.
"""

from __future__ import annotations

from pipelines.config import SiteConfig, SyncConfig

DATASET = "jira_raw"
GROUP = "jira_raw"
KIND_TAG = "jira_sync/kind"

# Monthly by created: an issue's created timestamp never changes, so the months are disjoint and
# every issue lives in exactly one partition; re-running a month re-reads the same issues and merges
# them on (cloud_id, id), which changes nothing. Months keep a partition at a few thousand issues
# for busy sites, small enough to retry cheaply, few enough to show a decade in the UI.
ISSUES_PARTITIONING_WHY = (
    "Partitioned by the month an issue was created: created never changes, so partitions are "
    "disjoint and every issue lives in exactly one of them; a partition's window [start, end) is "
    "passed to the source as a bounded, stateless created range, and the rows merge on "
    "(cloud_id, id), so re-running a partition (or two overlapping backfills) never duplicates a row."
)

DESCRIPTIONS: dict[str, str] = {
    "sites": "One row per Jira site the sync file names: cloud_id, tenant_id, name, url. Lets SQL map "
    "every row's cloud_id to its tenant and site settings.",
    "projects": "Projects visible to the connecting account, per site (merge: a complete site snapshot "
    "replaces that site's rows).",
    "issue_types": "Issue types per site, including team-managed (project-scoped) ones.",
    "statuses": "Workflow statuses per site with their status category.",
    "status_categories": "The status categories of each site (To Do / In Progress / Done / No Category).",
    "users": "Jira accounts per site: atlassian, app (bots) and customer accounts; email_address is "
    "null when the user hides it.",
    "groups": "Jira groups per site (with the groups_api team-sync method, groups become teams).",
    "group_members": "Group membership per site, one row per (group, account).",
    "teams": "Atlassian Teams of the organization (Teams API, email + API token), per organization.",
    "team_members": "Atlassian Teams membership, one row per (team, account).",
    "issues": "Current state of every issue, merged on (cloud_id, id); deleted issues are removed "
    "(hard delete) by the census and webhooks. " + ISSUES_PARTITIONING_WHY,
    "issue_changelog": "The full changelog (never the truncated embedded one): one row per changed "
    "field of every history. A load replaces an issue's whole changelog. " + ISSUES_PARTITIONING_WHY,
    "issue_updates": "The incremental sweep: re-reads issues updated since each site's watermark "
    "(epoch milliseconds, minus the configured overlap, so no time zone can skew it) and merges them "
    "into jira_raw.issues and jira_raw.issue_changelog (owned by the jira_raw/issues asset); this "
    "table logs every change the sweep found, which feeds the webhook miss-rate check.",
    "issue_deletions": "The issue-ID census: id-only searches per project find issues that are in the "
    "warehouse but no longer in Jira; they are hard-deleted from jira_raw.issues and "
    "jira_raw.issue_changelog (owned by the jira_raw/issues asset) and logged here with when and why.",
    "project_access": "Written by the census: per project, whether the connecting account still "
    "sees it. A project that vanished is reported as lost access, not as thousands of deletions.",
}

REFERENCE_TABLES_BY_ENTITY: dict[str, tuple[str, ...]] = {
    "projects": ("projects",),
    "issue_types": ("issue_types",),
    "statuses": ("statuses", "status_categories"),
    "users": ("users",),
    "groups": ("groups", "group_members"),
}


def reference_tables(config: SyncConfig) -> list[str]:
    """The reference tables some site needs; `sites` is always written."""
    tables = {"sites"}
    for _tenant, site in config.iter_sites():
        for entity in site.entities:
            tables.update(REFERENCE_TABLES_BY_ENTITY.get(entity, ()))
        if _groups_become_teams(site):
            tables.update(("groups", "group_members"))
    return [t for t in DESCRIPTIONS if t in tables]


def syncs_teams(config: SyncConfig) -> bool:
    """Atlassian Teams are synced when a site selects `teams` with the teams_api method."""
    return any(site.syncs_teams_api for _tenant, site in config.iter_sites())


def syncs_issues(config: SyncConfig) -> bool:
    return any("issues" in site.entities for _tenant, site in config.iter_sites())


def _groups_become_teams(site: SiteConfig) -> bool:
    return "teams" in site.entities and site.team_sync.method == "groups_api"
