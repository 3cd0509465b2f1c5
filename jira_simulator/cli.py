"""`jira-simulator serve` (Jira Cloud on loopback) and `jira-simulator truth` (the ground truth as JSON)."""

from __future__ import annotations

import argparse
import gc
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import orjson

from jira_simulator.generator import ADMIN_EMAIL, DEFAULT_ISSUES
from jira_simulator.model import World
from jira_simulator.options import (
    DEFAULT_API_TOKEN,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    OptionError,
    SimulatorOptions,
    parse_rate_limit,
)
from jira_simulator.scenario import ScenarioError
from jira_simulator.truth import ground_truth
from jira_simulator.world import build_world

READY_PREFIX = "jira-simulator serving "
PARENT_PID_ENV = "JIRA_SIMULATOR_PARENT_PID"


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data")
    group.add_argument("--scenario", type=Path, help="a scenario YAML file (see jira_simulator/README.md)")
    group.add_argument(
        "--issues", type=int, help=f"issues to generate across both sites (default {DEFAULT_ISSUES})"
    )
    group.add_argument(
        "--seed", type=int, help="seed of the generated data and of the fault dice (default 1)"
    )
    group.add_argument(
        "--api-token", default=DEFAULT_API_TOKEN, help="the admin user's API token (Basic auth)"
    )
    group.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help="the OAuth 2.0 app's client id")
    group.add_argument(
        "--client-secret", default=DEFAULT_CLIENT_SECRET, help="the OAuth 2.0 app's client secret"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jira-simulator", description="A faithful Jira Cloud on loopback.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve every Jira surface on one port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 (default) picks a free port")
    _data_arguments(serve)
    faults = serve.add_argument_group("latency and faults")
    faults.add_argument("--latency-ms", type=int, default=0, help="added to every Jira request")
    faults.add_argument(
        "--rate-limit",
        help="e.g. 'burst=100' (requests/s per endpoint) and/or 'points=65000' (per hour, OAuth); "
        "'pool=tenant' for per-site pools, 'points[acme]=120000' per site, 'headers=structured|beta'",
    )
    faults.add_argument(
        "--clock-speed",
        type=float,
        default=1.0,
        help="simulated seconds per wall second (60: a quota hour passes in a wall minute)",
    )
    faults.add_argument("--fault-rate-5xx", type=float, default=0.0, help="probability of a 5xx answer")
    faults.add_argument("--drop-rate", type=float, default=0.0, help="probability of a dropped connection")
    faults.add_argument("--rate-429", type=float, default=0.0, help="probability of a 429 answer")
    faults.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds of injected 429s")
    faults.add_argument(
        "--webhook-retry-backoff", type=float, default=1.0, help="seconds between webhook delivery retries"
    )
    truth = commands.add_parser("truth", help="print the ground truth of the data options as JSON")
    _data_arguments(truth)
    return parser


def options_from(args: argparse.Namespace) -> SimulatorOptions:
    serving = args.command == "serve"
    return SimulatorOptions(
        client_id=args.client_id,
        client_secret=args.client_secret,
        api_token=args.api_token,
        seed=1 if args.seed is None else args.seed,
        latency_ms=args.latency_ms if serving else 0,
        fault_rate_5xx=args.fault_rate_5xx if serving else 0.0,
        drop_rate=args.drop_rate if serving else 0.0,
        rate_429=args.rate_429 if serving else 0.0,
        retry_after_seconds=args.retry_after if serving else 1,
        rate_limit=parse_rate_limit(args.rate_limit if serving else None),
        webhook_retry_backoff_seconds=args.webhook_retry_backoff if serving else 1.0,
        clock_speed=args.clock_speed if serving else 1.0,
    )


def _exit_with_parent() -> None:
    """When started by `SimulatorProcess`, stop as soon as the parent process is gone (even if killed)."""
    parent = os.environ.get(PARENT_PID_ENV)
    if not parent:
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def serve(args: argparse.Namespace, options: SimulatorOptions, world: World, started: float) -> None:
    import uvicorn

    from jira_simulator.app import create_app

    app = create_app(world, options=options)
    listener = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    port = listener.getsockname()[1]
    base_url = f"http://{args.host}:{port}"
    world.public_base_url = base_url
    issues = sum(1 for s in world.sites.values() for i in s.issues.values() if s.projects[i.project_id].live)
    retired = sum(len(s.issues) for s in world.sites.values()) - issues
    retired_text = f" + {retired} in archived or trashed projects" if retired else ""
    lines = [
        f"{READY_PREFIX}{base_url} ({issues} issues{retired_text}, ready in {time.monotonic() - started:.1f} s)",
        *(
            f"  site {s.name:<8} {base_url}/site/{s.name}  (cloud id {s.cloud_id}, OAuth {base_url}/ex/jira/{s.cloud_id})"
            for s in world.sites.values()
        ),
        *(f"  organization {org.org_id} ({org.name})" for org in world.organizations.values()),
        f"  OAuth client id:     {options.client_id}",
        f"  OAuth client secret: {options.client_secret}",
        f"  admin email:         {world.admin.email or ADMIN_EMAIL}",
        f"  admin API token:     {options.api_token}",
        f"  ground truth:        {base_url}/_sim/truth",
    ]
    print("\n".join(lines), flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=30)
    uvicorn.Server(config).run(sockets=[listener])


def _lasting_world(args: argparse.Namespace, options: SimulatorOptions) -> World:
    """The served world lives as long as the process: it is built with the cyclic collector paused and
    frozen out of later collections, so no collection ever walks its millions of objects."""
    gc.disable()
    try:
        world = build_world(issues=args.issues, seed=args.seed, scenario=args.scenario, options=options)
        gc.freeze()
        return world
    finally:
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.monotonic()
    try:
        options = options_from(args)
        if args.command == "serve":
            world = _lasting_world(args, options)
        else:
            world = build_world(issues=args.issues, seed=args.seed, scenario=args.scenario, options=options)
    except (OptionError, ScenarioError, ValueError) as error:
        print(f"jira-simulator: {error}", file=sys.stderr)
        return 2
    if args.command == "truth":
        sys.stdout.buffer.write(orjson.dumps(ground_truth(world), option=orjson.OPT_INDENT_2) + b"\n")
        return 0
    _exit_with_parent()
    try:
        serve(args, options, world, started)
    except OSError as error:
        print(f"jira-simulator: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
