"""A site's configuration schemes and screens, derived from its company-managed projects.

Every company-managed project gets what Jira gives a new one: an issue type scheme with the
project's types, a screen scheme and an issue type screen scheme pointing at the project's own
screen, and the workflow scheme of the workflow its issues walk. The site also has Jira's defaults:
screens 1-3 (*Default Screen*, *Workflow Screen*, *Resolve Issue Screen*, names and ids as
Atlassian's example of `GET /screens` and Airbyte's capture of a real site list them), the
*Default Screen Scheme* (1), the *Default Issue Type Screen Scheme* (1) and the *Default Issue
Type Scheme* (10000). Team-managed projects have none of these (their configuration is their
own), as the spec says of `workflowscheme/project`: "team-managed ... projects are ignored".

Ids are Jira's habit (10000 upward in project order); nothing is stored, so the schemes follow
the projects as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from jira_simulator.model import Project, Site

# (id, name, description) of the screens every site has.
DEFAULT_SCREENS = (
    (1, "Default Screen", "Allows to update all system fields."),
    (2, "Workflow Screen", "This screen is used in the workflow and enables you to assign issues"),
    (3, "Resolve Issue Screen", "Allows to set resolution, change fix versions and assign an issue."),
)
# The fields of the one tab ("Field Tab") of a screen, in screen order.
SCREEN_FIELDS = (
    "summary", "issuetype", "security", "reporter", "components", "description", "fixVersions",
    "priority", "labels", "duedate", "assignee", "environment", "timetracking", "attachment",
)  # fmt: skip
RESOLVE_FIELDS = ("resolution", "fixVersions", "assignee", "comment")
WORKFLOW_FIELDS = ("assignee", "comment")
SOFTWARE_EXTRA_FIELDS = ("customfield_10016",)
SERVICE_EXTRA_FIELDS = ("customfield_10060",)


@dataclass(frozen=True)
class Screen:
    id: int
    name: str
    description: str
    tab_id: int
    field_ids: tuple[str, ...]


@dataclass(frozen=True)
class ScreenScheme:
    id: int
    name: str
    description: str
    default_screen_id: int


@dataclass(frozen=True)
class IssueTypeScreenScheme:
    id: str
    name: str
    description: str
    screen_scheme_id: int
    project_ids: tuple[str, ...]


@dataclass(frozen=True)
class IssueTypeScheme:
    id: str
    name: str
    description: str
    issue_type_ids: tuple[str, ...]
    default_issue_type_id: str | None
    is_default: bool
    project_ids: tuple[str, ...]


@dataclass(frozen=True)
class WorkflowScheme:
    id: int
    name: str
    description: str
    default_workflow: str
    project_ids: tuple[str, ...]


@dataclass(frozen=True)
class SiteSchemes:
    screens: tuple[Screen, ...]
    screen_schemes: tuple[ScreenScheme, ...]
    issue_type_screen_schemes: tuple[IssueTypeScreenScheme, ...]
    issue_type_schemes: tuple[IssueTypeScheme, ...]
    workflow_schemes: tuple[WorkflowScheme, ...]

    def screen(self, screen_id: str) -> Screen | None:
        return next((s for s in self.screens if str(s.id) == screen_id), None)


def company_managed(site: Site) -> list[Project]:
    return sorted((p for p in site.projects.values() if not p.simplified), key=lambda p: int(p.id))


def site_schemes(site: Site) -> SiteSchemes:
    projects = company_managed(site)
    screens = [
        Screen(1, DEFAULT_SCREENS[0][1], DEFAULT_SCREENS[0][2], 10000, SCREEN_FIELDS),
        Screen(2, DEFAULT_SCREENS[1][1], DEFAULT_SCREENS[1][2], 10001, WORKFLOW_FIELDS),
        Screen(3, DEFAULT_SCREENS[2][1], DEFAULT_SCREENS[2][2], 10002, RESOLVE_FIELDS),
    ]
    screen_schemes = [ScreenScheme(1, "Default Screen Scheme", "Default Screen Scheme", 1)]
    type_screen_schemes = [
        IssueTypeScreenScheme(
            "1",
            "Default Issue Type Screen Scheme",
            "The default issue type screen scheme",
            1,
            (),
        )
    ]
    type_schemes = [
        IssueTypeScheme(
            "10000",
            "Default Issue Type Scheme",
            "Default issue type scheme is the list of global issue types. All newly created issue "
            "types will automatically be added to this scheme.",
            tuple(t.id for t in site.issue_types.values() if t.scope_project_id is None),
            None,
            True,
            (),
        )
    ]
    for index, project in enumerate(projects):
        number = 10000 + index
        extra = SERVICE_EXTRA_FIELDS if project.project_type_key == "service_desk" else SOFTWARE_EXTRA_FIELDS
        screens.append(
            Screen(
                number,
                f"{project.key}: Default Issue Screen",
                f"The screen of {project.name} issues.",
                10100 + index,
                (*SCREEN_FIELDS, *extra),
            )
        )
        screen_schemes.append(ScreenScheme(number, f"{project.key}: Screen Scheme", "", number))
        type_screen_schemes.append(
            IssueTypeScreenScheme(
                str(number), f"{project.key}: Issue Type Screen Scheme", "", number, (project.id,)
            )
        )
        default_type = next((t for t in project.issue_type_ids if not site.issue_types[t].subtask), None)
        type_schemes.append(
            IssueTypeScheme(
                str(10001 + index),
                f"{project.key}: {project.project_type_key.replace('_', ' ').title()} Issue Type Scheme",
                "",
                tuple(project.issue_type_ids),
                default_type,
                False,
                (project.id,),
            )
        )
    workflow_schemes = []
    for index, workflow in enumerate(sorted(site.workflows.values(), key=lambda w: w.name)):
        users = tuple(p.id for p in projects if p.workflow_id == workflow.id)
        if users:
            workflow_schemes.append(
                WorkflowScheme(
                    10000 + index,
                    f"{workflow.name} Scheme",
                    f"Uses the {workflow.name} for every issue type.",
                    workflow.name,
                    users,
                )
            )
    return SiteSchemes(
        tuple(screens),
        tuple(screen_schemes),
        tuple(type_screen_schemes),
        tuple(type_schemes),
        tuple(workflow_schemes),
    )
