"""Proof of origin: HS256 bearer tokens (PyJWT, exp required, algorithm pinned) and X-Hub-Signature."""

from __future__ import annotations

import base64
import time
import warnings

import jwt
import orjson
import pytest
from pydantic import SecretStr

from webhook_receiver.security import DeliveryUnauthorized, DeliveryVerifier, verify_hub_signature

SECRET = "a-client-secret-of-a-realistic-length-0123456789"


def now() -> int:
    return int(time.time())


def sign(claims: dict, secret: str = SECRET, algorithm: str = "HS256", headers: dict | None = None) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        return "Bearer " + jwt.encode(claims, secret, algorithm=algorithm, headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def verifier() -> DeliveryVerifier:
    return DeliveryVerifier(SecretStr(SECRET), client_id="app-1", leeway_seconds=30)


def test_valid_token_returns_its_claims(verifier: DeliveryVerifier) -> None:
    claims = {"iss": "app-1", "iat": now(), "exp": now() + 60, "qsh": "context-qsh"}
    assert verifier.verify(sign(claims)) == claims


def test_short_secret_of_the_simulator_verifies() -> None:
    verifier = DeliveryVerifier(SecretStr("sim-secret"), client_id="jira-sync-sim")
    token = sign({"iss": "jira-sync-sim", "exp": now() + 60}, secret="sim-secret")
    assert verifier.verify(token)["iss"] == "jira-sync-sim"


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (lambda: {"exp": now() - 31}, "expired"),
        (lambda: {"exp": now() + 60, "nbf": now() + 31}, r"nbf is in the future"),
        (lambda: {"exp": now() + 60, "iat": now() + 31}, r"iat is in the future"),
        (lambda: {"exp": "tomorrow"}, "exp.* must be an integer"),
        (lambda: {"exp": True}, "expired"),  # PyJWT reads true as 1
        (lambda: {"exp": str(now() + 60)}, "claim exp must be a number"),
        (lambda: {"iss": "app-1"}, "no exp claim: a token that never expires is refused"),
        (lambda: {"exp": now() + 10 * 365 * 86400}, "expires more than 3600 s from now"),
        (lambda: {"exp": now() + 60, "iss": "other-app"}, "issuer 'other-app' is not this app's client id"),
    ],
)
def test_claims_are_checked(verifier: DeliveryVerifier, claims, message: str) -> None:
    with pytest.raises(DeliveryUnauthorized, match=message):
        verifier.verify(sign(claims()))


def test_leeway_absorbs_small_clock_skew(verifier: DeliveryVerifier) -> None:
    assert verifier.verify(sign({"exp": now() - 25, "nbf": now() + 25, "iat": now() + 25}))


def test_algorithm_confusion_is_refused(verifier: DeliveryVerifier) -> None:
    unsigned = f"{b64(orjson.dumps({'alg': 'none', 'typ': 'JWT'}))}.{b64(orjson.dumps({'exp': now() + 60}))}."
    with pytest.raises(DeliveryUnauthorized, match="algorithm 'none' is not accepted"):
        verifier.verify("Bearer " + unsigned)
    with pytest.raises(DeliveryUnauthorized, match="algorithm 'HS512' is not accepted"):
        verifier.verify(sign({"exp": now() + 60}, algorithm="HS512"))


def test_tampered_payload_or_wrong_secret_fails_the_signature(verifier: DeliveryVerifier) -> None:
    header, _, signature = sign({"exp": now() + 60})[len("Bearer ") :].split(".")
    forged = f"Bearer {header}.{b64(orjson.dumps({'exp': now() + 60, 'admin': True}))}.{signature}"
    with pytest.raises(DeliveryUnauthorized, match="signature does not verify"):
        verifier.verify(forged)
    with pytest.raises(DeliveryUnauthorized, match="signature does not verify"):
        verifier.verify(sign({"exp": now() + 60}, secret="someone-elses-secret-0123456789abcdef"))


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "missing Authorization header"),
        ("", "missing Authorization header"),
        ("Bearer", "must be 'Bearer <JWT>'"),
        ("Token abc.def.ghi", "must be 'Bearer <JWT>'"),
        ("Bearer a.b", "not a valid JWT"),
        ("Bearer é.b.c", "not a valid JWT"),
        ("Bearer !!!.e30.c2ln", "not a valid JWT"),
        (f"Bearer {b64(b'[1]')}.e30.c2ln", "not a valid JWT"),
    ],
)
def test_malformed_headers_say_what_is_wrong(verifier: DeliveryVerifier, authorization, message: str) -> None:
    with pytest.raises(DeliveryUnauthorized, match=message):
        verifier.verify(authorization)


def test_secret_never_appears_in_repr(verifier: DeliveryVerifier) -> None:
    assert SECRET not in repr(verifier)


def test_hub_signature_matches_atlassians_test_vector() -> None:
    # Atlassian's secure admin webhooks example (reference/jira-cloud-api.md §6.3)
    vector = "sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9"
    verify_hub_signature("It's a Secret to Everybody", b"Hello World!", vector)
    verify_hub_signature(
        "It's a Secret to Everybody", b"Hello World!", vector.upper().replace("SHA256", "sha256")
    )


@pytest.mark.parametrize(
    ("header", "body", "message"),
    [
        (None, b"Hello World!", "missing X-Hub-Signature"),
        ("", b"Hello World!", "missing X-Hub-Signature"),
        ("sha1=abc", b"Hello World!", "must be 'sha256=<hex digest>'"),
        ("a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9", b"Hello World!", "must be"),
        (
            "sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9",
            b"Hello World?",
            "does not verify",
        ),
        ("sha256=zz\u00e9", b"Hello World!", "does not verify"),
    ],
)
def test_hub_signature_refusals(header, body: bytes, message: str) -> None:
    with pytest.raises(DeliveryUnauthorized, match=message):
        verify_hub_signature("It's a Secret to Everybody", body, header)


def test_real_time_is_used_by_default(verifier: DeliveryVerifier) -> None:
    assert verifier.verify(sign({"exp": now() + 60}))
