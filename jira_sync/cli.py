"""`jira-sync`: one argparse subcommand per module; registering a module is one line below."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module defines `register(subparsers)`, which adds the subcommand named here and sets
# `handler`. Only the module of the subcommand given is imported (several import Dagster, which
# takes seconds), so `jira-sync sql` starts at once; help imports them all.
SUBCOMMAND_MODULES = {
    "demo": "jira_sync.demo",
    "dev": "jira_sync.dev",
    "deploy": "jira_sync.deploy",
    "connect": "jira_sync.connect",
    "config": "jira_sync.config_check",
    "webhooks": "jira_sync.webhooks_cli",
    "sql": "jira_sync.sql_shell",
    "plan": "jira_sync.plan_cli",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jira-sync", description="Jira Cloud -> DuckDB with Dagster and dlt."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in SUBCOMMAND_MODULES.items():
        if only is None or name == only:
            importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    only = argv[0] if argv and argv[0] in SUBCOMMAND_MODULES else None
    args = build_parser(only).parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
