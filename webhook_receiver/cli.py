"""`jira-sync-receiver`: serve the webhook receiver under uvicorn.

    jira-sync-receiver --host 127.0.0.1 --port 8000 --inbox data/inbox.sqlite [--config jira_sync.yaml]

Tenants and sites come from the sync file (`--config`, else `$JIRA_SYNC_CONFIG`, else
`jira_sync.yaml`); OAuth app credentials from the environment variables it names. `--workers N`
runs N processes that share the inbox file (SQLite WAL).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette

from pipelines.config import SyncConfigError, load_sync_config
from pipelines.inbox import open_inbox
from pipelines.inbox.store import InboxUnavailable
from webhook_receiver import slow_clients
from webhook_receiver.app import create_app
from webhook_receiver.logging import configure_logging
from webhook_receiver.settings import ReceiverSettings, settings_from_sync_config
from webhook_receiver.slow_clients import DeadlineHTTPProtocol

_WORKER_ARGS_ENV = "JIRA_SYNC_RECEIVER_ARGS"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jira-sync-receiver",
        description="Receive Jira webhooks into a durable inbox (and connect sites).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    parser.add_argument(
        "--inbox", type=Path, help="SQLite inbox file (default: the sync file's webhooks.inbox)"
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ.get("JIRA_SYNC_CONFIG", "jira_sync.yaml")),
        help="the sync file (default: $JIRA_SYNC_CONFIG or jira_sync.yaml)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="receiver processes sharing the inbox (default 1)"
    )
    parser.add_argument("--max-body-bytes", type=int, default=1024 * 1024, help="larger deliveries get 413")
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=10.0,
        help="seconds a request's headers and body may take to arrive; slower connections are closed (default 10)",
    )
    parser.add_argument(
        "--max-slow-connections",
        type=int,
        default=64,
        help="requests that may be arriving at once; beyond it the oldest is closed (default 64)",
    )
    parser.add_argument(
        "--max-token-lifetime",
        type=int,
        default=3600,
        help="refuse delivery JWTs whose exp is further ahead than this many seconds (default 3600)",
    )
    parser.add_argument(
        "--no-connect", action="store_true", help="serve webhooks only (no /auth/jira/* pages)"
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return parser


_SETTING_ARGS = {  # command-line option (argparse dest) -> ReceiverSettings field
    "max_body_bytes": "max_body_bytes",
    "body_timeout": "body_timeout_seconds",
    "max_slow_connections": "max_slow_connections",
    "max_token_lifetime": "max_token_lifetime_seconds",
}


def load_settings(
    config: Path, inbox: Path | None, connect_enabled: bool, **options: object
) -> ReceiverSettings:
    """Settings from the sync file and the command line (`options` by argparse dest)."""
    return settings_from_sync_config(
        load_sync_config(config),
        inbox_path=inbox,
        connect_enabled=connect_enabled,
        **{field: options[arg] for arg, field in _SETTING_ARGS.items() if arg in options},
    )


def _secrets(settings: ReceiverSettings) -> list[str]:
    """What the logs must never show: the app secret, the inbox's connection string and its password."""
    secrets = [settings.oauth.client_secret, settings.inbox_url]
    values = [secret.get_secret_value() for secret in secrets if secret]
    if settings.inbox_url is not None:
        password = urlsplit(settings.inbox_url.get_secret_value()).password
        values += [password] if password else []
    return values


def uvicorn_options(host: str, port: int) -> dict[str, object]:
    """How the receiver runs under uvicorn (the load benchmark serves its baseline the same way):
    with request deadlines for slow clients (slow_clients.py)."""
    return {
        "host": host,
        "port": port,
        "http": DeadlineHTTPProtocol,
        "access_log": False,  # its lines would carry query strings (the OAuth callback's code)
        "log_config": None,
        "server_header": False,
        "timeout_graceful_shutdown": 10,
    }


def prepare_process() -> None:
    """Process-wide settings, applied once the code and the app are loaded, before serving.

    The modules and the app (tens of thousands of objects) live as long as the process: frozen,
    they are left out of every garbage collection. Without this, each full collection under load
    walked them all (about 30 ms: a pause every few thousand requests, seen in the p99).
    """
    gc.collect()
    gc.freeze()


def worker_app() -> Starlette:
    """App factory for `--workers N`: each worker process reloads the sync file and environment."""
    args = json.loads(os.environ[_WORKER_ARGS_ENV])
    settings = load_settings(
        Path(args["config"]),
        Path(args["inbox"]) if args["inbox"] else None,
        args["connect_enabled"],
        **args["options"],
    )
    configure_logging(args["log_level"], secrets=_secrets(settings))
    slow_clients.configure(settings.body_timeout_seconds, settings.max_slow_connections)
    app = create_app(settings)
    prepare_process()
    return app


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options = {arg: getattr(args, arg) for arg in _SETTING_ARGS}
    try:
        settings = load_settings(args.config, args.inbox, not args.no_connect, **options)
        open_inbox(
            settings.inbox_location, busy_timeout_ms=settings.busy_timeout_ms
        ).close()  # fail fast, clearly
    except (SyncConfigError, InboxUnavailable, ValueError) as exc:
        print(f"jira-sync-receiver: {exc}", file=sys.stderr)
        return 2
    configure_logging(args.log_level, secrets=_secrets(settings))
    slow_clients.configure(settings.body_timeout_seconds, settings.max_slow_connections)
    common = uvicorn_options(args.host, args.port)
    if args.workers > 1:
        os.environ[_WORKER_ARGS_ENV] = json.dumps(
            {
                "config": str(args.config),
                "inbox": str(args.inbox) if args.inbox else None,
                "options": options,
                "connect_enabled": not args.no_connect,
                "log_level": args.log_level,
            }
        )
        uvicorn.run("webhook_receiver.cli:worker_app", factory=True, workers=args.workers, **common)
    else:
        app = create_app(settings)
        prepare_process()
        uvicorn.run(app, **common)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
