"""Verifying the JWT Jira puts on dynamic-webhook deliveries (`Authorization: Bearer <JWT>`).

Jira signs the token of an OAuth 2.0 app's webhooks with the app's client secret; implementers
verify it as HS256 (Atlassian does not document the claims). We check the signature, `exp` and
`nbf` (when present, with a small leeway for clock skew) and `iss` (when present, it must be our
client id). A delivery without a valid token is rejected with 401 and never stored.

The check is RFC 7519 HS256 with the standard library (hmac, base64) and orjson: it runs on every
delivery, and PyJWT's generic code path costs about 70 us per token, more than the rest of a
delivery's validation together. Tests sign tokens with PyJWT, so the two implementations agree.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

import orjson
from pydantic import SecretStr


class DeliveryUnauthorized(Exception):
    """The delivery's bearer token is missing or does not verify; the message says which."""


def _segment(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise DeliveryUnauthorized(f"bearer token is not a valid JWT: its {what} is not base64url") from None


def _json_object(raw: bytes, what: str) -> dict:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise DeliveryUnauthorized(f"bearer token is not a valid JWT: its {what} is not a JSON object")
    return value


def _numeric_claim(claims: dict, name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DeliveryUnauthorized(f"bearer token claim {name} must be a number (seconds since the epoch)")
    return float(value)


class DeliveryVerifier:
    """Verifies HS256 bearer JWTs signed with the OAuth app's client secret."""

    def __init__(self, client_secret: SecretStr, *, client_id: str | None, leeway_seconds: int = 30) -> None:
        # keyed once; each token's MAC starts from a copy (half the cost of a one-shot hmac.digest)
        self._keyed_mac = hmac.new(client_secret.get_secret_value().encode(), digestmod=hashlib.sha256)
        self.client_id = client_id
        self.leeway_seconds = leeway_seconds
        self._hs256_headers: set[str] = set()  # header segments already seen to say alg HS256

    def __repr__(self) -> str:
        return f"DeliveryVerifier(client_id={self.client_id!r}, secret=***)"

    def verify(self, authorization: str | None, *, now: float | None = None) -> dict:
        """Return the token's claims, or raise `DeliveryUnauthorized` saying what is wrong."""
        if not authorization:
            raise DeliveryUnauthorized(
                "missing Authorization header: Jira signs dynamic-webhook deliveries with a Bearer JWT"
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise DeliveryUnauthorized("Authorization header must be 'Bearer <JWT>'")
        parts = token.split(".")
        if len(parts) != 3 or not token.isascii():
            raise DeliveryUnauthorized("bearer token is not a valid JWT (expected header.payload.signature)")
        if parts[0] not in self._hs256_headers:  # every token of one signer has the same header
            header = _json_object(_segment(parts[0], "header"), "header")
            if header.get("alg") != "HS256":
                raise DeliveryUnauthorized(
                    f"bearer token algorithm {header.get('alg')!r} is not accepted: "
                    "Jira signs HS256 with the client secret"
                )
            if len(self._hs256_headers) < 16:
                self._hs256_headers.add(parts[0])
        mac = self._keyed_mac.copy()
        mac.update(token[: len(parts[0]) + len(parts[1]) + 1].encode("ascii"))  # "header.payload"
        expected = mac.digest()
        if not hmac.compare_digest(_segment(parts[2], "signature"), expected):
            raise DeliveryUnauthorized(
                "bearer token signature does not verify with the app's client secret "
                "(is JIRA_SECRET the secret of the app that registered the webhook?)"
            )
        claims = _json_object(_segment(parts[1], "payload"), "payload")
        now = time.time() if now is None else now
        expires = _numeric_claim(claims, "exp")
        if expires is not None and now > expires + self.leeway_seconds:
            raise DeliveryUnauthorized("bearer token expired (exp is in the past)")
        not_before = _numeric_claim(claims, "nbf")
        if not_before is not None and now + self.leeway_seconds < not_before:
            raise DeliveryUnauthorized("bearer token is not valid yet (nbf is in the future)")
        issued = _numeric_claim(claims, "iat")
        if issued is not None and now + self.leeway_seconds < issued:
            raise DeliveryUnauthorized("bearer token is not valid yet (iat is in the future)")
        issuer = claims.get("iss")
        if issuer is not None and self.client_id is not None and issuer != self.client_id:
            raise DeliveryUnauthorized(
                f"bearer token issuer {issuer!r} is not this app's client id (JIRA_CLIENT_ID)"
            )
        return claims
