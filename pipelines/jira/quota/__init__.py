"""Atlassian's points quota: one shared budget per OAuth app for every run of a deployment.

Modules: `headers` (what Jira's rate-limit headers say), `costs` (what a request costs in points),
`store` (where the budget lives: SQLite or PostgreSQL), `policy` (who may spend now: reserve for
sweeps, fair shares between tenants' backfills, pause on a quota 429), `budget` (a run's view:
reserve, settle, wait aloud), `burst` (slow one endpoint after a burst 429), `plan` (what a
backfill will cost before it runs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

from pipelines.config import SyncConfig
from pipelines.jira.quota.budget import QuotaBudget, QuotaSettings, app_key
from pipelines.jira.quota.store import BudgetStore, PostgresBudgetStore, QuotaStoreError, SqliteBudgetStore

__all__ = ["BudgetStore", "QuotaBudget", "QuotaStoreError", "open_budget", "open_store"]


@lru_cache(maxsize=8)
def _sqlite_store(path: str) -> SqliteBudgetStore:
    return SqliteBudgetStore(path)


@lru_cache(maxsize=8)
def _postgres_store(url: str, env_name: str) -> PostgresBudgetStore:
    return PostgresBudgetStore(url, env_name)


def open_store(config: SyncConfig, environ: Mapping[str, str]) -> BudgetStore:
    """The deployment's budget store (one per process and location, shared by its runs)."""
    quota = config.quota
    if quota.store_url_env:
        url = environ.get(quota.store_url_env)
        if not url:
            raise QuotaStoreError(
                f"environment variable {quota.store_url_env} (named by quota.store_url_env) is not set; "
                "export the PostgreSQL connection string of the quota budget store"
            )
        return _postgres_store(url, quota.store_url_env)
    return _sqlite_store(str(config.quota_store_path))


def settings_of(config: SyncConfig) -> QuotaSettings:
    return QuotaSettings(
        points_per_hour=config.quota.points_per_hour,
        pool=config.quota.pool,
        reserve_share=config.quota.reserve_share,
        request_timeout_seconds=config.http.timeout_seconds,
    )


def open_budget(
    config: SyncConfig,
    environ: Mapping[str, str],
    purpose: str,
    tenants_by_cloud_id: Iterable[tuple[str, str]] = (),
) -> QuotaBudget | None:
    """The budget a run's OAuth requests draw on; None when no site uses OAuth (nothing is charged)."""
    if not any(site.auth.method == "oauth" for _, site in config.iter_sites()):
        return None
    client_id = environ.get(config.oauth.client_id_env or "")
    if not client_id:
        return None  # resolve_sites reports the missing variable for every OAuth site
    return QuotaBudget(
        open_store(config, environ),
        settings_of(config),
        app=app_key(client_id),
        purpose=purpose,
        tenants=dict(tenants_by_cloud_id),
    )
