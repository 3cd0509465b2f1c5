"""What the receiver reads from a delivery: the body (validated by the check the drain shares,
`pipelines.webhooks.payload`) and the Jira site its `issue.self` names."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from pipelines.webhooks.payload import DeliveryError, DynamicIssueDelivery, IssueDelivery, parse_delivery

# The receiver's name for a refused body: 400 (not JSON, duplicate keys) or 422 (wrong shape).
PayloadError = DeliveryError


def parse_payload(body: bytes, *, admin: bool = False) -> IssueDelivery:
    """A delivery of a dynamic webhook (`matchedWebhookIds` required) or, `admin`, of an admin one."""
    return parse_delivery(body, IssueDelivery if admin else DynamicIssueDelivery)


def site_base_url(issue_self: str) -> str:
    """The Jira site a delivery came from: `issue.self` up to `/rest/api/...`, normalised.

    `https://Acme.atlassian.net:443/rest/api/2/issue/10040` -> `https://acme.atlassian.net`.
    Raises ValueError when the URL is not a Jira REST URL.
    """
    marker = issue_self.find("/rest/api/")
    base = _site_prefix(issue_self[:marker]) if marker > 0 else None
    if base is None:
        raise ValueError(f"issue.self {issue_self!r} is not a Jira REST URL (https://<site>/rest/api/...)")
    return base


@lru_cache(maxsize=1024)
def _site_prefix(prefix: str) -> str | None:
    """Normalised site URL for the part of `issue.self` before `/rest/api/` (None if it is not one)."""
    parts = urlsplit(prefix)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return None
    return normalise_site_url(prefix)


def normalise_site_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no trailing slash: comparable site URLs."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path.rstrip("/"), "", ""))
