"""The demo's Jira: the bundled simulator, connected the way an operator connects to Jira Cloud.

OAuth 2.0 (3LO) through the consent page for the platform API (the tokens and the sites the grant
reaches go to the tenant's token file), an API token for the Teams API, and a sync file written
under the demo directory that names both sites by URL. The environment the sync file names is
returned, for this process only: nothing is written to a shell profile or `.env`.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import yaml

from jira_simulator.process import SimulatorProcess
from jira_sync.connect import CONNECT_SCOPES, consent_and_store
from jira_sync.consent import approve_consent
from jira_sync.oauth_callback import CALLBACK_PATH
from pipelines.auth.oauth import AccessibleSite, AtlassianOAuthClient
from pipelines.auth.token_store import TokenStore

TENANT = "demo"
TEAMS_EMAIL_ENV = "JIRA_TEAMS_EMAIL"
TEAMS_TOKEN_ENV = "JIRA_TEAMS_API_TOKEN"
STANDARD_JOBS = [  # the repo's jira_sync.yaml jobs (tests/jira_sync/test_cli.py compares them)
    {
        "name": "reference_sync",
        "description": "Nightly snapshot of each site's projects, issue types, statuses, users, groups, "
        "boards and sprints, and the Atlassian teams.",
        "select": 'tag:"jira_sync/kind"="reference"',
        "cron": "0 2 * * *",
    },
    {
        "name": "incremental_sync",
        "description": "Issues changed since the last sweep (with their full changelogs) and worklogs, "
        "then every table derived from them.",
        "select": 'key:"jira_raw/issue_updates"+',
        "cron": "*/15 * * * *",
    },
    {
        "name": "issue_census",
        "description": "Finds issues deleted in Jira that no webhook reported (an id census per project), "
        "removes them, then rebuilds what derives from them.",
        "select": 'key:"jira_raw/issue_deletions"+',
        "cron": "30 3 * * *",
    },
    {
        "name": "transforms",
        "description": "Rebuilds every jira, analytics and publish table from jira_raw (automation keeps "
        "them fresh; launch this for a full rebuild).",
        "select": "group:jira or group:analytics or group:publish",
    },
]


@dataclass
class DemoOptions:
    scenario: Path | None = None
    issues: int | None = None
    seed: int | None = None
    latency_ms: int = 0
    warehouse: Path = Path("data/warehouse.duckdb")
    demo_dir: Path = Path("data/demo")
    receiver_url: str = "http://127.0.0.1:8000"
    simulator_args: list[str] = field(default_factory=list)


@dataclass
class ConnectedDemo:
    simulator: SimulatorProcess
    sync_file: Path
    environ: dict[str, str]  # what the sync file's *_env keys name, plus JIRA_SYNC_CONFIG
    sites: list[AccessibleSite]
    organization_id: str
    truth: dict


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def connect_with_consent(sim: SimulatorProcess, token_dir: Path) -> tuple[list[AccessibleSite], str]:
    """OAuth consent as an operator's browser does it; returns the sites and the redirect URI used."""
    redirect_uri = f"http://127.0.0.1:{free_loopback_port()}{CALLBACK_PATH}"
    client = AtlassianOAuthClient(
        auth_url=sim.base_url,
        api_url=sim.base_url,
        client_id=sim.client_id,
        client_secret=sim.client_secret,
        redirect_uri=redirect_uri,
    )
    with httpx.Client(timeout=30) as browser:

        def approve(url: str) -> None:
            browser.get(approve_consent(browser, url))  # lands on the loopback callback

        sites = consent_and_store(client, TokenStore(token_dir), TENANT, approve=approve)
    return sites, redirect_uri


def earliest_created(sim: SimulatorProcess, sites: list[AccessibleSite], token_dir: Path) -> date:
    """The first created date of any issue, by an ordinary search (what an operator would run)."""
    token = TokenStore(token_dir).token_set(TENANT)
    assert token is not None
    earliest = datetime.now(UTC)
    for site in sites:
        response = httpx.get(
            f"{sim.base_url}/ex/jira/{site.id}/rest/api/3/search/jql",
            params={"jql": "created >= 0 ORDER BY created ASC", "maxResults": 1, "fields": "created"},
            headers={"Authorization": f"Bearer {token.access_token}"},
            timeout=30,
        )
        response.raise_for_status()
        for issue in response.json().get("issues", []):
            earliest = min(earliest, datetime.fromisoformat(issue["fields"]["created"]))
    return earliest.astimezone(UTC).date()


def demo_sync_file(
    options: DemoOptions,
    sim: SimulatorProcess,
    sites: list[AccessibleSite],
    organization_id: str,
    history_start: date,
    jobs: list[dict],
) -> dict:
    """The demo tenant's sync file: both sites by URL, OAuth, Teams API with the simulator's org."""
    demo_dir = options.demo_dir
    return {
        "version": 1,
        "warehouse": {
            "destination": "duckdb",
            "path": str(options.warehouse),
            "publish_path": str(options.warehouse.with_name("jira_analytics.duckdb")),
        },
        "report": {"path": str(options.warehouse.parent / "report")},
        "atlassian": {"auth_url": sim.base_url, "api_url": sim.base_url},
        "oauth": {"token_dir": str(demo_dir / "tokens")},
        # The simulator is not rate limited unless asked; stay well under Atlassian's burst limit.
        "http": {"max_requests_per_second": 200, "concurrency": 4, "max_attempts": 10, "timeout_seconds": 60},
        "sync": {"history_start": history_start.isoformat(), "incremental_overlap_minutes": 10},
        # The simulator charges no points unless started with --rate-limit points=N (its headers
        # then correct this at the first answer): an app quota no demo world exhausts.
        "quota": {"points_per_hour": 10_000_000},
        "webhooks": {"receiver_url": options.receiver_url, "inbox": str(demo_dir / "inbox.sqlite")},
        "jobs": jobs,
        "tenants": [
            {
                "id": TENANT,
                "sites": [
                    {
                        "name": site.name,
                        "url": site.url,
                        "auth": {"method": "oauth"},
                        "team_sync": {
                            "method": "teams_api",
                            "organization_id": organization_id,
                            "email_env": TEAMS_EMAIL_ENV,
                            "api_token_env": TEAMS_TOKEN_ENV,
                        },
                        "entities": [
                            "issues",
                            "projects",
                            "issue_types",
                            "statuses",
                            "users",
                            "groups",
                            "teams",
                            "sprints",
                            "worklogs",
                        ],
                        # Story points, which the simulator's scrum boards estimate with: the
                        # sprint reports read them from here.
                        "issues": {"extra_fields": ["customfield_10016"]},
                        "webhook": {"enabled": True},
                    }
                    for site in sites
                ],
            }
        ],
    }


@contextmanager
def connected_demo(options: DemoOptions, jobs: list[dict] | None = None) -> Iterator[ConnectedDemo]:
    """Start the simulator, connect to it, write the demo sync file; stop the simulator on exit."""
    options.demo_dir.mkdir(parents=True, exist_ok=True)
    token_dir = options.demo_dir / "tokens"
    with SimulatorProcess(
        issues=options.issues,
        seed=options.seed,
        scenario=options.scenario,
        latency_ms=options.latency_ms,
        extra_args=options.simulator_args,
    ) as sim:
        truth = sim.truth()
        sites, redirect_uri = connect_with_consent(sim, token_dir)
        organizations = {truth["sites"][site.id]["organization_id"] for site in sites}
        if len(organizations) != 1:
            raise RuntimeError(
                f"the demo expects one organization behind its sites, found {sorted(organizations)}"
            )
        organization_id = organizations.pop()
        sync = demo_sync_file(
            options,
            sim,
            sites,
            organization_id,
            earliest_created(sim, sites, token_dir),
            STANDARD_JOBS if jobs is None else jobs,
        )
        sync_file = options.demo_dir / "jira_sync.yaml"
        sync_file.write_text(
            "# Written by `jira-sync demo` / `jira-sync dev` for the bundled simulator; rewritten on each start.\n"
            + yaml.safe_dump(sync, sort_keys=False)
        )
        environ = {
            "JIRA_CLIENT_ID": sim.client_id,
            "JIRA_SECRET": sim.client_secret,
            "JIRA_REDIRECT_URI": redirect_uri,
            TEAMS_EMAIL_ENV: sim.admin_email,
            TEAMS_TOKEN_ENV: sim.api_token,
            "JIRA_SYNC_CONFIG": str(sync_file),
        }
        yield ConnectedDemo(sim, sync_file, environ, sites, organization_id, truth)


__all__ = ["CONNECT_SCOPES", "ConnectedDemo", "DemoOptions", "connected_demo"]
