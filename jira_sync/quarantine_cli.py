"""`jira-sync webhooks quarantined|retry-quarantined`: deliveries the drain could not apply.

The drain sets such a delivery aside in the inbox (`webhooks.inbox`) with the reason and goes on
with the others. After fixing the cause (a mapping, a schema, a bug), `retry-quarantined` puts
them back in line as new arrivals; the inbox sensor drains them within seconds. Exit codes: 0
done (`quarantined`: nothing waits), 1 (`quarantined`) deliveries wait, 2 a bad sync file or an
inbox that cannot be opened.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pipelines.config import SyncConfigError, load_sync_config
from pipelines.inbox import inbox_location, open_inbox
from pipelines.inbox.store import InboxUnavailable


def register(actions) -> None:
    for name, help_text in (
        ("quarantined", "list the webhook deliveries the drain could not apply, with the reasons"),
        ("retry-quarantined", "put quarantined deliveries back in line after a fix (all, or --identifier)"),
    ):
        command = actions.add_parser(name, help=help_text, description=help_text)
        command.add_argument(
            "--config",
            type=Path,
            default=Path(os.environ.get("JIRA_SYNC_CONFIG", "jira_sync.yaml")),
            help="sync file (default: $JIRA_SYNC_CONFIG or jira_sync.yaml)",
        )
        if name == "quarantined":
            command.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
        else:
            command.add_argument(
                "--identifier",
                action="append",
                default=[],
                help="only this delivery (X-Atlassian-Webhook-Identifier); repeatable",
            )
        command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_sync_config(args.config)
        inbox = open_inbox(inbox_location(config))
    except (SyncConfigError, InboxUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.webhooks_command == "quarantined":
            return _list(inbox, args.limit)
        return _retry(inbox, set(args.identifier))
    finally:
        inbox.close()


def _list(inbox, limit: int) -> int:
    waiting = inbox.quarantined(limit)
    if not waiting:
        print("no delivery is quarantined")
        return 0
    for item in waiting:
        event = item.event
        print(
            f"{item.quarantined_at:%Y-%m-%d %H:%M:%S} UTC  {event.tenant_id}/{event.cloud_id}  "
            f"{event.identifier}  {event.event}  {event.issue_key or event.issue_id}"
        )
        print(f"    {item.reason}")
    total = inbox.stats().quarantined
    print(f"{total} quarantined; after fixing the cause: jira-sync webhooks retry-quarantined")
    return 1


def _retry(inbox, identifiers: set[str]) -> int:
    if identifiers:
        chosen = [q.key for q in inbox.quarantined(1_000_000) if q.event.identifier in identifiers]
        unknown = identifiers - {key.identifier for key in chosen}
        for identifier in sorted(unknown):
            print(f"warning: no quarantined delivery {identifier}", file=sys.stderr)
        released = inbox.release_quarantined(chosen)
    else:
        released = inbox.release_quarantined()
    print(f"{released} deliveries put back in line; the jira_webhook_inbox sensor drains them")
    return 0
