"""Tenants and their Jira sites in the sync file: auth, team sync, scope, webhook, mappings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pipelines.config_fields import (
    ALL_ENTITIES,
    FIELD_ID,
    IDENTIFIER,
    Entity,
    EnvName,
    IssueCategory,
    IssueState,
    StrictModel,
    WebhookEvent,
    http_url,
)
from pipelines.webhook_jql import validate_webhook_jql


class SiteAuth(StrictModel):
    """How a site's REST API is called: the tenant's OAuth token store, or email + API token.

    `backfill_method: api_token` keeps OAuth for everything else but imports history (the issues
    backfill, `jira_raw/issues`) with the API token: that traffic is not charged points of the
    OAuth app's quota, which every tenant shares (docs/quota.md has the trade-offs).
    """

    method: Literal["oauth", "api_token"] = "oauth"
    backfill_method: Literal["oauth", "api_token"] | None = None
    email_env: EnvName = None
    api_token_env: EnvName = None

    def method_for(self, purpose: str) -> str:
        """The auth method of a run's purpose (`backfill`, `sync`, ...)."""
        if purpose == "backfill" and self.backfill_method is not None:
            return self.backfill_method
        return self.method

    @property
    def uses_api_token(self) -> bool:
        return "api_token" in (self.method, self.backfill_method)

    @model_validator(mode="after")
    def _api_token_vars(self) -> SiteAuth:
        if self.uses_api_token:
            missing = [k for k in ("email_env", "api_token_env") if getattr(self, k) is None]
            if missing:
                which = "method" if self.method == "api_token" else "backfill_method"
                raise ValueError(
                    f"{which} api_token needs {' and '.join(missing)}: the names of the variables holding the "
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
    """Which issues to sync (an optional JQL restriction), which custom fields to keep, and the
    site's Sprint field (the agile source checks it against the site's field list)."""

    jql: str | None = None
    extra_fields: list[str] = Field(default_factory=list)
    sprint_field: str | None = "customfield_10020"

    @field_validator("extra_fields")
    @classmethod
    def _fields(cls, value: list[str]) -> list[str]:
        for field_id in value:
            if not FIELD_ID.match(field_id):
                raise ValueError(f"{field_id!r} is not a Jira field id; write e.g. customfield_10016")
        return value

    @field_validator("sprint_field")
    @classmethod
    def _sprint_field(cls, value: str | None) -> str | None:
        if value is not None and not FIELD_ID.match(value):
            raise ValueError(f"{value!r} is not a Jira field id; write e.g. customfield_10020 (or null)")
        return value

    @property
    def decoded_fields(self) -> tuple[str, ...]:
        """The custom fields every issue page is asked for and decoded with: the kept ones and Sprint."""
        extra = tuple(self.extra_fields)
        if self.sprint_field is None or self.sprint_field in extra:
            return extra
        return (*extra, self.sprint_field)

    @field_validator("jql")
    @classmethod
    def _jql(cls, value: str | None) -> str | None:
        if value is not None and re.search(r"\border\s+by\b", value, re.IGNORECASE):
            raise ValueError("the issue scope JQL must not contain ORDER BY (the sync orders pages itself)")
        return value.strip() or None if value is not None else None


class SiteWebhook(StrictModel):
    """The site's webhook: `dynamic` (registered by the OAuth app, 30-day expiry, JWT-signed) or
    `admin` (registered through Jira's admin webhook API with a Jira administrator's email and
    API token, no expiry, signed with a secret jira-sync generates); its JQL filter and events."""

    enabled: bool = False
    mode: Literal["dynamic", "admin"] = "dynamic"
    jql_filter: str | None = None
    events: list[WebhookEvent] | None = None
    # admin mode on an OAuth site: the Jira administrator whose email + API token register it
    # (an api_token site uses its own auth.email_env / auth.api_token_env)
    admin_email_env: EnvName = None
    admin_api_token_env: EnvName = None

    @field_validator("jql_filter")
    @classmethod
    def _filter(cls, value: str | None, info: ValidationInfo) -> str | None:
        # dynamic webhooks accept only a JQL subset; admin webhooks take any JQL (Jira checks it)
        if value is not None and info.data.get("mode", "dynamic") == "dynamic":
            validate_webhook_jql(value)
        return value

    @model_validator(mode="after")
    def _admin_credentials(self) -> SiteWebhook:
        if (self.admin_email_env is None) != (self.admin_api_token_env is None):
            raise ValueError("write both admin_email_env and admin_api_token_env, or neither")
        return self


class ProjectMapping(StrictModel):
    """Custom per-project mappings; they win over the keyword heuristics and status categories.

    `team` (a team name or ID of the site) is the project's default team: the team an issue is
    attributed to when the person who worked on it is in no team, or nobody was assigned.
    """

    types: dict[str, IssueCategory] = Field(default_factory=dict)
    statuses: dict[str, IssueState] = Field(default_factory=dict)
    team: str | None = None

    @field_validator("team")
    @classmethod
    def _team(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("team must name a team of the site (its name or ID), or be left out")
        return value.strip() if value is not None else None


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
        if not IDENTIFIER.match(value):
            raise ValueError(f"{value!r} is not a site name; use letters, digits, - and _ (e.g. acme)")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value)

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
        webhook = self.webhook
        if webhook.enabled and webhook.mode == "dynamic" and self.auth.method != "oauth":
            raise ValueError(
                "webhook.mode dynamic needs auth.method: oauth (Jira lets only OAuth 2.0 apps register "
                "dynamic webhooks); an API-token site uses webhook.mode: admin (registered with its "
                "email and API token, which must be a Jira administrator's)"
            )
        if webhook.enabled and webhook.mode == "admin":
            if not self.url:
                raise ValueError(
                    "webhook.mode admin registers at the site URL (/rest/webhooks/1.0/webhook); "
                    "write url: https://<site>.atlassian.net"
                )
            if self.auth.method != "api_token" and webhook.admin_email_env is None:
                raise ValueError(
                    "webhook.mode admin needs a Jira administrator's email and API token: write "
                    "webhook.admin_email_env and webhook.admin_api_token_env (the OAuth app cannot "
                    "call the admin webhook API)"
                )
        return self

    @property
    def admin_webhook_credentials(self) -> tuple[str, str] | None:
        """Env var names (email, API token) that register this site's admin webhook, if any."""
        if not (self.webhook.enabled and self.webhook.mode == "admin"):
            return None
        if self.webhook.admin_email_env and self.webhook.admin_api_token_env:
            return self.webhook.admin_email_env, self.webhook.admin_api_token_env
        return self.auth.email_env or "", self.auth.api_token_env or ""

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
        if not IDENTIFIER.match(value):
            raise ValueError(
                f"{value!r} is not a tenant id; use letters, digits, - and _ (it is part of URLs and file names)"
            )
        return value
