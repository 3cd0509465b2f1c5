"""Jira's REST API v2/v3, one module per API group. Mounted under both REST prefixes by `app.py`."""

from __future__ import annotations

from starlette.routing import BaseRoute

from jira_simulator.rest import changelog, groups, issues, metadata, projects, search, users, watchers, work


def routes() -> list[BaseRoute]:
    """Every REST route, relative to `/rest/api/{version}`; fixed paths precede `{param}` paths."""
    return [
        *search.routes(),
        *issues.routes(),
        *watchers.routes(),
        *changelog.routes(),
        *work.routes(),
        *metadata.routes(),
        *projects.routes(),
        *users.routes(),
        *groups.routes(),
    ]
