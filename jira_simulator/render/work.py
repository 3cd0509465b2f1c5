"""Comments and worklogs, and the pages an issue's `comment` and `worklog` fields embed."""

from __future__ import annotations

from typing import Any

from jira_simulator.model import Comment, Issue, Worklog
from jira_simulator.render.context import RenderContext
from jira_simulator.render.users import UserRenderer


def duration_text(seconds: int) -> str:
    """Jira's `timeSpent` rendering: `1d 2h 30m` (8-hour days, 5-day weeks)."""
    minutes = seconds // 60
    parts = []
    for unit, size in (("w", 5 * 8 * 60), ("d", 8 * 60), ("h", 60), ("m", 1)):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0m"


class WorkRenderer:
    def __init__(self, context: RenderContext, users: UserRenderer) -> None:
        self.context = context
        self.users = users

    def comment(self, issue: Issue, comment: Comment) -> dict[str, Any]:
        context = self.context
        author = self.users.user_ref(comment.author_account_id)
        return {
            "self": f"{context.base}/issue/{issue.id}/comment/{comment.id}",
            "id": comment.id,
            "author": author,
            "body": context.rich(comment.body),
            "updateAuthor": author,
            "created": context.ts(comment.created_ms),
            "updated": context.ts(comment.updated_ms),
            "jsdPublic": True,
        }

    def worklog(self, issue: Issue, worklog: Worklog) -> dict[str, Any]:
        context = self.context
        author = self.users.user_ref(worklog.author_account_id)
        return {
            "self": f"{context.base}/issue/{issue.id}/worklog/{worklog.id}",
            "author": author,
            "updateAuthor": author,
            "comment": context.rich(worklog.comment),
            "created": context.ts(worklog.created_ms),
            "updated": context.ts(worklog.updated_ms),
            "started": context.ts(worklog.started_ms),
            "timeSpent": duration_text(worklog.time_spent_seconds),
            "timeSpentSeconds": worklog.time_spent_seconds,
            "id": worklog.id,
            "issueId": issue.id,
        }

    def comments_page(self, issue: Issue) -> dict[str, Any]:
        return {
            "comments": [self.comment(issue, c) for c in issue.comments],
            "self": f"{self.context.base}/issue/{issue.id}/comment",
            "maxResults": len(issue.comments),
            "total": len(issue.comments),
            "startAt": 0,
        }

    def worklogs_page(self, issue: Issue, cap: int = 20) -> dict[str, Any]:
        shown = issue.worklogs[:cap]
        return {
            "startAt": 0,
            "maxResults": cap,
            "total": len(issue.worklogs),
            "worklogs": [self.worklog(issue, w) for w in shown],
        }
