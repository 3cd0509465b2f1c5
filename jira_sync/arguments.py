"""What several subcommands share: the sync-file option and loading it with a clear error."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pipelines.config import SyncConfig, SyncConfigError, load_sync_config


def add_sync_file_argument(parser: argparse.ArgumentParser, *flags: str, what: str = "sync file") -> None:
    """`--config` (or `flags`): the sync file, by default $JIRA_SYNC_CONFIG or ./jira_sync.yaml."""
    parser.add_argument(
        *(flags or ("--config",)),
        type=Path,
        default=Path(os.environ.get("JIRA_SYNC_CONFIG", "jira_sync.yaml")),
        help=f"{what} (default: $JIRA_SYNC_CONFIG or jira_sync.yaml)",
    )


def load_checked_sync_file(path: Path) -> SyncConfig | None:
    """The sync file, its environment checked; None after printing what is wrong (exit 2)."""
    try:
        config = load_sync_config(path)
        config.check_environment(os.environ)
    except SyncConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    return config
