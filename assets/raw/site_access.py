"""What a raw step needs before it fetches: the sync file, its secrets, the callable sites, HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import dlt

from assets.resources import JiraSecretsResource, SyncConfigResource
from pipelines.config import SyncConfig
from pipelines.destination import DEFAULT_PIPELINES_DIR, make_pipeline
from pipelines.jira.client import JiraHttp
from pipelines.jira.quota import open_budget
from pipelines.jira.runtime import ResolvedSites, resolve_sites


@dataclass
class StepSites:
    """The sites of one step. Sites that cannot be called are already in `resolved.failures`."""

    config: SyncConfig
    resolved: ResolvedSites
    http: JiraHttp
    environ: dict[str, str]

    def pipeline(self, name: str) -> dlt.Pipeline:
        """The dlt pipeline of this step, with the warehouse credentials from the secrets resource."""
        return make_pipeline(
            name, self.config, pipelines_dir=pipelines_dir(self.config), environ=self.environ
        )

    def finish(self) -> None:
        """After the healthy sites landed: fail the step naming each failed site and what to do."""
        self.resolved.failures.raise_if_any()


def open_sites(
    context: dg.AssetExecutionContext | dg.OpExecutionContext,
    sync_config: SyncConfigResource,
    jira_secrets: JiraSecretsResource,
    *,
    purpose: str = "sync",
) -> StepSites:
    """The step's sites, each with the auth of its `purpose` (`backfill`: `auth.backfill_method`)."""
    config = sync_config.load()
    environ = jira_secrets.environ()
    config.check_environment(environ=environ)
    resolved = resolve_sites(config, environ, purpose=purpose)
    # Every OAuth request of the step draws on the app's points budget, shared by every run and
    # process of the deployment (quota.store); a backfill pauses at it and sweeps keep a reserve.
    budget = open_budget(config, environ, purpose, [(s.cloud_id, s.tenant_id) for s in resolved.sites])
    for line in resolved.failures.lines():
        context.log.warning(f"skipping {line}")
    names = ", ".join(site.name for site in resolved.sites) or "none"
    context.log.info(f"syncing sites: {names}")
    return StepSites(
        config=config, resolved=resolved, http=JiraHttp(config.http, budget=budget), environ=environ
    )


def pipelines_dir(config: SyncConfig) -> Path:
    """dlt's working dirs beside the DuckDB warehouse (`data/dlt` for `data/warehouse.duckdb`).

    Their state is restored from the warehouse on every run, so they belong to that warehouse.
    """
    if config.warehouse.destination == "duckdb":
        return Path(config.warehouse.path).parent / "dlt"
    return DEFAULT_PIPELINES_DIR
