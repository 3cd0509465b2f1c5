"""Jira's REST API v2/v3, one module per API group. Mounted under both REST prefixes by `app.py`."""

from __future__ import annotations

from starlette.routing import BaseRoute

from jira_simulator.rest import (
    changelog,
    components,
    dashboards,
    fields,
    filters,
    groups,
    instance,
    issues,
    links,
    metadata,
    permissions,
    project_settings,
    projects,
    roles,
    schemes,
    search,
    users,
    watchers,
    work,
    workflows,
)


def routes() -> list[BaseRoute]:
    """Every REST route, relative to `/rest/api/{version}`; fixed paths precede `{param}` paths."""
    return [
        *search.routes(),
        *issues.routes(),
        *watchers.routes(),
        *changelog.routes(),
        *work.routes(),
        *metadata.routes(),
        *fields.routes(),
        *project_settings.routes(),
        *projects.routes(),
        *users.routes(),
        *groups.routes(),
        *components.routes(),
        *workflows.routes(),
        *schemes.routes(),
        *permissions.routes(),
        *roles.routes(),
        *filters.routes(),
        *dashboards.routes(),
        *instance.routes(),
        *links.routes(),
    ]
