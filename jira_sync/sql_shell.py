"""`jira-sync sql`: DuckDB's own shell, read-only, on the analyst snapshot.

The shell is the DuckDB Foundation's `duckdb-cli` package (a project dependency, so `make install`
brings it): the real DuckDB shell with its dot commands, completion and output modes, nothing else
to install. It is a DuckDB 1.x build, which is why the snapshot is written in an older storage
format (`warehouse.publish_storage_version`, v1.0.0 by default) that DuckDB 1.x and 2.x both read.
The process is replaced by the shell (`exec`), so Ctrl-C cancels a query instead of killing a
wrapper.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import metadata, resources
from pathlib import Path

import duckdb

from jira_sync.arguments import add_sync_file_argument
from pipelines.config import SyncConfigError, load_sync_config

OUTPUT_MODES = ("box", "csv", "json", "jsonlines", "line", "list", "markdown", "table", "html")
# The report, docs/analytics.md and flow_daily count in UTC days, weeks and months.
SESSION_SETUP = "SET TimeZone = 'UTC';"


class ShellError(RuntimeError):
    """The shell cannot start; the message says what to do."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sql",
        help="open DuckDB's SQL shell on the analyst snapshot (read-only)",
        description=(
            "DuckDB's shell on the analyst snapshot, read-only, time zone UTC. Without -c or -f it is "
            "interactive (.tables, .schema, .help; Ctrl-D quits), or reads SQL from a pipe."
        ),
    )
    parser.add_argument(
        "-c",
        "--command",
        dest="commands",
        action="append",
        metavar="SQL",
        help="run SQL and exit (repeatable)",
    )
    parser.add_argument("-f", "--file", type=Path, help="run the SQL in FILE and exit")
    parser.add_argument("--mode", choices=OUTPUT_MODES, help="output format (default box)")
    parser.add_argument(
        "--snapshot",
        type=Path,
        help="the DuckDB file to open (default: the sync file's warehouse.publish_path)",
    )
    add_sync_file_argument(parser, what="sync file naming the snapshot")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        argv = shell_command(args)
    except ShellError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.flush()
    os.execv(argv[0], argv)
    return 0  # not reached


def shell_command(args: argparse.Namespace) -> list[str]:
    """The shell's argv for these options; raises ShellError when it cannot work."""
    snapshot = args.snapshot or _publish_path(args.config)
    if not snapshot.is_file():
        raise ShellError(
            f"no analyst snapshot at {snapshot}: run `make run` (or the transforms job), or name the file "
            "with --snapshot"
        )
    if args.file is not None and not args.file.is_file():
        raise ShellError(f"-f {args.file}: no such file")
    binary = shell_binary()
    _check_readable(snapshot, shell_version())
    argv = [str(binary), "-readonly", "-cmd", SESSION_SETUP]
    if args.mode:
        argv.append(f"-{args.mode}")
    argv.append(str(snapshot))
    for command in args.commands or ():
        argv += ["-c", command]
    if args.file is not None:
        argv += ["-f", str(args.file)]
    return argv


def shell_binary() -> Path:
    binary = resources.files("duckdb_cli").joinpath("duckdb")
    path = Path(str(binary))
    if not path.is_file() or not os.access(path, os.X_OK):
        raise ShellError(
            f"DuckDB's shell is missing from the duckdb-cli package ({path}); run `make install`"
        )
    return path


def shell_version() -> str:
    try:
        return metadata.version("duckdb-cli")
    except metadata.PackageNotFoundError as exc:
        raise ShellError("the duckdb-cli package is not installed; run `make install`") from exc


def _publish_path(config_path: Path) -> Path:
    try:
        return Path(load_sync_config(config_path).warehouse.publish_path)
    except SyncConfigError as exc:
        raise ShellError(f"{exc} (or name the snapshot with --snapshot)") from exc


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.strip("v+").split(".")[:3])


def _check_readable(snapshot: Path, shell: str) -> None:
    """Refuse a file the shell's DuckDB release cannot read, saying how to publish one it can."""
    try:
        with duckdb.connect(str(snapshot), read_only=True) as con:
            (needed,) = con.execute(
                "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()"
            ).fetchall()[0]
    except duckdb.Error as exc:
        raise ShellError(f"{snapshot} does not open as a DuckDB database: {exc}") from exc
    if needed and _version(needed) > _version(shell):
        raise ShellError(
            f"{snapshot} is in DuckDB's {needed} storage format and the shell is DuckDB {shell}: set "
            "warehouse.publish_storage_version to v1.0.0 (the default) and publish again, or open it "
            "with DuckDB >= 2.0"
        )
