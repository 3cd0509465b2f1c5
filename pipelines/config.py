"""The declarative sync file (`jira_sync.yaml`): pydantic models and a loader with helpful errors.

Every mistake fails at load with the file, the key path (`tenants[0].sites[1].team_sync.method`),
what is wrong and what to write instead. Secrets never live in the file: keys ending in `_env`
name environment variables, and `check_environment()` reports every missing one at once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from croniter import croniter
from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

# Re-exported: the building blocks and the site models live in these modules.
from pipelines.config_fields import (  # noqa: F401
    ALL_ENTITIES,
    DEFAULT_TYPE_KEYWORDS,
    ENV_NAME,
    JOB_NAME,
    EnvName,
    KeywordCategory,
    StrictModel,
    SyncConfigError,
    WebhookEvent,
    http_url,
    looks_like_secret,
    require_unique,
)
from pipelines.config_sites import (  # noqa: F401
    IssueScope,
    ProjectMapping,
    SiteAuth,
    SiteConfig,
    SiteMappings,
    SiteWebhook,
    TeamSync,
    TenantConfig,
)
from pipelines.config_yaml import UniqueKeyLoader, expand, validation_problem


class WarehouseConfig(StrictModel):
    """Where dlt loads: a DuckDB file by default, or any dlt destination by name."""

    destination: str = "duckdb"
    path: Path = Path("data/warehouse.duckdb")
    publish_path: Path = Path("data/jira_analytics.duckdb")
    # The snapshot's DuckDB storage format: v1.0.0 opens in every DuckDB >= 1.0 (the BI drivers and
    # SQL IDEs analysts have), although the warehouse itself needs DuckDB >= 2.0.
    publish_storage_version: str = "v1.0.0"
    credentials_env: EnvName = None
    # DuckDB's memory_limit while dlt merges a load (it spills to disk beyond it).
    duckdb_memory_limit: str = "128MB"
    # PostgreSQL's work_mem for the transforms' sorts and hashes (per sort node of a query).
    postgres_work_mem: str = "256MB"
    # PostgreSQL roles that may read the published schemas `jira` and `analytics` (granted anew on
    # every publish, since each publish swaps in new schemas).
    publish_readers: list[str] = Field(default_factory=list)

    @field_validator("duckdb_memory_limit", "postgres_work_mem")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not re.match(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", value.strip(), re.IGNORECASE):
            raise ValueError(f"{value!r} is not a memory size; write e.g. 256MB or 2GB")
        return value.strip()

    @field_validator("publish_path")
    @classmethod
    def _publish_name(cls, value: Path) -> Path:
        # DuckDB names the attached catalog after the file: a snapshot called analytics.duckdb
        # makes every `analytics.<table>` query ambiguous for analysts.
        if value.stem.lower() in {"jira", "analytics", "jira_raw"}:
            raise ValueError(
                f"{str(value)!r} would name the catalog like a schema ({value.stem}); "
                "write e.g. data/jira_analytics.duckdb"
            )
        return value

    @field_validator("publish_storage_version")
    @classmethod
    def _storage_version(cls, value: str) -> str:
        if not re.match(r"^v\d+\.\d+\.\d+$", value.strip()):
            raise ValueError(f"{value!r} is not a DuckDB storage version; write e.g. v1.0.0 (DuckDB >= 1.0)")
        return value.strip()

    @field_validator("destination")
    @classmethod
    def _destination(cls, value: str) -> str:
        if not re.match(r"^[a-z][a-z0-9_]*$", value):
            raise ValueError(f"{value!r} is not a dlt destination name; write e.g. duckdb or postgres")
        return value

    @model_validator(mode="after")
    def _postgres_credentials(self) -> WarehouseConfig:
        # the transforms, the webhook ingest and the publish connect with the same credentials as dlt
        if self.destination == "postgres" and not self.credentials_env:
            raise ValueError(
                "destination postgres needs credentials_env: the name of an environment variable holding "
                "the connection string (e.g. credentials_env: JIRA_SYNC_POSTGRES_URL)"
            )
        return self


class AtlassianConfig(StrictModel):
    """The two OAuth hosts (the simulator's base URL for demos)."""

    auth_url: str = "https://auth.atlassian.com"
    api_url: str = "https://api.atlassian.com"

    @field_validator("auth_url", "api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value)


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


class QuotaConfig(StrictModel):
    """Atlassian's points quota of the OAuth app, and where every run of the deployment shares it.

    `points_per_hour` and `pool` are the starting point: the first answer's `RateLimit-Policy`
    corrects them. Backfills leave `reserve_share` of each hour to sweeps, censuses, reference syncs
    and webhook refreshes (shrinking to 0 as the hour ends). The budget lives in `store` (SQLite,
    one machine; default `quota.sqlite` beside a DuckDB warehouse, else `data/quota.sqlite`) or,
    with `store_url_env`, in PostgreSQL (a connection string in that variable) — never in the
    warehouse itself.
    """

    points_per_hour: int = Field(65_000, gt=0, le=10_000_000)
    pool: Literal["global", "tenant"] = "global"
    reserve_share: float = Field(0.1, ge=0, le=0.9)
    store: Path | None = None
    store_url_env: EnvName = None


class SyncSettings(StrictModel):
    """History start (first monthly partition) and the incremental sweep's overlap."""

    history_start: date = date(2020, 1, 1)
    incremental_overlap_minutes: int = Field(10, ge=0, le=7 * 24 * 60)


class ReportConfig(StrictModel):
    """The flow report (asset publish/flow_report): its folder and the periods its charts cover.

    `weeks`: the cumulative flow, weekly throughput and cycle-time scatter; `months`: the monthly
    trends (bug and incident share, lead and cycle time per team).
    """

    path: Path = Path("data/report")
    weeks: int = Field(26, ge=12, le=156)  # >= the 12 weeks of the headline figures
    months: int = Field(24, ge=3, le=120)


class WebhooksConfig(StrictModel):
    """Receiver URL, durable inbox and refresh policy of the 30-day dynamic webhooks."""

    receiver_url: str = "http://127.0.0.1:8000"
    inbox: Path = Path("data/inbox.sqlite")
    # A PostgreSQL connection string in this variable puts the inbox, the registered webhook ids and
    # the OAuth connect states in that database (schema jira_sync_inbox) instead of the SQLite file
    # `inbox`: for receivers on several hosts and drains that run at the same time.
    inbox_url_env: EnvName = None
    refresh_before_days: int = Field(7, ge=1, le=29)
    events: list[WebhookEvent] = Field(
        default_factory=lambda: ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"],
        min_length=1,
    )

    @field_validator("receiver_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value)


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
    """A named Dagster asset selection, optionally on a cron schedule (running from the start)."""

    name: str
    select: str
    # What the job is for, in a sentence people read in the UI (default: what it selects, by group)
    description: str | None = None
    cron: str | None = None
    # false: the schedule is defined but starts stopped (turn it on in the UI, Automation page)
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not JOB_NAME.match(value):
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


class SensorSettings(StrictModel):
    """One sensor of the deployment: whether it runs from the start, and how often it looks."""

    enabled: bool = True
    interval_seconds: int = Field(30, ge=1, le=86_400)


class InboxSensorSettings(SensorSettings):
    # Dagster's daemon ticks sensors about every 5 s at best.
    interval_seconds: int = Field(5, ge=1, le=86_400)


class LifecycleSensorSettings(SensorSettings):
    # Refreshes are due days ahead (webhooks.refresh_before_days): hourly is plenty.
    interval_seconds: int = Field(3600, ge=1, le=86_400)


class AutomationConfig(StrictModel):
    """What runs by itself besides the jobs' schedules (each can start stopped: `enabled: false`).

    - `freshness`: Dagster's declarative automation (sensor `default_automation_condition_sensor`):
      every `jira/*`, `analytics/*` asset, the analyst snapshot and their checks follow their
      upstream (a sweep, census, backfill or webhook drain leads to updated analytics and a new
      snapshot), coalesced to at most one transform run at a time;
    - `webhook_inbox`: drains the receiver's inbox into the warehouse (sensor `jira_webhook_inbox`);
    - `webhook_lifecycle`: refreshes dynamic webhooks before they expire and re-registers vanished
      ones (sensor `jira_webhook_lifecycle`).
    """

    freshness: SensorSettings = Field(default_factory=SensorSettings)
    webhook_inbox: InboxSensorSettings = Field(default_factory=InboxSensorSettings)
    webhook_lifecycle: LifecycleSensorSettings = Field(default_factory=LifecycleSensorSettings)


class SyncConfig(StrictModel):
    """The whole sync file. `source_path` is where it was loaded from (not a YAML key)."""

    version: Literal[1] = 1
    source_path: Path = Field(default=Path("<memory>"), exclude=True)
    warehouse: WarehouseConfig = Field(default_factory=WarehouseConfig)
    atlassian: AtlassianConfig = Field(default_factory=AtlassianConfig)
    oauth: OAuthConfig = Field(default_factory=OAuthConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    quota: QuotaConfig = Field(default_factory=QuotaConfig)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig)
    mappings: MappingsConfig = Field(default_factory=MappingsConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    jobs: list[JobConfig] = Field(default_factory=list)
    automation: AutomationConfig = Field(default_factory=AutomationConfig)
    tenants: list[TenantConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> SyncConfig:
        sites = [
            (f"tenants[{t}].sites[{i}]", site)
            for t, tenant in enumerate(self.tenants)
            for i, site in enumerate(tenant.sites)
        ]
        require_unique([(f"tenants[{i}].id", t.id) for i, t in enumerate(self.tenants)], "tenant id")
        require_unique([(f"{p}.name", s.name) for p, s in sites], "site name")
        require_unique([(f"{p}.cloud_id", s.cloud_id) for p, s in sites if s.cloud_id], "site cloud_id")
        require_unique([(f"jobs[{i}].name", j.name) for i, j in enumerate(self.jobs)], "job name")
        return self

    @property
    def quota_store_path(self) -> Path:
        """The SQLite file of the shared points budget (see QuotaConfig)."""
        if self.quota.store is not None:
            return self.quota.store
        if self.warehouse.destination == "duckdb":
            return Path(self.warehouse.path).parent / "quota.sqlite"
        return Path("data/quota.sqlite")

    def iter_sites(self) -> Iterator[tuple[TenantConfig, SiteConfig]]:
        for tenant in self.tenants:
            for site in tenant.sites:
                yield tenant, site

    def required_environment(self) -> list[tuple[str, str]]:
        """(variable name, key path that names it) for every variable a run needs."""
        needed: list[tuple[str, str]] = []
        if self.warehouse.credentials_env:
            needed.append((self.warehouse.credentials_env, "warehouse.credentials_env"))
        if self.quota.store_url_env:
            needed.append((self.quota.store_url_env, "quota.store_url_env"))
        if self.webhooks.inbox_url_env:
            needed.append((self.webhooks.inbox_url_env, "webhooks.inbox_url_env"))
        uses_oauth = any(s.auth.method == "oauth" for _, s in self.iter_sites())
        if uses_oauth:
            for key in ("client_id_env", "client_secret_env", "redirect_uri_env"):
                needed.append((getattr(self.oauth, key), f"oauth.{key}"))
        for t_index, tenant in enumerate(self.tenants):
            for s_index, site in enumerate(tenant.sites):
                prefix = f"tenants[{t_index}].sites[{s_index}]"
                if site.auth.uses_api_token:
                    needed.append((site.auth.email_env or "", f"{prefix}.auth.email_env"))
                    needed.append((site.auth.api_token_env or "", f"{prefix}.auth.api_token_env"))
                if site.webhook.admin_email_env and site.admin_webhook_credentials:
                    needed.append((site.webhook.admin_email_env, f"{prefix}.webhook.admin_email_env"))
                    needed.append(
                        (site.webhook.admin_api_token_env or "", f"{prefix}.webhook.admin_api_token_env")
                    )
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
        raw = yaml.load(text, Loader=UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise SyncConfigError(path, [("", f"YAML syntax error at {where}{reason}")]) from None
    if not isinstance(raw, dict):
        raise SyncConfigError(
            path, [("", "the file must be a YAML mapping (version: 1, tenants: [...], ...)")]
        )
    if "source_path" in raw:
        raise SyncConfigError(path, [("source_path", "unknown key; it is set by the loader, remove it")])
    problems: list[tuple[str, str]] = []
    expanded = expand(raw, "", environ, problems)
    if problems:
        raise SyncConfigError(path, problems)
    try:
        config = SyncConfig.model_validate(expanded)
    except ValidationError as exc:
        raise SyncConfigError(
            path, [validation_problem(e, SyncConfig) for e in exc.errors(include_url=False)]
        ) from None
    return config.model_copy(update={"source_path": path})
