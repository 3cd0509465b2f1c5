"""Jira's permissions: the catalog a site lists, its permission schemes, and who holds what.

Keys, names and types are Jira Cloud's. Descriptions are Jira's where a real answer was seen
(Airbyte's source-jira capture of `GET /permissions`: ADD_COMMENTS, ADMINISTER,
ADMINISTER_PROJECTS; Atlassian's spec examples: BULK_CHANGE, EDIT_ISSUES); the others follow
Atlassian's "Permissions overview" wording, not confirmed word for word.

Schemes as a company-managed site has them: the *Default Permission Scheme* (id 0, as on a real
site: Airbyte's capture lists grants under `permissionscheme/0`) for software and business
projects, and one service-management scheme for service projects. Grants go to the
`applicationRole` holder (anyone with product access), to project roles and to the admin groups,
the way the real default scheme grants them. A user holds a project permission in a project when
a grant of the project's scheme matches them (`holds`); losing *Browse projects* on a project
(`Project.hidden_from`) takes every permission there away.
"""

from __future__ import annotations

from dataclasses import dataclass

from jira_simulator.applications import is_jira_admin, user_applications
from jira_simulator.model import Project, Site, World
from jira_simulator.roles import ADMINISTRATORS, MEMBER, Role, plays_role


@dataclass(frozen=True)
class Permission:
    key: str
    name: str
    type: str  # GLOBAL | PROJECT
    description: str


PROJECT_PERMISSIONS = (
    Permission("ADD_COMMENTS", "Add Comments", "PROJECT", "Ability to comment on issues."),
    Permission("ADMINISTER_PROJECTS", "Administer Projects", "PROJECT", "Ability to administer a project in Jira."),
    Permission("ASSIGNABLE_USER", "Assignable User", "PROJECT", "Users with this permission may be assigned to issues."),
    Permission("ASSIGN_ISSUES", "Assign Issues", "PROJECT", "Ability to assign issues to other people."),
    Permission("BROWSE_PROJECTS", "Browse Projects", "PROJECT", "Ability to browse projects and the issues within them."),
    Permission("CLOSE_ISSUES", "Close Issues", "PROJECT", "Ability to close issues."),
    Permission("CREATE_ATTACHMENTS", "Create Attachments", "PROJECT", "Users with this permission may create attachments."),
    Permission("CREATE_ISSUES", "Create Issues", "PROJECT", "Ability to create issues."),
    Permission("DELETE_ALL_ATTACHMENTS", "Delete All Attachments", "PROJECT", "Users with this permission may delete all attachments."),
    Permission("DELETE_ALL_COMMENTS", "Delete All Comments", "PROJECT", "Ability to delete all comments made on issues."),
    Permission("DELETE_ALL_WORKLOGS", "Delete All Worklogs", "PROJECT", "Ability to delete all worklogs made on issues."),
    Permission("DELETE_ISSUES", "Delete Issues", "PROJECT", "Ability to delete issues."),
    Permission("DELETE_OWN_ATTACHMENTS", "Delete Own Attachments", "PROJECT", "Users with this permission may delete own attachments."),
    Permission("DELETE_OWN_COMMENTS", "Delete Own Comments", "PROJECT", "Ability to delete own comments made on issues."),
    Permission("DELETE_OWN_WORKLOGS", "Delete Own Worklogs", "PROJECT", "Ability to delete own worklogs made on issues."),
    Permission("EDIT_ALL_COMMENTS", "Edit All Comments", "PROJECT", "Ability to edit all comments made on issues."),
    Permission("EDIT_ALL_WORKLOGS", "Edit All Worklogs", "PROJECT", "Ability to edit all worklogs made on issues."),
    Permission("EDIT_ISSUES", "Edit Issues", "PROJECT", "Ability to edit issues."),
    Permission("EDIT_OWN_COMMENTS", "Edit Own Comments", "PROJECT", "Ability to edit own comments made on issues."),
    Permission("EDIT_OWN_WORKLOGS", "Edit Own Worklogs", "PROJECT", "Ability to edit own worklogs made on issues."),
    Permission("LINK_ISSUES", "Link Issues", "PROJECT", "Ability to link issues together and create linked issues."),
    Permission("MANAGE_SPRINTS_PERMISSION", "Manage sprints", "PROJECT", "Ability to manage sprints."),
    Permission("MANAGE_WATCHERS", "Manage Watchers", "PROJECT", "Ability to manage the watchers of an issue."),
    Permission("MODIFY_REPORTER", "Modify Reporter", "PROJECT", "Ability to modify the reporter when creating or editing an issue."),
    Permission("MOVE_ISSUES", "Move Issues", "PROJECT", "Ability to move issues between projects or between workflows of the same project."),
    Permission("RESOLVE_ISSUES", "Resolve Issues", "PROJECT", "Ability to resolve and reopen issues."),
    Permission("SCHEDULE_ISSUES", "Schedule Issues", "PROJECT", "Ability to view or edit an issue's due date."),
    Permission("SET_ISSUE_SECURITY", "Set Issue Security", "PROJECT", "Ability to set the level of security on an issue."),
    Permission("TRANSITION_ISSUES", "Transition Issues", "PROJECT", "Ability to transition issues."),
    Permission("VIEW_DEV_TOOLS", "View Development Tools", "PROJECT", "Allows users to view development-related information on the issue."),
    Permission("VIEW_READONLY_WORKFLOW", "View Read-Only Workflow", "PROJECT", "Users with this permission may view a read-only version of a workflow."),
    Permission("VIEW_VOTERS_AND_WATCHERS", "View Voters and Watchers", "PROJECT", "Ability to view the voters and watchers of an issue."),
    Permission("WORK_ON_ISSUES", "Work On Issues", "PROJECT", "Ability to log work done against an issue."),
)  # fmt: skip
GLOBAL_PERMISSIONS = (
    Permission(
        "ADMINISTER",
        "Administer Jira",
        "GLOBAL",
        "Create and administer projects, issue types, fields, workflows, and schemes for all projects. "
        "Users with this permission can perform most administration tasks, except: managing users, "
        "importing data, and editing system email settings.",
    ),
    Permission(
        "BULK_CHANGE",
        "Bulk Change",
        "GLOBAL",
        "Ability to modify a collection of issues at once. For example, resolve multiple issues in one step.",
    ),
    Permission("CREATE_SHARED_OBJECTS", "Share dashboards and filters", "GLOBAL", "Share dashboards and filters with other users."),
    Permission("MANAGE_GROUP_FILTER_SUBSCRIPTIONS", "Manage group filter subscriptions", "GLOBAL", "Create and delete group filter subscriptions."),
    Permission("USER_PICKER", "Browse users and groups", "GLOBAL", "View and select users or groups from the user picker, and share issues."),
)  # fmt: skip
PERMISSIONS = {p.key: p for p in (*GLOBAL_PERMISSIONS, *PROJECT_PERMISSIONS)}
# Only admins may do these in the default scheme; everything else goes to anyone with product access.
ADMIN_ONLY = ("ADMINISTER_PROJECTS", "DELETE_ALL_ATTACHMENTS", "DELETE_ALL_COMMENTS", "DELETE_ALL_WORKLOGS", "EDIT_ALL_COMMENTS", "EDIT_ALL_WORKLOGS", "MODIFY_REPORTER", "DELETE_ISSUES", "SET_ISSUE_SECURITY")  # fmt: skip


@dataclass(frozen=True)
class Holder:
    type: str  # applicationRole | projectRole | group
    parameter: str | None = None  # role id, group name
    value: str | None = None  # role id, group id


@dataclass(frozen=True)
class Grant:
    id: int
    permission: str
    holder: Holder


@dataclass(frozen=True)
class PermissionScheme:
    id: int
    name: str
    description: str
    grants: tuple[Grant, ...]


def _role_holder(role: Role) -> Holder:
    return Holder("projectRole", str(role.id), str(role.id))


def _scheme(
    scheme_id: int, name: str, description: str, grant_base: int, member: Role | None
) -> PermissionScheme:
    grants: list[Grant] = []
    for permission in PROJECT_PERMISSIONS:
        holders = [_role_holder(ADMINISTRATORS)]
        if permission.key not in ADMIN_ONLY:
            holders.append(Holder("applicationRole") if member is None else _role_holder(member))
        grants += [Grant(grant_base + len(grants), permission.key, h) for h in holders]
    return PermissionScheme(scheme_id, name, description, tuple(grants))


DEFAULT_SCHEME = _scheme(
    0,
    "Default Permission Scheme",
    "This is the default Permission Scheme. Any new projects that are created will be assigned this scheme.",
    10000,
    None,
)
SERVICE_SCHEME = _scheme(
    10000,
    "Jira Service Management Permission Scheme",
    "The permission scheme of service projects: agents work on requests, customers use the portal.",
    11000,
    MEMBER,
)


def permission_schemes(site: Site) -> list[PermissionScheme]:
    service = any(p.project_type_key == "service_desk" for p in site.projects.values())
    return [DEFAULT_SCHEME, SERVICE_SCHEME] if service else [DEFAULT_SCHEME]


def project_scheme(project: Project) -> PermissionScheme:
    return SERVICE_SCHEME if project.project_type_key == "service_desk" else DEFAULT_SCHEME


def holds(world: World, site: Site, project: Project, account_id: str, permission: str) -> bool:
    """Whether the account holds a project permission in the project, by its scheme's grants."""
    if account_id in project.hidden_from or account_id not in site.user_ids:
        return False
    for grant in project_scheme(project).grants:
        if grant.permission != permission:
            continue
        holder = grant.holder
        if holder.type == "applicationRole" and user_applications(world, site, account_id):
            return True
        if holder.type == "projectRole":
            role = next(r for r in (ADMINISTRATORS, MEMBER) if str(r.id) == holder.parameter)
            if plays_role(world, site, project, role, account_id):
                return True
    return False


def holds_global(world: World, site: Site, account_id: str, permission: str) -> bool:
    if permission == "ADMINISTER" or is_jira_admin(world, site, account_id):
        return is_jira_admin(world, site, account_id)
    return bool(user_applications(world, site, account_id))
