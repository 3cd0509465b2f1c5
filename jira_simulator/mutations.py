"""Changes to the world as Jira makes them: histories, `updated`, keys, and one event per change.

Issue mutations go through `HistoryWriter` (the generator's own path), so a mutated issue's
changelog still replays to its fields. Each emits an `IssueEvent` to `world.listeners` after the
world lock is released, carrying a snapshot of the issue, so the webhook dispatcher renders the
issue as it was at that change. Users, groups, teams and project visibility change silently, as
in Jira (no issue webhooks).

Event type names follow Jira: `issue_created`; `issue_assigned` when only the assignee changed,
`issue_updated` for other edits; `issue_generic` for transitions; `issue_moved` for a move;
deletes carry none.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from jira_simulator.history import UNSET, HistoryWriter
from jira_simulator.model import (
    ChangeItem,
    Group,
    History,
    Issue,
    IssueEvent,
    Organization,
    Project,
    Site,
    Status,
    Team,
    User,
    World,
)


class MutationError(ValueError):
    """A change that cannot be made; `status` is the HTTP status the admin API answers with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# --- lookups ----------------------------------------------------------------------------------


def find_site(world: World, cloud_id_or_name: str) -> Site:
    site = world.sites.get(cloud_id_or_name) or world.site_by_name(cloud_id_or_name)
    if site is None:
        known = ", ".join(f"{s.name} ({s.cloud_id})" for s in world.sites.values())
        raise MutationError(f"no site {cloud_id_or_name!r}; sites: {known}", 404)
    return site


def find_issue(site: Site, id_or_key: str) -> Issue:
    issue = site.find_issue(id_or_key)
    if issue is None:
        raise MutationError(f"site {site.name}: no issue {id_or_key!r}", 404)
    return issue


def find_project(site: Site, id_or_key: str) -> Project:
    project = site.find_project(id_or_key)
    if project is None:
        raise MutationError(f"site {site.name}: no project {id_or_key!r}", 404)
    return project


def find_user(world: World, account_id: str) -> User:
    user = world.users.get(account_id)
    if user is None:
        raise MutationError(f"no user with accountId {account_id!r}", 404)
    return user


def find_organization(world: World, org_id: str) -> Organization:
    org = world.organizations.get(org_id)
    if org is None:
        raise MutationError(
            f"no organization {org_id!r}; organizations: {', '.join(world.organizations)}", 404
        )
    return org


def find_team(org: Organization, team_id: str) -> Team:
    team = org.teams.get(team_id)
    if team is None or team.deleted:
        raise MutationError(f"organization {org.org_id}: no team {team_id!r}", 404)
    return team


def find_group(site: Site, group_id_or_name: str) -> Group:
    group = site.groups.get(group_id_or_name) or next(
        (g for g in site.groups.values() if g.name == group_id_or_name), None
    )
    if group is None:
        raise MutationError(f"site {site.name}: no group {group_id_or_name!r}", 404)
    return group


def _issue_type_id(site: Site, project: Project, id_or_name: str) -> str:
    for type_id in project.issue_type_ids:
        issue_type = site.issue_types[type_id]
        if (
            id_or_name in (issue_type.id, issue_type.name)
            or id_or_name.casefold() == issue_type.name.casefold()
        ):
            return type_id
    names = ", ".join(site.issue_types[t].name for t in project.issue_type_ids)
    raise MutationError(f"project {project.key} has no issue type {id_or_name!r}; it has: {names}")


def project_statuses(site: Site, project: Project) -> list[Status]:
    """The statuses an issue of `project` may be in: its workflow's, else the site's unscoped ones."""
    workflow = site.workflows.get(project.workflow_id or "")
    if workflow is not None:
        return [site.statuses[s] for s in workflow.status_ids]
    return [s for s in site.statuses.values() if s.scope_project_id in (None, project.id)]


def _status_id(site: Site, project: Project, id_or_name: str) -> str:
    allowed = project_statuses(site, project)
    for status in allowed:
        if id_or_name == status.id or id_or_name.casefold() == status.name.casefold():
            return status.id
    names = ", ".join(f"{s.name} ({s.id})" for s in allowed)
    raise MutationError(f"project {project.key} has no status {id_or_name!r}; its workflow has: {names}")


def _priority_id(site: Site, id_or_name: str) -> str:
    for priority in site.priorities.values():
        if id_or_name == priority.id or id_or_name.casefold() == priority.name.casefold():
            return priority.id
    names = ", ".join(p.name for p in site.priorities.values())
    raise MutationError(f"site {site.name} has no priority {id_or_name!r}; it has: {names}")


def _site_user(world: World, site: Site, account_id: str, role: str) -> str:
    if account_id not in world.users or account_id not in site.user_ids:
        raise MutationError(f"{role} {account_id!r} is not a user of site {site.name}")
    return account_id


def _actor(world: World, actor: str | None) -> str:
    account_id = actor or world.admin_account_id
    find_user(world, account_id)
    return account_id


# --- events -----------------------------------------------------------------------------------


def snapshot(issue: Issue) -> Issue:
    """The issue's fields at this moment (lists copied; histories, comments, worklogs shared)."""
    copied = copy.copy(issue)
    copied.labels = list(issue.labels)
    copied.component_ids = list(issue.component_ids)
    copied.fix_version_ids = list(issue.fix_version_ids)
    copied.custom_fields = dict(issue.custom_fields)
    copied.histories = list(issue.histories)
    copied.comments = list(issue.comments)
    copied.worklogs = list(issue.worklogs)
    return copied


@dataclass
class _Pending:
    """Events collected under the lock, emitted after it is released."""

    world: World
    events: list[IssueEvent]

    def add(
        self, kind: str, site: Site, issue: Issue, history: History | None, actor: str, type_name: str | None
    ) -> None:
        self.events.append(
            IssueEvent(
                kind=kind,  # type: ignore[arg-type]
                cloud_id=site.cloud_id,
                issue=snapshot(issue),
                history=history,
                actor_account_id=actor,
                timestamp_ms=history.created_ms if history else self.world.clock.now_ms(),
                event_type_name=type_name,
            )
        )

    def emit(self) -> None:
        for event in self.events:
            self.world.emit(event)


# --- issues -----------------------------------------------------------------------------------


def _next_key_floor(site: Site, project: Project) -> None:
    """Pin the project's counter before a delete takes its highest key out of the index."""
    if project.issue_counter == 0:
        _next_key(site, project)
        project.issue_counter -= 1


def _next_key(site: Site, project: Project) -> str:
    """The project's next key: never one it used before (moved-away and deleted keys included)."""
    if project.issue_counter == 0:
        prefix = f"{project.key}-"
        numbers = (k[len(prefix) :] for k in site.issue_ids_by_key if k.startswith(prefix))
        project.issue_counter = max((int(n) for n in numbers if n.isdigit()), default=0)
    project.issue_counter += 1
    return f"{project.key}-{project.issue_counter}"


def create_issue(
    world: World,
    site: Site,
    *,
    project: str,
    issue_type: str,
    summary: str,
    actor: str | None = None,
    reporter: str | None = None,
    assignee: str | None = None,
    priority: str | None = None,
    labels: Sequence[str] = (),
    parent: str | None = None,
    description: str | None = None,
    due_date: str | None = None,
    status: str | None = None,
) -> Issue:
    """A new issue in its workflow's first status (or `status`), with Jira's created event."""
    if not summary.strip():
        raise MutationError("summary must not be empty")
    pending = _Pending(world, [])
    with world.lock:
        author = _actor(world, actor)
        target = find_project(site, project)
        type_id = _issue_type_id(site, target, issue_type)
        parent_issue = find_issue(site, parent) if parent else None
        if site.issue_types[type_id].subtask and parent_issue is None:
            raise MutationError(f"a {site.issue_types[type_id].name} needs a parent issue")
        if (
            parent_issue is not None
            and site.issue_types[type_id].subtask
            and parent_issue.project_id != target.id
        ):
            raise MutationError(
                f"a sub-task's parent must be in its project; {parent_issue.key} is not in {target.key}"
            )
        statuses = project_statuses(site, target)
        status_id = _status_id(site, target, status) if status else statuses[0].id
        now = world.clock.now_ms()
        issue = Issue(
            id=str(site.next_issue_id),
            key=_next_key(site, target),
            project_id=target.id,
            issue_type_id=type_id,
            status_id=status_id,
            summary=summary,
            created_ms=now,
            updated_ms=now,
            reporter_id=_site_user(world, site, reporter, "reporter") if reporter else author,
            creator_id=author,
            assignee_id=_site_user(world, site, assignee, "assignee") if assignee else None,
            priority_id=_priority_id(site, priority) if priority else _default_priority(site),
            parent_id=parent_issue.id if parent_issue else None,
            description=description,
            labels=list(labels),
            due_date=due_date,
            status_category_changed_ms=now,
        )
        site.next_issue_id += 1
        site.issues[issue.id] = issue
        site.issue_ids_by_key[issue.key] = issue.id
        # Jira keeps no history for creation, but the created event's changelog lists initial values.
        created = History(str(site.next_history_id), author, now, _initial_items(site, issue))
        site.next_history_id += 1
        pending.add("jira:issue_created", site, issue, created, author, "issue_created")
    pending.emit()
    return issue


def _default_priority(site: Site) -> str | None:
    medium = next((p.id for p in site.priorities.values() if p.name == "Medium"), None)
    return medium or next(iter(site.priorities), None)


def _initial_items(site: Site, issue: Issue) -> list[ChangeItem]:
    status = site.statuses[issue.status_id]
    items = [ChangeItem("status", "jira", "status", None, None, status.id, status.name)]
    if issue.assignee_id:
        items.append(ChangeItem("assignee", "jira", "assignee", None, None, issue.assignee_id, None))
    return items


@dataclass
class IssueChanges:
    """Field edits; a field left as UNSET is not touched (None clears a clearable field)."""

    summary: object = UNSET
    assignee: object = UNSET
    reporter: object = UNSET
    priority: object = UNSET
    labels: object = UNSET
    description: object = UNSET
    due_date: object = UNSET
    custom_fields: object = UNSET  # dict customfield_NNNNN -> value (None removes)


def update_issue(
    world: World, site: Site, id_or_key: str, changes: IssueChanges, actor: str | None = None
) -> History | None:
    """Edit fields as one history; nothing changed means no history and no event, as in Jira."""
    pending = _Pending(world, [])
    with world.lock:
        author = _actor(world, actor)
        issue = find_issue(site, id_or_key)
        writer = HistoryWriter(site, world.users)
        extra: list[ChangeItem] = []
        if changes.reporter is not UNSET and changes.reporter != issue.reporter_id:
            if changes.reporter is None:
                raise MutationError("reporter cannot be cleared")
            new_reporter = _site_user(world, site, str(changes.reporter), "reporter")
            extra.append(_user_item("reporter", world, issue.reporter_id, new_reporter))
        if changes.description is not UNSET and changes.description != issue.description:
            extra.append(
                ChangeItem(
                    "description", "jira", "description", None, issue.description, None, changes.description
                )
            )  # type: ignore[arg-type]
        if changes.due_date is not UNSET and changes.due_date != issue.due_date:
            extra.append(
                ChangeItem(
                    "duedate",
                    "jira",
                    "duedate",
                    issue.due_date,
                    _day_text(issue.due_date),
                    changes.due_date,
                    _day_text(changes.due_date),
                )
            )  # type: ignore[arg-type]
        custom = dict(changes.custom_fields) if isinstance(changes.custom_fields, dict) else {}
        for field_id, value in custom.items():
            if not field_id.startswith("customfield_"):
                raise MutationError(f"custom_fields keys must be customfield_NNNNN, got {field_id!r}")
            old = issue.custom_fields.get(field_id)
            if value != old:
                extra.append(ChangeItem(field_id, "custom", field_id, None, _text(old), None, _text(value)))
        assignee = changes.assignee
        if assignee is not UNSET and assignee is not None:
            assignee = _site_user(world, site, str(assignee), "assignee")
        if changes.priority is None:
            raise MutationError("priority cannot be cleared; give a priority name or id")
        priority_id = _priority_id(site, str(changes.priority)) if changes.priority is not UNSET else None
        labels = list(changes.labels) if isinstance(changes.labels, list | tuple) else None
        if changes.labels is None:
            labels = []  # null clears the labels
        if labels is not None and any(not label or " " in label for label in labels):
            raise MutationError(f"labels must be non-empty and without spaces, got {labels}")
        summary = changes.summary if isinstance(changes.summary, str) else None
        if changes.summary is not UNSET and not (summary or "").strip():
            raise MutationError("summary must not be empty")
        try:
            history = writer.change(
                issue,
                author,
                max(world.clock.now_ms(), issue.updated_ms),
                assignee_id=assignee,
                priority_id=priority_id,
                summary=summary,
                labels=labels,
                extra_items=extra,
            )
        except ValueError:
            return None  # nothing changed
        if changes.reporter is not UNSET:
            issue.reporter_id = str(changes.reporter)
        if changes.description is not UNSET:
            issue.description = changes.description  # type: ignore[assignment]
        if changes.due_date is not UNSET:
            issue.due_date = changes.due_date  # type: ignore[assignment]
        for field_id, value in custom.items():
            if value is None:
                issue.custom_fields.pop(field_id, None)
            else:
                issue.custom_fields[field_id] = value
        only_assignee = all(item.field_id == "assignee" for item in history.items)
        pending.add(
            "jira:issue_updated",
            site,
            issue,
            history,
            author,
            "issue_assigned" if only_assignee else "issue_updated",
        )
    pending.emit()
    return history


def _user_item(field: str, world: World, old: str | None, new: str | None) -> ChangeItem:
    def name(account_id: str | None) -> str | None:
        return world.users[account_id].display_name if account_id in world.users else account_id

    return ChangeItem(field, "jira", field, old, name(old), new, name(new))


def _day_text(day: object) -> str | None:
    return None if day is None else f"{day} 00:00:00.0"


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return str(value.get("value", value))
    return str(value)


def transition_issue(
    world: World, site: Site, id_or_key: str, status: str, actor: str | None = None
) -> History:
    """Move to a status of the issue's workflow; entering Done sets a resolution and `resolved`."""
    pending = _Pending(world, [])
    with world.lock:
        author = _actor(world, actor)
        issue = find_issue(site, id_or_key)
        project = site.projects[issue.project_id]
        status_id = _status_id(site, project, status)
        if status_id == issue.status_id:
            raise MutationError(f"{issue.key} is already in status {site.statuses[status_id].name!r}")
        writer = HistoryWriter(site, world.users)
        history = writer.change(
            issue, author, max(world.clock.now_ms(), issue.updated_ms), status_id=status_id
        )
        pending.add("jira:issue_updated", site, issue, history, author, "issue_generic")
    pending.emit()
    return history


def move_issue(
    world: World,
    site: Site,
    id_or_key: str,
    project: str,
    issue_type: str | None = None,
    actor: str | None = None,
) -> History:
    """Move to another project: a new key (the old one still resolves), type and status mapped."""
    pending = _Pending(world, [])
    with world.lock:
        author = _actor(world, actor)
        issue = find_issue(site, id_or_key)
        source = site.projects[issue.project_id]
        target = find_project(site, project)
        if target.id == source.id:
            raise MutationError(f"{issue.key} is already in project {target.key}")
        if issue.parent_id and site.issue_types[issue.issue_type_id].subtask:
            raise MutationError(f"{issue.key} is a sub-task: move its parent instead")
        subtasks = [
            i
            for i in site.issues.values()
            if i.parent_id == issue.id and site.issue_types[i.issue_type_id].subtask
        ]
        current_type = site.issue_types[issue.issue_type_id]
        type_id = _issue_type_id(site, target, issue_type or current_type.name)
        histories = [_move_one(world, site, issue, target, type_id, author, pending)]
        for subtask in subtasks:
            sub_type = site.issue_types[subtask.issue_type_id]
            sub_type_id = next(
                (
                    t
                    for t in target.issue_type_ids
                    if site.issue_types[t].subtask and site.issue_types[t].name == sub_type.name
                ),
                next((t for t in target.issue_type_ids if site.issue_types[t].subtask), None),
            )
            if sub_type_id is None:
                raise MutationError(f"project {target.key} has no sub-task type for {subtask.key}")
            histories.append(_move_one(world, site, subtask, target, sub_type_id, author, pending))
    pending.emit()
    return histories[0]


def _move_one(
    world: World, site: Site, issue: Issue, target: Project, type_id: str, author: str, pending: _Pending
) -> History:
    source = site.projects[issue.project_id]
    new_key = _next_key(site, target)
    items = [
        ChangeItem("project", "jira", "project", source.id, source.name, target.id, target.name),
        ChangeItem("Key", "jira", "issuekey", None, issue.key, None, new_key),
    ]
    if type_id != issue.issue_type_id:
        old_type, new_type = site.issue_types[issue.issue_type_id], site.issue_types[type_id]
        items.append(
            ChangeItem(
                "issuetype", "jira", "issuetype", old_type.id, old_type.name, new_type.id, new_type.name
            )
        )
    allowed = {s.id for s in project_statuses(site, target)}
    at = max(world.clock.now_ms(), issue.updated_ms)
    if issue.status_id not in allowed:
        writer = HistoryWriter(site, world.users)
        same_name = next(
            (s.id for s in project_statuses(site, target) if s.name == site.statuses[issue.status_id].name),
            None,
        )
        items.extend(writer.status_items(issue, same_name or project_statuses(site, target)[0].id, at))
    history = HistoryWriter(site, world.users).record(issue, author, at, items)
    issue.key = new_key
    issue.project_id = target.id
    issue.issue_type_id = type_id
    site.issue_ids_by_key[new_key] = issue.id
    pending.add("jira:issue_updated", site, issue, history, author, "issue_moved")
    return history


def delete_issue(world: World, site: Site, id_or_key: str, actor: str | None = None) -> list[str]:
    """Delete an issue and its sub-tasks (as Jira does); returns the deleted keys."""
    pending = _Pending(world, [])
    with world.lock:
        author = _actor(world, actor)
        issue = find_issue(site, id_or_key)
        doomed = [
            i
            for i in site.issues.values()
            if i.parent_id == issue.id and site.issue_types[i.issue_type_id].subtask
        ]
        doomed.append(issue)
        for project in site.projects.values():
            _next_key_floor(site, project)
        for victim in doomed:
            del site.issues[victim.id]
            for key in [k for k, v in site.issue_ids_by_key.items() if v == victim.id]:
                del site.issue_ids_by_key[key]
            for other in site.issues.values():
                if other.parent_id == victim.id:
                    other.parent_id = None
            pending.add("jira:issue_deleted", site, victim, None, author, None)
    pending.emit()
    return [victim.key for victim in doomed]


# --- users, groups, teams, projects ----------------------------------------------------------------


def update_user(world: World, account_id: str, **changes: object) -> User:
    """Change profile fields: display_name, email, email_visible, active, time_zone, locale."""
    allowed = {"display_name", "email", "email_visible", "active", "time_zone", "locale"}
    unknown = set(changes) - allowed
    if unknown:
        raise MutationError(f"cannot change {sorted(unknown)} of a user; changeable: {sorted(allowed)}")
    with world.lock:
        user = find_user(world, account_id)
        if "time_zone" in changes:
            _check_zone(str(changes["time_zone"]))
        email = changes.get("email")
        if isinstance(email, str):
            other = world.user_by_email(email)
            if other is not None and other.account_id != account_id:
                raise MutationError(f"email {email!r} already belongs to account {other.account_id}", 409)
        for name, value in changes.items():
            setattr(user, name, value)
        return user


def _check_zone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise MutationError(f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)") from exc


def create_group(world: World, site: Site, name: str) -> Group:
    with world.lock:
        if any(g.name.casefold() == name.casefold() for g in site.groups.values()):
            raise MutationError(f"site {site.name} already has a group named {name!r}", 409)
        group = Group(str(uuid.uuid4()), name)
        site.groups[group.group_id] = group
        return group


def delete_group(world: World, site: Site, group_id_or_name: str) -> None:
    with world.lock:
        del site.groups[find_group(site, group_id_or_name).group_id]


def add_group_member(world: World, site: Site, group_id_or_name: str, account_id: str) -> Group:
    with world.lock:
        group = find_group(site, group_id_or_name)
        _site_user(world, site, account_id, "member")
        if account_id not in group.member_ids:
            group.member_ids.append(account_id)
        return group


def remove_group_member(world: World, site: Site, group_id_or_name: str, account_id: str) -> Group:
    with world.lock:
        group = find_group(site, group_id_or_name)
        if account_id not in group.member_ids:
            raise MutationError(f"{account_id!r} is not a member of group {group.name}", 404)
        group.member_ids.remove(account_id)
        return group


def create_team(
    world: World,
    org: Organization,
    *,
    display_name: str,
    description: str = "",
    site_cloud_id: str | None = None,
    member_ids: Sequence[str] = (),
    team_type: str = "MEMBER_INVITE",
) -> Team:
    with world.lock:
        if site_cloud_id is not None and site_cloud_id not in org.site_cloud_ids:
            raise MutationError(f"site {site_cloud_id!r} is not in organization {org.org_id}")
        for account_id in member_ids:
            find_user(world, account_id)
        team = Team(
            str(uuid.uuid4()),
            display_name,
            description,
            org.org_id,
            site_cloud_id,
            list(dict.fromkeys(member_ids)),
            team_type=team_type,
            creator_id=world.admin_account_id,
        )
        org.teams[team.team_id] = team
        return team


def set_team_state(world: World, org: Organization, team_id: str, state: str) -> Team:
    """ARCHIVED or ACTIVE (unarchive); DELETED marks the team gone (the Teams API answers 410)."""
    with world.lock:
        team = find_team(org, team_id)
        if state == "DELETED":
            team.deleted = True
        elif state in ("ACTIVE", "ARCHIVED"):
            team.state = state
        else:
            raise MutationError(f"team state must be ACTIVE, ARCHIVED or DELETED, got {state!r}")
        return team


def add_team_member(world: World, org: Organization, team_id: str, account_id: str) -> Team:
    with world.lock:
        team = find_team(org, team_id)
        find_user(world, account_id)
        if account_id not in team.member_ids:
            team.member_ids.append(account_id)
        return team


def remove_team_member(world: World, org: Organization, team_id: str, account_id: str) -> Team:
    with world.lock:
        team = find_team(org, team_id)
        if account_id not in team.member_ids:
            raise MutationError(f"{account_id!r} is not a member of team {team.display_name}", 404)
        team.member_ids.remove(account_id)
        return team


def set_project_hidden(world: World, site: Site, project: str, account_id: str, hidden: bool) -> Project:
    """Take away (or give back) a user's Browse permission on a project."""
    with world.lock:
        target = find_project(site, project)
        find_user(world, account_id)
        if hidden:
            target.hidden_from.add(account_id)
        else:
            target.hidden_from.discard(account_id)
        return target
