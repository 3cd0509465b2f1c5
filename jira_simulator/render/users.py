"""Accounts as Jira renders them: `UserDetails` inside issues, `User` from the user endpoints."""

from __future__ import annotations

from typing import Any

from jira_simulator.model import User
from jira_simulator.render.context import RenderContext


class UserRenderer:
    """Hidden emails are left out, except for the viewer's own; embedded users are cached per request."""

    def __init__(self, context: RenderContext) -> None:
        self.context = context
        self._refs: dict[str, dict[str, Any]] = {}

    def user_ref(self, account_id: str | None) -> dict[str, Any] | None:
        """`UserDetails`, as Jira embeds users in issues and changelogs."""
        if account_id is None:
            return None
        cached = self._refs.get(account_id)
        if cached is None:
            user = self.context.world.users.get(account_id)
            cached = self._refs[account_id] = self._body(user, account_id, full=False)
        return cached

    def user(self, user: User) -> dict[str, Any]:
        """`User`, as the user endpoints return it."""
        return self._body(user, user.account_id, full=True)

    def _body(self, user: User | None, account_id: str, *, full: bool) -> dict[str, Any]:
        context = self.context
        body: dict[str, Any] = {
            "self": f"{context.base}/user?accountId={account_id}",
            "accountId": account_id,
        }
        if user is None:
            body.update(displayName="Former user", active=False, accountType="unknown")
            return body
        if full:
            body["accountType"] = user.account_type
        if user.email and (user.email_visible or user.account_id == context.viewer_id):
            body["emailAddress"] = user.email
        body["avatarUrls"] = context.avatars("user", account_id)
        body["displayName"] = user.display_name
        body["active"] = user.active
        body["timeZone"] = user.time_zone
        if full:
            body["locale"] = user.locale
            if user.app_type:
                body["appType"] = user.app_type
        else:
            body["accountType"] = user.account_type
        return body
