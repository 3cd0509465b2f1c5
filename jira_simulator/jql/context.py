"""What JQL names and dates resolve against."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from jira_simulator.model import Site, World
from jira_simulator.timefmt import zone


@dataclass
class JqlContext:
    """What names resolve against: the site, the world (users), the caller and the simulated now."""

    site: Site
    world: World
    account_id: str | None  # the caller: currentUser() and the zone of dates without one
    now_ms: int
    visible_project_ids: set[str] | None = None  # None: every project

    @property
    def tz(self) -> ZoneInfo:
        user = self.world.users.get(self.account_id or "")
        return zone(user.time_zone if user else "UTC")
