"""The simulated Jira Cloud world: plain dataclasses, shared by every surface of the simulator.

Times are epoch milliseconds (UTC) everywhere in the model; the REST layer renders them the way
Jira does. IDs are strings, as Jira returns them. The generator (`generator.py`) and the
scenario loader (`scenario.py`) build a `World`; the REST, OAuth, Teams, webhook and admin
surfaces read and mutate it. Mutations go through `mutations.py` so that histories, `updated`
and webhook deliveries stay consistent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from jira_simulator.agile_model import Agile
from jira_simulator.clock import Clock

AccountType = Literal["atlassian", "app", "customer", "unknown"]


@dataclass(frozen=True)
class StatusCategory:
    id: int
    key: str
    name: str
    color_name: str


# The four categories every Jira Cloud site has (ids as Jira assigns them: 4 is In Progress).
STATUS_CATEGORIES: dict[int, StatusCategory] = {
    1: StatusCategory(1, "undefined", "No Category", "medium-gray"),
    2: StatusCategory(2, "new", "To Do", "blue-gray"),
    4: StatusCategory(4, "indeterminate", "In Progress", "yellow"),
    3: StatusCategory(3, "done", "Done", "green"),
}


@dataclass
class Status:
    id: str
    name: str
    category_id: int
    description: str = ""
    scope_project_id: str | None = None  # team-managed statuses are project-scoped


@dataclass
class IssueType:
    id: str
    name: str
    description: str = ""
    subtask: bool = False
    hierarchy_level: int = 0  # -1 sub-task, 0 standard, 1 epic
    scope_project_id: str | None = None


@dataclass
class Priority:
    id: str
    name: str


@dataclass
class Resolution:
    id: str
    name: str
    description: str = ""


@dataclass
class Component:
    id: str
    name: str
    description: str = ""
    lead_account_id: str | None = None  # the component lead, who is assigned its new issues


@dataclass
class Version:
    id: str
    name: str
    released: bool = False
    archived: bool = False
    release_date: str | None = None  # yyyy-mm-dd


@dataclass
class Transition:
    id: str
    name: str
    to_status_id: str
    from_status_ids: list[str] = field(default_factory=list)  # empty: a global transition (from any status)


@dataclass
class Workflow:
    """A classic workflow: the statuses an issue may be in and the transitions between them."""

    id: str  # entity id (uuid-like), as workflow/search returns it
    name: str
    status_ids: list[str]
    transitions: list[Transition] = field(default_factory=list)
    description: str = ""

    def transitions_from(self, status_id: str) -> list[Transition]:
        return [t for t in self.transitions if not t.from_status_ids or status_id in t.from_status_ids]


@dataclass
class Project:
    id: str
    key: str
    name: str
    issue_type_ids: list[str]
    project_type_key: str = "software"  # software | service_desk | business
    style: str = "classic"  # classic | next-gen
    simplified: bool = False
    archived: bool = False
    archived_by: str | None = None  # account id
    archived_ms: int | None = None
    deleted: bool = False  # in the trash (purged 60 days after deleted_ms)
    deleted_by: str | None = None
    deleted_ms: int | None = None
    lead_account_id: str | None = None
    category_name: str | None = None
    components: list[Component] = field(default_factory=list)
    versions: list[Version] = field(default_factory=list)
    # Users who lost Browse permission see nothing of this project (search, census, project/search).
    hidden_from: set[str] = field(default_factory=set)
    workflow_id: str | None = None  # the workflow every issue type of the project uses
    description: str = ""
    # Highest issue number ever given in this project (0: not tracked yet, read from the keys):
    # Jira never reuses a key, not even after a delete or a move away.
    issue_counter: int = 0

    @property
    def live(self) -> bool:
        """Neither archived nor in the trash: its issues appear in search results."""
        return not self.archived and not self.deleted


@dataclass
class User:
    account_id: str
    display_name: str
    account_type: AccountType = "atlassian"
    email: str | None = None
    email_visible: bool = True  # False: emailAddress is omitted, except for the user themself
    active: bool = True
    time_zone: str = "UTC"
    locale: str = "en_US"
    app_type: str | None = None  # for account_type "app": service | agent | unknown
    api_token: str | None = None  # for Basic auth (email + API token)


@dataclass
class Group:
    group_id: str
    name: str
    member_ids: list[str] = field(default_factory=list)


@dataclass
class ChangeItem:
    field: str
    field_type: str  # "jira" | "custom"
    field_id: str | None
    from_id: str | None
    from_string: str | None
    to_id: str | None
    to_string: str | None


@dataclass
class History:
    id: str
    author_account_id: str | None
    created_ms: int
    items: list[ChangeItem]


@dataclass
class Comment:
    id: str
    author_account_id: str
    body: str
    created_ms: int
    updated_ms: int


@dataclass
class Worklog:
    id: str
    author_account_id: str
    time_spent_seconds: int
    started_ms: int
    created_ms: int
    updated_ms: int
    comment: str = ""


@dataclass(frozen=True)
class DeletedWorklog:
    """A deleted worklog as `worklog/deleted` lists it (the issue's project decides visibility)."""

    id: str
    issue_id: str
    project_id: str
    deleted_ms: int


@dataclass
class Issue:
    id: str
    key: str
    project_id: str
    issue_type_id: str
    status_id: str
    summary: str
    created_ms: int
    updated_ms: int
    reporter_id: str | None
    creator_id: str | None
    assignee_id: str | None = None
    priority_id: str | None = None
    resolution_id: str | None = None
    resolved_ms: int | None = None
    status_category_changed_ms: int | None = None
    parent_id: str | None = None
    description: str | None = None
    labels: list[str] = field(default_factory=list)
    due_date: str | None = None  # yyyy-mm-dd
    component_ids: list[str] = field(default_factory=list)
    fix_version_ids: list[str] = field(default_factory=list)
    custom_fields: dict[str, object] = field(default_factory=dict)  # customfield_NNNNN -> value
    histories: list[History] = field(default_factory=list)  # oldest first
    comments: list[Comment] = field(default_factory=list)
    worklogs: list[Worklog] = field(default_factory=list)


@dataclass
class Webhook:
    id: int
    client_id: str  # the OAuth app that registered it
    owner_account_id: str
    url: str
    events: list[str]
    jql_filter: str
    field_ids_filter: list[str] | None
    expiration_ms: int


@dataclass
class AdminWebhook:
    """A webhook made in Jira administration or through `/rest/webhooks/1.0/webhook`: no expiry,
    full JQL, optionally signed with a secret (`X-Hub-Signature`)."""

    id: int
    name: str
    url: str
    events: list[str]
    jql_filter: str  # filters["issue-related-events-section"]; empty = every issue
    exclude_body: bool
    enabled: bool
    secret: str | None  # never rendered back
    last_updated_account_id: str
    last_updated_ms: int
    description: str = ""


@dataclass
class SharePermission:
    """Who a filter or dashboard is shared with (`type`: global | loggedin | group | project |
    projectRole | user) and the group, project, role or account it names."""

    id: int
    type: str
    group_id: str | None = None
    project_id: str | None = None
    role_id: int | None = None
    account_id: str | None = None


@dataclass
class Filter:
    id: str
    name: str
    owner_account_id: str
    jql: str
    description: str = ""
    share_permissions: list[SharePermission] = field(default_factory=list)
    edit_permissions: list[SharePermission] = field(default_factory=list)
    favourited_by: set[str] = field(default_factory=set)


@dataclass
class Dashboard:
    id: str
    name: str
    owner_account_id: str | None  # None: the system dashboard
    description: str = ""
    share_permissions: list[SharePermission] = field(default_factory=list)
    edit_permissions: list[SharePermission] = field(default_factory=list)
    favourited_by: set[str] = field(default_factory=set)
    system: bool = False


@dataclass
class Site:
    cloud_id: str
    name: str  # served at /site/<name>
    display_name: str
    time_zone: str  # rendering zone of top-level timestamps ("system default user time zone")
    organization_id: str
    projects: dict[str, Project] = field(default_factory=dict)  # by id
    issue_types: dict[str, IssueType] = field(default_factory=dict)
    statuses: dict[str, Status] = field(default_factory=dict)
    priorities: dict[str, Priority] = field(default_factory=dict)
    resolutions: dict[str, Resolution] = field(default_factory=dict)
    user_ids: list[str] = field(default_factory=list)  # accounts with access to this site
    groups: dict[str, Group] = field(default_factory=dict)  # by group id
    issues: dict[str, Issue] = field(default_factory=dict)  # by id
    issue_ids_by_key: dict[str, str] = field(default_factory=dict)  # moved issues keep old keys
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    admin_webhooks: dict[int, AdminWebhook] = field(default_factory=dict)
    workflows: dict[str, Workflow] = field(default_factory=dict)  # by id
    agile: Agile = field(default_factory=Agile)  # Jira Software boards and sprints
    deleted_worklogs: list[DeletedWorklog] = field(default_factory=list)  # in deletion order
    filters: dict[str, Filter] = field(default_factory=dict)  # by id
    dashboards: dict[str, Dashboard] = field(default_factory=dict)  # by id
    next_issue_id: int = 10000
    next_history_id: int = 100000
    next_comment_id: int = 10000
    next_worklog_id: int = 10000

    def find_issue(self, id_or_key: str) -> Issue | None:
        """By id, current key or a key the issue had before it was moved (keys match case-insensitively)."""
        issue = self.issues.get(id_or_key)
        if issue is None:
            issue_id = self.issue_ids_by_key.get(id_or_key.upper())
            issue = self.issues.get(issue_id) if issue_id is not None else None
        return issue

    def find_project(self, id_or_key: str) -> Project | None:
        project = self.projects.get(id_or_key)
        if project is None:
            wanted = id_or_key.upper()
            project = next((p for p in self.projects.values() if p.key == wanted), None)
        return project


@dataclass
class Team:
    team_id: str
    display_name: str
    description: str
    organization_id: str
    site_cloud_id: str | None  # site-scoped team (returned only when siteId matches)
    member_ids: list[str] = field(default_factory=list)
    state: str = "ACTIVE"  # ACTIVE | ARCHIVED
    team_type: str = "MEMBER_INVITE"  # OPEN | MEMBER_INVITE | EXTERNAL | ORG_ADMIN_MANAGED
    creator_id: str | None = None
    deleted: bool = False  # deleted teams are left out of lists and answer 410 Gone


@dataclass
class Organization:
    org_id: str
    name: str
    site_cloud_ids: list[str] = field(default_factory=list)
    teams: dict[str, Team] = field(default_factory=dict)


@dataclass
class OAuthApp:
    client_id: str
    client_secret: str


@dataclass
class Grant:
    """One user's consent to one OAuth app: the sites (cloud ids) and scopes it reaches."""

    grant_id: str
    client_id: str
    account_id: str
    scopes: frozenset[str]
    cloud_ids: list[str]


@dataclass
class AuthorizationCode:
    """A consent's one-time code: exchanged once, before `expires_ms`, with the same redirect_uri."""

    code: str
    grant_id: str
    redirect_uri: str | None
    expires_ms: int
    used: bool = False


@dataclass
class AccessToken:
    token: str
    grant_id: str
    expires_ms: int


@dataclass
class RefreshToken:
    token: str
    grant_id: str
    issued_ms: int
    used_ms: int | None = None  # rotating: a used token is rejected (invalid_grant) after the leeway
    family_start_ms: int | None = None  # when the consent issued the first token of this rotation chain


@dataclass(frozen=True)
class Principal:
    """Who is calling a REST surface. `scopes` is None for Basic auth (the user's own rights)."""

    account_id: str
    via: Literal["basic", "oauth", "anonymous"]
    scopes: frozenset[str] | None = None
    client_id: str | None = None


@dataclass(frozen=True)
class IssueEvent:
    """Emitted by mutations; the webhook dispatcher turns these into deliveries."""

    kind: Literal["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]
    cloud_id: str
    issue: Issue
    history: History | None
    actor_account_id: str | None
    timestamp_ms: int
    event_type_name: str | None  # issue_created, issue_updated, issue_generic, ...


@dataclass
class World:
    sites: dict[str, Site]  # by cloud id
    organizations: dict[str, Organization]
    users: dict[str, User]  # every Atlassian account, by account id
    app: OAuthApp
    admin_account_id: str  # the operator who connects (consents) and owns the API token
    clock: Clock = field(default_factory=Clock)
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    authorization_codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    # The simulator's own base URL (http://127.0.0.1:P) once known: site URLs outside a request
    # (webhook payloads) are rendered from it as <public_base_url>/site/<name>.
    public_base_url: str | None = None
    seed: int | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    listeners: list[Callable[[IssueEvent], None]] = field(default_factory=list, repr=False)

    def site_by_name(self, name: str) -> Site | None:
        return next((s for s in self.sites.values() if s.name == name), None)

    def user_by_email(self, email: str) -> User | None:
        wanted = email.casefold()
        return next((u for u in self.users.values() if u.email and u.email.casefold() == wanted), None)

    @property
    def admin(self) -> User:
        return self.users[self.admin_account_id]

    def emit(self, event: IssueEvent) -> None:
        for listener in list(self.listeners):
            listener(event)
