"""`jira-sync`: one argparse subcommand per module; registering a module is one line below."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module defines `register(subparsers)`, which adds its subcommand and sets `handler`.
SUBCOMMAND_MODULES = (
    "jira_sync.demo",
    "jira_sync.dev",
    "jira_sync.connect",
    "jira_sync.config_check",
    "jira_sync.webhooks_cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jira-sync", description="Jira Cloud -> DuckDB with Dagster and dlt."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
