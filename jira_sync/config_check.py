"""`jira-sync config check [--file F]`: validate the sync file, its jobs and the environment."""

from __future__ import annotations

import argparse
import os
import warnings
from datetime import UTC, datetime

from jira_sync.arguments import add_sync_file_argument
from jira_sync.automation_plan import automation_plan, describe
from pipelines.config import SyncConfig, SyncConfigError, load_sync_config


def register(subparsers) -> None:
    config = subparsers.add_parser("config", help="inspect the sync file")
    actions = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="validate the sync file, its jobs and the environment; print tenants, sites, jobs and what runs when",
    )
    add_sync_file_argument(check, "--file", "--config")
    check.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_sync_config(args.file)
    except SyncConfigError as exc:
        count = len(exc.problems)
        print(f"error: {exc}")
        print(f"{args.file}: {count} problem{'s' if count > 1 else ''}")
        return 1
    errors: list[SyncConfigError] = []
    try:
        defs = _definitions(config)
    except SyncConfigError as exc:
        errors.append(exc)
        defs = None
    try:
        config.check_environment(environ=os.environ)
    except SyncConfigError as exc:
        errors.append(exc)
    print(summary(config, _job_assets(config, defs) if defs is not None else {}))
    if defs is not None:
        print(describe(automation_plan(config, defs, datetime.now(UTC))))
    for error in errors:
        print(f"error: {error}")
    count = sum(len(error.problems) for error in errors)
    print(f"{config.source_path}: {'OK' if not count else f'{count} problem' + ('s' if count > 1 else '')}")
    return 1 if errors else 0


def summary(config: SyncConfig, job_assets: dict[str, int]) -> str:
    warehouse = config.warehouse
    lines = [
        f"sync file {config.source_path}",
        f"  warehouse: {warehouse.destination} {warehouse.path} (analyst snapshot {warehouse.publish_path})",
        f"  history from {config.sync.history_start}, overlap {config.sync.incremental_overlap_minutes} min",
    ]
    for tenant in config.tenants:
        lines.append(f"  tenant {tenant.id}: {len(tenant.sites)} site(s)")
        for site in tenant.sites:
            where = site.url or f"cloud id {site.cloud_id}"
            backfill = f" (backfill: {site.auth.backfill_method})" if site.auth.backfill_method else ""
            lines.append(
                f"    site {site.name}: {where}; auth {site.auth.method}{backfill}; teams {site.team_sync.method}; "
                f"entities {', '.join(site.entities)}; webhook {'on' if site.webhook.enabled else 'off'}"
            )
    lines.append(f"  jobs: {len(config.jobs)}")
    for job in config.jobs:
        schedule = f"cron {job.cron!r}" if job.cron else "no schedule"
        count = job_assets.get(job.name)
        assets = f"{count} asset(s)" if count is not None else "not checked"
        lines.append(f"    {job.name}: {job.select} ({schedule}; {assets})")
    return "\n".join(lines)


def _definitions(config: SyncConfig):
    """Build the definitions: validates every `jobs[i].select`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from assets.definitions import build_definitions

        return build_definitions(config)


def _job_assets(config: SyncConfig, defs) -> dict[str, int]:
    """How many assets each job of the sync file materializes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        repo = defs.get_repository_def()
        return {
            job.name: len(repo.get_job(job.name).asset_layer.executable_asset_keys) for job in config.jobs
        }
