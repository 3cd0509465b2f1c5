"""What a generated world gets beyond its live projects and issues: retired (archived and trashed)
projects, and the filters, dashboards and configuration objects its users made.

Each part draws from its own random stream and takes ids above every live one, so adding or
changing a part never moves the live world: its issues, ids, histories, pinned hard cases and the
ground truth stay exactly as `generator.py` builds them.
"""

from __future__ import annotations

import random

from jira_simulator.model import World
from jira_simulator.retired import add_retired_projects
from jira_simulator.sharing import add_filters_and_dashboards


def furnish(world: World, issues: int) -> None:
    add_retired_projects(world, issues)
    add_component_leads(world)
    add_filters_and_dashboards(world)


def add_component_leads(world: World) -> None:
    """Most components of live projects have a lead (a colleague with access to the site)."""
    for site in world.sites.values():
        rng = random.Random(f"{world.seed}:component-leads:{site.name}")
        staff = [
            a
            for a in site.user_ids
            if (u := world.users.get(a)) is not None and u.account_type == "atlassian" and u.active
        ]
        for project in sorted(site.projects.values(), key=lambda p: int(p.id)):
            for component in project.components:
                if project.live and rng.random() < 0.7:
                    component.lead_account_id = rng.choice(staff)
