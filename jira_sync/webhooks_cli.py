"""`jira-sync webhooks create|list|refresh|delete|rotate-secret`: the webhook lifecycle by hand,
for dynamic and admin webhooks alike (`quarantined` / `retry-quarantined`: quarantine_cli.py).

Exit codes: 0 every selected site is fine; 1 an operation failed on a site, a site could not be
reached, or (`list`) a registration is missing, expired or conflicting; 2 the sync file, the
environment or a `--tenant`/`--site` name is wrong.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import timedelta

from jira_sync import quarantine_cli
from jira_sync.arguments import add_sync_file_argument, load_checked_sync_file
from pipelines.inbox import inbox_location
from pipelines.webhooks.operations import SiteRegistration, record_for_receiver, run_action
from pipelines.webhooks.sites import UnknownSite, open_webhook_sites

COMMANDS = {
    "create": ("reconcile", "register each site's webhook, or reuse and refresh the one it has"),
    "list": ("observe", "show each site's webhook: ids, events, filter, expiry on Jira's clock"),
    "refresh": ("refresh", "extend each site's webhook by 30 days now"),
    "delete": ("delete", "delete this app's webhooks for the receiver URL on each site"),
    "rotate-secret": (
        "rotate",
        "admin-mode sites: sign deliveries with a new secret (the old one verifies for 1 hour)",
    ),
}
UNHEALTHY = {"missing", "expired", "url_conflict", "error"}


def register(subparsers) -> None:
    webhooks = subparsers.add_parser(
        "webhooks", help="manage Jira webhooks (dynamic and admin) and the quarantine"
    )
    actions = webhooks.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    for name, (_action, help_text) in COMMANDS.items():
        command = actions.add_parser(name, help=help_text, description=help_text)
        command.add_argument("--tenant", help="only this tenant's sites")
        command.add_argument("--site", help="only this site (its name in the sync file)")
        add_sync_file_argument(command)
        if name == "create":
            command.add_argument(
                "--replace-url",
                action="store_true",
                help="delete this app's webhooks for another URL first (Jira allows one URL per app)",
            )
        if name == "delete":
            command.add_argument(
                "--all-urls",
                action="store_true",
                help="also delete this app's webhooks that point at another URL",
            )
        command.set_defaults(handler=run)
    quarantine_cli.register(actions)


def run(args: argparse.Namespace) -> int:
    action = COMMANDS[args.webhooks_command][0]
    config = load_checked_sync_file(args.config)
    if config is None:
        return 2
    replace = bool(getattr(args, "replace_url", False) or getattr(args, "all_urls", False))
    refresh_before = timedelta(days=config.webhooks.refresh_before_days)
    try:
        with open_webhook_sites(config, os.environ, tenant=args.tenant, site=args.site) as selected:
            rows = [
                run_action(s, action, refresh_before=refresh_before, replace_url=replace)
                for s in selected.sites
            ]
            problems = selected.problems
    except UnknownSite as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    record_for_receiver(inbox_location(config), rows)
    if not rows and not problems:
        print("no site has webhook.enabled: true (set it per site in the sync file)")
        return 0
    if rows:
        print(format_table(rows, refresh_before))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    failed = problems or [r for r in rows if r.status == "error"]
    if action == "observe":
        failed = failed or [r for r in rows if r.status in UNHEALTHY]
    return 1 if failed else 0


def format_table(rows: Sequence[SiteRegistration], refresh_before: timedelta) -> str:
    """A fixed-width table, then one indented line of settings and notes per site."""
    header = (
        "TENANT",
        "SITE",
        "CLOUD ID",
        "MODE",
        "STATUS",
        "ACTION",
        "WEBHOOKS",
        "EXPIRES (UTC)",
        "DAYS LEFT",
    )
    body = [
        (
            row.tenant_id,
            row.site_name,
            row.cloud_id,
            row.mode,
            row.status,
            row.action,
            ",".join(map(str, row.webhook_ids)) or "-",
            row.expires_at.strftime("%Y-%m-%d %H:%M")
            if row.expires_at
            else ("never" if row.mode == "admin" else "-"),
            f"{row.days_left:.1f}" if row.days_left is not None else "-",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (header, *body)
    ]
    for row in rows:
        lines.append(
            f"  {row.tenant_id}/{row.site_name}: url {row.url}; events {', '.join(row.events)}; filter {row.jql_filter!r}"
        )
        if row.jira_now is not None:
            lines.append(
                f"    Jira time {row.jira_now:%Y-%m-%d %H:%M} UTC; refresh due {refresh_before.days} days before expiry"
            )
        if row.detail:
            lines.append(f"    {row.detail}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the subcommand on its own (`python -m jira_sync.webhooks_cli list`)."""
    parser = argparse.ArgumentParser(prog="jira-sync")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["webhooks", *(sys.argv[1:] if argv is None else argv)])
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
