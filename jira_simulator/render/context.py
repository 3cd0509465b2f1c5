"""What every concept renderer shares: the site, API version, called prefix, viewer and zone."""

from __future__ import annotations

import uuid
from typing import Any

from jira_simulator.model import Site, World
from jira_simulator.timefmt import format_timestamp, zone


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document (one paragraph per line)."""
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
            for line in text.split("\n")
        ],
    }


def entity_id(cloud_id: str, seed: str) -> str:
    """A stable UUID for a site's object (Jira's `entityId`, `uuid`)."""
    return str(uuid.uuid5(uuid.UUID(cloud_id), seed))


class RenderContext:
    """One request's rendering context: site, API version, base URL (`.../rest/api/3`), viewer."""

    def __init__(
        self, world: World, site: Site, version: int, base_url: str, origin: str, viewer_id: str | None
    ):
        self.world = world
        self.site = site
        self.version = version
        self.base = base_url.rstrip("/")
        self.site_url = f"{origin}/site/{site.name}"
        self.viewer_id = viewer_id
        self.tz = zone(site.time_zone)

    def ts(self, ms: int | None) -> str | None:
        return None if ms is None else format_timestamp(ms, self.tz)

    def rich(self, text: str | None) -> Any:
        """Rich text: an ADF document in v3, the plain string in v2."""
        if text is None:
            return None
        return adf(text) if self.version == 3 else text

    def avatars(self, kind: str, ident: str) -> dict[str, str]:
        return {
            f"{n}x{n}": f"{self.site_url}/secure/{kind}avatar?id={ident}&size={n}" for n in (48, 24, 16, 32)
        }
