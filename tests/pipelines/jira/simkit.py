"""Connect the pipelines to a running simulator the way an operator connects to Jira Cloud.

OAuth consent through `/_sim/oauth/grant` (what the consent page does), code exchange and the
token store, then a sync file naming both sites. Shared by the pipelines tests and the
import benchmark.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from jira_simulator.process import SimulatorProcess
from pipelines.auth.oauth import ADMIN_SCOPES, REQUIRED_SCOPES, AtlassianOAuthClient
from pipelines.auth.token_store import TokenStore
from pipelines.config import SyncConfig, load_sync_config
from pipelines.jira.runtime import ResolvedSites, resolve_sites

TENANT = "acme"
REDIRECT_URI = "http://127.0.0.1:9/auth/jira/callback"


@dataclass
class Connected:
    sim: SimulatorProcess
    config: SyncConfig
    environ: dict[str, str]
    workdir: Path

    @property
    def warehouse(self) -> Path:
        return Path(self.config.warehouse.path)

    def resolve(self) -> ResolvedSites:
        return resolve_sites(self.config, self.environ)

    def oauth_client(self) -> AtlassianOAuthClient:
        return AtlassianOAuthClient(
            self.sim.base_url, self.sim.base_url, self.sim.client_id, self.sim.client_secret, REDIRECT_URI
        )

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()


def connect(
    sim: SimulatorProcess,
    workdir: Path,
    *,
    http: dict | None = None,
    sites: dict | None = None,
    scopes: list[str] | None = None,
) -> Connected:
    """Consent for every site (with `scopes`, default every scope the sync asks for), store the
    tokens, and write a sync file for tenant `acme`."""
    workdir.mkdir(parents=True, exist_ok=True)
    environ = {
        "JIRA_CLIENT_ID": sim.client_id,
        "JIRA_SECRET": sim.client_secret,
        "JIRA_REDIRECT_URI": REDIRECT_URI,
        "JIRA_TEAMS_EMAIL": sim.admin_email,
        "JIRA_TEAMS_API_TOKEN": sim.api_token,
    }
    client = AtlassianOAuthClient(sim.base_url, sim.base_url, sim.client_id, sim.client_secret, REDIRECT_URI)
    grant = sim.admin(
        "POST",
        "oauth/grant",
        {
            "scopes": REQUIRED_SCOPES + (ADMIN_SCOPES if scopes is None else scopes),
            "redirect_uri": REDIRECT_URI,
        },
    )
    tokens = client.exchange_code(grant["code"])
    store = TokenStore(workdir / "tokens")
    store.save(TENANT, tokens, client.accessible_resources(tokens.access_token))
    truth = sim.truth()
    site_entries = []
    for name, cloud_id in sorted(sim.cloud_ids.items()):
        entry = {
            "name": name,
            "url": sim.site_url(name),
            "cloud_id": cloud_id,
            "team_sync": {
                "method": "teams_api",
                "organization_id": truth["sites"][cloud_id]["organization_id"],
                "email_env": "JIRA_TEAMS_EMAIL",
                "api_token_env": "JIRA_TEAMS_API_TOKEN",
            },
        }
        entry.update((sites or {}).get(name, {}))
        site_entries.append(entry)
    document = {
        "version": 1,
        "warehouse": {"path": str(workdir / "warehouse.duckdb")},
        "atlassian": {"auth_url": sim.base_url, "api_url": sim.base_url},
        "oauth": {"token_dir": str(workdir / "tokens")},
        "http": {"max_requests_per_second": 500, "concurrency": 4, "max_attempts": 10, **(http or {})},
        "tenants": [{"id": TENANT, "sites": site_entries}],
    }
    path = workdir / "jira_sync.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return Connected(sim, load_sync_config(path, environ={}), environ, workdir)


@contextmanager
def simulator(**kwargs) -> Iterator[SimulatorProcess]:
    with SimulatorProcess(**kwargs) as sim:
        yield sim
