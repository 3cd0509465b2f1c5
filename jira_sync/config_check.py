"""`jira-sync config check [--file F]`: validate the sync file, its jobs and the environment."""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

from pipelines.config import SyncConfig, SyncConfigError, load_sync_config


def register(subparsers) -> None:
    config = subparsers.add_parser("config", help="inspect the sync file")
    actions = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="validate the sync file, its jobs and the environment; print tenants, sites and jobs",
    )
    check.add_argument(
        "--file",
        type=Path,
        default=Path(os.environ.get("JIRA_SYNC_CONFIG", "jira_sync.yaml")),
        help="sync file (default: $JIRA_SYNC_CONFIG or jira_sync.yaml)",
    )
    check.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_sync_config(args.file)
    except SyncConfigError as exc:
        print(f"error: {exc}")
        return 1
    errors = []
    try:
        job_assets = _job_assets(config)
    except SyncConfigError as exc:
        errors.append(str(exc))
        job_assets = {}
    try:
        config.check_environment(environ=os.environ)
    except SyncConfigError as exc:
        errors.append(str(exc))
    print(summary(config, job_assets))
    for error in errors:
        print(f"error: {error}")
    print(f"{config.source_path}: {'OK' if not errors else f'{len(errors)} problem(s)'}")
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
            lines.append(
                f"    site {site.name}: {where}; auth {site.auth.method}; teams {site.team_sync.method}; "
                f"entities {', '.join(site.entities)}; webhook {'on' if site.webhook.enabled else 'off'}"
            )
    lines.append(f"  jobs: {len(config.jobs)}")
    for job in config.jobs:
        schedule = f"cron {job.cron!r}" if job.cron else "no schedule"
        count = job_assets.get(job.name)
        assets = f"{count} asset(s)" if count is not None else "not checked"
        lines.append(f"    {job.name}: {job.select} ({schedule}; {assets})")
    return "\n".join(lines)


def _job_assets(config: SyncConfig) -> dict[str, int]:
    """Build the definitions (validates every `jobs[i].select`) and count each job's assets."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import dagster as dg

        from assets.definitions import build_definitions

        defs = build_definitions(config)
        graph = defs.resolve_asset_graph()
        return {
            job.name: len(dg.AssetSelection.from_string(job.select).resolve(graph, allow_missing=True))
            for job in config.jobs
        }
