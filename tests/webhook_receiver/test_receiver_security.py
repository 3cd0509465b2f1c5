"""HS256 bearer-token verification, cross-checked against tokens PyJWT signs."""

from __future__ import annotations

import base64
import time
import warnings

import jwt
import orjson
import pytest
from pydantic import SecretStr

from webhook_receiver.security import DeliveryUnauthorized, DeliveryVerifier

SECRET = "a-client-secret-of-a-realistic-length-0123456789"
NOW = 1_790_000_000.0


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
    claims = {"iss": "app-1", "iat": int(NOW), "exp": int(NOW) + 60, "qsh": "context-qsh"}
    assert verifier.verify(sign(claims), now=NOW) == claims


def test_short_secret_of_the_simulator_verifies() -> None:
    verifier = DeliveryVerifier(SecretStr("sim-secret"), client_id="jira-sync-sim")
    token = sign({"iss": "jira-sync-sim", "exp": int(NOW) + 60}, secret="sim-secret")
    assert verifier.verify(token, now=NOW)["iss"] == "jira-sync-sim"


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": NOW - 31}, "expired"),
        ({"nbf": NOW + 31}, "nbf is in the future"),
        ({"iat": NOW + 31}, "iat is in the future"),
        ({"exp": "tomorrow"}, "claim exp must be a number"),
        ({"exp": True}, "claim exp must be a number"),
        ({"iss": "other-app"}, "issuer 'other-app' is not this app's client id"),
    ],
)
def test_claims_are_checked(verifier: DeliveryVerifier, claims: dict, message: str) -> None:
    with pytest.raises(DeliveryUnauthorized, match=message):
        verifier.verify(sign(claims), now=NOW)


def test_leeway_absorbs_small_clock_skew(verifier: DeliveryVerifier) -> None:
    assert verifier.verify(sign({"exp": NOW - 29, "nbf": NOW + 29, "iat": NOW + 29}), now=NOW)


def test_algorithm_confusion_is_refused(verifier: DeliveryVerifier) -> None:
    unsigned = f"{b64(orjson.dumps({'alg': 'none', 'typ': 'JWT'}))}.{b64(orjson.dumps({'iss': 'app-1'}))}."
    with pytest.raises(DeliveryUnauthorized, match="algorithm 'none' is not accepted"):
        verifier.verify("Bearer " + unsigned, now=NOW)
    with pytest.raises(DeliveryUnauthorized, match="algorithm 'HS512' is not accepted"):
        verifier.verify(sign({"iss": "app-1"}, algorithm="HS512"), now=NOW)


def test_tampered_payload_or_wrong_secret_fails_the_signature(verifier: DeliveryVerifier) -> None:
    header, _, signature = sign({"iss": "app-1"})[len("Bearer ") :].split(".")
    forged = f"Bearer {header}.{b64(orjson.dumps({'iss': 'app-1', 'admin': True}))}.{signature}"
    with pytest.raises(DeliveryUnauthorized, match="signature does not verify"):
        verifier.verify(forged, now=NOW)
    with pytest.raises(DeliveryUnauthorized, match="signature does not verify"):
        verifier.verify(sign({"iss": "app-1"}, secret="someone-elses-secret-0123456789abcdef"), now=NOW)


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "missing Authorization header"),
        ("", "missing Authorization header"),
        ("Bearer", "must be 'Bearer <JWT>'"),
        ("Token abc.def.ghi", "must be 'Bearer <JWT>'"),
        ("Bearer a.b", "expected header.payload.signature"),
        ("Bearer é.b.c", "expected header.payload.signature"),
        ("Bearer !!!.e30.c2ln", "header is not base64url"),
        (f"Bearer {b64(b'[1]')}.e30.c2ln", "header is not a JSON object"),
    ],
)
def test_malformed_headers_say_what_is_wrong(verifier: DeliveryVerifier, authorization, message: str) -> None:
    with pytest.raises(DeliveryUnauthorized, match=message):
        verifier.verify(authorization, now=NOW)


def test_secret_never_appears_in_repr(verifier: DeliveryVerifier) -> None:
    assert SECRET not in repr(verifier)


def test_real_time_is_used_by_default(verifier: DeliveryVerifier) -> None:
    assert verifier.verify(sign({"exp": time.time() + 60}))
