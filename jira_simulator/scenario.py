"""Scenario files: a world spelled out in YAML (or `generate:` to reproduce the generated default).

The format is documented in `jira_simulator/README.md`; examples are in `jira_simulator/scenarios/`.
Validation is pydantic at the boundary; every error names the file, the key path
(`sites[0].issues[2].history[1].status`), what is wrong and what to write instead. Issue
histories are replayed through `HistoryWriter`, so an issue's final status, resolution,
`resolved` and `updated` always follow from its history.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from jira_simulator import agile, catalog
from jira_simulator.agile_model import SPRINT_FIELD, Board
from jira_simulator.generator import DEFAULT_ISSUES, DEFAULT_SEED, generate_world
from jira_simulator.history import UNSET, HistoryWriter
from jira_simulator.model import (
    Comment,
    Component,
    Group,
    Issue,
    IssueType,
    OAuthApp,
    Organization,
    Project,
    Site,
    Status,
    Team,
    User,
    Version,
    Worklog,
    World,
)
from jira_simulator.options import DEFAULT_API_TOKEN, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from jira_simulator.timefmt import to_ms, zone

NAMESPACE = uuid.UUID("6d1f0a7c-3f7e-4b47-9d43-2a4c9bb0c0de")
CATEGORY_IDS = {"new": 2, "indeterminate": 4, "done": 3, "undefined": 1}


class ScenarioError(ValueError):
    """A scenario file that cannot be loaded; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Generate(_Strict):
    issues: int = Field(DEFAULT_ISSUES, ge=0)
    seed: int = DEFAULT_SEED


class UserSpec(_Strict):
    display_name: str
    account_id: str | None = None
    email: str | None = None
    email_visible: bool = True
    account_type: Literal["atlassian", "app", "customer", "unknown"] = "atlassian"
    app_type: str | None = None
    active: bool = True
    time_zone: str = "UTC"
    locale: str = "en_US"
    api_token: str | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zone(value)
        except Exception:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin") from None
        return value


class StatusSpec(_Strict):
    name: str
    category: Literal["new", "indeterminate", "done", "undefined"]
    id: str | None = None
    description: str = ""
    project: str | None = None  # key of a team-managed project that owns it


class IssueTypeSpec(_Strict):
    name: str
    id: str | None = None
    subtask: bool = False
    hierarchy_level: int | None = None
    description: str = ""
    project: str | None = None


class GroupSpec(_Strict):
    name: str
    id: str | None = None
    members: list[str] = []


class ProjectSpec(_Strict):
    key: str
    name: str
    id: str | None = None
    type: Literal["software", "service_desk", "business"] = "software"
    style: Literal["classic", "next-gen"] = "classic"
    lead: str | None = None
    category: str | None = None
    description: str = ""
    workflow: Literal["software", "simple", "operations", "service_desk"] = "simple"
    issue_types: list[str] | None = None
    components: list[str] = []
    versions: list[str] = []
    hidden_from: list[str] = []
    archived: bool = False

    @field_validator("key")
    @classmethod
    def _jira_key(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{1,9}", value):
            raise ValueError(
                f"{value!r} is not a Jira project key; use 2-10 upper-case letters/digits, e.g. PLAT"
            )
        return value


class ChangeSpec(_Strict):
    at: datetime
    by: str | None = None
    sprints: list[str] | None = None  # the Sprint field's new value (sprint names); its own history
    status: str | None = None
    assignee: str | None = "__unset__"
    priority: str | None = None
    summary: str | None = None
    labels: list[str] | None = None
    story_points: float | None = None


class CommentSpec(_Strict):
    at: datetime
    by: str
    body: str


class WorklogSpec(_Strict):
    started: datetime
    by: str
    seconds: int = Field(gt=0)
    comment: str = ""


class IssueSpec(_Strict):
    type: str
    summary: str
    created: datetime
    reporter: str
    key: str | None = None
    id: str | None = None
    creator: str | None = None
    assignee: str | None = None
    priority: str | None = catalog.DEFAULT_PRIORITY_NAME
    status: str | None = None
    parent: str | None = None
    labels: list[str] = []
    description: str | None = None
    due_date: date | None = None
    story_points: float | None = None
    sprints: list[str] = []  # the Sprint field when the issue is created (no history, as in Jira)
    history: list[ChangeSpec] = []
    comments: list[CommentSpec] = []
    worklogs: list[WorklogSpec] = []


class BoardSpec(_Strict):
    name: str
    project: str
    type: Literal["scrum", "kanban", "simple"] = "scrum"
    id: int | None = None
    estimation_field: str | None = "customfield_10016"


class SprintSpec(_Strict):
    name: str
    board: str  # a board's name
    state: Literal["future", "active", "closed"] = "future"
    id: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    complete: datetime | None = None
    created: datetime | None = None
    goal: str = ""


class SiteSpec(_Strict):
    name: str
    display_name: str | None = None
    cloud_id: str | None = None
    time_zone: str = "UTC"
    users: list[str] | None = None
    statuses: list[StatusSpec] | None = None
    issue_types: list[IssueTypeSpec] | None = None
    groups: list[GroupSpec] = []
    projects: list[ProjectSpec] = []
    boards: list[BoardSpec] = []
    sprints: list[SprintSpec] = []
    issues: list[IssueSpec] = []

    @field_validator("name")
    @classmethod
    def _site_name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9-]{1,40}", value):
            raise ValueError(
                f"{value!r} cannot be a site name; use lower-case letters, digits and dashes, e.g. acme"
            )
        return value


class TeamSpec(_Strict):
    name: str
    id: str | None = None
    description: str = ""
    members: list[str] = []
    site: str | None = None  # name of the site a site-scoped team belongs to
    state: Literal["ACTIVE", "ARCHIVED"] = "ACTIVE"
    type: Literal["OPEN", "MEMBER_INVITE", "EXTERNAL", "ORG_ADMIN_MANAGED"] = "MEMBER_INVITE"


class OrganizationSpec(_Strict):
    name: str = "Simulated Organization"
    id: str | None = None


class ScenarioSpec(_Strict):
    version: Literal[1] = 1
    description: str | None = None
    generate: Generate | None = None
    organization: OrganizationSpec = OrganizationSpec()
    admin: str | None = None
    users: dict[str, UserSpec] = {}
    sites: list[SiteSpec] = []
    teams: list[TeamSpec] = []


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def read_spec(path: Path) -> ScenarioSpec:
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read the scenario file: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: a scenario is a YAML mapping with version, users, sites (or generate)")
    try:
        return ScenarioSpec.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in error.errors())
        raise ScenarioError(f"{path}: {problems}") from None


class _Builder:
    def __init__(self, path: Path, spec: ScenarioSpec, api_token: str) -> None:
        self.path = path
        self.spec = spec
        self.api_token = api_token
        self.users: dict[str, User] = {}

    def fail(self, where: str, message: str) -> ScenarioError:
        return ScenarioError(f"{self.path}: {where}: {message}")

    def stable_id(self, *parts: str) -> str:
        return str(uuid.uuid5(NAMESPACE, "/".join(parts)))

    def account(self, name: str | None, where: str) -> str | None:
        if name is None:
            return None
        user = self.users.get(name)
        if user is None:
            raise self.fail(where, f"unknown user {name!r}; define it under `users:` first")
        return user.account_id

    def build(self) -> World:
        spec = self.spec
        if not spec.users:
            raise self.fail("users", "a scenario needs at least one user (the admin)")
        for key, user_spec in spec.users.items():
            self.users[key] = User(
                user_spec.account_id or self.stable_id("user", key).replace("-", "")[:24],
                user_spec.display_name,
                account_type=user_spec.account_type,
                email=user_spec.email,
                email_visible=user_spec.email_visible,
                active=user_spec.active,
                time_zone=user_spec.time_zone,
                locale=user_spec.locale,
                app_type=user_spec.app_type,
                api_token=user_spec.api_token,
            )
        admin_key = spec.admin or next(iter(spec.users))
        admin = self.users.get(admin_key)
        if admin is None:
            raise self.fail("admin", f"unknown user {admin_key!r}; name a key of `users:`")
        if not admin.email:
            raise self.fail(
                f"users.{admin_key}.email", "the admin needs an email (it signs in with email + API token)"
            )
        admin.api_token = self.api_token
        org = Organization(
            spec.organization.id or self.stable_id("org", spec.organization.name), spec.organization.name
        )
        sites: dict[str, Site] = {}
        for index, site_spec in enumerate(spec.sites):
            site = self.site(site_spec, f"sites[{index}]", org, admin)
            if site.name in sites:
                raise self.fail(f"sites[{index}].name", f"site {site.name!r} is defined twice")
            sites[site.name] = site
            org.site_cloud_ids.append(site.cloud_id)
        for index, team_spec in enumerate(spec.teams):
            where = f"teams[{index}]"
            site_id = None
            if team_spec.site is not None:
                if team_spec.site not in sites:
                    raise self.fail(f"{where}.site", f"unknown site {team_spec.site!r}")
                site_id = sites[team_spec.site].cloud_id
            team = Team(
                team_spec.id or self.stable_id("team", team_spec.name),
                team_spec.name,
                team_spec.description,
                org.org_id,
                site_id,
                [self.account(m, f"{where}.members") or "" for m in team_spec.members],
                state=team_spec.state,
                team_type=team_spec.type,
                creator_id=admin.account_id,
            )
            org.teams[team.team_id] = team
        return World(
            sites={s.cloud_id: s for s in sites.values()},
            organizations={org.org_id: org},
            users={u.account_id: u for u in self.users.values()},
            app=OAuthApp(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            admin_account_id=admin.account_id,
        )

    def site(self, spec: SiteSpec, where: str, org: Organization, admin: User) -> Site:
        try:
            zone(spec.time_zone)
        except Exception:
            raise self.fail(f"{where}.time_zone", f"unknown time zone {spec.time_zone!r}") from None
        user_keys = spec.users if spec.users is not None else list(self.users)
        site = Site(
            cloud_id=spec.cloud_id or self.stable_id("site", spec.name),
            name=spec.name,
            display_name=spec.display_name or spec.name.title(),
            time_zone=spec.time_zone,
            organization_id=org.org_id,
            priorities=catalog.priorities(),
            resolutions=catalog.resolutions(),
            user_ids=[self.account(k, f"{where}.users") or "" for k in user_keys],
        )
        if admin.account_id not in site.user_ids:
            site.user_ids.insert(0, admin.account_id)
        project_ids = {p.key: p.id or str(10000 + n) for n, p in enumerate(spec.projects)}
        site.statuses = catalog.standard_statuses() if spec.statuses is None else {}
        for n, status_spec in enumerate(spec.statuses or []):
            status_id = status_spec.id or str(20000 + n)
            scope = self._project_scope(status_spec.project, project_ids, f"{where}.statuses[{n}].project")
            site.statuses[status_id] = Status(
                status_id,
                status_spec.name,
                CATEGORY_IDS[status_spec.category],
                status_spec.description,
                scope,
            )
        site.issue_types = catalog.standard_issue_types() if spec.issue_types is None else {}
        for n, type_spec in enumerate(spec.issue_types or []):
            type_id = type_spec.id or str(20000 + n)
            scope = self._project_scope(type_spec.project, project_ids, f"{where}.issue_types[{n}].project")
            level = (
                type_spec.hierarchy_level
                if type_spec.hierarchy_level is not None
                else (-1 if type_spec.subtask else 0)
            )
            site.issue_types[type_id] = IssueType(
                type_id, type_spec.name, type_spec.description, type_spec.subtask, level, scope
            )
        for n, group_spec in enumerate(spec.groups):
            group = Group(
                group_spec.id or self.stable_id("group", spec.name, group_spec.name),
                group_spec.name,
                [self.account(m, f"{where}.groups[{n}].members") or "" for m in group_spec.members],
            )
            site.groups[group.group_id] = group
        for n, project_spec in enumerate(spec.projects):
            self.project(site, project_spec, project_ids[project_spec.key], f"{where}.projects[{n}]")
        self.boards_and_sprints(site, spec, where)
        for n, issue_spec in enumerate(spec.issues):
            self.issue(site, issue_spec, f"{where}.issues[{n}]")
        return site

    def boards_and_sprints(self, site: Site, spec: SiteSpec, where: str) -> None:
        boards: dict[str, Board] = {}
        for n, board_spec in enumerate(spec.boards):
            here = f"{where}.boards[{n}]"
            project = site.find_project(board_spec.project)
            if project is None:
                raise self.fail(f"{here}.project", f"unknown project {board_spec.project!r}")
            if board_spec.name in boards:
                raise self.fail(f"{here}.name", f"board {board_spec.name!r} is defined twice")
            if board_spec.id is not None:
                site.agile.next_board_id = board_spec.id
            estimation = board_spec.estimation_field if board_spec.type == "scrum" else None
            boards[board_spec.name] = agile.new_board(
                site.agile, board_spec.name, board_spec.type, project.id, estimation_field=estimation
            )
        names: set[str] = set()
        for n, sprint_spec in enumerate(spec.sprints):
            here = f"{where}.sprints[{n}]"
            board = boards.get(sprint_spec.board)
            if board is None:
                raise self.fail(
                    f"{here}.board", f"unknown board {sprint_spec.board!r}; name one of `boards:`"
                )
            if sprint_spec.name in names:
                raise self.fail(f"{here}.name", f"sprint {sprint_spec.name!r} is defined twice")
            names.add(sprint_spec.name)
            start, end, complete = (
                None if moment is None else _ms(moment, f"{here}.{key}", self)
                for key, moment in (
                    ("start", sprint_spec.start),
                    ("end", sprint_spec.end),
                    ("complete", sprint_spec.complete),
                )
            )
            required = {"future": (), "active": ("start", "end"), "closed": ("start", "end", "complete")}
            missing = [k for k in required[sprint_spec.state] if getattr(sprint_spec, k) is None]
            if missing:
                raise self.fail(here, f"a {sprint_spec.state} sprint needs {', '.join(missing)}")
            if sprint_spec.state != "closed" and complete is not None:
                raise self.fail(
                    f"{here}.complete",
                    f"only a closed sprint has a complete time, not a {sprint_spec.state} one",
                )
            if sprint_spec.id is not None:
                site.agile.next_sprint_id = sprint_spec.id
            created = (
                _ms(sprint_spec.created, f"{here}.created", self) if sprint_spec.created else (start or 0)
            )
            try:
                sprint = agile.new_sprint(
                    site.agile,
                    board,
                    sprint_spec.name,
                    created,
                    start_ms=start,
                    end_ms=end,
                    complete_ms=complete,
                    goal=sprint_spec.goal,
                )
            except ValueError as exc:
                raise self.fail(f"{here}.board", str(exc)) from None
            sprint.state = sprint_spec.state
            sprint.refresh()

    def _sprint_ids(self, site: Site, names: list[str], where: str) -> list[int]:
        by_name = {s.name: s.id for s in site.agile.sprints.values()}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise self.fail(where, f"unknown sprint {unknown[0]!r}; name one of this site's `sprints:`")
        return [by_name[n] for n in names]

    def _project_scope(self, key: str | None, project_ids: dict[str, str], where: str) -> str | None:
        if key is None:
            return None
        if key not in project_ids:
            raise self.fail(where, f"unknown project {key!r}; use a key from this site's `projects:`")
        return project_ids[key]

    def _status_ids(self, site: Site, project_id: str) -> dict[str, str]:
        """Status name -> id as a project sees them (its own scoped statuses win over global ones)."""
        names = {s.name: s.id for s in site.statuses.values() if s.scope_project_id is None}
        names.update({s.name: s.id for s in site.statuses.values() if s.scope_project_id == project_id})
        return names

    def _type_ids(self, site: Site, project_id: str) -> dict[str, str]:
        names = {t.name: t.id for t in site.issue_types.values() if t.scope_project_id is None}
        names.update({t.name: t.id for t in site.issue_types.values() if t.scope_project_id == project_id})
        return names

    def project(self, site: Site, spec: ProjectSpec, project_id: str, where: str) -> None:
        type_ids = self._type_ids(site, project_id)
        wanted = spec.issue_types if spec.issue_types is not None else list(type_ids)
        missing = [name for name in wanted if name not in type_ids]
        if missing:
            raise self.fail(
                f"{where}.issue_types", f"unknown issue type(s) {missing}; define them in issue_types"
            )
        plan = catalog.WORKFLOW_PLANS[spec.workflow]
        status_ids = self._status_ids(site, project_id)
        absent = [name for name in plan.statuses if name not in status_ids]
        if absent:
            raise self.fail(
                f"{where}.workflow",
                f"workflow {spec.workflow!r} needs statuses {absent}; add them to statuses",
            )
        workflow = catalog.build_workflow(self.stable_id("workflow", site.name, spec.key), plan, status_ids)
        workflow.name = f"{spec.name}: {plan.name}"
        site.workflows[workflow.id] = workflow
        project = Project(
            id=project_id,
            key=spec.key,
            name=spec.name,
            issue_type_ids=[type_ids[name] for name in wanted],
            project_type_key=spec.type,
            style=spec.style,
            simplified=spec.style == "next-gen",
            archived=spec.archived,
            lead_account_id=self.account(spec.lead, f"{where}.lead"),
            category_name=spec.category,
            components=[Component(f"{project_id}{n:02d}", name) for n, name in enumerate(spec.components)],
            versions=[Version(f"{project_id}{n:02d}", name) for n, name in enumerate(spec.versions)],
            hidden_from={self.account(u, f"{where}.hidden_from") or "" for u in spec.hidden_from},
            workflow_id=workflow.id,
            description=spec.description,
        )
        if project.key in {p.key for p in site.projects.values()}:
            raise self.fail(
                f"{where}.key", f"project key {project.key!r} is used twice on site {site.name!r}"
            )
        site.projects[project.id] = project

    def issue(self, site: Site, spec: IssueSpec, where: str) -> None:
        key = spec.key
        if key is None:
            raise self.fail(f"{where}.key", "each issue needs a key such as ALPHA-1")
        project_key, _, number = key.rpartition("-")
        project = site.find_project(project_key)
        if project is None or not number.isdigit():
            raise self.fail(
                f"{where}.key", f"{key!r} is not <project key>-<number> of a project on this site"
            )
        if key in site.issue_ids_by_key:
            raise self.fail(f"{where}.key", f"issue {key} is defined twice")
        type_ids = self._type_ids(site, project.id)
        type_id = type_ids.get(spec.type)
        if type_id is None or type_id not in project.issue_type_ids:
            raise self.fail(f"{where}.type", f"project {project.key} has no issue type {spec.type!r}")
        statuses = self._status_ids(site, project.id)
        workflow = site.workflows[project.workflow_id or ""]
        initial = workflow.status_ids[0]
        if spec.status is not None:
            if spec.status not in statuses:
                raise self.fail(f"{where}.status", f"unknown status {spec.status!r}")
            initial = statuses[spec.status]
        priority_id = None
        if spec.priority is not None:
            priority_id = next((p.id for p in site.priorities.values() if p.name == spec.priority), None)
            if priority_id is None:
                raise self.fail(f"{where}.priority", f"unknown priority {spec.priority!r}")
        parent_id = None
        if spec.parent is not None:
            parent = site.find_issue(spec.parent)
            if parent is None:
                raise self.fail(
                    f"{where}.parent", f"unknown issue {spec.parent!r}; define the parent before it"
                )
            parent_id = parent.id
        if site.issue_types[type_id].subtask and parent_id is None:
            raise self.fail(f"{where}.parent", f"a {spec.type} needs a parent issue")
        created = _ms(spec.created, f"{where}.created", self)
        issue_id = spec.id or str(site.next_issue_id)
        if issue_id in site.issues:
            raise self.fail(f"{where}.id", f"issue id {issue_id} is used twice")
        site.next_issue_id = max(site.next_issue_id, int(issue_id)) + 1
        reporter = self.account(spec.reporter, f"{where}.reporter")
        issue = Issue(
            id=issue_id,
            key=key,
            project_id=project.id,
            issue_type_id=type_id,
            status_id=initial,
            summary=spec.summary,
            created_ms=created,
            updated_ms=created,
            reporter_id=reporter,
            creator_id=self.account(spec.creator, f"{where}.creator") if spec.creator else reporter,
            assignee_id=self.account(spec.assignee, f"{where}.assignee"),
            priority_id=priority_id,
            parent_id=parent_id,
            description=spec.description,
            labels=list(spec.labels),
            due_date=spec.due_date.isoformat() if spec.due_date else None,
            status_category_changed_ms=created,
        )
        if spec.story_points is not None:
            issue.custom_fields["customfield_10016"] = spec.story_points
        if spec.sprints:
            ids = self._sprint_ids(site, spec.sprints, f"{where}.sprints")
            issue.custom_fields[SPRINT_FIELD] = [site.agile.sprints[i].field_value for i in ids]
        writer = HistoryWriter(site, {u.account_id: u for u in self.users.values()})
        previous = created
        for n, change in enumerate(spec.history):
            here = f"{where}.history[{n}]"
            at = _ms(change.at, f"{here}.at", self)
            if at < previous:
                raise self.fail(
                    f"{here}.at", "history entries must be in time order, after the issue was created"
                )
            previous = at
            if change.sprints is not None:
                others = change.model_dump(exclude={"at", "by", "sprints"}, exclude_defaults=True)
                if others:
                    raise self.fail(
                        here,
                        "a sprint change is a history of its own in Jira; give `sprints` in an entry without other fields",
                    )
                ids = self._sprint_ids(site, change.sprints, f"{here}.sprints")
                if agile.set_sprints(site, issue, ids, self.account(change.by, f"{here}.by"), at) is None:
                    raise self.fail(
                        f"{here}.sprints",
                        "this entry changes nothing; the issue is already in exactly these sprints",
                    )
                continue
            status_id = None
            if change.status is not None:
                if change.status not in statuses:
                    raise self.fail(f"{here}.status", f"unknown status {change.status!r}")
                status_id = statuses[change.status]
            new_priority = None
            if change.priority is not None:
                new_priority = next(
                    (p.id for p in site.priorities.values() if p.name == change.priority), None
                )
                if new_priority is None:
                    raise self.fail(f"{here}.priority", f"unknown priority {change.priority!r}")
            assignee: object = UNSET
            if change.assignee != "__unset__":
                assignee = self.account(change.assignee, f"{here}.assignee")
            try:
                writer.change(
                    issue,
                    self.account(change.by, f"{here}.by"),
                    at,
                    status_id=status_id,
                    assignee_id=assignee,
                    priority_id=new_priority,
                    summary=change.summary,
                    labels=change.labels,
                    story_points=UNSET if change.story_points is None else change.story_points,
                )
            except ValueError:
                raise self.fail(here, "this entry changes nothing; give a field with a new value") from None
        for n, comment in enumerate(spec.comments):
            at = _ms(comment.at, f"{where}.comments[{n}].at", self)
            author = self.account(comment.by, f"{where}.comments[{n}].by") or ""
            issue.comments.append(Comment(str(site.next_comment_id), author, comment.body, at, at))
            site.next_comment_id += 1
        for n, worklog in enumerate(spec.worklogs):
            at = _ms(worklog.started, f"{where}.worklogs[{n}].started", self)
            author = self.account(worklog.by, f"{where}.worklogs[{n}].by") or ""
            issue.worklogs.append(
                Worklog(str(site.next_worklog_id), author, worklog.seconds, at, at, at, worklog.comment)
            )
            site.next_worklog_id += 1
        site.issues[issue.id] = issue
        site.issue_ids_by_key[issue.key] = issue.id
        project.issue_counter = max(project.issue_counter, int(number))


def _ms(moment: datetime, where: str, builder: _Builder) -> int:
    if moment.tzinfo is None:
        raise builder.fail(where, f"{moment.isoformat()} has no time zone; add Z or an offset such as +01:00")
    return to_ms(moment)


def load_scenario(
    path: Path, *, seed: int | None = None, api_token: str = DEFAULT_API_TOKEN, app: OAuthApp | None = None
) -> World:
    """The world a scenario file describes; `seed` overrides a `generate:` scenario's seed."""
    spec = read_spec(path)
    if spec.generate is not None:
        if spec.sites or spec.users or spec.teams:
            raise ScenarioError(
                f"{path}: generate: cannot be combined with users, sites or teams; use one or the other"
            )
        return generate_world(
            spec.generate.issues,
            spec.generate.seed if seed is None else seed,
            api_token=api_token,
            app=app,
        )
    world = _Builder(path, spec, api_token).build()
    if app is not None:
        world.app = app
    world.seed = seed
    return world
