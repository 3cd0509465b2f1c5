"""Field changes recorded the way Jira records them, so histories always replay to the issue.

Every change goes through `HistoryWriter.change`: it builds the change items from the issue's
current values, applies the new values, appends one `History` and moves `updated`. Moving into
a Done-category status sets a resolution and `resolved`; moving out of Done clears both, as Jira
does. The generator, the scenario loader and admin mutations share this one path.
"""

from __future__ import annotations

from collections.abc import Sequence

from jira_simulator.model import ChangeItem, History, Issue, Site, User

UNSET: object = object()

RESOLUTION_DONE = "Done"
RESOLUTION_WONT_DO = "Won't Do"
STORY_POINTS_FIELD = "customfield_10016"
STORY_POINTS_NAME = "Story point estimate"
DONE_CATEGORY = 3


class HistoryWriter:
    def __init__(self, site: Site, users: dict[str, User]) -> None:
        self.site = site
        self.users = users
        self._resolution_ids = {r.name: r.id for r in site.resolutions.values()}
        # (old status, new status, old resolution) -> (items, done change, resolution, category changes)
        self._transitions: dict[
            tuple[str, str, str | None], tuple[tuple[ChangeItem, ...], str | None, str | None, bool]
        ] = {}
        self._assignments: dict[tuple[str | None, str | None], ChangeItem] = {}

    def _user_name(self, account_id: str | None) -> str | None:
        if account_id is None:
            return None
        user = self.users.get(account_id)
        return user.display_name if user else account_id

    def status_items(self, issue: Issue, status_id: str, at_ms: int) -> list[ChangeItem]:
        """Move `issue` to `status_id`: the status item, plus a resolution item when Done is entered/left.

        Recorded change items are never modified, so identical transitions share their items.
        """
        key = (issue.status_id, status_id, issue.resolution_id)
        transition = self._transitions.get(key)
        if transition is None:
            transition = self._transitions[key] = self._transition(*key)
        items, done_change, resolution_id, category_changes = transition
        if done_change == "enter":
            issue.resolution_id = resolution_id
            issue.resolved_ms = at_ms
        elif done_change == "leave":
            issue.resolution_id = None
            issue.resolved_ms = None
        if category_changes:
            issue.status_category_changed_ms = at_ms
        issue.status_id = status_id
        return list(items)

    def _transition(
        self, old_id: str, new_id: str, old_resolution: str | None
    ) -> tuple[tuple[ChangeItem, ...], str | None, str | None, bool]:
        statuses = self.site.statuses
        old, new = statuses[old_id], statuses[new_id]
        items: list[ChangeItem] = []
        done_change = None
        resolution_id = old_resolution
        if new.category_id == DONE_CATEGORY and old.category_id != DONE_CATEGORY:
            done_change = "enter"
            name = RESOLUTION_WONT_DO if new.name == RESOLUTION_WONT_DO else RESOLUTION_DONE
            resolution_id = self._resolution_ids.get(name) or next(iter(self._resolution_ids.values()), None)
            if resolution_id is not None:
                items.append(self._resolution_item(old_resolution, resolution_id))
            else:
                resolution_id = old_resolution
        elif new.category_id != DONE_CATEGORY and old.category_id == DONE_CATEGORY:
            done_change = "leave"
            if old_resolution is not None:
                items.append(self._resolution_item(old_resolution, None))
            resolution_id = None
        items.append(ChangeItem("status", "jira", "status", old.id, old.name, new.id, new.name))
        return tuple(items), done_change, resolution_id, old.category_id != new.category_id

    def assignee_items(self, issue: Issue, account_id: str | None) -> list[ChangeItem]:
        """Assign `issue` to `account_id` (None: unassign); the item is shared by identical changes."""
        key = (issue.assignee_id, account_id)
        item = self._assignments.get(key)
        if item is None:
            item = self._assignments[key] = ChangeItem(
                "assignee",
                "jira",
                "assignee",
                issue.assignee_id,
                self._user_name(issue.assignee_id),
                account_id,
                self._user_name(account_id),
            )
        issue.assignee_id = account_id
        return [item]

    def _resolution_item(self, old_id: str | None, new_id: str | None) -> ChangeItem:
        names = self.site.resolutions
        return ChangeItem(
            "resolution",
            "jira",
            "resolution",
            old_id,
            names[old_id].name if old_id else None,
            new_id,
            names[new_id].name if new_id else None,
        )

    def change(
        self,
        issue: Issue,
        author_id: str | None,
        at_ms: int,
        *,
        status_id: str | None = None,
        assignee_id: object = UNSET,
        priority_id: str | None = None,
        summary: str | None = None,
        labels: Sequence[str] | None = None,
        story_points: object = UNSET,
        extra_items: Sequence[ChangeItem] = (),
    ) -> History:
        """Apply the given new values to `issue` and record them as one history at `at_ms`."""
        items: list[ChangeItem] = list(extra_items)
        if assignee_id is not UNSET and assignee_id != issue.assignee_id:
            items += self.assignee_items(issue, assignee_id if isinstance(assignee_id, str) else None)
        if priority_id is not None and priority_id != issue.priority_id:
            prios = self.site.priorities
            old_name = prios[issue.priority_id].name if issue.priority_id else None
            items.append(
                ChangeItem(
                    "priority",
                    "jira",
                    "priority",
                    issue.priority_id,
                    old_name,
                    priority_id,
                    prios[priority_id].name,
                )
            )
            issue.priority_id = priority_id
        if summary is not None and summary != issue.summary:
            items.append(ChangeItem("summary", "jira", "summary", None, issue.summary, None, summary))
            issue.summary = summary
        if labels is not None and list(labels) != issue.labels:
            items.append(
                ChangeItem("labels", "jira", "labels", None, " ".join(issue.labels), None, " ".join(labels))
            )
            issue.labels = list(labels)
        if story_points is not UNSET and story_points != issue.custom_fields.get(STORY_POINTS_FIELD):
            old = issue.custom_fields.get(STORY_POINTS_FIELD)
            items.append(
                ChangeItem(
                    STORY_POINTS_NAME,
                    "custom",
                    STORY_POINTS_FIELD,
                    None,
                    None if old is None else _number_text(old),
                    None,
                    None if story_points is None else _number_text(story_points),
                )
            )
            if story_points is None:
                issue.custom_fields.pop(STORY_POINTS_FIELD, None)
            else:
                issue.custom_fields[STORY_POINTS_FIELD] = story_points
        if status_id is not None and status_id != issue.status_id:
            items.extend(self.status_items(issue, status_id, at_ms))
        if not items:
            raise ValueError(f"{issue.key}: the change at {at_ms} changes nothing")
        return self.record(issue, author_id, at_ms, items)

    def record(self, issue: Issue, author_id: str | None, at_ms: int, items: list[ChangeItem]) -> History:
        site = self.site
        history = History(str(site.next_history_id), author_id, at_ms, items)
        site.next_history_id += 1
        issue.histories.append(history)
        issue.updated_ms = max(issue.updated_ms, at_ms)
        return history


def _number_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
