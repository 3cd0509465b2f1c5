"""The default simulated world: deterministic from `(issues, seed)`, full of the hard cases.

Two sites (Berlin and New York time) under one organization; staff with visible and hidden
emails, inactive staff, contractors who are in teams but in no group, app (bot) accounts and
service-desk customers; classic and team-managed projects with project-scoped types and
statuses; custom statuses in every category; issues created over several years whose histories
walk real workflows (reopened issues, To Do straight to Done, review ping-pong), sub-tasks with
parents, epics, a moved issue, and issues with more than 100 histories (one with exactly 150).

All data timestamps lie between `DATA_START_MS` and `DATA_END_MS` (fixed dates, not wall time),
so the ground truth is identical from run to run.
"""

from __future__ import annotations

import bisect
import gc
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from jira_simulator import catalog
from jira_simulator.agile_generator import add_agile
from jira_simulator.catalog import SEVERITIES
from jira_simulator.furnishing import furnish
from jira_simulator.history import STORY_POINTS_FIELD, HistoryWriter
from jira_simulator.model import (
    ChangeItem,
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
from jira_simulator.timefmt import format_date, utc_ms, zone
from jira_simulator.worklog_changes import add_worklog_changes

DEFAULT_ISSUES = 3000
DEFAULT_SEED = 1
DATA_START_MS = utc_ms(2021, 1, 4)
DATA_END_MS = utc_ms(2026, 11, 1)
ADMIN_EMAIL = "admin@jira-sim.example"
ADMIN_TIME_ZONE = "Pacific/Pago_Pago"  # UTC-11: JQL dates read in this zone skew by 11 hours

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MEAN_GAPS = (6 * HOUR, 2 * DAY, 5 * DAY)

FIRST_NAMES = [
    "Ada",
    "Bela",
    "Chidi",
    "Dana",
    "Emil",
    "Farah",
    "Goran",
    "Hana",
    "Ivo",
    "Jun",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Arjun",
    "Beatriz",
    "Colm",
    "Dagny",
    "Eitan",
    "Fumiko",
    "Gael",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemal",
    "Lior",
]
LAST_NAMES = [
    "Okafor",
    "Novak",
    "Silva",
    "Tanaka",
    "Meyer",
    "Haddad",
    "Kowalski",
    "Rossi",
    "Nguyen",
    "Larsen",
    "Dubois",
    "Ortega",
    "Petrov",
    "Iyer",
    "Walsh",
    "Fischer",
    "Moreau",
    "Kaya",
    "Lindqvist",
    "Mensah",
    "Sato",
    "Costa",
    "Varga",
    "Brennan",
    "Ali",
    "Keller",
    "Romero",
    "Berg",
    "Chen",
    "Duarte",
]
TIME_ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Pacific/Kiritimati",  # UTC+14
    "Pacific/Honolulu",  # UTC-10
    "Asia/Tokyo",
    "Europe/London",
    "Australia/Sydney",
    "UTC",
    "America/Sao_Paulo",
    "Pacific/Auckland",
)
APPS = (
    ("Automation for Jira", "service"),
    ("GitHub for Jira", "service"),
    ("Jira Outlook", "service"),
    ("Rovo Dev Agent", "agent"),
)
CUSTOMERS = ("Priya Raman", "Tom Becker", "Ana Lucia Ferreira", "Kwame Asante", "Mei Lin")
VERBS = [
    "Fix",
    "Add",
    "Improve",
    "Remove",
    "Refactor",
    "Investigate",
    "Document",
    "Migrate",
    "Update",
    "Optimise",
    "Support",
    "Validate",
]
OBJECTS = (
    "login timeout",
    "checkout flow",
    "search results paging",
    "billing export",
    "push notifications",
    "dark mode",
    "rate limiter",
    "audit log",
    "password reset email",
    "CSV import",
    "dashboard widgets",
    "API pagination",
    "SSO with Okta",
    "mobile onboarding",
    "invoice PDF",
    "webhook retries",
    "cache invalidation",
    "user avatars",
    "report scheduler",
    "feature flags",
)
LABELS = [
    "backend",
    "frontend",
    "mobile",
    "customer-reported",
    "tech-debt",
    "security",
    "performance",
    "ux",
    "regression",
]
COMPONENTS = ("API", "Web UI", "Database", "Auth", "Billing", "Infrastructure", "Android", "iOS")


@dataclass(frozen=True)
class ProjectPlan:
    key: str
    name: str
    project_type_key: str
    workflow: str  # a key of catalog.WORKFLOW_PLANS, or "team-managed"
    issue_types: tuple[tuple[str, float], ...]  # (type name, weight)
    weight: float
    category: str | None
    team_managed: bool = False
    customer_reporters: bool = False


@dataclass(frozen=True)
class SitePlan:
    name: str
    display_name: str
    time_zone: str
    share: float  # of all issues
    projects: tuple[ProjectPlan, ...]


SOFTWARE_TYPES = (
    ("Epic", 0.03),
    ("Story", 0.35),
    ("Task", 0.17),
    ("Sub-task", 0.12),
    ("Bug", 0.18),
    ("Technical Task", 0.05),
    ("Spike", 0.04),
    ("Enhancement", 0.06),
)
TEAM_MANAGED_TYPES = (("Story", 0.45), ("Task", 0.25), ("Bug", 0.2), ("Subtask", 0.1))

SITE_PLANS = (
    SitePlan(
        "acme",
        "Acme Corp",
        "Europe/Berlin",
        0.6,
        (
            ProjectPlan("PLAT", "Platform", "software", "software", SOFTWARE_TYPES, 0.35, "Engineering"),
            ProjectPlan(
                "MOB",
                "Mobile App",
                "software",
                "software",
                (("Epic", 0.03), ("Story", 0.35), ("Task", 0.15), ("Sub-task", 0.1), ("Bug", 0.17))
                + (("New Feature", 0.1), ("Defect", 0.1)),
                0.2,
                "Engineering",
            ),
            ProjectPlan(
                "OPS",
                "Operations",
                "business",
                "operations",
                (
                    ("Task", 0.4),
                    ("Incident", 0.25),
                    ("Production Issue", 0.15),
                    ("Kaizen", 0.12),
                    ("Sub-task", 0.08),
                ),
                0.15,
                "Operations",
            ),
            ProjectPlan(
                "WEB",
                "Website",
                "software",
                "team-managed",
                TEAM_MANAGED_TYPES,
                0.15,
                None,
                team_managed=True,
            ),
            ProjectPlan(
                "DATA",
                "Data Engineering",
                "software",
                "simple",
                (
                    ("Story", 0.3),
                    ("Task", 0.3),
                    ("Defect", 0.15),
                    ("Research", 0.1),
                    ("Spike", 0.05),
                    ("Sub-task", 0.1),
                ),
                0.15,
                "Engineering",
            ),
        ),
    ),
    SitePlan(
        "globex",
        "Globex Corporation",
        "America/New_York",
        0.4,
        (
            ProjectPlan(
                "CORE",
                "Core Services",
                "software",
                "software",
                SOFTWARE_TYPES[:6] + (("Enhancement", 0.05), ("New Feature", 0.05)),
                0.4,
                "Engineering",
            ),
            ProjectPlan(
                "HELP",
                "Help Desk",
                "service_desk",
                "service_desk",
                (("Service Request", 0.6), ("Incident", 0.25), ("Task", 0.15)),
                0.3,
                "Support",
                customer_reporters=True,
            ),
            ProjectPlan(
                "RND",
                "Research",
                "business",
                "simple",
                (("Research", 0.35), ("Spike", 0.25), ("Task", 0.2), ("Epic", 0.05), ("Kaizen", 0.15)),
                0.15,
                None,
            ),
            ProjectPlan(
                "INC",
                "Incidents",
                "software",
                "operations",
                (("Incident", 0.5), ("Production Issue", 0.3), ("Bug", 0.15), ("Sub-task", 0.05)),
                0.15,
                "Operations",
            ),
        ),
    ),
)

# Hard cases pinned to an issue by (project key, position in created order, 1-based).
LONG_HISTORIES = {("PLAT", 3): 150, ("MOB", 2): 120, ("CORE", 4): 101}
FORCED_PATHS = {
    ("PLAT", 4): ("Backlog", "Selected for Development", "In Progress", "In Review", "QA", "Done", "Reopened")
    + ("In Progress", "In Review", "QA", "Done"),
    ("DATA", 2): ("To Do", "Done"),
    ("RND", 2): ("To Do", "Done"),
}
MOVED = {("PLAT", 5): "MOB"}


class WeightedChoice:
    """`random.choices` for one draw, without its per-call set-up (the generator draws millions)."""

    def __init__(self, values: Sequence[object], weights: Sequence[float]) -> None:
        self.values = list(values)
        self.cumulative: list[float] = []
        total = 0.0
        for weight in weights:
            total += weight
            self.cumulative.append(total)
        self.total = total

    def draw(self, rng: random.Random) -> object:
        index = bisect.bisect_right(self.cumulative, rng.random() * self.total)
        return self.values[min(index, len(self.values) - 1)]


def pick(rng: random.Random, values: Sequence[object]) -> object:
    return values[int(rng.random() * len(values))]


PRIORITY_CHOICE = WeightedChoice(("1", "2", "3", "4", "5"), (2, 15, 60, 18, 5))


class Ids:
    """Deterministic identifiers drawn from the world's random generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def classic_account(self) -> str:
        return f"{self.rng.getrandbits(96):024x}"

    def prefixed_account(self, prefix: str) -> str:
        return f"{prefix}:{self.uuid()}"


@dataclass
class People:
    admin: User
    staff: list[User] = field(default_factory=list)
    inactive: list[User] = field(default_factory=list)
    contractors: list[User] = field(default_factory=list)
    apps: list[User] = field(default_factory=list)
    customers: list[User] = field(default_factory=list)

    def all(self) -> list[User]:
        return [self.admin, *self.staff, *self.inactive, *self.contractors, *self.apps, *self.customers]


def _people(ids: Ids, api_token: str) -> People:
    admin = User(
        ids.classic_account(),
        "Avery Admin",
        email=ADMIN_EMAIL,
        time_zone=ADMIN_TIME_ZONE,
        api_token=api_token,
    )
    people = People(admin=admin)
    for index in range(36):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index * 7) % len(LAST_NAMES)]
        account = ids.prefixed_account("712020") if index % 3 == 0 else ids.classic_account()
        people.staff.append(
            User(
                account,
                f"{first} {last}",
                email=f"{first.lower()}.{last.lower()}@example.com",
                email_visible=index % 4 != 1,
                time_zone=TIME_ZONES[index % len(TIME_ZONES)],
                locale="en_US" if index % 5 else "de_DE",
                api_token=f"api-token-{index:02d}",
            )
        )
    for index, name in enumerate(("Former Employee One", "Gerd Alt", "Lucy Gone")):
        people.inactive.append(
            User(
                ids.classic_account(),
                name,
                email=f"former{index}@example.com",
                email_visible=index != 1,
                active=False,
                time_zone=TIME_ZONES[(index + 3) % len(TIME_ZONES)],
            )
        )
    for index, name in enumerate(("Cody Contractor", "Rhea Freelance", "Sam Temp", "Ola Agency")):
        people.contractors.append(
            User(
                ids.prefixed_account("712020"),
                name,
                email=f"contractor{index}@partners.example",
                email_visible=index % 2 == 0,
                time_zone=TIME_ZONES[(index + 5) % len(TIME_ZONES)],
                api_token=f"api-token-c{index}",
            )
        )
    for name, app_type in APPS:
        people.apps.append(
            User(ids.prefixed_account("557058"), name, account_type="app", app_type=app_type, email=None)
        )
    for index, name in enumerate(CUSTOMERS):
        people.customers.append(
            User(
                f"qm:{ids.uuid()}:{ids.uuid()}",
                name,
                account_type="customer",
                email=f"{name.split()[0].lower()}@customer{index}.example",
                email_visible=index % 2 == 0,
                time_zone="Asia/Kolkata" if index == 0 else "America/Chicago",
            )
        )
    return people


def _site_user_ids(people: People, site_index: int) -> list[str]:
    """Who can use a site: most staff on both, some on one only; customers only on the service site."""
    ids = [people.admin.account_id]
    for index, user in enumerate(people.staff):
        only = {0: 0, 1: 1}.get(index % 5)
        if only is None or only == site_index:
            ids.append(user.account_id)
    ids += [u.account_id for u in people.inactive + people.contractors + people.apps]
    if site_index == 1:
        ids += [u.account_id for u in people.customers]
    return ids


def _groups(ids: Ids, site: Site, people: People, site_index: int) -> dict[str, Group]:
    members = set(site.user_ids)
    staff = [u.account_id for u in people.staff if u.account_id in members]
    inactive = [u.account_id for u in people.inactive]
    admin = people.admin.account_id
    groups = [
        ("jira-software-users", [admin, *staff, *inactive]),
        ("site-admins", [admin]),
        ("jira-administrators", [admin, staff[0]]),
        ("developers", staff[::2]),
        ("qa", staff[1::4]),
        ("former-staff", inactive),
        ("atlassian-addons-admin", [u.account_id for u in people.apps]),
    ]
    if site_index == 1:
        groups += [
            ("jira-servicemanagement-users", [admin, *staff[:8]]),
            ("support-agents", staff[:6]),
        ]
    else:
        groups.append(("platform-oncall", staff[2:9:2]))
    result: dict[str, Group] = {}
    for name, member_ids in groups:
        group = Group(ids.uuid(), name, sorted(set(member_ids), key=member_ids.index))
        result[group.group_id] = group
    return result


def _teams(ids: Ids, org: Organization, people: People, sites: list[Site]) -> None:
    staff = [u.account_id for u in people.staff]
    contractors = [u.account_id for u in people.contractors]
    plans = [
        (
            "Platform",
            "Owns the shared services.",
            None,
            "ACTIVE",
            "MEMBER_INVITE",
            staff[0:6] + contractors[:2],
        ),
        (
            "Mobile",
            "Builds the iOS and Android apps.",
            None,
            "ACTIVE",
            "OPEN",
            staff[6:11] + contractors[2:3],
        ),
        ("Data", "Pipelines and analytics.", None, "ACTIVE", "MEMBER_INVITE", staff[11:15]),
        (
            "Support Heroes",
            "First-line support.",
            sites[1].cloud_id,
            "ACTIVE",
            "OPEN",
            staff[15:19] + contractors[3:],
        ),
        ("Design Guild", "Cross-team design practice.", None, "ARCHIVED", "OPEN", staff[19:22]),
        (
            "Security",
            "Security champions.",
            None,
            "ACTIVE",
            "ORG_ADMIN_MANAGED",
            staff[22:24] + [people.inactive[0].account_id],
        ),
    ]
    for name, description, site_id, state, team_type, member_ids in plans:
        team = Team(
            ids.uuid(),
            name,
            description,
            org.org_id,
            site_id,
            list(member_ids),
            state=state,
            team_type=team_type,
            creator_id=people.admin.account_id,
        )
        org.teams[team.team_id] = team


def _team_managed_config(site: Site, project: Project) -> tuple[dict[str, str], dict[str, str]]:
    """Project-scoped statuses and issue types of a team-managed project (same names, own ids)."""
    status_ids = {}
    for offset, (name, category) in enumerate((("To Do", 2), ("In Progress", 4), ("Done", 3))):
        status = Status(str(10100 + offset), name, category, scope_project_id=project.id)
        site.statuses[status.id] = status
        status_ids[name] = status.id
    type_ids = {}
    for offset, (name, level) in enumerate((("Story", 0), ("Task", 0), ("Bug", 0), ("Subtask", -1))):
        issue_type = IssueType(
            str(10100 + offset),
            name,
            f"{name} of a team-managed project.",
            subtask=level == -1,
            hierarchy_level=level,
            scope_project_id=project.id,
        )
        site.issue_types[issue_type.id] = issue_type
        type_ids[name] = issue_type.id
    return status_ids, type_ids


class SiteGenerator:
    """Fills one site with projects and issues whose histories walk the project's workflow."""

    def __init__(
        self, rng: random.Random, ids: Ids, site: Site, plan: SitePlan, people: People, users: dict[str, User]
    ):
        self.rng = rng
        self.ids = ids
        self.site = site
        self.plan = plan
        self.people = people
        self.writer = HistoryWriter(site, users)
        members = set(site.user_ids)
        self.staff = [u.account_id for u in people.staff if u.account_id in members]
        self.customers = [u.account_id for u in people.customers if u.account_id in members]
        self.automation = people.apps[0].account_id
        self.tz = zone(site.time_zone)
        # per project: plan, status ids by name, type ids by name, workflow plan
        self.projects: dict[
            str, tuple[ProjectPlan, Project, dict[str, str], dict[str, str], catalog.WorkflowPlan]
        ] = {}
        self.type_choices: dict[str, WeightedChoice] = {}
        self.path_choices: dict[str, WeightedChoice] = {}

    def build_projects(self) -> None:
        site, rng = self.site, self.rng
        global_status_ids = {s.name: s.id for s in site.statuses.values()}
        global_type_ids = {t.name: t.id for t in site.issue_types.values()}
        workflows: dict[str, str] = {}
        for index, plan in enumerate(self.plan.projects):
            project = Project(
                id=str(10000 + index),
                key=plan.key,
                name=plan.name,
                issue_type_ids=[],
                project_type_key=plan.project_type_key,
                style="next-gen" if plan.team_managed else "classic",
                simplified=plan.team_managed,
                lead_account_id=self.staff[index % len(self.staff)],
                category_name=plan.category,
                description=f"The {plan.name} project.",
            )
            if plan.team_managed:
                status_ids, type_ids = _team_managed_config(site, project)
                workflow_plan = catalog.WORKFLOW_PLANS["simple"]
                workflow = catalog.build_workflow(self.ids.uuid(), workflow_plan, status_ids)
                workflow.name = f"{plan.name} workflow"
                site.workflows[workflow.id] = workflow
                project.workflow_id = workflow.id
            else:
                status_ids, type_ids = global_status_ids, global_type_ids
                workflow_plan = catalog.WORKFLOW_PLANS[plan.workflow]
                if plan.workflow not in workflows:
                    workflow = catalog.build_workflow(self.ids.uuid(), workflow_plan, status_ids)
                    site.workflows[workflow.id] = workflow
                    workflows[plan.workflow] = workflow.id
                project.workflow_id = workflows[plan.workflow]
            project.issue_type_ids = [type_ids[name] for name, _ in plan.issue_types]
            project.components = [
                Component(str(10000 + index * 10 + n), name, f"{name} of {plan.name}.")
                for n, name in enumerate(rng.sample(COMPONENTS, 3))
            ]
            project.versions = [
                Version(
                    str(10000 + index * 10 + n),
                    f"{plan.key.lower()}-{2022 + n}.{n + 1}",
                    released=n < 3,
                    release_date=f"{2022 + n}-06-30",
                )
                for n in range(5)
            ]
            site.projects[project.id] = project
            self.projects[plan.key] = (plan, project, status_ids, type_ids, workflow_plan)
            self.type_choices[plan.key] = WeightedChoice(
                [n for n, _ in plan.issue_types], [w for _, w in plan.issue_types]
            )
            self.path_choices[plan.key] = WeightedChoice(
                [p for _, p in workflow_plan.paths], [w for w, _ in workflow_plan.paths]
            )

    def build_issues(self, count: int) -> None:
        rng = self.rng
        plans = self.plan.projects
        keys = rng.choices([p.key for p in plans], weights=[p.weight for p in plans], k=count)
        span = DATA_END_MS - DATA_START_MS - 7 * DAY
        # More recent years have more issues, as real sites grow.
        created = sorted(DATA_START_MS + int(span * rng.random() ** 0.7) for _ in range(count))
        ordinals: dict[str, int] = {}
        epics: dict[str, list[Issue]] = {p.key: [] for p in plans}
        parents: dict[str, list[Issue]] = {p.key: [] for p in plans}
        for created_ms, project_key in zip(created, keys, strict=True):
            ordinals[project_key] = ordinal = ordinals.get(project_key, 0) + 1
            issue = self._issue(project_key, ordinal, created_ms, epics[project_key], parents[project_key])
            self.site.issues[issue.id] = issue
            self.site.issue_ids_by_key[issue.key] = issue.id
        for (project_key, ordinal), target in MOVED.items():
            self._move(f"{project_key}-{ordinal}", target)
        for project_key, count in ordinals.items():
            project = self.projects[project_key][1]
            project.issue_counter = max(project.issue_counter, count)

    def _issue(
        self, project_key: str, ordinal: int, created_ms: int, epics: list[Issue], parents: list[Issue]
    ) -> Issue:
        rng, site = self.rng, self.site
        plan, project, status_ids, type_ids, workflow_plan = self.projects[project_key]
        pinned = (project_key, ordinal)
        special = pinned in LONG_HISTORIES or pinned in FORCED_PATHS or pinned in MOVED
        type_name = self.type_choices[project_key].draw(rng)
        if special:
            type_name = "Story" if "Story" in type_ids else "Task"
        issue_type = site.issue_types[type_ids[type_name]]
        parent_id = None
        if issue_type.subtask:
            if not parents:
                issue_type = site.issue_types[type_ids["Task"]]
            else:
                parent_id = parents[len(parents) - 1 - int(rng.random() * min(40, len(parents)))].id
        elif issue_type.hierarchy_level == 0 and epics and rng.random() < 0.3 and not special:
            parent_id = epics[len(epics) - 1 - int(rng.random() * min(10, len(epics)))].id
        if plan.customer_reporters and self.customers and rng.random() < 0.6:
            reporter = pick(rng, self.customers)
        else:
            reporter = pick(rng, self.staff)
        creator = self.automation if rng.random() < 0.04 else reporter
        initial_status = status_ids[workflow_plan.paths[0][1][0]]
        issue = Issue(
            id=str(site.next_issue_id),
            key=f"{project_key}-{ordinal}",
            project_id=project.id,
            issue_type_id=issue_type.id,
            status_id=initial_status,
            summary=f"{pick(rng, VERBS)} {pick(rng, OBJECTS)}",
            created_ms=created_ms,
            updated_ms=created_ms,
            reporter_id=reporter,
            creator_id=creator,
            priority_id=PRIORITY_CHOICE.draw(rng),
            parent_id=parent_id,
            description=None if rng.random() < 0.35 else f"Steps and context for {project_key}-{ordinal}.",
            status_category_changed_ms=created_ms,
        )
        site.next_issue_id += 1
        if rng.random() < 0.3:
            issue.labels = sorted(rng.sample(LABELS, rng.randint(1, 2)))
        if rng.random() < 0.2:
            issue.due_date = format_date(created_ms + rng.randint(14, 60) * DAY, self.tz)
        if rng.random() < 0.5 and not special:
            issue.component_ids = [pick(rng, project.components).id]
        if type_name in ("Story", "Task") and plan.project_type_key == "software" and rng.random() < 0.5:
            issue.custom_fields[STORY_POINTS_FIELD] = pick(rng, (1, 2, 3, 5, 8, 13))
        if type_name in ("Incident", "Production Issue"):
            issue.custom_fields["customfield_10060"] = dict(rng.choice(SEVERITIES))
        if rng.random() < 0.15:
            issue.assignee_id = pick(rng, self.staff)
        if pinned in LONG_HISTORIES:
            self._long_history(issue, status_ids, LONG_HISTORIES[pinned])
        else:
            path = FORCED_PATHS.get(pinned) or self.path_choices[project_key].draw(rng)
            self._walk(issue, path, status_ids)
        if issue.status_id in (status_ids.get("Done"), status_ids.get("Closed")) and rng.random() < 0.4:
            released = [v for v in project.versions if v.released]
            if released and not special:
                issue.fix_version_ids = [rng.choice(released).id]
        self._comments_and_worklogs(issue)
        if not special:
            if issue_type.hierarchy_level == 1:
                epics.append(issue)
            elif not issue_type.subtask:
                parents.append(issue)
        return issue

    def _walk(self, issue: Issue, path: tuple[str, ...], status_ids: dict[str, str]) -> None:
        # The hottest loop of start-up (100k issues, ~3 steps each): locals, no keyword calls.
        random, writer, staff = self.rng.random, self.writer, self.staff
        status_items, record = writer.status_items, writer.record
        at = issue.created_ms
        mean_gap = MEAN_GAPS[int(random() * len(MEAN_GAPS))]
        for step, status_name in enumerate(path[1:]):
            at += MINUTE + int(-mean_gap * math.log(1.0 - random()))
            if at >= DATA_END_MS:
                return
            actor = issue.assignee_id or issue.reporter_id
            if random() < 0.05:
                actor = self.automation
            if step == 0 and issue.assignee_id is None and random() < 0.8:
                assignee = staff[int(random() * len(staff))]
                moved = writer.assignee_items(issue, assignee) + status_items(
                    issue, status_ids[status_name], at
                )
                record(issue, actor, at, moved)
            else:
                record(issue, actor, at, status_items(issue, status_ids[status_name], at))
            roll = random()
            if roll < 0.12:
                at += MINUTE + int(-HOUR * math.log(1.0 - random()))
                if at >= DATA_END_MS:
                    return
                self._field_edit(issue, at, roll)

    def _field_edit(self, issue: Issue, at: int, roll: float) -> None:
        rng, writer = self.rng, self.writer
        actor = rng.choice(self.staff)
        if roll < 0.04:
            choices = [p for p in ("1", "2", "3", "4") if p != issue.priority_id]
            writer.change(issue, actor, at, priority_id=rng.choice(choices))
        elif roll < 0.07:
            choices = [a for a in self.staff if a != issue.assignee_id]
            writer.change(issue, actor, at, assignee_id=rng.choice(choices))
        elif roll < 0.09:
            writer.change(issue, actor, at, labels=sorted({*issue.labels, rng.choice(LABELS)} ^ {"triaged"}))
        elif roll < 0.1:
            writer.change(issue, actor, at, summary=f"{issue.summary} (updated)")
        elif STORY_POINTS_FIELD in issue.custom_fields:
            points = issue.custom_fields[STORY_POINTS_FIELD]
            writer.change(issue, actor, at, story_points=13 if points != 13 else 8)
        else:
            writer.change(issue, actor, at, labels=sorted({*issue.labels, "follow-up"} ^ {"triaged"}))

    def _long_history(self, issue: Issue, status_ids: dict[str, str], total: int) -> None:
        """Exactly `total` histories: review ping-pong, then QA and Done (one assignee edit if odd)."""
        pairs, odd = divmod(total - 5, 2)
        path = ["Selected for Development", "In Progress"]
        path += ["In Review", "In Progress"] * pairs
        path += ["In Review", "QA", "Done"]
        at = issue.created_ms
        people = self.staff
        for step, status_name in enumerate(path):
            at += 3 * HOUR + step * MINUTE % (7 * MINUTE)
            self.writer.change(issue, people[step % len(people)], at, status_id=status_ids[status_name])
            if odd and step == 1:
                at += 10 * MINUTE
                self.writer.change(issue, people[0], at, assignee_id=people[(step + 3) % len(people)])
        assert len(issue.histories) == total, (issue.key, len(issue.histories), total)

    def _comments_and_worklogs(self, issue: Issue) -> None:
        rng, site = self.rng, self.site
        if not issue.histories:
            return
        first, last = issue.created_ms, issue.updated_ms
        if rng.random() < 0.25:
            for _ in range(rng.randint(1, 3)):
                at = rng.randint(first, last)
                author = rng.choice(self.staff)
                issue.comments.append(
                    Comment(str(site.next_comment_id), author, rng.choice(COMMENTS), at, at)
                )
                site.next_comment_id += 1
            issue.comments.sort(key=lambda c: c.created_ms)
        if rng.random() < 0.1:
            for _ in range(rng.randint(1, 2)):
                started = rng.randint(first, last)
                author = rng.choice(self.staff)
                issue.worklogs.append(
                    Worklog(
                        str(site.next_worklog_id),
                        author,
                        rng.choice((1800, 3600, 7200, 14400)),
                        started,
                        started,
                        started,
                        "Worked on it.",
                    )
                )
                site.next_worklog_id += 1
            issue.worklogs.sort(key=lambda w: w.started_ms)

    def _move(self, key: str, target_key: str) -> None:
        """Move an issue to another project: new key, old key still resolves, as Jira does."""
        site = self.site
        issue = site.find_issue(key)
        if issue is None or target_key not in self.projects:
            return
        source = site.projects[issue.project_id]
        target = self.projects[target_key][1]
        number = 1 + max(
            (int(k.rpartition("-")[2]) for k in site.issue_ids_by_key if k.startswith(f"{target_key}-")),
            default=0,
        )
        target.issue_counter = number
        new_key = f"{target_key}-{number}"
        at = min(issue.updated_ms + DAY, DATA_END_MS - HOUR)
        items = [
            ChangeItem("project", "jira", "project", source.id, source.name, target.id, target.name),
            ChangeItem("Key", "jira", "issuekey", None, issue.key, None, new_key),
        ]
        self.writer.record(issue, self.people.admin.account_id, max(at, issue.updated_ms + MINUTE), items)
        issue.key = new_key
        issue.project_id = target.id
        site.issue_ids_by_key[new_key] = issue.id


COMMENTS = (
    "Looks good to me.",
    "Can you add steps to reproduce?",
    "Deployed to staging.",
    "Customer confirmed the fix.",
    "Blocked by the API change.",
)


def generate_world(
    issues: int = DEFAULT_ISSUES,
    seed: int = DEFAULT_SEED,
    *,
    api_token: str = DEFAULT_API_TOKEN,
    app: OAuthApp | None = None,
) -> World:
    """The default world with `issues` issues in total (60% on the first site)."""
    if issues < 0:
        raise ValueError(f"--issues must be >= 0, got {issues}")
    # Millions of small objects: the cyclic collector would rescan them again and again while they
    # are built (it doubles the build time), so it pauses until they are all in place.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate(issues, seed, api_token, app)
    finally:
        if collecting:
            gc.enable()


def _generate(issues: int, seed: int, api_token: str, app: OAuthApp | None) -> World:
    rng = random.Random(seed)
    ids = Ids(rng)
    people = _people(ids, api_token)
    users = {u.account_id: u for u in people.all()}
    org = Organization(ids.uuid(), "Acme Holdings")
    sites: list[Site] = []
    generators: list[SiteGenerator] = []
    for index, plan in enumerate(SITE_PLANS):
        site = Site(
            cloud_id=ids.uuid(),
            name=plan.name,
            display_name=plan.display_name,
            time_zone=plan.time_zone,
            organization_id=org.org_id,
            issue_types=catalog.standard_issue_types(),
            statuses=catalog.standard_statuses(),
            priorities=catalog.priorities(),
            resolutions=catalog.resolutions(),
            user_ids=_site_user_ids(people, index),
        )
        site.groups = _groups(ids, site, people, index)
        org.site_cloud_ids.append(site.cloud_id)
        sites.append(site)
        generator = SiteGenerator(rng, ids, site, plan, people, users)
        generator.build_projects()
        generators.append(generator)
    first_site_issues = round(issues * SITE_PLANS[0].share)
    for generator, count in zip(generators, (first_site_issues, issues - first_site_issues), strict=True):
        generator.build_issues(count)
    _teams(ids, org, people, sites)
    world = World(
        sites={s.cloud_id: s for s in sites},
        organizations={org.org_id: org},
        users=users,
        app=app or OAuthApp(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        admin_account_id=people.admin.account_id,
        seed=seed,
    )
    # Later world parts draw from their own random streams, so what is above never changes: sprints
    # and worklog changes on the live issues, then what furnish adds (retired projects, ...).
    pinned = {f"{key}-{ordinal}" for key, ordinal in (*LONG_HISTORIES, *FORCED_PATHS, *MOVED)}
    add_agile(world, seed, DATA_END_MS, pinned)
    add_worklog_changes(world, seed, DATA_END_MS)
    furnish(world, issues)
    return world
