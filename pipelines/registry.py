"""The one registry of `jira_raw` tables: every fact about a table is written here, once.

Each `Table` says what a row is, which sync-file entity needs it, its columns (type and meaning),
its logical key, its merge key, how loads write it, which column hard-deletes, how the
simulator's ground truth names its rows, and which asset writes it. Everything else is derived:
the Arrow schemas and dlt hints (`pipelines/jira/tables.py`), the typed DuckDB views and DDL of the
transforms (`assets/core/raw_views.py`), the Dagster descriptions and column schemas
(`assets/raw/catalog.py`), the entity lists of the sync file (`pipelines/config_fields.py`), the
truth checks (`jira_sync/truth_check.py`) and the table in docs/architecture.md
(`markdown_table()`; `tests/pipelines/test_registry.py` fails when the two disagree).

Imports nothing but pyarrow, so the sync-file models can read it without loading dlt.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

DATASET = "jira_raw"


@dataclass(frozen=True)
class ColumnType:
    """A column type as Arrow (what sources yield) and DuckDB (what the transforms read) spell it."""

    name: str
    arrow: pa.DataType
    duckdb: str


TEXT = ColumnType("text", pa.string(), "VARCHAR")
# JSON held as text: dlt stores it as text, the transforms' views cast it to DuckDB's JSON.
JSON = ColumnType("json", pa.string(), "JSON")
TIMESTAMP = ColumnType("timestamp", pa.timestamp("us", tz="UTC"), "TIMESTAMPTZ")
DATE = ColumnType("date", pa.date32(), "DATE")
BOOL = ColumnType("bool", pa.bool_(), "BOOLEAN")
BIGINT = ColumnType("bigint", pa.int64(), "BIGINT")
DOUBLE = ColumnType("double", pa.float64(), "DOUBLE")


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str


@dataclass(frozen=True)
class Truth:
    """How the simulator's ground truth (`/_sim/truth`) names this table's rows.

    `scope` "site": `truth["sites"][cloud_id][table]`, rows of that cloud_id; "organization":
    `truth["organizations"][org_id][table]`, rows of that organization_id. `row_id` is the SQL
    expression of the id the truth lists (composite ids joined with ':').
    """

    scope: Literal["site", "organization"]
    row_id: str


Disposition = Literal["merge", "insert-only", "append", "sql"]


@dataclass(frozen=True)
class Table:
    """One `jira_raw` table.

    - `entity`: the sync-file entity (`sites[].entities`) that needs the table; None = always synced.
    - `key`: the logical primary key; every load is unique by it.
    - `merge_key`: a load replaces every stored row sharing it (a site's snapshot, an issue's
      changelog); such a table gets only this hint from dlt (see `pipelines/jira/tables.py`).
    - `disposition`: `merge` (dlt delete-insert), `insert-only` (a key seen again keeps its first
      row), `append`, or `sql` (not a dlt table: written with SQL by its owner).
    - `hard_delete`: the boolean column whose True removes the key's rows.
    - `dedup_sort`: within one load, the row with the highest value of this column wins.
    - `source`: the dlt source (`pipelines/jira/__init__.py`) that loads it, or `webhook_ingest`.
    - `owner`: the asset that writes the table; `other_writers`: assets that write it besides.
    """

    name: str
    entity: str | None
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    source: str
    owner: str
    merge_key: tuple[str, ...] = ()
    disposition: Disposition = "merge"
    hard_delete: str | None = None
    dedup_sort: str | None = None
    truth: Truth | None = None
    other_writers: tuple[str, ...] = ()
    _by_name: dict[str, Column] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: a column is declared twice")
        named = [*self.key, *self.merge_key, *filter(None, (self.hard_delete, self.dedup_sort))]
        unknown = [n for n in named if n not in self._by_name]
        if unknown:
            raise ValueError(f"{self.name}: keys or hints name unknown columns {unknown}")
        for column in self.columns:
            if not column.description.strip():
                raise ValueError(f"{self.name}.{column.name} has no description")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return self._by_name[name]

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Key and merge-key columns: never null, and present whenever the table exists."""
        return tuple(dict.fromkeys((*self.key, *self.merge_key)))

    @property
    def writers(self) -> tuple[str, ...]:
        return (self.owner, *self.other_writers)


def _columns(*specs: tuple[str, ColumnType, str]) -> tuple[Column, ...]:
    return tuple(Column(name, kind, description) for name, kind, description in specs)


CLOUD_ID = ("cloud_id", TEXT, "The Jira site (cloud ID) the row comes from; part of every key.")
ORGANIZATION_ID = ("organization_id", TEXT, "The Atlassian organization the team belongs to.")
ACCOUNT_ID = ("account_id", TEXT, "Atlassian account ID of the member.")
SCOPE_PROJECT_ID = (
    "scope_project_id",
    TEXT,
    "Project ID of a team-managed (next-gen) project that owns it; null when site-wide.",
)
DELETED = ("deleted", BOOL, "Hard-delete marker: a row loaded with true removes the key's rows.")
ISSUES_PARTITIONING_WHY = (
    "Partitioned by the month an issue was created: created never changes, so partitions are "
    "disjoint and every issue lives in exactly one of them; a partition's window [start, end) is "
    "passed to the source as a bounded, stateless created range, and the rows merge on "
    "(cloud_id, id), so re-running a partition (or two overlapping backfills) never duplicates a row."
)
SWEEP = "jira_raw/issue_updates"
CENSUS = "jira_raw/issue_deletions"
WEBHOOK_DRAIN = "jira_raw/webhook_events"
WEBHOOK_SOURCE = "webhook_ingest"
WEBHOOK_ISSUES = "jira_raw/webhook_issues"
WEBHOOK_CHANGELOG = "jira_raw/webhook_changelog"


SITE_ROW = Truth("site", "id")


def _site_snapshot(
    name: str,
    entity: str,
    description: str,
    *columns: tuple[str, ColumnType, str],
    key: tuple[str, ...],
    truth: Truth | None = SITE_ROW,
) -> Table:
    """A table a complete per-site snapshot replaces (merge_key cloud_id)."""
    return Table(
        name,
        entity,
        description,
        _columns(CLOUD_ID, *columns),
        key=key,
        merge_key=("cloud_id",),
        source="jira_reference",
        owner=f"{DATASET}/{name}",
        truth=truth,
    )


TABLES: tuple[Table, ...] = (
    Table(
        "sites",
        None,
        "One row per Jira site the sync file names. Lets SQL map every row's cloud_id to its "
        "tenant and site settings.",
        _columns(
            CLOUD_ID,
            ("tenant_id", TEXT, "The sync file's tenant the site belongs to (`tenants[].id`)."),
            ("name", TEXT, "The site's name in the sync file (`sites[].name`)."),
            ("url", TEXT, "The site's URL (https://<site>.atlassian.net), when the sync file gives it."),
        ),
        key=("cloud_id",),
        source="jira_reference",
        owner="jira_raw/sites",
    ),
    _site_snapshot(
        "projects",
        "projects",
        "Projects visible to the connecting account, per site (a complete site snapshot replaces "
        "that site's rows).",
        ("id", TEXT, "Jira project ID."),
        ("key", TEXT, "Project key, the prefix of its issue keys (e.g. PLAT)."),
        ("name", TEXT, "Project name."),
        ("project_type_key", TEXT, "software, service_desk or business."),
        ("style", TEXT, "classic (company-managed) or next-gen (team-managed)."),
        ("simplified", BOOL, "True for team-managed projects."),
        ("archived", BOOL, "True when the project is archived."),
        ("category_name", TEXT, "The project's category, if any."),
        ("lead_account_id", TEXT, "Account ID of the project lead."),
        key=("cloud_id", "id"),
    ),
    _site_snapshot(
        "issue_types",
        "issue_types",
        "Issue types per site, including team-managed (project-scoped) ones.",
        ("id", TEXT, "Issue type ID."),
        ("name", TEXT, "Issue type name (Story, Bug, ...): what the type-category keywords match."),
        ("description", TEXT, "The type's description."),
        ("subtask", BOOL, "True for sub-task types."),
        ("hierarchy_level", BIGINT, "-1 sub-task, 0 standard, 1 epic (higher: above epics)."),
        SCOPE_PROJECT_ID,
        key=("cloud_id", "id"),
    ),
    _site_snapshot(
        "statuses",
        "statuses",
        "Workflow statuses per site with their status category.",
        ("id", TEXT, "Status ID (global, or of a team-managed project)."),
        ("name", TEXT, "Status name (To Do, In Review, ...)."),
        ("status_category_id", TEXT, "ID of the status category."),
        ("status_category_key", TEXT, "new, indeterminate, done or undefined: what the state mapping reads."),
        SCOPE_PROJECT_ID,
        key=("cloud_id", "id"),
    ),
    _site_snapshot(
        "status_categories",
        "statuses",
        "The status categories of each site (To Do / In Progress / Done / No Category).",
        ("id", TEXT, "Status category ID (1 No Category, 2 To Do, 3 Done, 4 In Progress)."),
        ("key", TEXT, "undefined, new, done or indeterminate."),
        ("name", TEXT, "Display name (No Category, To Do, Done, In Progress)."),
        ("color_name", TEXT, "The category's colour in Jira's UI."),
        key=("cloud_id", "id"),
    ),
    _site_snapshot(
        "users",
        "users",
        "Jira accounts per site: atlassian, app (bots) and customer accounts; email_address is "
        "null when the user hides it.",
        ("account_id", TEXT, "Atlassian account ID (the identity across sites and products)."),
        (
            "account_type",
            TEXT,
            "atlassian (people), app (bots, integrations), customer (service desk) or unknown.",
        ),
        ("display_name", TEXT, "The name Jira shows."),
        ("email_address", TEXT, "Email, or null when the user's profile hides it."),
        ("active", BOOL, "False for deactivated accounts."),
        ("time_zone", TEXT, "The user's time zone (IANA name)."),
        ("locale", TEXT, "The user's locale, e.g. en_US."),
        key=("cloud_id", "account_id"),
        truth=Truth("site", "account_id"),
    ),
    _site_snapshot(
        "groups",
        "groups",
        "Jira groups per site (with the groups_api team-sync method, groups become teams).",
        ("group_id", TEXT, "Group ID (stable; names can change)."),
        ("name", TEXT, "Group name."),
        key=("cloud_id", "group_id"),
        truth=Truth("site", "group_id"),
    ),
    _site_snapshot(
        "group_members",
        "groups",
        "Group membership per site, one row per (group, account); inactive members included.",
        ("group_id", TEXT, "Group ID."),
        ("account_id", TEXT, "Atlassian account ID of the member."),
        key=("cloud_id", "group_id", "account_id"),
        truth=Truth("site", "group_id || ':' || account_id"),
    ),
    Table(
        "teams",
        "teams",
        "Atlassian Teams of the organization (Teams API, email + API token), per organization.",
        _columns(
            ORGANIZATION_ID,
            ("team_id", TEXT, "Atlassian team ID."),
            ("cloud_id", TEXT, "The site used as `siteId` when the teams were listed."),
            ("display_name", TEXT, "Team name."),
            ("description", TEXT, "Team description."),
            ("state", TEXT, "ACTIVE or ARCHIVED."),
            ("team_type", TEXT, "OPEN, MEMBER_INVITE, EXTERNAL or ORG_ADMIN_MANAGED."),
        ),
        key=("organization_id", "team_id"),
        merge_key=("organization_id",),
        source="jira_teams",
        owner="jira_raw/teams",
        truth=Truth("organization", "team_id"),
    ),
    Table(
        "team_members",
        "teams",
        "Atlassian Teams membership, one row per (team, account).",
        _columns(ORGANIZATION_ID, ("team_id", TEXT, "Atlassian team ID."), ACCOUNT_ID),
        key=("organization_id", "team_id", "account_id"),
        merge_key=("organization_id",),
        source="jira_teams",
        owner="jira_raw/team_members",
        truth=Truth("organization", "team_id || ':' || account_id"),
    ),
    _site_snapshot(
        "boards",
        "sprints",
        "Jira Software boards per site (agile API): scrum, kanban and simple (team-managed) boards, "
        "with the field each board estimates with (story points).",
        ("id", TEXT, "Board ID."),
        ("name", TEXT, "Board name."),
        ("type", TEXT, "scrum, kanban or simple (team-managed)."),
        ("project_id", TEXT, "ID of the project the board belongs to (its location), if any."),
        ("project_key", TEXT, "Key of that project."),
        (
            "estimation_field_id",
            TEXT,
            "The field the board estimates with (board configuration `estimation`), e.g. "
            "customfield_10016 for story points; null when the board counts issues.",
        ),
        ("filter_id", TEXT, "ID of the saved filter that selects the board's issues."),
        key=("cloud_id", "id"),
        truth=SITE_ROW,
    ),
    _site_snapshot(
        "sprints",
        "sprints",
        "Sprints of every scrum board per site: state and dates (a sprint listed by two boards is "
        "stored once, with the board it was created on).",
        ("id", TEXT, "Sprint ID (the IDs the issues' Sprint field holds)."),
        ("board_id", TEXT, "The board the sprint was created on (originBoardId)."),
        ("name", TEXT, "Sprint name."),
        ("state", TEXT, "future, active or closed."),
        ("start_date", TIMESTAMP, "When the sprint started (planned start for future sprints), UTC."),
        ("end_date", TIMESTAMP, "When the sprint is planned to end, UTC."),
        ("complete_date", TIMESTAMP, "When it was completed (closed sprints only), UTC."),
        ("created_date", TIMESTAMP, "When the sprint was created, UTC."),
        ("goal", TEXT, "The sprint goal."),
        key=("cloud_id", "id"),
        truth=SITE_ROW,
    ),
    Table(
        "issues",
        "issues",
        "Every issue as the REST loads last read it, merged on (cloud_id, id): the partitioned "
        "backfill and the incremental sweep (both read Jira's current state, so the later load is "
        "the newer); the census' tombstones remove deleted issues (hard delete). Webhook deliveries "
        "never write here (jira_raw.webhook_issues). " + ISSUES_PARTITIONING_WHY,
        _columns(
            CLOUD_ID,
            ("id", TEXT, "Issue ID (stable; the key changes when an issue moves)."),
            ("key", TEXT, "Issue key, e.g. PLAT-42."),
            ("project_id", TEXT, "ID of the issue's project."),
            ("project_key", TEXT, "Key of the issue's project."),
            ("issue_type_id", TEXT, "ID of the issue type."),
            ("issue_type_name", TEXT, "Name of the issue type."),
            ("status_id", TEXT, "ID of the current status."),
            ("status_name", TEXT, "Name of the current status."),
            ("status_category_key", TEXT, "Category of the current status: new, indeterminate, done."),
            ("priority_name", TEXT, "Priority name."),
            ("resolution_name", TEXT, "Resolution name; null while unresolved."),
            ("summary", TEXT, "The issue's summary (title)."),
            ("parent_id", TEXT, "ID of the parent (epic or the sub-task's issue), if any."),
            ("parent_key", TEXT, "Key of the parent, if any."),
            ("assignee_account_id", TEXT, "Account ID of the assignee; null when unassigned."),
            ("reporter_account_id", TEXT, "Account ID of the reporter."),
            ("creator_account_id", TEXT, "Account ID of the creator (can be an app)."),
            ("labels", JSON, "Labels as a JSON array of strings."),
            ("created", TIMESTAMP, "When the issue was created (UTC); the partitioning column."),
            ("updated", TIMESTAMP, "When the issue last changed (UTC); the sweep's watermark column."),
            ("resolved", TIMESTAMP, "When it was resolved (UTC); null while unresolved."),
            ("status_category_changed", TIMESTAMP, "When its status category last changed (UTC)."),
            ("due_date", DATE, "Due date, if set."),
            ("changelog_total", BIGINT, "Histories Jira reported for the issue when it was fetched."),
            (
                "extra_fields",
                JSON,
                "The custom fields the sync file keeps (`issues.extra_fields`), as a JSON object by field ID.",
            ),
            (
                "sprint_ids",
                TEXT,
                "The issue's Sprint field (`issues.sprint_field`) now: its sprint IDs comma-separated as "
                "its changelog writes them (`21, 22`), closed sprints it was carried out of included; "
                "null when in none.",
            ),
            ("synced_at", TIMESTAMP, "When the row was fetched (UTC)."),
            DELETED,
        ),
        key=("cloud_id", "id"),
        source="jira_issues",
        owner="jira_raw/issues",
        hard_delete="deleted",
        dedup_sort="updated",
        truth=SITE_ROW,
        other_writers=(SWEEP, CENSUS),
    ),
    Table(
        "issue_changelog",
        "issues",
        "The full changelog (never the truncated embedded one): one row per changed field of every "
        "history. A load replaces an issue's whole changelog. " + ISSUES_PARTITIONING_WHY,
        _columns(
            CLOUD_ID,
            ("history_id", TEXT, "ID of the history (one edit, possibly of several fields)."),
            ("item_index", BIGINT, "Position of the item within its history (0-based)."),
            ("issue_id", TEXT, "ID of the issue the history belongs to."),
            ("author_account_id", TEXT, "Account ID of who made the change (null: anonymous or system)."),
            ("created", TIMESTAMP, "When the change was made (UTC)."),
            ("field", TEXT, "Field name as Jira shows it (status, assignee, Sprint, ...)."),
            (
                "field_id",
                TEXT,
                "Field ID (status, assignee, customfield_10020, ...); null for some system items.",
            ),
            ("field_type", TEXT, "jira (system field) or custom."),
            (
                "from_id",
                TEXT,
                "Raw value before the change (an ID for status, a comma-separated list for Sprint).",
            ),
            ("from_string", TEXT, "Display value before the change."),
            ("to_id", TEXT, "Raw value after the change."),
            ("to_string", TEXT, "Display value after the change."),
            (
                "deleted",
                BOOL,
                "Hard-delete marker: the census' tombstone row removes the issue's whole changelog.",
            ),
        ),
        key=("cloud_id", "history_id", "item_index"),
        merge_key=("cloud_id", "issue_id"),
        source="jira_issues",
        owner="jira_raw/issue_changelog",
        hard_delete="deleted",
        truth=Truth("site", "history_id || ':' || item_index"),
        other_writers=(SWEEP, CENSUS),
    ),
    Table(
        "issue_updates",
        "issues",
        "The incremental sweep: re-reads issues updated since each site's watermark (epoch "
        "milliseconds, minus the configured overlap, so no time zone can skew it) and merges them "
        "into jira_raw.issues and jira_raw.issue_changelog; this table logs every change the sweep "
        "found, which feeds the webhook miss-rate check.",
        _columns(
            CLOUD_ID,
            ("id", TEXT, "Issue ID."),
            ("updated", TIMESTAMP, "The issue's `updated` when the sweep saw it (UTC)."),
            ("detected_at", TIMESTAMP, "When the sweep first saw this change (UTC)."),
            ("run_id", TEXT, "The Dagster run that first saw it."),
        ),
        key=("cloud_id", "id", "updated"),
        disposition="insert-only",
        source="jira_issue_updates",
        owner=SWEEP,
    ),
    Table(
        "issue_deletions",
        "issues",
        "The issue-ID census: id-only searches per project find issues that are in the warehouse "
        "but no longer in Jira; they are hard-deleted from jira_raw.issues and "
        "jira_raw.issue_changelog and logged here with when and why (webhook deletes are the "
        "jira:issue_deleted rows of jira_raw.webhook_events).",
        _columns(
            CLOUD_ID,
            ("id", TEXT, "ID of the deleted issue."),
            (
                "detected_at",
                TIMESTAMP,
                "When the deletion was seen: the census run, or the delete event's time (UTC).",
            ),
            ("key", TEXT, "The issue's key when it was deleted."),
            ("project_key", TEXT, "The issue's project key when it was deleted."),
            (
                "reason",
                TEXT,
                "census (`webhook` rows were written by drains before jira_raw.webhook_events held "
                "the deletions).",
            ),
            ("detail", TEXT, "What found it (the census' project, or the delivery's identifier)."),
        ),
        key=("cloud_id", "id", "detected_at"),
        disposition="append",
        source="jira_issue_census",
        owner=CENSUS,
    ),
    Table(
        "project_access",
        "issues",
        "Written by the census: per project, whether the connecting account still sees it. A "
        "project that vanished is reported as lost access, not as thousands of deletions.",
        _columns(
            CLOUD_ID,
            ("project_key", TEXT, "Project key."),
            ("checked_at", TIMESTAMP, "When the census checked (UTC)."),
            ("status", TEXT, "visible or lost_access."),
            ("issues_in_warehouse", BIGINT, "Issues of the project the warehouse held at the check."),
        ),
        key=("cloud_id", "project_key", "checked_at"),
        disposition="append",
        source="jira_issue_census",
        owner="jira_raw/project_access",
    ),
    Table(
        "worklogs",
        "worklogs",
        "Work logged on issues, incremental through worklog/updated + worklog/list (watermark per "
        "site) with deletions through worklog/deleted (hard delete).",
        _columns(
            CLOUD_ID,
            ("id", TEXT, "Worklog ID."),
            ("issue_id", TEXT, "ID of the issue the work was logged on."),
            ("author_account_id", TEXT, "Account ID of who logged the work."),
            ("update_author_account_id", TEXT, "Account ID of who last edited the worklog."),
            ("started", TIMESTAMP, "When the work started (UTC): the day the time counts for."),
            ("created", TIMESTAMP, "When the worklog was created (UTC)."),
            ("updated", TIMESTAMP, "When the worklog last changed (UTC); the incremental watermark."),
            ("time_spent_seconds", BIGINT, "Time logged, in seconds."),
            DELETED,
        ),
        key=("cloud_id", "id"),
        source="jira_worklogs",
        owner="jira_raw/worklogs",
        hard_delete="deleted",
        dedup_sort="updated",
        truth=SITE_ROW,
    ),
    Table(
        "webhook_events",
        "issues",
        "Webhook deliveries drained from the receiver's inbox, one row per delivery; its "
        "jira:issue_deleted rows are the webhook deletions the issues derivation subtracts.",
        _columns(
            CLOUD_ID,
            (
                "webhook_identifier",
                TEXT,
                "X-Atlassian-Webhook-Identifier: the same on every retry of a delivery.",
            ),
            ("event", TEXT, "webhookEvent, e.g. jira:issue_updated."),
            ("issue_id", TEXT, "ID of the issue the event is about."),
            ("issue_key", TEXT, "Key of the issue the event is about."),
            ("timestamp", TIMESTAMP, "The event's time as Jira stamped it (UTC)."),
            ("received_at", TIMESTAMP, "When the receiver stored the delivery (UTC)."),
            ("tenant_id", TEXT, "The tenant of the receiver URL the delivery came to."),
            ("payload", JSON, "The delivery's body as Jira sent it."),
        ),
        key=("cloud_id", "webhook_identifier"),
        disposition="sql",
        source=WEBHOOK_SOURCE,
        owner=WEBHOOK_DRAIN,
    ),
)


def _webhook_copy(
    name: str, loaded: str, description: str, owner: str, *extra: tuple[str, ColumnType, str]
) -> Table:
    """A table of rows that webhook deliveries describe, shaped as the REST load's `loaded` table
    (without its hard-delete column: deletions are the jira:issue_deleted rows of webhook_events)."""
    rest = next(t for t in TABLES if t.name == loaded)
    return Table(
        name,
        rest.entity,
        description,
        (*(c for c in rest.columns if c.name != rest.hard_delete), *_columns(*extra)),
        key=rest.key,
        disposition="sql",
        source=WEBHOOK_SOURCE,
        owner=owner,
    )


TABLES += (
    _webhook_copy(
        "webhook_issues",
        "issues",
        "Each issue's newest webhook delivery, flattened as the REST load flattens an issue (newest: "
        "highest `updated`, then the latest event). The drain owns it; jira.issues takes from it "
        "the issues whose delivery is newer than the load's row.",
        WEBHOOK_ISSUES,
        ("event_at", TIMESTAMP, "When Jira sent the delivery this row comes from (its timestamp, UTC)."),
        ("webhook_identifier", TEXT, "X-Atlassian-Webhook-Identifier of that delivery."),
    ),
    _webhook_copy(
        "webhook_changelog",
        "issue_changelog",
        "The changelog items webhook deliveries carried (one row per item, the REST load's shape; "
        "author and time from the delivery). The drain owns it; the derived changelog is the union "
        "with jira_raw.issue_changelog, one row per history item.",
        WEBHOOK_CHANGELOG,
    ),
)

BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
# The sync file's entities (`sites[].entities`), in the order of their first table.
ENTITIES: tuple[str, ...] = tuple(dict.fromkeys(t.entity for t in TABLES if t.entity))


def table(name: str) -> Table:
    """The registered table `name`; an unknown name fails with the list of known ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a {DATASET} table; known: {', '.join(BY_NAME)}") from None


def tables_of(entities: Iterable[str], source: str | None = None) -> list[str]:
    """Names of the tables the given entities need (`sites` always), of one source if given."""
    wanted = set(entities)
    return [
        t.name
        for t in TABLES
        if (t.entity is None or t.entity in wanted) and (source is None or t.source == source)
    ]


def markdown_table() -> str:
    """The `jira_raw` table of docs/architecture.md, exactly as it must appear there."""

    def names(columns: Iterable[str]) -> str:
        return ", ".join(columns) or "–"

    lines = [
        "| table | entity | primary key | merge key | disposition | written by | columns |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in TABLES:
        keys = set(t.key) | set(t.merge_key)
        columns = [
            f"{c.name} (hard delete)" if c.name == t.hard_delete else c.name
            for c in t.columns
            if c.name not in keys
        ]
        writers = ", ".join(f"`{w}`" for w in t.writers)
        lines.append(
            f"| `{t.name}` | {t.entity or '(always)'} | {names(t.key)} | {names(t.merge_key)} | "
            f"{t.disposition} | {writers} | {names(columns)} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
