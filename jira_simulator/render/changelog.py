"""Issue histories: change items, histories, the changelog `expand=changelog` embeds."""

from __future__ import annotations

from typing import Any

from jira_simulator.model import ChangeItem, History, Issue
from jira_simulator.render.context import RenderContext
from jira_simulator.render.users import UserRenderer


class ChangelogRenderer:
    def __init__(self, context: RenderContext, users: UserRenderer) -> None:
        self.context = context
        self.users = users

    def change_item(self, item: ChangeItem) -> dict[str, Any]:
        """Keys the spec does not allow to be null (`from`, `to`, ...) are left out when empty."""
        body: dict[str, Any] = {"field": item.field, "fieldtype": item.field_type}
        if item.field_id is not None:
            body["fieldId"] = item.field_id
        if item.from_id is not None:
            body["from"] = item.from_id
        if item.from_string is not None:
            body["fromString"] = item.from_string
        if item.to_id is not None:
            body["to"] = item.to_id
        if item.to_string is not None:
            body["toString"] = item.to_string
        return body

    def history(self, history: History, field_ids: set[str] | None = None) -> dict[str, Any]:
        items = history.items
        if field_ids is not None:
            items = [i for i in items if (i.field_id or i.field) in field_ids]
        body: dict[str, Any] = {"id": history.id}
        author = self.users.user_ref(history.author_account_id)
        if author is not None:
            body["author"] = author
        body["created"] = self.context.ts(history.created_ms)
        body["items"] = [self.change_item(i) for i in items]
        return body

    def embedded(self, issue: Issue, cap: int) -> dict[str, Any]:
        """The changelog embedded by `expand=changelog`: the most recent `cap` histories, newest first."""
        histories = issue.histories[::-1][:cap]
        return {
            "startAt": 0,
            "maxResults": len(histories),
            "total": len(issue.histories),
            "histories": [self.history(h) for h in histories],
        }
