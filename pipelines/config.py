"""The declarative sync file (`jira_sync.yaml`): pydantic models and a loader with helpful errors.

Every mistake fails at load with the file, the key path (`tenants[0].sites[1].team_sync.method`),
what is wrong and what to write instead. Secrets never live in the file: keys ending in `_env`
name environment variables, and `check_environment()` reports every missing one at once.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from croniter import croniter
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from pipelines.webhook_jql import validate_webhook_jql

IssueCategory = Literal["feature", "bug", "chore", "discovery", "incident", "other"]
KeywordCategory = Literal["incident", "bug", "discovery", "feature", "chore"]
IssueState = Literal["open", "in_progress", "closed"]
Entity = Literal["issues", "projects", "issue_types", "statuses", "users", "groups", "teams"]
WebhookEvent = Literal[
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
    "issue_property_set",
    "issue_property_deleted",
]
ALL_ENTITIES: list[Entity] = ["issues", "projects", "issue_types", "statuses", "users", "groups", "teams"]

# The seed's keyword heuristics, in precedence order (first category whose keyword matches wins).
DEFAULT_TYPE_KEYWORDS: dict[str, list[str]] = {
    "incident": ["incident", "outage", "emergency", "production"],
    "bug": ["bug", "defect", "fix"],
    "discovery": ["spike", "research", "investigation", "discovery"],
    "feature": ["story", "feature", "epic", "enhancement"],
    "chore": ["task", "chore", "maintenance", "technical"],
}

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_JOB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_FIELD_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,127}$")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class SyncConfigError(ValueError):
    """A sync file that cannot be used; the message lists every problem found."""

    def __init__(self, source: Path | str, problems: list[tuple[str, str]]) -> None:
        self.source = str(source)
        self.problems = problems
        if len(problems) == 1:
            key, message = problems[0]
            text = f"{self.source}: {key}: {message}" if key else f"{self.source}: {message}"
        else:
            lines = [f"  - {key}: {message}" if key else f"  - {message}" for key, message in problems]
            text = f"{self.source}: {len(problems)} problems:\n" + "\n".join(lines)
        super().__init__(text)


def looks_like_secret(value: str) -> bool:
    """Heuristic for a credential pasted where an environment variable name belongs."""
    if value.startswith(("ATATT", "ATCTT", "eyJ")) or len(value) >= 40:
        return True
    has_lower = any(c.islower() for c in value)
    has_digit = any(c.isdigit() for c in value)
    return len(value) >= 16 and has_lower and has_digit and "_" not in value


def _env_name(value: str | None) -> str | None:
    """Validate the value of an `*_env` key: an environment variable name, never a secret."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise PydanticCustomError("env_name", "write the name of an environment variable, e.g. JIRA_SECRET")
    if looks_like_secret(value):
        raise PydanticCustomError(
            "env_name",
            "this looks like a literal secret (value not shown); keys ending in _env hold the NAME of an "
            "environment variable: put the secret in a variable and write its name here, e.g. JIRA_SECRET",
        )
    if not ENV_NAME.match(value):
        raise PydanticCustomError(
            "env_name",
            f"{value!r} is not an environment variable name; use upper-case letters, digits and _, "
            "e.g. JIRA_TEAMS_API_TOKEN",
        )
    return value


EnvName = Annotated[str | None, BeforeValidator(_env_name)]


class StrictModel(BaseModel):
    """Rejects unknown keys with the closest valid key as a suggestion."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            valid = list(cls.model_fields)
            for key in data:
                if key not in valid:
                    close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.6)
                    hint = f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(valid)}"
                    raise PydanticCustomError(
                        "unknown_key", "unknown key '{key}'; {hint}", {"key": str(key), "hint": hint}
                    )
        return data


class WarehouseConfig(StrictModel):
    """Where dlt loads: a DuckDB file by default, or any dlt destination by name."""

    destination: str = "duckdb"
    path: Path = Path("data/warehouse.duckdb")
    publish_path: Path = Path("data/analytics.duckdb")
    credentials_env: EnvName = None
    # DuckDB's memory_limit while dlt merges a load (it spills to disk beyond it).
    duckdb_memory_limit: str = "128MB"

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not re.match(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", value.strip(), re.IGNORECASE):
            raise ValueError(f"{value!r} is not a memory size; write e.g. 256MB or 2GB")
        return value.strip()

    @field_validator("destination")
    @classmethod
    def _destination(cls, value: str) -> str:
        if not re.match(r"^[a-z][a-z0-9_]*$", value):
            raise ValueError(f"{value!r} is not a dlt destination name; write e.g. duckdb or postgres")
        return value


class AtlassianConfig(StrictModel):
    """The two OAuth hosts (the simulator's base URL for demos)."""

    auth_url: str = "https://auth.atlassian.com"
    api_url: str = "https://api.atlassian.com"

    @field_validator("auth_url", "api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class OAuthConfig(StrictModel):
    """The OAuth 2.0 (3LO) app credentials (by env var name) and the token store directory."""

    client_id_env: EnvName = "JIRA_CLIENT_ID"
    client_secret_env: EnvName = "JIRA_SECRET"
    redirect_uri_env: EnvName = "JIRA_REDIRECT_URI"
    token_dir: Path = Path("data/tokens")


class HttpConfig(StrictModel):
    """Request rate, parallelism and retry budget shared by every worker of one run."""

    max_requests_per_second: float = Field(50, gt=0, le=10_000)
    concurrency: int = Field(8, ge=1, le=64)
    max_attempts: int = Field(10, ge=1, le=50)
    timeout_seconds: float = Field(60, gt=0, le=600)


class SyncSettings(StrictModel):
    """History start (first monthly partition) and the incremental sweep's overlap."""

    history_start: date = date(2020, 1, 1)
    incremental_overlap_minutes: int = Field(10, ge=0, le=7 * 24 * 60)


class WebhooksConfig(StrictModel):
    """Receiver URL, durable inbox and refresh policy of the 30-day dynamic webhooks."""

    receiver_url: str = "http://127.0.0.1:8000"
    inbox: Path = Path("data/inbox.sqlite")
    refresh_before_days: int = Field(7, ge=1, le=29)
    events: list[WebhookEvent] = Field(
        default_factory=lambda: ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"],
        min_length=1,
    )

    @field_validator("receiver_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class MappingsConfig(StrictModel):
    """Issue-type keyword heuristics (case-insensitive substring match).

    The order of `type_keywords` is the precedence: the first category with a matching keyword
    wins; no match gives `other`. The default is the seed's lists in the order incident > bug >
    discovery > feature > chore, plus the keyword `production` for incident, so the seed's
    "Production Issue" type comes out as incident (it contains no other keyword).
    """

    type_keywords: dict[KeywordCategory, list[str]] = Field(
        default_factory=lambda: dict(DEFAULT_TYPE_KEYWORDS)
    )
    other_share_warn: float = Field(0.2, ge=0, le=1)

    @field_validator("type_keywords")
    @classmethod
    def _keywords(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for category, words in value.items():
            if not words or any(not w.strip() for w in words):
                raise ValueError(f"category {category!r} needs at least one non-empty keyword")
        return {category: [w.strip().lower() for w in words] for category, words in value.items()}


class JobConfig(StrictModel):
    """A named Dagster asset selection, optionally on a cron schedule."""

    name: str
    select: str
    cron: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _JOB_NAME.match(value):
            raise ValueError(f"{value!r} is not a job name; use letters, digits and _ (e.g. nightly_sync)")
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError(
                f"{value!r} is not a cron expression; write 5 fields 'minute hour day-of-month month "
                "day-of-week', e.g. '*/15 * * * *' or '0 2 * * *'"
            )
        return value


class SiteAuth(StrictModel):
    """How a site's REST API is called: the tenant's OAuth token store, or email + API token."""

    method: Literal["oauth", "api_token"] = "oauth"
    email_env: EnvName = None
    api_token_env: EnvName = None

    @model_validator(mode="after")
    def _api_token_vars(self) -> SiteAuth:
        if self.method == "api_token":
            missing = [k for k in ("email_env", "api_token_env") if getattr(self, k) is None]
            if missing:
                raise ValueError(
                    f"method api_token needs {' and '.join(missing)}: the names of the variables holding the "
                    "Atlassian account email and its API token (e.g. email_env: JIRA_EMAIL, "
                    "api_token_env: JIRA_API_TOKEN)"
                )
        return self


class TeamSync(StrictModel):
    """Teams API (real teams; email + API token + organization ID) or Groups API (OAuth only)."""

    method: Literal["teams_api", "groups_api", "none"] = "groups_api"
    organization_id: str | None = None
    email_env: EnvName = None
    api_token_env: EnvName = None

    @model_validator(mode="after")
    def _teams_api_settings(self) -> TeamSync:
        if self.method == "teams_api":
            missing = [k for k in ("organization_id", "email_env", "api_token_env") if not getattr(self, k)]
            if missing:
                raise ValueError(
                    f"method teams_api needs {', '.join(missing)}: organization_id (from admin.atlassian.com/o/<id>), "
                    "email_env and api_token_env (names of the variables holding the Atlassian email and API "
                    "token); or write method: groups_api to sync Jira groups as teams with OAuth only"
                )
        return self


class IssueScope(StrictModel):
    """Which issues to sync (an optional JQL restriction) and which custom fields to keep."""

    jql: str | None = None
    extra_fields: list[str] = Field(default_factory=list)

    @field_validator("extra_fields")
    @classmethod
    def _fields(cls, value: list[str]) -> list[str]:
        for field_id in value:
            if not _FIELD_ID.match(field_id):
                raise ValueError(f"{field_id!r} is not a Jira field id; write e.g. customfield_10016")
        return value

    @field_validator("jql")
    @classmethod
    def _jql(cls, value: str | None) -> str | None:
        if value is not None and re.search(r"\border\s+by\b", value, re.IGNORECASE):
            raise ValueError("the issue scope JQL must not contain ORDER BY (the sync orders pages itself)")
        return value.strip() or None if value is not None else None


class SiteWebhook(StrictModel):
    """The site's dynamic webhook: JQL filter (dynamic-webhook subset) and events."""

    enabled: bool = False
    jql_filter: str | None = None
    events: list[WebhookEvent] | None = None

    @field_validator("jql_filter")
    @classmethod
    def _filter(cls, value: str | None) -> str | None:
        if value is not None:
            validate_webhook_jql(value)
        return value


class ProjectMapping(StrictModel):
    """Custom per-project mappings; they win over the keyword heuristics and status categories."""

    types: dict[str, IssueCategory] = Field(default_factory=dict)
    statuses: dict[str, IssueState] = Field(default_factory=dict)


class SiteMappings(StrictModel):
    projects: dict[str, ProjectMapping] = Field(default_factory=dict)


class SiteConfig(StrictModel):
    """One Jira Cloud site of a tenant."""

    name: str
    url: str | None = None
    cloud_id: str | None = None
    auth: SiteAuth = Field(default_factory=SiteAuth)
    team_sync: TeamSync = Field(default_factory=TeamSync)
    entities: list[Entity] = Field(default_factory=lambda: list(ALL_ENTITIES))
    issues: IssueScope = Field(default_factory=IssueScope)
    webhook: SiteWebhook = Field(default_factory=SiteWebhook)
    mappings: SiteMappings = Field(default_factory=SiteMappings)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(f"{value!r} is not a site name; use letters, digits, - and _ (e.g. acme)")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @field_validator("cloud_id")
    @classmethod
    def _cloud_id(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Za-z0-9-]{1,64}$", value):
            raise ValueError(
                f"{value!r} is not a cloud ID; copy the `id` of the site from accessible-resources"
            )
        return value

    @model_validator(mode="after")
    def _site_rules(self) -> SiteConfig:
        if not self.url and not self.cloud_id:
            raise ValueError(
                "the site has neither url nor cloud_id; write url: https://<site>.atlassian.net "
                "(or cloud_id: <the site's id from accessible-resources>)"
            )
        if len(set(self.entities)) != len(self.entities):
            raise ValueError("entities lists an entity twice")
        if self.webhook.enabled and self.auth.method != "oauth":
            raise ValueError(
                "webhook.enabled needs auth.method: oauth (Jira lets only OAuth 2.0 apps register "
                "dynamic webhooks); set webhook.enabled: false or switch the site to oauth"
            )
        return self

    @property
    def syncs_teams_api(self) -> bool:
        return self.team_sync.method == "teams_api" and "teams" in self.entities


class TenantConfig(StrictModel):
    """A customer of the sync: its OAuth token file, accounts to link, and its sites."""

    id: str
    accounts_csv: Path | None = None
    sites: list[SiteConfig] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(
                f"{value!r} is not a tenant id; use letters, digits, - and _ (it is part of URLs and file names)"
            )
        return value


class SyncConfig(StrictModel):
    """The whole sync file. `source_path` is where it was loaded from (not a YAML key)."""

    version: Literal[1] = 1
    source_path: Path = Field(default=Path("<memory>"), exclude=True)
    warehouse: WarehouseConfig = Field(default_factory=WarehouseConfig)
    atlassian: AtlassianConfig = Field(default_factory=AtlassianConfig)
    oauth: OAuthConfig = Field(default_factory=OAuthConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig)
    mappings: MappingsConfig = Field(default_factory=MappingsConfig)
    jobs: list[JobConfig] = Field(default_factory=list)
    tenants: list[TenantConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> SyncConfig:
        sites = [
            (f"tenants[{t}].sites[{i}]", site)
            for t, tenant in enumerate(self.tenants)
            for i, site in enumerate(tenant.sites)
        ]
        _require_unique([(f"tenants[{i}].id", t.id) for i, t in enumerate(self.tenants)], "tenant id")
        _require_unique([(f"{p}.name", s.name) for p, s in sites], "site name")
        _require_unique([(f"{p}.cloud_id", s.cloud_id) for p, s in sites if s.cloud_id], "site cloud_id")
        _require_unique([(f"jobs[{i}].name", j.name) for i, j in enumerate(self.jobs)], "job name")
        return self

    def iter_sites(self) -> Iterator[tuple[TenantConfig, SiteConfig]]:
        for tenant in self.tenants:
            for site in tenant.sites:
                yield tenant, site

    def required_environment(self) -> list[tuple[str, str]]:
        """(variable name, key path that names it) for every variable a run needs."""
        needed: list[tuple[str, str]] = []
        if self.warehouse.credentials_env:
            needed.append((self.warehouse.credentials_env, "warehouse.credentials_env"))
        uses_oauth = any(s.auth.method == "oauth" for _, s in self.iter_sites())
        if uses_oauth:
            for key in ("client_id_env", "client_secret_env", "redirect_uri_env"):
                needed.append((getattr(self.oauth, key), f"oauth.{key}"))
        for t_index, tenant in enumerate(self.tenants):
            for s_index, site in enumerate(tenant.sites):
                prefix = f"tenants[{t_index}].sites[{s_index}]"
                if site.auth.method == "api_token":
                    needed.append((site.auth.email_env or "", f"{prefix}.auth.email_env"))
                    needed.append((site.auth.api_token_env or "", f"{prefix}.auth.api_token_env"))
                if site.syncs_teams_api:
                    needed.append((site.team_sync.email_env or "", f"{prefix}.team_sync.email_env"))
                    needed.append((site.team_sync.api_token_env or "", f"{prefix}.team_sync.api_token_env"))
        return needed

    def check_environment(self, environ: Mapping[str, str] | None = None) -> None:
        """Raise SyncConfigError listing every missing environment variable at once."""
        environ = os.environ if environ is None else environ
        problems = [
            (key, f"environment variable {name} is not set; export {name}=... before the run")
            for name, key in self.required_environment()
            if not environ.get(name)
        ]
        if problems:
            raise SyncConfigError(self.source_path, problems)


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL; write e.g. https://acme.atlassian.net")
    return value.rstrip("/")


def _require_unique(items: list[tuple[str, str]], what: str) -> None:
    first: dict[str, str] = {}
    for path, value in items:
        if value in first:
            raise PydanticCustomError(
                "duplicate",
                "duplicate {what} '{value}' (also at {first}); every {what} must be unique in the file",
                {"what": what, "value": value, "first": first[value], "key_path": path},
            )
        first[value] = path


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (keep only one)", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _format_loc(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part.startswith(("function-", "literal[")):
            continue
        else:
            path += f".{part}" if path else str(part)
    return path


def _problem(error: Any) -> tuple[str, str]:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-after")))
    key = _format_loc(loc)
    kind = error["type"]
    ctx = error.get("ctx") or {}
    message = error["msg"]
    if "key_path" in ctx:
        key = ctx["key_path"]
    if kind == "unknown_key":
        key = f"{key}.{ctx['key']}" if key else ctx["key"]
        message = message.replace(f"unknown key '{ctx['key']}'; ", "unknown key; ")
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "")
        choices = [c.strip() for c in expected.replace(" or ", ", ").split(",") if c.strip()]
        given = error.get("input")
        close = difflib.get_close_matches(str(given), choices, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]}?)" if close else ""
        message = f"unknown value {given!r}; write one of: {', '.join(choices)}{hint}"
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind in ("dict_type", "model_type"):
        message = "expected a mapping of keys (key: value)"
    elif kind == "list_type":
        message = "expected a list, e.g. [a, b]"
    return key, message


def _expand(value: Any, path: str, environ: Mapping[str, str], problems: list[tuple[str, str]]) -> Any:
    """Expand ${VAR} / ${VAR:-default} in strings; `*_env` keys hold names and are left alone."""
    if isinstance(value, dict):
        return {
            k: v
            if isinstance(k, str) and k.endswith("_env")
            else _expand(v, f"{path}.{k}" if path else str(k), environ, problems)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_expand(v, f"{path}[{i}]", environ, problems) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if environ.get(name):
                return environ[name]
            if default is not None:
                return default
            problems.append(
                (path, f"environment variable {name} is not set; set it or write ${{{name}:-default}}")
            )
            return match.group(0)

        return _VARIABLE.sub(substitute, value)
    return value


def load_sync_config(path: Path, environ: Mapping[str, str] | None = None) -> SyncConfig:
    """Read and validate the sync file; raises SyncConfigError naming file, key and fix."""
    path = Path(path)
    environ = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SyncConfigError(
            path, [("", "file not found; copy jira_sync.yaml from the repo root or set JIRA_SYNC_CONFIG")]
        ) from None
    except OSError as exc:
        raise SyncConfigError(path, [("", f"cannot read the file: {exc.strerror}")]) from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SyncConfigError(path, [("", f"YAML syntax error at {where}{problem}")]) from None
    if not isinstance(raw, dict):
        raise SyncConfigError(
            path, [("", "the file must be a YAML mapping (version: 1, tenants: [...], ...)")]
        )
    if "source_path" in raw:
        raise SyncConfigError(path, [("source_path", "unknown key; it is set by the loader, remove it")])
    problems: list[tuple[str, str]] = []
    expanded = _expand(raw, "", environ, problems)
    if problems:
        raise SyncConfigError(path, problems)
    try:
        config = SyncConfig.model_validate(expanded)
    except ValidationError as exc:
        raise SyncConfigError(path, [_problem(e) for e in exc.errors(include_url=False)]) from None
    return config.model_copy(update={"source_path": path})
