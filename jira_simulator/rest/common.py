"""What every REST handler needs: the call's context, parameter parsing, visibility, responses."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson
from starlette.requests import Request

from jira_simulator.applications import is_jira_admin
from jira_simulator.errors import JiraError, OrjsonResponse, bad_request
from jira_simulator.index import SiteIndex
from jira_simulator.model import Issue, Principal, Project, Site, User, World
from jira_simulator.permissions import holds
from jira_simulator.render import Renderer
from jira_simulator.security import require_scopes

ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
ADMIN_REQUIRED = "You are not authorized to perform this action. Administrator privileges are required."

READ_WORK = "read:jira-work"
READ_USER = "read:jira-user"
MANAGE_CONFIGURATION = "manage:jira-configuration"
MANAGE_PROJECT = "manage:jira-project"


@dataclass
class RestCall:
    """One REST request: who calls which site through which prefix."""

    request: Request
    world: World
    site: Site
    principal: Principal
    version: int

    @classmethod
    def of(cls, request: Request, *scopes: str, allow_anonymous: bool = False) -> RestCall:
        principal = require_scopes(request, *scopes, allow_anonymous=allow_anonymous)
        state = request.state
        return cls(request, state.world, state.site, principal, state.api_version)

    @cached_property
    def origin(self) -> str:
        url = self.request.url
        return f"{url.scheme}://{url.netloc}{self.request.scope.get('app_root_path', '')}"

    @cached_property
    def base_url(self) -> str:
        """The called REST prefix, e.g. `http://127.0.0.1:P/ex/jira/<cloudId>/rest/api/3`."""
        url = self.request.url
        return f"{url.scheme}://{url.netloc}{self.request.scope['root_path']}"

    @cached_property
    def renderer(self) -> Renderer:
        return Renderer(
            self.world, self.site, self.version, self.base_url, self.origin, self.principal.account_id
        )

    @property
    def index(self) -> SiteIndex:
        return self.request.app.state.indexes.site(self.site)

    @property
    def caller(self) -> User | None:
        return self.world.users.get(self.principal.account_id)

    def may_browse(self, project: Project) -> bool:
        """The caller's *Browse projects* permission, whatever the project's state."""
        return self.principal.account_id not in project.hidden_from

    def can_browse(self, project: Project) -> bool:
        """Listed and searchable for the caller: browsable and live (not archived, not in the trash)."""
        return project.live and self.may_browse(project)

    @property
    def is_admin(self) -> bool:
        """The caller holds *Administer Jira* (see `applications.is_jira_admin`)."""
        return is_jira_admin(self.world, self.site, self.principal.account_id)

    def visible_projects(self) -> list[Project]:
        return [p for p in self.site.projects.values() if self.can_browse(p)]

    def visible_issue(self, issue: Issue | None) -> Issue | None:
        """An issue the caller may open directly: archived and trashed projects' issues included, as
        Jira keeps them reachable "through direct links" (read-only) while search leaves them out."""
        if issue is None:
            return None
        project = self.site.projects.get(issue.project_id)
        return issue if project is not None and self.may_browse(project) else None

    def searchable_issue(self, issue: Issue | None) -> Issue | None:
        if issue is None:
            return None
        project = self.site.projects.get(issue.project_id)
        return issue if project is not None and self.can_browse(project) else None

    def issue_or_404(self, id_or_key: str) -> Issue:
        issue = self.visible_issue(self.site.find_issue(id_or_key))
        if issue is None:
            raise JiraError(404, ISSUE_NOT_FOUND)
        return issue

    def project_or_404(self, id_or_key: str) -> Project:
        """A project the caller may read: live or archived (Jira keeps an archived project's details
        readable through the API); a project in the trash is gone for these endpoints."""
        project = self.site.find_project(id_or_key)
        if project is None or project.deleted or not self.may_browse(project):
            raise JiraError(404, f"No project could be found with key '{id_or_key}'.")
        return project

    def administers(self, project: Project) -> bool:
        """*Administer Jira*, or *Administer projects* in this project (by its permission scheme)."""
        return self.is_admin or holds(
            self.world, self.site, project, self.principal.account_id, "ADMINISTER_PROJECTS"
        )

    def require_admin(self, status: int = 403) -> None:
        """Refuse a caller without *Administer Jira*, with the status Atlassian's spec gives the operation.

        The message text is not confirmed against Jira.
        """
        if not self.is_admin:
            raise JiraError(status, ADMIN_REQUIRED)


def respond(body: Any, status: int = 200) -> OrjsonResponse:
    return OrjsonResponse(body, status_code=status)


def query_values(request: Request, name: str) -> list[str] | None:
    """A list parameter: repeated (`?fields=a&fields=b`) and/or comma-separated (`?fields=a,b`)."""
    raw = request.query_params.getlist(name)
    if not raw:
        return None
    return [v.strip() for item in raw for v in item.split(",") if v.strip()]


def query_int(
    request: Request, name: str, default: int, *, minimum: int | None = 0, maximum: int | None = None
) -> int:
    """An integer parameter; values above `maximum` are lowered to it, as Jira does."""
    raw = request.query_params.get(name)
    return to_int(raw, name, default, minimum=minimum, maximum=maximum)


def to_int(
    raw: object, name: str, default: int, *, minimum: int | None = 0, maximum: int | None = None
) -> int:
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise bad_request(f"The value '{raw}' of '{name}' is not a number.")
    try:
        value = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise bad_request(f"The value '{raw}' of '{name}' is not a number.") from None
    if minimum is not None and value < minimum:
        raise bad_request(f"'{name}' must be at least {minimum}, got {value}.")
    if maximum is not None:
        value = min(value, maximum)
    return value


def query_bool(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise bad_request(f"The value '{raw}' of '{name}' is not a boolean; use true or false.")


# Jira's answers to a POST body it cannot turn into an object, measured on Jira Cloud 2026-09-15
# (brekkylab/backlot, `backlot/errors/atlassian.py`): `errorMessages` alone, no `errors`.
BODY_EMPTY = "No content to map to Object due to end of input"
BODY_UNPARSEABLE = "There was an error parsing JSON. Check that your request body is valid."
BODY_NOT_AN_OBJECT = "Invalid request payload. Refer to the REST API documentation and try again."


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        raise bad_request(BODY_EMPTY)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_request(BODY_UNPARSEABLE) from None
    if not isinstance(body, dict):
        raise bad_request(BODY_NOT_AN_OBJECT)
    return body


def body_list(body: dict[str, Any], name: str) -> list[str] | None:
    """A list in a JSON body; Jira also accepts a comma-separated string where it takes a list."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return [str(v).strip() for v in value]
    raise bad_request(f"'{name}' must be a list of strings.")


def paged(call: RestCall, items: list[Any], *, default: int, maximum: int = 100) -> OrjsonResponse:
    """One `PageBean` of already rendered `items`, by the request's `startAt` and `maxResults`."""
    start_at = query_int(call.request, "startAt", 0)
    max_results = query_int(call.request, "maxResults", default, minimum=1, maximum=maximum)
    return respond(
        page_bean(call, items[start_at : start_at + max_results], start_at, max_results, len(items))
    )


def page_bean(
    call: RestCall, values: list[Any], start_at: int, max_results: int, total: int
) -> dict[str, Any]:
    """Jira's `PageBean`: `self`, `nextPage` (when more), `maxResults`, `startAt`, `total`, `isLast`, `values`."""
    url = call.request.url
    body: dict[str, Any] = {"self": str(url)}
    is_last = start_at + len(values) >= total
    if not is_last:
        body["nextPage"] = str(
            url.include_query_params(startAt=start_at + max_results, maxResults=max_results)
        )
    body.update(maxResults=max_results, startAt=start_at, total=total, isLast=is_last, values=values)
    return body
