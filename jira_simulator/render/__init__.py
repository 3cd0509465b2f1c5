"""Model objects to Jira Cloud JSON, for REST v2 and v3, one module per concept.

v3 renders rich text (description, environment, comment and worklog bodies) as Atlassian
Document Format; v2 as plain strings. Timestamps are rendered in the site's zone as
`yyyy-MM-dd'T'HH:mm:ss.SSS+hhmm`. `self` URLs use the host and prefix that was called, so
gateway callers get gateway URLs. Keys whose value Jira's schema does not allow to be null
(e.g. a hidden `emailAddress`, a change item's `from`) are omitted rather than set to null.

One `Renderer` serves one request: its concept renderers (`users`, `access`, `config`, `projects`,
`changelog`, `work`, `issues`, `sharing`) share the request's context and cache the small shared objects
(users, statuses, types) they render, which matters when a page holds 100 issues with their
changelogs.
"""

from __future__ import annotations

from jira_simulator.model import Site, World
from jira_simulator.render.access import AccessRenderer
from jira_simulator.render.changelog import ChangelogRenderer
from jira_simulator.render.configuration import ConfigurationRenderer, project_categories
from jira_simulator.render.context import RenderContext, adf, entity_id
from jira_simulator.render.fields import (
    ALL_FIELDS,
    FIELDS,
    NAVIGABLE,
    SEVERITY_FIELD,
    FieldDef,
    field_body,
    select_fields,
)
from jira_simulator.render.issues import IssueRenderer
from jira_simulator.render.projects import ProjectRenderer
from jira_simulator.render.sharing import SharingRenderer
from jira_simulator.render.users import UserRenderer
from jira_simulator.render.work import WorkRenderer, duration_text


class Renderer(RenderContext):
    """Renders one request's objects for one site, API version, base URL and viewer."""

    def __init__(
        self, world: World, site: Site, version: int, base_url: str, origin: str, viewer_id: str | None
    ):
        super().__init__(world, site, version, base_url, origin, viewer_id)
        self.users = UserRenderer(self)
        self.access = AccessRenderer(self)
        self.config = ConfigurationRenderer(self)
        self.projects = ProjectRenderer(self, self.users, self.config)
        self.changelog = ChangelogRenderer(self, self.users)
        self.work = WorkRenderer(self, self.users)
        self.issues = IssueRenderer(self, self.users, self.config, self.projects, self.changelog, self.work)
        self.sharing = SharingRenderer(self, self.users, self.access, self.config)


__all__ = [
    "ALL_FIELDS",
    "FIELDS",
    "NAVIGABLE",
    "SEVERITY_FIELD",
    "FieldDef",
    "Renderer",
    "adf",
    "duration_text",
    "entity_id",
    "field_body",
    "project_categories",
    "select_fields",
]
