"""The registry of the published tables: every table of the `jira` and `analytics` schemas (and the
snapshot's `snapshot_info`), what one row is, and every column's type and meaning — written once.

It is the same mechanism as `pipelines/registry.py` (same `Column` and types) for the tables the
SQL transforms build. Derived from it: the Dagster column schemas with descriptions
(`assets/core/sql.py`, `assets/definitions.py`), the `COMMENT ON` of every table and column in
the analyst snapshot (`assets/publish/snapshot.py`), and the column tables of docs/analytics.md
(`markdown_columns()`, between `<!-- columns: schema.table -->` markers; `python -m
pipelines.published_tables --write docs/analytics.md` rewrites them). `tests/pipelines/
test_published_tables.py` fails when the docs, or the tables the transforms really build, disagree.

Imports nothing but pyarrow (through the registry's types).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from pipelines.registry import BIGINT, BOOL, DATE, DOUBLE, JSON, TEXT, TIMESTAMP, Column, ColumnType

INTEGER = ColumnType("integer", pa.int32(), "INTEGER")
BIGINT_LIST = ColumnType("bigint[]", pa.list_(pa.int64()), "BIGINT[]")
TEXT_LIST = ColumnType("text[]", pa.list_(pa.string()), "VARCHAR[]")
NO_TEAM = "(no team)"


@dataclass(frozen=True)
class PublishedTable:
    """One table analysts read: `schema.name`, what a row is, its grain, the asset that writes it."""

    schema: str
    name: str
    description: str
    columns: tuple[Column, ...]
    grain: tuple[str, ...]
    asset: str

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.qualified_name}: a column is declared twice")
        unknown = [n for n in self.grain if n not in names]
        if unknown:
            raise ValueError(f"{self.qualified_name}: the grain names unknown columns {unknown}")
        for column in self.columns:
            if len(column.description.strip()) < 8:
                raise ValueError(f"{self.qualified_name}.{column.name} has no description")

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        (column,) = [c for c in self.columns if c.name == name]
        return column


def _columns(*specs: tuple[str, ColumnType, str]) -> tuple[Column, ...]:
    return tuple(Column(name, kind, description) for name, kind, description in specs)


TENANT_ID = ("tenant_id", TEXT, "The sync file's tenant (`tenants[].id`) the row belongs to.")
CLOUD_ID = ("cloud_id", TEXT, "The Jira site (cloud ID); `jira.sync_sites` names it.")
ISSUE_ID = ("issue_id", TEXT, "Jira's issue id (a string, as Jira returns it).")
ISSUE_KEY = ("issue_key", TEXT, "The issue key, e.g. OPS-12 (changes when an issue moves project).")
PROJECT_ID = ("project_id", TEXT, "Jira's project id.")
PROJECT_KEY = ("project_key", TEXT, "The project key, e.g. OPS.")
SITE_NAME = ("site_name", TEXT, "The site's name in the sync file (`sites[].name`).")
TEAM_ID = (
    "team_id",
    TEXT,
    "The team the issue's work counts for (analytics.issue_teams); null when it has none.",
)
TEAM_NAME = (
    "team_name",
    TEXT,
    f"That team's name; '{NO_TEAM}' when the issue has no team (never null; team_rule says why).",
)
TEAM_RULE = (
    "team_rule",
    TEXT,
    "Why this team: assignee (the primary team of whoever was assigned when the issue was last "
    "closed, or now), project_default (the sync file's default team of the project), or "
    "none:<reason> with reason unassigned, assignee_in_no_team, no_team_sync or "
    "project_default_not_found.",
)
TYPE_CATEGORY = (
    "type_category",
    TEXT,
    "The mapped category: feature, bug, chore, discovery, incident or other.",
)
STATE = ("state", TEXT, "The mapped state: open, in_progress or closed.")
JIRA_ACCOUNT_ID = ("jira_account_id", TEXT, "The Atlassian account ID of the Jira user.")
LINKED_ACCOUNT_ID = ("account_id", TEXT, "The account it links to (jira.accounts); null while unlinked.")
SYNC_FILE = (
    "Copied from the sync file at the start of every transform run, so the SQL reads it from one place."
)

TABLES: tuple[PublishedTable, ...] = (
    PublishedTable(
        "jira",
        "issues",
        "Current state of every issue, one row per issue per site (deleted issues are gone), with its "
        "type mapped to a category and its status to a state. Webhooks update it between transform runs.",
        _columns(
            TENANT_ID,
            CLOUD_ID,
            ISSUE_ID,
            ISSUE_KEY,
            ("summary", TEXT, "The issue's summary (title)."),
            PROJECT_ID,
            PROJECT_KEY,
            ("issue_type_id", TEXT, "Jira's issue type id."),
            ("issue_type_name", TEXT, "Jira's issue type name (Story, Bug, ...)."),
            TYPE_CATEGORY,
            (
                "type_rule",
                TEXT,
                "The rule that decided type_category: custom:<KEY>, keyword:<word> or default.",
            ),
            ("status_id", TEXT, "Jira's current status id."),
            ("status_name", TEXT, "Jira's current status name."),
            ("status_category_key", TEXT, "The status category: new, indeterminate, done or undefined."),
            STATE,
            ("state_rule", TEXT, "The rule that decided state: override:<KEY> or category:<key>."),
            ("priority_name", TEXT, "Jira's priority name."),
            ("resolution_name", TEXT, "Jira's resolution name; null while unresolved."),
            ("parent_id", TEXT, "The parent issue's id (epic, or parent of a sub-task); null when none."),
            ("parent_key", TEXT, "The parent issue's key; null when none."),
            (
                "assignee_account_id",
                TEXT,
                "The current assignee's Atlassian account ID (join jira.user_links).",
            ),
            ("reporter_account_id", TEXT, "The reporter's Atlassian account ID."),
            ("creator_account_id", TEXT, "The creator's Atlassian account ID."),
            ("labels", JSON, "The issue's labels, a JSON array of strings."),
            ("created", TIMESTAMP, "When the issue was created (UTC)."),
            ("updated", TIMESTAMP, "When the issue was last updated in Jira (UTC)."),
            ("resolved", TIMESTAMP, "When Jira set the resolution (UTC); null while unresolved."),
            ("due_date", DATE, "The issue's due date; null when none."),
            ("synced_at", TIMESTAMP, "When this row was last loaded from Jira (sync or webhook)."),
        ),
        grain=("cloud_id", "issue_id"),
        asset="jira/issues",
    ),
    PublishedTable(
        "jira",
        "issue_type_categories",
        "The type mapping in force: one row per site, project and issue type an issue can have "
        "(site-wide types in every project, project-scoped types in their project, types seen on issues).",
        _columns(
            CLOUD_ID,
            PROJECT_ID,
            PROJECT_KEY,
            ("issue_type_id", TEXT, "Jira's issue type id."),
            ("issue_type_name", TEXT, "Jira's issue type name."),
            TYPE_CATEGORY,
            ("type_rule", TEXT, "The rule that decided: custom:<KEY>, keyword:<word> or default."),
        ),
        grain=("cloud_id", "project_id", "issue_type_id"),
        asset="jira/issue_type_categories",
    ),
    PublishedTable(
        "jira",
        "status_states",
        "The status mapping in force: one row per site, project and status, including statuses only "
        "seen in issue histories.",
        _columns(
            CLOUD_ID,
            PROJECT_ID,
            PROJECT_KEY,
            ("status_id", TEXT, "Jira's status id."),
            ("status_name", TEXT, "The status name (current name, so a renamed status stays one status)."),
            (
                "status_category_key",
                TEXT,
                "The status category: new, indeterminate, done, undefined; null for a status gone from the workflow.",
            ),
            STATE,
            (
                "state_rule",
                TEXT,
                "The rule that decided: override:<KEY>, category:<key> or category:unknown.",
            ),
        ),
        grain=("cloud_id", "project_id", "status_id"),
        asset="jira/status_states",
    ),
    PublishedTable(
        "jira",
        "accounts",
        "The accounts Jira users link to, per tenant. Persistent: rows are only added (or, for CSV "
        "accounts, updated from the CSV), never rebuilt.",
        _columns(
            TENANT_ID,
            ("account_id", TEXT, "The account's id (from the tenant's accounts CSV, or generated)."),
            ("kind", TEXT, "person, bot or customer; kinds are never merged."),
            ("email", TEXT, "The email, normalised (lower case, no spaces), as first known; null for a bot."),
            ("display_name", TEXT, "The account's name."),
            ("source", TEXT, "csv (imported from accounts_csv) or jira (created from a Jira user)."),
            ("created_at", TIMESTAMP, "When the account was created here."),
            ("updated_at", TIMESTAMP, "When the account was last changed (CSV updates)."),
        ),
        grain=("tenant_id", "account_id"),
        asset="jira/accounts",
    ),
    PublishedTable(
        "jira",
        "user_links",
        "One row per Jira user and the account it is linked to. Persistent: a link, once made, never "
        "changes, so it survives email changes.",
        _columns(
            TENANT_ID,
            CLOUD_ID,
            JIRA_ACCOUNT_ID,
            ("account_id", TEXT, "The linked account (jira.accounts)."),
            (
                "link_method",
                TEXT,
                "How it was linked: account_id (same Atlassian account on another site), csv_import, "
                "email, or new_account.",
            ),
            ("linked_at", TIMESTAMP, "When the link was made."),
        ),
        grain=("cloud_id", "jira_account_id"),
        asset="jira/user_links",
    ),
    PublishedTable(
        "jira",
        "unlinked_users",
        "Jira users left without an account, and why; rebuilt every run.",
        _columns(
            TENANT_ID,
            CLOUD_ID,
            JIRA_ACCOUNT_ID,
            ("display_name", TEXT, "The user's name in Jira."),
            ("account_type", TEXT, "Jira's account type: atlassian, app, customer or unknown."),
            ("kind", TEXT, "person, bot or customer."),
            ("active", BOOL, "Whether the Jira account is active."),
            (
                "reason",
                TEXT,
                "hidden_email (Jira does not show the email: the user's profile visibility, or the app "
                "lacks read:email-address:jira), no_email, or unknown_site.",
            ),
        ),
        grain=("cloud_id", "jira_account_id"),
        asset="jira/unlinked_users",
    ),
    PublishedTable(
        "jira",
        "teams",
        "Teams per site, by the site's team_sync.method: the Atlassian Teams of its organization "
        "(teams_api; every site of the organization lists them) or one team per Jira group (groups_api).",
        _columns(
            TENANT_ID,
            CLOUD_ID,
            ("team_id", TEXT, "The Atlassian team id, or the Jira group id."),
            ("team_name", TEXT, "The team's (or group's) name."),
            ("description", TEXT, "The team's description; null for groups."),
            ("state", TEXT, "The team's state (ACTIVE, ...); ACTIVE for groups."),
            ("team_type", TEXT, "The Teams API team type (OPEN, MEMBER_INVITE, ...); GROUP for groups."),
            ("organization_id", TEXT, "The Atlassian organization (teams_api); null for groups_api sites."),
            ("source", TEXT, "teams_api or groups_api."),
        ),
        grain=("cloud_id", "team_id"),
        asset="jira/teams",
    ),
    PublishedTable(
        "jira",
        "team_members",
        "Team membership per site, members resolved to accounts.",
        _columns(
            TENANT_ID,
            CLOUD_ID,
            ("team_id", TEXT, "The team (jira.teams)."),
            ("source", TEXT, "teams_api or groups_api."),
            JIRA_ACCOUNT_ID,
            LINKED_ACCOUNT_ID,
        ),
        grain=("cloud_id", "team_id", "jira_account_id"),
        asset="jira/team_members",
    ),
    PublishedTable(
        "jira",
        "primary_teams",
        "The one team each Jira user's work counts for: the smallest of their teams on the site "
        "(fewest members), then by name, so the teams of a project add up to the project.",
        _columns(
            TENANT_ID,
            CLOUD_ID,
            JIRA_ACCOUNT_ID,
            LINKED_ACCOUNT_ID,
            ("team_id", TEXT, "The user's primary team (jira.teams)."),
            ("team_name", TEXT, "That team's name."),
            ("team_count", BIGINT, "How many teams of the site the user is in."),
        ),
        grain=("cloud_id", "jira_account_id"),
        asset="jira/primary_teams",
    ),
    PublishedTable(
        "jira",
        "webhook_registrations",
        "One row per webhook-enabled site: its webhooks (dynamic or admin), the expiry of dynamic ones "
        "on Jira's clock, and the last action the lifecycle took (docs/webhooks.md).",
        _columns(
            TENANT_ID,
            SITE_NAME,
            CLOUD_ID,
            ("webhook_ids", BIGINT_LIST, "Jira's ids of the site's registered webhooks."),
            ("events", TEXT_LIST, "The webhook events registered (jira:issue_created, ...)."),
            ("jql_filter", TEXT, "The JQL filter registered with the webhooks."),
            ("url", TEXT, "The receiver URL Jira delivers to."),
            (
                "expires_at",
                TIMESTAMP,
                "When the webhooks expire (Jira's clock); null when none is registered, and for admin "
                "webhooks (they never expire).",
            ),
            ("days_left", DOUBLE, "Days until expires_at, on Jira's clock."),
            (
                "status",
                TEXT,
                "active, expiring, expired, missing, url_conflict, error or deleted.",
            ),
            ("action", TEXT, "What the last materialization did (observed, registered, refreshed, ...)."),
            ("jira_time", TIMESTAMP, "Jira's clock when the site was checked."),
            ("detail", TEXT, "What happened, or why it failed."),
            (
                "mode",
                TEXT,
                "dynamic (the OAuth app's 30-day webhooks) or admin (a Jira administrator's, no expiry, "
                "HMAC-signed).",
            ),
        ),
        grain=("tenant_id", "site_name"),
        asset="jira/webhook_registrations",
    ),
    PublishedTable(
        "jira",
        "sync_type_keywords",
        f"The type keywords in force (mappings.type_keywords). {SYNC_FILE}",
        _columns(
            ("category", TEXT, "The category the keyword maps to."),
            ("keyword", TEXT, "The keyword, lower case (a type name containing it matches)."),
            ("category_rank", INTEGER, "The category's precedence: 0 is checked first."),
            ("keyword_rank", INTEGER, "The keyword's position within its category."),
        ),
        grain=("category", "keyword"),
        asset="jira/issue_type_categories",
    ),
    PublishedTable(
        "jira",
        "sync_type_overrides",
        f"Custom per-project type mappings (mappings.projects.<KEY>.types). {SYNC_FILE}",
        _columns(
            TENANT_ID,
            SITE_NAME,
            PROJECT_KEY,
            ("type_key", TEXT, "The issue type id or name (case-insensitive) the mapping names."),
            ("category", TEXT, "The category it maps to."),
        ),
        grain=("tenant_id", "site_name", "project_key", "type_key"),
        asset="jira/issue_type_categories",
    ),
    PublishedTable(
        "jira",
        "sync_status_overrides",
        f"Per-project status overrides (mappings.projects.<KEY>.statuses). {SYNC_FILE}",
        _columns(
            TENANT_ID,
            SITE_NAME,
            PROJECT_KEY,
            ("status_key", TEXT, "The status id or name the override names."),
            ("state", TEXT, "The state it maps to."),
        ),
        grain=("tenant_id", "site_name", "project_key", "status_key"),
        asset="jira/status_states",
    ),
    PublishedTable(
        "jira",
        "sync_project_teams",
        f"Project default teams (mappings.projects.<KEY>.team). {SYNC_FILE}",
        _columns(
            TENANT_ID,
            SITE_NAME,
            PROJECT_KEY,
            ("team", TEXT, "The default team's name or id, as the sync file writes it."),
        ),
        grain=("tenant_id", "site_name", "project_key"),
        asset="analytics/issue_teams",
    ),
    PublishedTable(
        "jira",
        "sync_site_settings",
        f"Each configured site as the sync file describes it. {SYNC_FILE}",
        _columns(
            TENANT_ID,
            SITE_NAME,
            ("url", TEXT, "The site's URL, when the sync file gives it."),
            ("configured_cloud_id", TEXT, "The cloud ID the sync file gives; null when it gives a URL only."),
            ("team_method", TEXT, "team_sync.method: teams_api, groups_api or none."),
            ("organization_id", TEXT, "team_sync.organization_id (teams_api)."),
            ("sprint_field", TEXT, "issues.sprint_field: the site's Sprint field (custom field ID)."),
        ),
        grain=("tenant_id", "site_name"),
        asset="jira/issues",
    ),
    PublishedTable(
        "jira",
        "sync_sites",
        "Each configured site with the cloud ID it resolves to (the sync file's, else jira_raw.sites by "
        "name or URL): how SQL maps a row's cloud_id to its tenant and site settings.",
        _columns(
            TENANT_ID,
            SITE_NAME,
            ("url", TEXT, "The site's URL, when the sync file gives it."),
            ("cloud_id", TEXT, "The site's cloud ID; null until the reference sync has seen the site."),
            ("team_method", TEXT, "team_sync.method: teams_api, groups_api or none."),
            ("organization_id", TEXT, "team_sync.organization_id (teams_api)."),
            ("sprint_field", TEXT, "issues.sprint_field: the site's Sprint field (custom field ID)."),
        ),
        grain=("tenant_id", "site_name"),
        asset="jira/issues",
    ),
    PublishedTable(
        "jira",
        "issue_sprints",
        "One row per issue and sprint in its Sprint field now (closed sprints it was carried out of stay "
        "in the field, as in Jira).",
        _columns(
            TENANT_ID,
            CLOUD_ID,
            ISSUE_ID,
            ISSUE_KEY,
            PROJECT_KEY,
            ("sprint_id", TEXT, "The sprint (jira_raw.sprints.id)."),
            ("sprint_name", TEXT, "The sprint's name."),
            ("sprint_state", TEXT, "future, active or closed."),
            ("board_id", TEXT, "The board the sprint was created on."),
        ),
        grain=("cloud_id", "issue_id", "sprint_id"),
        asset="jira/issue_sprints",
    ),
    PublishedTable(
        "jira",
        "worklogs",
        "One row per worklog of an issue in jira.issues (worklogs of deleted issues go with them), with "
        "the author's account and primary team.",
        _columns(
            TENANT_ID,
            CLOUD_ID,
            ("worklog_id", TEXT, "Jira's worklog id."),
            ISSUE_ID,
            ISSUE_KEY,
            PROJECT_KEY,
            ("jira_account_id", TEXT, "The Atlassian account ID of who logged the work."),
            ("account_id", TEXT, "The account it links to (jira.accounts); null while unlinked."),
            ("team_id", TEXT, "The author's primary team (jira.primary_teams); null when in no team."),
            ("team_name", TEXT, f"That team's name; '{NO_TEAM}' when the author is in no team."),
            ("started", TIMESTAMP, "When the work started (UTC)."),
            ("time_spent_seconds", BIGINT, "Time logged, in seconds."),
            ("created", TIMESTAMP, "When the worklog was created (UTC)."),
            ("updated", TIMESTAMP, "When the worklog last changed (UTC)."),
        ),
        grain=("cloud_id", "worklog_id"),
        asset="jira/worklogs",
    ),
    PublishedTable(
        "analytics",
        "issue_status_history",
        "One row per issue per status interval, from creation to now, from the full changelog.",
        _columns(
            TENANT_ID,
            CLOUD_ID,
            ISSUE_ID,
            ISSUE_KEY,
            PROJECT_ID,
            PROJECT_KEY,
            (
                "interval_number",
                BIGINT,
                "0 for the first interval (from creation), then one per status change.",
            ),
            ("status_id", TEXT, "The status of the interval."),
            ("status_name", TEXT, "Its current name (a renamed status stays one status)."),
            ("state", TEXT, "Its state (open, in_progress, closed), by the mapping of the issue's project."),
            ("previous_state", TEXT, "The state of the interval before; null for the first."),
            ("entered_at", TIMESTAMP, "When the interval began (creation, or the status change)."),
            ("left_at", TIMESTAMP, "When it ended; null for the current status."),
            ("hours_in_status", DOUBLE, "left_at - entered_at in hours; null for the current interval."),
            (
                "changed_by_account_id",
                TEXT,
                "Who made the change that started the interval; null for the first.",
            ),
        ),
        grain=("cloud_id", "issue_id", "interval_number"),
        asset="analytics/issue_status_history",
    ),
    PublishedTable(
        "analytics",
        "issue_teams",
        "One row per issue: the team its work counts for in every team metric and chart, and why.",
        _columns(
            TENANT_ID,
            CLOUD_ID,
            ISSUE_ID,
            ISSUE_KEY,
            PROJECT_ID,
            PROJECT_KEY,
            (
                "work_assignee_account_id",
                TEXT,
                "Who did the work: the last person assigned at or before the issue was last closed (for an "
                "issue not closed now: the last person assigned); null when nobody ever was.",
            ),
            TEAM_ID,
            TEAM_NAME,
            TEAM_RULE,
        ),
        grain=("cloud_id", "issue_id"),
        asset="analytics/issue_teams",
    ),
    PublishedTable(
        "analytics",
        "issue_cycle_times",
        "One row per issue: the clocks of its flow (durations in hours).",
        _columns(
            TENANT_ID,
            CLOUD_ID,
            ISSUE_ID,
            ISSUE_KEY,
            PROJECT_ID,
            PROJECT_KEY,
            ("issue_type_name", TEXT, "Jira's issue type name."),
            TYPE_CATEGORY,
            (
                "assignee_account_id",
                TEXT,
                "The current assignee (the team follows whoever did the work instead).",
            ),
            TEAM_ID,
            TEAM_NAME,
            TEAM_RULE,
            ("state", TEXT, "The issue's state now: open, in_progress or closed."),
            ("created", TIMESTAMP, "When the issue was created."),
            ("first_in_progress_at", TIMESTAMP, "The first time the issue entered an in_progress state."),
            (
                "closed_at",
                TIMESTAMP,
                "The last entry into a closed state (from a non-closed one, or at creation), only while the "
                "issue is closed now; null for open issues.",
            ),
            ("lead_time_hours", DOUBLE, "created -> closed_at, in hours; null while not closed."),
            (
                "cycle_time_hours",
                DOUBLE,
                "first_in_progress_at -> closed_at, in hours; null when the issue was closed without ever "
                "being in progress, or is not closed.",
            ),
            (
                "in_progress_hours",
                DOUBLE,
                "The sum of all in_progress intervals (an open one counts up to as_of).",
            ),
            (
                "reopen_count",
                BIGINT,
                "Transitions from a closed state to a non-closed one (Done -> Closed is not one).",
            ),
            ("status_changes", BIGINT, "How many times the status changed."),
            (
                "age_hours",
                DOUBLE,
                "created -> as_of, in hours, for issues not closed now; null for closed ones.",
            ),
            ("as_of", TIMESTAMP, "When the transform ran (the clocks of open issues run to it)."),
        ),
        grain=("cloud_id", "issue_id"),
        asset="analytics/issue_cycle_times",
    ),
    PublishedTable(
        "analytics",
        "flow_daily",
        "Per site, project, team and UTC day, every day from the group's first event to today: WIP, "
        "arrivals and throughput. Teams as in analytics.issue_teams, so the teams of a project add up "
        "to the project.",
        _columns(
            TENANT_ID,
            CLOUD_ID,
            PROJECT_ID,
            PROJECT_KEY,
            TEAM_ID,
            TEAM_NAME,
            ("day", DATE, "The UTC day."),
            ("wip", BIGINT, "Issues in an in_progress state at the end of the day (today: now)."),
            ("arrivals", BIGINT, "Issues created that day."),
            (
                "throughput",
                BIGINT,
                "Entries into a closed state that day (closed, reopened and closed again on another day "
                "counts on both days).",
            ),
        ),
        grain=("cloud_id", "project_id", "team_id", "day"),
        asset="analytics/flow_daily",
    ),
    PublishedTable(
        "analytics",
        "sprint_membership",
        "Sprint membership over time: one row per stay of an issue in a sprint, from the Sprint field's "
        "changelog and its value now (an issue created in a sprint joins at its creation).",
        _columns(
            CLOUD_ID,
            ("sprint_id", TEXT, "The sprint (jira_raw.sprints.id)."),
            ISSUE_ID,
            ("joined_at", TIMESTAMP, "When the issue joined the sprint (UTC)."),
            ("left_at", TIMESTAMP, "When it left the sprint (UTC); null while it is still in it."),
        ),
        grain=("cloud_id", "sprint_id", "issue_id", "joined_at"),
        asset="analytics/sprint_membership",
    ),
    PublishedTable(
        "analytics",
        "sprint_reports",
        "Jira's sprint report, one row per started sprint: issues (and story points) committed at the "
        "start, added, removed, completed, not completed and carried over. An active sprint counts up "
        "to now.",
        _columns(
            CLOUD_ID,
            ("board_id", TEXT, "The board the sprint was created on."),
            ("board_name", TEXT, "That board's name."),
            PROJECT_KEY,
            ("sprint_id", TEXT, "The sprint (jira_raw.sprints.id)."),
            ("sprint_name", TEXT, "The sprint's name."),
            ("state", TEXT, "active or closed."),
            ("start_date", TIMESTAMP, "When the sprint started (UTC)."),
            ("end_date", TIMESTAMP, "When it was planned to end (UTC)."),
            ("complete_date", TIMESTAMP, "When it was completed (UTC); null while active."),
            ("estimation_field_id", TEXT, "The field the board estimates with (e.g. customfield_10016)."),
            ("committed_issues", BIGINT, "Issues in the sprint when it started."),
            ("added_issues", BIGINT, "Issues that joined after the start."),
            ("removed_issues", BIGINT, "Issues that left while it ran and were not in it at its end."),
            (
                "completed_issues",
                BIGINT,
                "Issues in it at its completion (active: now) in a closed state then.",
            ),
            (
                "not_completed_issues",
                BIGINT,
                "Issues in it at its completion, not closed then; null while active.",
            ),
            (
                "carried_over_issues",
                BIGINT,
                "Of those, the ones moved to another sprint at the completion (the rest went to the backlog).",
            ),
            (
                "committed_points",
                DOUBLE,
                "Estimate of the committed issues at the start (the board's estimation field, when the site keeps it in issues.extra_fields).",
            ),
            (
                "added_points",
                DOUBLE,
                "Estimate of the added issues when they joined (the board's estimation field, when the site keeps it in issues.extra_fields).",
            ),
            (
                "removed_points",
                DOUBLE,
                "Estimate of the removed issues when they left (the board's estimation field, when the site keeps it in issues.extra_fields).",
            ),
            (
                "completed_points",
                DOUBLE,
                "Estimate of the completed issues at the completion (the board's estimation field, when the site keeps it in issues.extra_fields).",
            ),
            (
                "not_completed_points",
                DOUBLE,
                "Estimate of the not completed issues at the completion (the board's estimation field, when the site keeps it in issues.extra_fields); null while active.",
            ),
        ),
        grain=("cloud_id", "sprint_id"),
        asset="analytics/sprint_reports",
    ),
    PublishedTable(
        "analytics",
        "time_logged",
        "Time logged per site, project, issue, person, team and UTC day the work started: sum over any "
        "of them for time per issue, person or team.",
        _columns(
            TENANT_ID,
            CLOUD_ID,
            PROJECT_KEY,
            ISSUE_ID,
            ISSUE_KEY,
            ("jira_account_id", TEXT, "The Atlassian account ID of who logged the work."),
            ("account_id", TEXT, "The account it links to (jira.accounts); null while unlinked."),
            ("team_id", TEXT, "The author's primary team (jira.primary_teams); null when in no team."),
            ("team_name", TEXT, f"That team's name; '{NO_TEAM}' when the author is in no team."),
            ("day", DATE, "The UTC day the work started."),
            ("worklogs", BIGINT, "Worklogs of that issue, person and day."),
            ("seconds", BIGINT, "Time logged, in seconds."),
            ("hours", DOUBLE, "Time logged, in hours (2 decimals)."),
        ),
        grain=("cloud_id", "issue_id", "jira_account_id", "day"),
        asset="analytics/time_logged",
    ),
    PublishedTable(
        "main",
        "snapshot_info",
        "In the analyst snapshot only: which run published it, when, and how many rows each table had.",
        _columns(
            ("published_at", TIMESTAMP, "When the snapshot was written."),
            ("run_id", TEXT, "The Dagster run that wrote it."),
            ("table_name", TEXT, "A published table (schema.table)."),
            ("row_count", BIGINT, "Its row count in this snapshot."),
        ),
        grain=("table_name",),
        asset="publish/analyst_snapshot",
    ),
)

_BY_NAME = {t.qualified_name: t for t in TABLES}
if len(_BY_NAME) != len(TABLES):
    raise ValueError("a published table is declared twice")


def table(qualified_name: str) -> PublishedTable:
    """The registered table `schema.name`."""
    try:
        return _BY_NAME[qualified_name]
    except KeyError:
        raise KeyError(
            f"{qualified_name} is not in pipelines/published_tables.py: add it there with a description "
            "of every column"
        ) from None


def find(qualified_name: str) -> PublishedTable | None:
    return _BY_NAME.get(qualified_name)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_statements(catalog: str, existing: set[str]) -> list[str]:
    """`COMMENT ON` every registered table of `existing` (qualified names) and its columns in `catalog`."""
    statements = []
    for registered in TABLES:
        if registered.qualified_name not in existing:
            continue
        target = f'"{catalog}"."{registered.schema}"."{registered.name}"'
        statements.append(f"COMMENT ON TABLE {target} IS {_sql_text(registered.description)}")
        statements += [
            f'COMMENT ON COLUMN {target}."{c.name}" IS {_sql_text(c.description)}' for c in registered.columns
        ]
    return statements


def _markdown_text(text: str) -> str:
    return text.replace("|", "&#124;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_columns(qualified_name: str) -> str:
    """The docs table of one published table's columns."""
    registered = table(qualified_name)
    rows = ["| column | type | meaning |", "|---|---|---|"]
    rows += [
        f"| `{c.name}` | {c.type.duckdb} | {_markdown_text(c.description)} |" for c in registered.columns
    ]
    return "\n".join(rows) + "\n"


COLUMNS_BLOCK = re.compile(
    r"(<!-- columns: (?P<name>[\w.]+) -->\n)(?P<table>.*?)(<!-- /columns -->)", re.DOTALL
)


def rewrite_docs(text: str) -> str:
    """`text` with every `<!-- columns: schema.table -->` block regenerated from the registry."""
    return COLUMNS_BLOCK.sub(lambda m: m[1] + markdown_columns(m["name"]) + m[4], text)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write"]:
        for doc in map(Path, sys.argv[2:]):
            doc.write_text(rewrite_docs(doc.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        for registered in TABLES:
            print(f"### `{registered.qualified_name}`\n{registered.description}\n")
            print(markdown_columns(registered.qualified_name))
