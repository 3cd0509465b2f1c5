"""The webhook receiver under attack: property-based fuzzing of paths, methods, headers and bodies
through Starlette's TestClient (lifespan, real SQLite inbox, JWT verification on).

Properties, for every generated request:
- never a 5xx, and the app keeps serving (a valid delivery is stored afterwards, `/healthz` is 200);
- nothing is stored unless the answer is 200 (a 200 stores at most the one event it names);
- a valid delivery with one thing broken (a required field missing or of the wrong type, a site
  or tenant that is not registered, a bad or foreign JWT, a wrong content type, a bad identifier
  or retry header, a truncated or oversized body) is refused with the 4xx its rule names.

- the strict input rules: duplicate keys 400, `timestamp` an integer only, and what the drain reads
  (`issue.fields` and its objects, Jira timestamps, `changelog.items`) in a shape it could not apply
  refused with 422 — never acknowledged;
- admin-webhook deliveries: any body signed with another secret, unsigned, or altered after signing
  (same JSON, other bytes) is 401 and stores nothing.

The fast run tries 300 examples per property with a fixed seed (`derandomize`); `make chaos` runs
thousands of random ones. The drain's side: tests/reliability/test_drain_fuzz.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from pipelines.auth.webhook_secrets import AdminWebhookSecret, WebhookSecretStore
from pipelines.inbox.sqlite_inbox import SQLiteInbox
from pipelines.webhooks.payload import MAX_TIMESTAMP_MS
from tests.reliability.reliability_kit import report
from tests.webhook_receiver.receiver_testkit import (
    ALPHA_URL,
    bearer,
    delivery_headers,
    issue_payload,
    make_settings,
)
from webhook_receiver.app import create_app
from webhook_receiver.settings import DeclaredSite, ReceiverSettings

URL = "/webhooks/jira/acme"
MAX_BODY = 16 * 1024
# Each example is a real request through the app and a read of the inbox: slower than hypothesis
# expects of a unit test, hence no deadline and no too_slow health check.
FAST = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CHAOS = settings(FAST, max_examples=3000, derandomize=False)


def dump(value: object) -> bytes:
    """JSON bytes of any generated value (the standard library writes integers of any size)."""
    return json.dumps(value).encode()


class Target:
    """The receiver under test and a way to count what its inbox holds."""

    def __init__(self, settings: ReceiverSettings, client: TestClient) -> None:
        self.settings = settings
        self.client = client
        self.inbox = SQLiteInbox(settings.inbox_path)
        self.statuses: Counter = Counter()
        self.valid_sent = 0

    def stored(self) -> int:
        return self.inbox.stats().total

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes):
        before = self.stored()
        raw_headers = {name: value.encode("latin-1") for name, value in headers.items()}  # any byte
        response = self.client.request(method, url, headers=raw_headers, content=body)
        self.statuses[response.status_code] += 1
        after = self.stored()
        assert response.status_code < 500, (method, url, headers, body[:200], response.text)
        if response.status_code == 200 and url.startswith("/webhooks/"):
            assert response.json()["status"] in ("stored", "duplicate")
            assert after - before == (1 if response.json()["status"] == "stored" else 0)
        else:
            assert after == before, (response.status_code, response.text)
        return response

    def still_serving(self) -> None:
        """A fresh valid delivery is stored and the health check passes."""
        self.valid_sent += 1
        identifier = f"after-fuzz-{self.valid_sent}-{time.monotonic_ns()}"
        response = self.send("POST", URL, delivery_headers(identifier), orjson.dumps(issue_payload()))
        assert (response.status_code, response.json()["status"]) == (200, "stored")
        assert self.client.get("/healthz").status_code == 200


ADMIN_URL = "/webhooks/jira/acme/admin/ops"
ADMIN_SITE = "https://ops.atlassian.net"
ADMIN_SECRET = "ops-webhook-secret-for-the-fuzz"


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Target]:
    receiver_settings = make_settings(tmp_path, lookup_reload_seconds=0, max_body_bytes=MAX_BODY)
    acme, *others = receiver_settings.tenants
    ops = DeclaredSite(name="ops", url=ADMIN_SITE, webhook_mode="admin")  # an admin webhook's site
    acme = acme.model_copy(update={"sites": (*acme.sites, ops)})
    receiver_settings = receiver_settings.model_copy(update={"tenants": (acme, *others)})
    WebhookSecretStore(receiver_settings.token_dir).put(
        "acme", "ops", AdminWebhookSecret(secret=ADMIN_SECRET, cloud_id="cloud-ops", webhook_id=1)
    )
    with TestClient(create_app(receiver_settings), raise_server_exceptions=True) as client:
        fuzzed = Target(receiver_settings, client)
        yield fuzzed
        fuzzed.inbox.close()


# -- any request at all ------------------------------------------------------------------------

_TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
header_names = st.one_of(
    st.sampled_from(
        [
            "Content-Type",
            "Authorization",
            "X-Atlassian-Webhook-Identifier",
            "X-Atlassian-Webhook-Retry",
            "X-Atlassian-Webhook-Flow",
            "Content-Length",
            "Transfer-Encoding",
            "Host",
        ]
    ),
    st.text(_TOKEN_CHARS, min_size=1, max_size=30),
)
header_values = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=300),
    st.sampled_from(
        ["application/json", "application/json; charset=utf-8", "text/plain", "", "0", "-1", "99999999999"]
    ),
    st.builds(lambda: bearer()),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=15), inner, max_size=6),
    max_leaves=30,
)
bodies = st.one_of(
    st.binary(max_size=2048),
    json_values.map(dump),
    st.builds(lambda: orjson.dumps(issue_payload())),
    st.binary(min_size=MAX_BODY + 1, max_size=MAX_BODY + 64),
)
path_segments = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40).map(
    lambda text: quote(text, safe="")
)
paths = st.one_of(
    st.builds(lambda s: f"/webhooks/jira/{s}", path_segments),
    st.builds(lambda a, b: f"/{a}/{b}", path_segments, path_segments),
    st.sampled_from(
        [URL, URL + "/", "/webhooks/jira/", "/healthz", "/auth/jira/connect", "/auth/jira/callback", "/"]
    ),
)
methods = st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])


def fuzz_any_request(target: Target, profile: settings) -> None:
    @profile
    @given(
        method=methods,
        path=paths,
        headers=st.dictionaries(header_names, header_values, max_size=8),
        body=bodies,
    )
    def check(method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        headers = {
            k: v
            for k, v in headers.items()
            if k.lower() not in ("content-length", "host", "transfer-encoding")
        }
        target.send(method, path, headers, body)

    check()
    target.still_serving()


# -- well-formed requests carrying payload-shaped JSON of random content --------------------------

ISSUE_SELF = f"{ALPHA_URL}/rest/api/2/issue/10040"
issue_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=70) | json_values,
        "key": st.text(max_size=20) | json_values,
        "self": st.sampled_from([ISSUE_SELF, ISSUE_SELF.upper(), ALPHA_URL + ":443/rest/api/3/issue/1"])
        | st.text(max_size=60),
        "fields": json_values,
    },
)
payload_like = st.fixed_dictionaries(
    {},
    optional={
        "timestamp": st.integers() | json_values,
        "webhookEvent": st.sampled_from(["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"])
        | st.text(max_size=30),
        "issue": issue_like | json_values,
        "matchedWebhookIds": st.lists(st.integers(), max_size=3) | json_values,
        "changelog": json_values,
        "user": json_values,
    },
)


def fuzz_payload_shapes(target: Target, profile: settings) -> int:
    """Valid tenant, JWT and headers; the body a payload of random shape. Returns how many were stored."""
    stored = 0

    @profile
    @given(payload=payload_like, identifier=st.uuids(), retry=st.none() | st.integers(0, 10**9 - 1))
    def check(payload: dict, identifier, retry: int | None) -> None:
        nonlocal stored
        response = target.send("POST", URL, delivery_headers(str(identifier), retry=retry), dump(payload))
        assert response.status_code in (200, 400, 403, 422), response.text
        stored += response.status_code == 200

    check()
    target.still_serving()
    return stored


# -- a valid delivery with one thing broken ----------------------------------------------------

Mutation = Callable[[dict, dict, str], tuple[dict, bytes, str]]


def _without(path: tuple[str, ...]) -> Mutation:
    def mutate(payload: dict, headers: dict, url: str) -> tuple[dict, bytes, str]:
        node = payload
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]
        return headers, dump(payload), url

    return mutate


def _replaced(path: tuple[str, ...], value: object) -> Mutation:
    def mutate(payload: dict, headers: dict, url: str) -> tuple[dict, bytes, str]:
        node = payload
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        return headers, dump(payload), url

    return mutate


def _header(name: str, value: str | None) -> Mutation:
    def mutate(payload: dict, headers: dict, url: str) -> tuple[dict, bytes, str]:
        headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
        if value is not None:
            headers[name] = value
        return headers, dump(payload), url

    return mutate


def _body(transform: Callable[[bytes], bytes]) -> Mutation:
    def mutate(payload: dict, headers: dict, url: str) -> tuple[dict, bytes, str]:
        return headers, transform(dump(payload)), url

    return mutate


def _url(new_url: str) -> Mutation:
    def mutate(payload: dict, headers: dict, url: str) -> tuple[dict, bytes, str]:
        return headers, orjson.dumps(payload), new_url

    return mutate


not_a_str = st.one_of(
    st.none(), st.integers(), st.booleans(), st.lists(st.integers(), max_size=2), st.just({})
)
bad_timestamps = st.one_of(
    st.none(),
    st.integers(max_value=0),
    st.integers(min_value=MAX_TIMESTAMP_MS),
    st.text(st.characters(categories=("L",)), min_size=1, max_size=10),
    st.just([]),
    st.just({}),
)
bad_events = st.text(max_size=30).filter(
    lambda e: e not in ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")
)
bad_self = st.one_of(
    st.sampled_from(
        [
            "https://evil.atlassian.net/rest/api/2/issue/1",  # not a site of the tenant
            "https://g.atlassian.net/rest/api/2/issue/1",  # a site of another tenant
            "https://quiet.atlassian.net/rest/api/2/issue/1",  # webhooks disabled for the site
            f"{ALPHA_URL}/browse/ACME-1",  # not a REST URL
            "javascript:alert(1)//rest/api/2/issue/1",
            "",
        ]
    ),
    st.text(st.characters(categories=("L", "N")), max_size=40),
)
bad_matched = st.one_of(
    st.just([]),
    st.lists(st.text(st.characters(categories=("L",)), min_size=1), min_size=1, max_size=3),
    st.none(),
)


def _duplicated(path: tuple[str, ...], value: object) -> Mutation:
    """The object at `path` gets its last key written twice (the second with `value`)."""

    def mutate(payload: dict, headers: dict, url: str) -> tuple[dict, bytes, str]:
        node = payload
        for part in path:
            node = node[part]
        key = list(node)[-1]
        raw = dump(payload)
        marker = json.dumps({key: node[key]})[1:-1]  # '"key": value' as dump writes it
        twice = f"{marker}, {json.dumps({key: value})[1:-1]}"
        return headers, raw.replace(marker.encode(), twice.encode(), 1), url

    return mutate


not_an_object = st.one_of(
    st.text(max_size=10), st.integers(), st.lists(st.integers(), max_size=2), st.booleans()
)
not_a_jira_instant = st.one_of(
    st.text(st.characters(categories=("L",)), min_size=1, max_size=12),
    st.sampled_from(
        ["2024-13-01T00:00:00.000+0000", "yesterday", "31/12/2024", "2024-12-29T25:00:00.000+0530"]
    ),
    st.integers(),
)

# (rule broken, the statuses its rule answers with, mutation strategy)
MUTATIONS: list[tuple[str, set[int], st.SearchStrategy[Mutation]]] = [
    (
        "required field missing",
        {422},
        st.sampled_from(
            [
                ("timestamp",),
                ("webhookEvent",),
                ("issue",),
                ("issue", "id"),
                ("issue", "key"),
                ("issue", "self"),
                ("matchedWebhookIds",),
            ]
        ).map(_without),
    ),
    (
        "timestamp out of range or not a number",
        {422},
        bad_timestamps.map(lambda v: _replaced(("timestamp",), v)),
    ),
    (
        "timestamp not an integer",
        {422},
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(1, 10**14).map(str),
            st.booleans(),
        ).map(lambda v: _replaced(("timestamp",), v)),
    ),
    (
        "duplicate key",
        {400},
        st.one_of(
            st.sampled_from([(), ("issue",), ("issue", "fields")]).map(
                lambda path: _duplicated(path, "other")
            ),
            st.just(_duplicated((), 1)),
        ),
    ),
    # what the drain reads, in a shape it cannot apply: refused at the door, never acknowledged
    ("issue.fields not an object", {422}, not_an_object.map(lambda v: _replaced(("issue", "fields"), v))),
    (
        "issue.fields.<ref> not an object",
        {422},
        st.tuples(
            st.sampled_from(["project", "status", "issuetype", "priority", "parent"]), not_an_object
        ).map(lambda pair: _replaced(("issue", "fields", pair[0]), pair[1])),
    ),
    (
        "issue.fields.<instant> not a Jira timestamp",
        {422},
        st.tuples(st.sampled_from(["updated", "created", "resolutiondate"]), not_a_jira_instant).map(
            lambda pair: _replaced(("issue", "fields", pair[0]), pair[1])
        ),
    ),
    (
        "changelog.items not a list",
        {422},
        not_an_object.filter(lambda v: not isinstance(v, list)).map(
            lambda v: _replaced(("changelog", "items"), v)
        ),
    ),
    ("event not an issue event", {422}, bad_events.map(lambda v: _replaced(("webhookEvent",), v))),
    ("issue id not a string", {422}, not_a_str.map(lambda v: _replaced(("issue", "id"), v))),
    ("issue key not a string", {422}, not_a_str.map(lambda v: _replaced(("issue", "key"), v))),
    ("matchedWebhookIds not ids", {422}, bad_matched.map(lambda v: _replaced(("matchedWebhookIds",), v))),
    ("issue.self of no registered site", {403, 422}, bad_self.map(lambda v: _replaced(("issue", "self"), v))),
    ("body not JSON", {400}, st.integers(1, 40).map(lambda n: _body(lambda raw: raw[:-n]))),
    ("body over the limit", {413}, st.just(_body(lambda raw: raw + b" " * MAX_BODY))),
    (
        "bad JWT",
        {401},
        st.one_of(
            st.sampled_from(
                [
                    _header("Authorization", None),
                    _header("Authorization", bearer("someone-elses-secret-0123456789abcdef")),
                    _header("Authorization", bearer(expires_in=-3600)),
                    _header("Authorization", bearer(issuer="another-app")),
                    _header("Authorization", bearer(now=time.time() + 3600)),
                    _header("Authorization", "Basic YWRtaW46YWRtaW4="),
                ]
            ),
            st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80).map(
                lambda token: _header("Authorization", f"Bearer {token}")
            ),
        ),
    ),
    (
        "wrong content type",
        {415},
        st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "", "application/jsonp"]).map(
            lambda v: _header("Content-Type", v)
        ),
    ),
    (
        "bad identifier",
        {400},
        st.one_of(st.just(None), st.just(""), st.just("   "), st.text("abc", min_size=256, max_size=300)).map(
            lambda v: _header("X-Atlassian-Webhook-Identifier", v)
        ),
    ),
    (
        "bad retry header",
        {400},
        st.text(max_size=12)
        .filter(lambda v: not (v.strip().isascii() and v.strip().isdigit() and len(v.strip()) <= 9))
        .filter(lambda v: v.isprintable() and all(ord(c) < 256 for c in v))
        .map(lambda v: _header("X-Atlassian-Webhook-Retry", v)),
    ),
    (
        "unknown tenant",
        {404},
        path_segments.filter(lambda t: t not in ("acme", "globex") and t).map(
            lambda t: _url(f"/webhooks/jira/{t}")
        ),
    ),
]


def fuzz_broken_deliveries(target: Target, profile: settings) -> Counter:
    rules: Counter = Counter()

    @profile
    @given(choice=st.sampled_from(range(len(MUTATIONS))), data=st.data(), identifier=st.uuids())
    def check(choice: int, data: st.DataObject, identifier) -> None:
        rule, statuses, strategy = MUTATIONS[choice]
        mutation = data.draw(strategy, label=rule)
        headers, body, url = mutation(issue_payload(), delivery_headers(str(identifier)), URL)
        response = target.send("POST", url, headers, body)
        assert response.status_code in statuses, (rule, response.status_code, response.text)
        rules[rule] += 1

    check()
    target.still_serving()
    return rules


# -- admin-webhook deliveries: the signature of the raw body decides before anything else --------


def admin_headers(identifier: str, body: bytes, secret: str | None = ADMIN_SECRET) -> dict[str, str]:
    headers = delivery_headers(identifier, authorization=None)
    if secret is not None:
        headers["X-Hub-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return headers


def admin_payload() -> dict:
    payload = issue_payload(site_url=ADMIN_SITE)
    del payload["matchedWebhookIds"]
    payload["issue"]["self"] = f"{ADMIN_SITE}/rest/api/2/10040"
    return payload


def fuzz_admin_deliveries(target: Target, profile: settings) -> Counter:
    """Signed with the site's secret, another secret, nothing, or signed then altered; any body."""
    outcomes: Counter = Counter()

    @profile
    @given(
        body=st.one_of(
            st.builds(lambda: dump(admin_payload())), payload_like.map(dump), st.binary(max_size=512)
        ),
        signing=st.sampled_from(["right", "wrong", "none", "altered"]),
        identifier=st.uuids(),
    )
    def check(body: bytes, signing: str, identifier) -> None:
        secret = {"right": ADMIN_SECRET, "altered": ADMIN_SECRET, "wrong": "guessed", "none": None}[signing]
        headers = admin_headers(str(identifier), body, secret)
        sent = body + b" " if signing == "altered" else body  # the same JSON, other bytes
        response = target.send("POST", ADMIN_URL, headers, sent)
        if signing != "right":
            assert response.status_code == 401, (signing, response.text)
        else:
            assert response.status_code in (200, 400, 403, 422), response.text
        outcomes[(signing, response.status_code)] += 1

    check()
    body = dump(admin_payload())
    stored = target.send("POST", ADMIN_URL, admin_headers("admin-after-fuzz", body), body)
    assert (stored.status_code, stored.json()["status"]) == (200, "stored")
    return outcomes


def test_fuzzed_requests_never_5xx_and_store_nothing_unless_accepted(target: Target) -> None:
    started = time.monotonic()
    fuzz_any_request(target, FAST)
    shaped_and_stored = fuzz_payload_shapes(target, FAST)
    rules = fuzz_broken_deliveries(target, FAST)
    assert len(rules) == len(MUTATIONS)  # every rule was exercised
    admin = fuzz_admin_deliveries(target, FAST)
    assert {signing for signing, _ in admin} == {"right", "wrong", "none", "altered"}
    report(
        "receiver fuzz (fast)",
        requests=sum(target.statuses.values()),
        seconds=time.monotonic() - started,
        statuses=dict(sorted(target.statuses.items())),
        shaped_and_stored=shaped_and_stored,
        admin=dict(sorted((f"{k[0]}:{k[1]}", v) for k, v in admin.items())),
        stored=target.stored(),
    )


@pytest.mark.chaos
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_fuzzed_requests_at_length(target: Target) -> None:
    started = time.monotonic()
    fuzz_any_request(target, CHAOS)
    shaped_and_stored = fuzz_payload_shapes(target, CHAOS)
    rules = fuzz_broken_deliveries(target, CHAOS)
    assert len(rules) == len(MUTATIONS)
    admin = fuzz_admin_deliveries(target, CHAOS)
    report(
        "receiver fuzz (chaos)",
        requests=sum(target.statuses.values()),
        seconds=time.monotonic() - started,
        statuses=dict(sorted(target.statuses.items())),
        rules=len(rules),
        shaped_and_stored=shaped_and_stored,
        admin=dict(sorted((f"{k[0]}:{k[1]}", v) for k, v in admin.items())),
        stored=target.stored(),
    )
