"""Which OAuth 2.0 (3LO) scopes a tenant's sync needs, and what a grant can do.

The receiver's plain connect (`/auth/jira/connect?tenant=T`) asks for exactly the scopes the
tenant's sync file needs, so a connect can never leave the tenant with a grant the sync cannot
run on (the seed's plain connect asked for `read:me offline_access` only and, saved over a
working grant, broke every later sync with "scope does not match"). `&admin=1` ("Re-authenticate
with Admin Permissions") asks for every scope jira-sync can use. The callback saves a grant only
when it holds every scope asked for.

Scopes per capability follow what the endpoints need (Atlassian's OpenAPI spec lists the classic
scopes per operation; the simulator enforces the same): issue search, changelogs, projects,
issue types and statuses `read:jira-work`; users `read:jira-user` (+ `read:email-address:jira`
for the emails that link them to accounts); groups `read:group:jira`, and group members
`manage:jira-configuration`; dynamic webhooks `manage:jira-webhook`; boards and sprints the Jira
Software granular scopes (worklogs need only `read:jira-work`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from pipelines.auth.oauth import JIRA_SOFTWARE_SCOPES
from pipelines.config import SiteConfig, TenantConfig

# Always: who connected (read:me), a refresh token (offline_access), issues and metadata.
BASE_SCOPES = ("read:me", "offline_access", "read:jira-work")


@dataclass(frozen=True)
class Capability:
    name: str
    scopes: tuple[str, ...]

    def needed_by(self, site: SiteConfig) -> bool:
        if site.auth.method != "oauth":
            return False  # API-token sites do not use the grant
        entities = set(site.entities)
        if self.name == "users":
            return "users" in entities
        if self.name == "groups":
            return "groups" in entities or (site.team_sync.method == "groups_api" and "teams" in entities)
        if self.name == "dynamic webhooks":
            return site.webhook.enabled and site.webhook.mode == "dynamic"
        if self.name == "boards and sprints":
            return "sprints" in entities
        return True


CAPABILITIES = (
    Capability("issues, projects, issue types, statuses, changelogs", ("read:jira-work",)),
    Capability("users", ("read:jira-user", "read:email-address:jira")),
    Capability("groups", ("read:jira-user", "read:group:jira", "manage:jira-configuration")),
    Capability("dynamic webhooks", ("read:jira-work", "manage:jira-webhook")),
    # Jira Software has granular scopes only (see pipelines.auth.oauth.JIRA_SOFTWARE_SCOPES)
    Capability("boards and sprints", tuple(JIRA_SOFTWARE_SCOPES)),
)

# Every scope jira-sync can use: what `&admin=1` and `jira-sync connect` ask for.
ALL_SCOPES = tuple(dict.fromkeys([*BASE_SCOPES, *(s for c in CAPABILITIES for s in c.scopes)]))


def needed_capabilities(tenant: TenantConfig) -> tuple[str, ...]:
    """The capabilities the tenant's OAuth sites need for what the sync file asks of them."""
    return tuple(c.name for c in CAPABILITIES if any(c.needed_by(site) for site in tenant.sites))


def needed_scopes(tenant: TenantConfig) -> tuple[str, ...]:
    """The scopes those capabilities take (plus the base ones): what plain connect asks for."""
    needed = set(needed_capabilities(tenant))
    wanted = [*BASE_SCOPES, *(s for c in CAPABILITIES if c.name in needed for s in c.scopes)]
    return tuple(dict.fromkeys(wanted))


def grant_capabilities(
    granted: Collection[str], needed: Collection[str]
) -> list[tuple[str, bool, bool, tuple[str, ...]]]:
    """Per capability: (name, the grant allows it, the sync file needs it, the scopes it takes)."""
    return [
        (c.name, all(scope in granted for scope in c.scopes), c.name in needed, c.scopes)
        for c in CAPABILITIES
    ]
