"""What a generated world gets beyond its live projects and issues: retired (archived and trashed)
projects, and the filters, dashboards and configuration objects its users made.

Each part draws from its own random stream and takes ids above every live one, so adding or
changing a part never moves the live world: its issues, ids, histories, pinned hard cases and the
ground truth stay exactly as `generator.py` builds them.
"""

from __future__ import annotations

from jira_simulator.model import World
from jira_simulator.retired import add_retired_projects


def furnish(world: World, issues: int) -> None:
    add_retired_projects(world, issues)
