"""The small HTML pages of the connect flow (escaped; never showing tokens or codes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from starlette.responses import HTMLResponse

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#172b4d}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #dfe1e6;padding:.4rem;text-align:left}"
    ".error{color:#ae2a19}.ok{color:#216e4e}code{background:#f4f5f7;padding:0 .2rem}"
)


@dataclass(frozen=True)
class ConnectedSiteRow:
    name: str
    url: str
    cloud_id: str
    declared: bool


def _page(title: str, body: str, status: int) -> HTMLResponse:
    html = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def problem_page(title: str, message: str, hints: Sequence[str] = (), *, status: int) -> HTMLResponse:
    """An error page: what went wrong, then the troubleshooting steps that apply."""
    items = "".join(f"<li>{escape(hint)}</li>" for hint in hints)
    hint_list = f"<h2>Troubleshooting</h2><ul id=hints>{items}</ul>" if items else ""
    body = f"<h1 class=error>{escape(title)}</h1><p id=message>{escape(message)}</p>{hint_list}"
    return _page(title, body, status)


def connected_page(
    tenant_id: str,
    sites: Sequence[ConnectedSiteRow],
    scopes: Sequence[str],
    *,
    admin: bool,
    capabilities: Sequence[tuple[str, bool, bool, Sequence[str]]],
    given_up: Sequence[str] = (),
) -> HTMLResponse:
    """The connected sites, and the truth about the grant: what it allows, what the sync file
    needs, and what the grant it replaced could do that this one cannot."""
    rows = "".join(
        f"<tr class=site data-cloud-id='{escape(site.cloud_id)}'><td>{escape(site.name)}</td>"
        f"<td>{escape(site.url)}</td><td><code>{escape(site.cloud_id)}</code></td>"
        f"<td>{'yes' if site.declared else 'no: add it to the sync file to sync it'}</td></tr>"
        for site in sites
    )
    can = "".join(
        f"<tr class=capability data-capability='{escape(name)}' data-allowed='{str(allowed).lower()}' "
        f"data-needed='{str(needed).lower()}'><td>{escape(name)}</td>"
        f"<td class={'ok' if allowed else 'error' if needed else ''}>{'yes' if allowed else 'no'}</td>"
        f"<td>{'yes' if needed else 'no'}</td><td><code>{escape(' '.join(capability_scopes))}</code></td></tr>"
        for name, allowed, needed, capability_scopes in capabilities
    )
    mode = (
        "with admin permissions (every scope jira-sync can use)"
        if admin
        else "with the scopes this tenant's sync file needs"
    )
    missing = [name for name, allowed, _, _ in capabilities if not allowed]
    admin_hint = (
        f"<p id=admin-hint>Not allowed by this grant: {escape(', '.join(missing))}. Should the sync file "
        f"need them later: <a href='/auth/jira/connect?tenant={escape(tenant_id)}&amp;admin=1'>"
        "Re-authenticate with Admin Permissions</a>.</p>"
        if missing
        else ""
    )
    dropped = (
        f"<p id=given-up>This grant replaced the tenant's previous one, which also had "
        f"<code>{escape(' '.join(given_up))}</code>; the sync file does not need them.</p>"
        if given_up
        else ""
    )
    body = (
        f"<h1 class=ok>Connected tenant {escape(tenant_id)}</h1>"
        f"<p>Jira Cloud sites connected {mode}:</p>"
        f"<table id=sites><tr><th>Site</th><th>URL</th><th>Cloud ID</th><th>In the sync file</th></tr>{rows}</table>"
        "<h2>What this grant can do</h2>"
        "<table id=capabilities><tr><th>For</th><th>Allowed</th><th>Needed by the sync file</th><th>Scopes</th></tr>"
        f"{can}</table>"
        f"<p>Granted scopes: <code id=scopes>{escape(' '.join(scopes))}</code></p>{dropped}{admin_hint}"
    )
    return _page(f"Connected {tenant_id}", body, 200)
