"""`jira-sync plan backfill`: what a history import will cost before it runs (pipelines.jira.plan)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime

from jira_sync.arguments import add_sync_file_argument, load_checked_sync_file
from pipelines.jira.client import JiraHttp
from pipelines.jira.plan import plan_backfill
from pipelines.jira.runtime import resolve_sites
from pipelines.jira.windows import Window, epoch_ms


def _month(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month: write YYYY-MM, e.g. 2024-01") from None


def register(subparsers) -> None:
    plan = subparsers.add_parser("plan", help="estimate work before running it")
    actions = plan.add_subparsers(dest="plan_command", required=True, metavar="WHAT")
    backfill = actions.add_parser(
        "backfill",
        help="issues, requests, Atlassian points and hours of an issues backfill, per site",
        description="Asks each site for its approximate issue count and one sample page (a few "
        "requests), then prices the backfill as it will run: requests, points of the OAuth app's "
        "hourly quota and hours at the configured quota, and the same work with API-token auth.",
    )
    backfill.add_argument("--tenant", help="only this tenant's sites")
    backfill.add_argument("--site", help="only this site (its name in the sync file)")
    backfill.add_argument(
        "--from", dest="start", type=_month, help="first month created, YYYY-MM (default: sync.history_start)"
    )
    backfill.add_argument(
        "--to", dest="end", type=_month, help="last month created, YYYY-MM (default: this month)"
    )
    add_sync_file_argument(backfill)
    backfill.set_defaults(handler=run)


def _after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def run(args: argparse.Namespace) -> int:
    config = load_checked_sync_file(args.config)
    if config is None:
        return 2
    start = args.start or config.sync.history_start.replace(day=1)
    end = _after(args.end or datetime.now(UTC).date().replace(day=1))
    if end <= start:
        print(f"error: --to {args.end:%Y-%m} is before --from {start:%Y-%m}", file=sys.stderr)
        return 2
    resolved = resolve_sites(config, os.environ, purpose="backfill")
    sites = [
        s
        for s in resolved.sites
        if (args.tenant is None or s.tenant_id == args.tenant) and (args.site is None or s.name == args.site)
    ]
    if not sites and not resolved.failures.failures:
        print(
            f"error: no site matches --tenant {args.tenant} --site {args.site} in {args.config}",
            file=sys.stderr,
        )
        return 2
    window = Window(
        "created",
        epoch_ms(datetime(start.year, start.month, 1, tzinfo=UTC)),
        epoch_ms(datetime(end.year, end.month, 1, tzinfo=UTC)),
    )
    plan = plan_backfill(JiraHttp(config.http), sites, window, config)
    print("\n".join(plan.lines()))
    for line in resolved.failures.lines():
        print(f"error: {line}", file=sys.stderr)
    return 1 if resolved.failures.failures else 0
