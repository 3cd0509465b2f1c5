"""Serving a simulator world over real loopback HTTP (uvicorn in a thread) for the simulator tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from starlette.applications import Starlette

from jira_simulator.app import create_app
from jira_simulator.model import Site, User, World
from jira_simulator.options import SimulatorOptions


@contextmanager
def serve_app(app: Starlette) -> Iterator[str]:
    """Run `app` under uvicorn on a free loopback port in a thread; yield its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        threading.Event().wait(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Served:
    """A world served over HTTP, with helpers to call it as Basic or OAuth clients."""

    world: World
    base_url: str
    options: SimulatorOptions

    def site(self, name: str) -> Site:
        found = self.world.site_by_name(name)
        assert found is not None, name
        return found

    def rest(self, site: str = "acme", version: int = 3) -> str:
        return f"{self.base_url}/site/{site}/rest/api/{version}"

    def gateway(self, site: str = "acme", version: int = 3) -> str:
        return f"{self.base_url}/ex/jira/{self.site(site).cloud_id}/rest/api/{version}"

    @property
    def admin(self) -> User:
        return self.world.admin

    @property
    def admin_auth(self) -> tuple[str, str]:
        return (self.admin.email or "", self.options.api_token)

    def client(self, user: User | None = None) -> httpx.Client:
        """A Basic-auth client (email + API token) for `user` (default: the admin)."""
        user = user or self.admin
        token = self.options.api_token if user is self.admin else user.api_token
        assert user.email and token, f"{user.display_name} cannot use Basic auth"
        return httpx.Client(auth=(user.email, token), timeout=30)

    def access_token(self, scopes: list[str], cloud_ids: list[str] | None = None) -> str:
        """A 3LO access token of the admin, obtained the way a script does (admin grant + token exchange)."""
        grant = httpx.post(
            f"{self.base_url}/_sim/oauth/grant", json={"scopes": scopes, "cloud_ids": cloud_ids}, timeout=10
        )
        grant.raise_for_status()
        token = httpx.post(
            f"{self.base_url}/oauth/token",
            json={
                "grant_type": "authorization_code",
                "client_id": self.options.client_id,
                "client_secret": self.options.client_secret,
                "code": grant.json()["code"],
            },
            timeout=10,
        )
        token.raise_for_status()
        return token.json()["access_token"]


@contextmanager
def serve_world(world: World, options: SimulatorOptions | None = None) -> Iterator[Served]:
    options = options or SimulatorOptions()
    with serve_app(create_app(world, options=options)) as url:
        yield Served(world, url, options)
