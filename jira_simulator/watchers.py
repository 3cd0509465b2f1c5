"""Who watches and who voted for an issue, derived from the issue itself so it always agrees with it.

Jira Cloud's *Watch your issues* setting, on by default, makes a user "a watcher of any issue that
you create or comment on" (Atlassian, "Manage your Jira personal settings"). So the watchers are
the issue's creator and its commenters, in that order; app accounts (automation) do not watch, and
an issue an app created may have no watcher at all. Votes are rare
and come from colleagues, never the reporter (Jira refuses a vote for one's own issue): a few staff
on some issues, drawn from a random stream keyed by the issue alone, so no other generated data
moves and an issue's voters stay the same from run to run.
"""

from __future__ import annotations

import random

from jira_simulator.model import Issue, Site, World

VOTED_SHARE = 0.12
MAX_VOTERS = 3


def watcher_ids(world: World, site: Site, issue: Issue) -> list[str]:
    """The issue's watchers in the order they started watching (the creator first)."""
    candidates = [issue.creator_id, *(comment.author_account_id for comment in issue.comments)]
    on_site = set(site.user_ids)
    found: dict[str, None] = {}
    for account_id in candidates:
        user = world.users.get(account_id or "")
        if user is not None and user.account_type != "app" and user.account_id in on_site:
            found[user.account_id] = None
    return list(found)


def voter_ids(world: World, site: Site, issue: Issue) -> list[str]:
    """The issue's voters: active staff with access to the site, never its reporter."""
    draw = random.Random(f"votes:{site.cloud_id}:{issue.id}")
    if draw.random() >= VOTED_SHARE:
        return []
    colleagues = [
        account_id
        for account_id in site.user_ids
        if account_id != issue.reporter_id
        and (user := world.users.get(account_id)) is not None
        and user.active
        and user.account_type == "atlassian"
        and account_id != world.admin_account_id
    ]
    return draw.sample(colleagues, min(len(colleagues), 1 + int(draw.random() * MAX_VOTERS)))
