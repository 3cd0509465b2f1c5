"""Application access: the products a site licenses, which groups grant them, who holds them.

Jira Cloud sites grant a product (an *application role*) through groups: its default group
(`jira-software-users`, `jira-servicemanagement-users`) and the admin groups. Shapes follow
Atlassian's `ApplicationRole` and `License` schemas and a real site's answer captured by Airbyte's
source-jira tests (airbytehq/airbyte, `source-jira/integration_tests/expected_records.jsonl`,
stream `application_roles`: `numberOfSeats`, `remainingSeats`, `userCount`, `userCountDescription`
"users" / "agents", `platform: false`).
"""

from __future__ import annotations

from dataclasses import dataclass

from jira_simulator.model import Group, Site, World

# Groups whose members administer Jira (global permission *Administer Jira*); the world's admin
# (the operator who owns the API token) always does.
ADMIN_GROUPS = ("jira-administrators", "site-admins", "administrators")


@dataclass(frozen=True)
class Application:
    key: str
    name: str
    default_group: str
    seats: int
    counted: str  # userCountDescription


SOFTWARE = Application("jira-software", "Jira Software", "jira-software-users", 100, "users")
SERVICE_MANAGEMENT = Application(
    "jira-servicedesk", "Jira Service Management", "jira-servicemanagement-users", 25, "agents"
)


def is_jira_admin(world: World, site: Site, account_id: str) -> bool:
    if account_id == world.admin_account_id:
        return True
    return any(g.name in ADMIN_GROUPS and account_id in g.member_ids for g in site.groups.values())


def site_applications(site: Site) -> list[Application]:
    """Jira Software everywhere; Service Management where the site has its agents' group."""
    names = {g.name for g in site.groups.values()}
    return [SOFTWARE] + ([SERVICE_MANAGEMENT] if SERVICE_MANAGEMENT.default_group in names else [])


def granting_groups(site: Site, application: Application) -> list[Group]:
    wanted = (application.default_group, *ADMIN_GROUPS)
    return sorted((g for g in site.groups.values() if g.name in wanted), key=lambda g: wanted.index(g.name))


def holders(world: World, site: Site, application: Application) -> list[str]:
    """Active licensed accounts: members of a granting group who use the site (apps hold no seat)."""
    on_site = set(site.user_ids)
    found: dict[str, None] = {}
    for group in granting_groups(site, application):
        for account_id in group.member_ids:
            user = world.users.get(account_id)
            if (
                user is not None
                and user.active
                and user.account_type == "atlassian"
                and account_id in on_site
            ):
                found[account_id] = None
    return list(found)


def user_applications(world: World, site: Site, account_id: str) -> list[Application]:
    return [a for a in site_applications(site) if account_id in holders(world, site, a)]
