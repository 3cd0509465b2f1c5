"""Approve an OAuth consent page with an HTTP client, as an operator's browser would.

The demo connects the way an operator connects to Jira: open the authorize URL, keep every site
ticked, press Accept, and follow the redirect to the loopback callback. Only the form on the page
is used (its action, hidden fields, ticked checkboxes and the Accept button), nothing simulator
specific.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


class ConsentPageError(RuntimeError):
    """The authorize URL did not lead to a consent form that can be accepted."""


@dataclass
class ConsentForm:
    action: str = ""
    method: str = "get"
    fields: list[tuple[str, str]] = field(default_factory=list)
    accept: tuple[str, str] | None = None


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form: ConsentForm | None = None
        self.buttons: list[tuple[str, str, str]] = []  # (name, value, id)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.form is None:
            self.form = ConsentForm(action=a.get("action", ""), method=a.get("method", "get").lower())
        elif self.form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button"):
                self.buttons.append((a["name"], a.get("value", ""), a.get("id", "")))
                return
            self.form.fields.append((a["name"], a.get("value", "")))
        elif tag == "button":
            self.buttons.append((a["name"], a.get("value", ""), a.get("id", "")))


def parse_consent_form(page: str) -> ConsentForm:
    parser = _FormParser()
    parser.feed(page)
    form = parser.form
    if form is None:
        raise ConsentPageError("the authorize page has no form to approve")
    accept = next(
        ((n, v) for n, v, i in parser.buttons if "accept" in (v.lower(), i.lower()) or v.lower() == "allow"),
        None,
    )
    if accept is None:
        raise ConsentPageError("the consent form has no Accept button")
    form.accept = accept
    return form


def approve_consent(client: httpx.Client, authorize_url: str) -> str:
    """Open the consent page, accept it with every offered site, and return the redirect target."""
    page = client.get(authorize_url)
    if page.status_code != 200:
        raise ConsentPageError(f"GET /authorize answered HTTP {page.status_code}: {page.text[:200]}")
    form = parse_consent_form(page.text)
    assert form.accept is not None
    data: dict[str, list[str]] = {}
    for name, value in [*form.fields, form.accept]:
        data.setdefault(name, []).append(value)
    target = urljoin(str(page.url), form.action or str(page.url))
    if form.method == "post":
        response = client.post(target, data=data, follow_redirects=False)
    else:
        response = client.get(target, params=data, follow_redirects=False)
    location = response.headers.get("location")
    if response.status_code not in (301, 302, 303, 307) or not location:
        raise ConsentPageError(
            f"accepting the consent form answered HTTP {response.status_code} without a redirect: "
            f"{response.text[:200]}"
        )
    return location
