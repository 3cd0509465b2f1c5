"""Proving a delivery comes from Jira: the JWT of dynamic webhooks, the HMAC of admin webhooks.

**Dynamic webhooks** (OAuth 2.0 app): `Authorization: Bearer <JWT>` "signed with the app's client
secret" (Atlassian's webhooks page). Atlassian documents neither the algorithm nor the claims: an
Atlassian Community question of May 2025 ("OAuth 2.0 Webhook Auth", asking which claims the
token carries and whether `exp` can be relied on) was not answered, and implementers verify HS256
with the client secret (reference/jira-cloud-api.md §6.3). So, with PyJWT:
- the algorithm is pinned to HS256 (`none`, HS512, RS256 ... refused);
- `exp` is **required** (a token without it would verify forever) and checked, as are `nbf` and
  `iat` when present, with a small leeway for clock skew;
- `exp` further ahead than `max_token_lifetime_seconds` is refused too: a token that practically
  never expires is as replayable as one without `exp`;
- `iss`, when present, must be our client id (not required: Atlassian does not say Jira sets it).

**Admin webhooks** saved with a secret: `X-Hub-Signature: sha256=<hex>`, the HMAC-SHA256 of the
raw body (WebSub `method=signature`; Atlassian's "secure admin webhooks", with its test vector in
tests). Verified on the raw bytes before anything parses them, compared in constant time.

A delivery that fails either check is answered 401 and never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import warnings

import jwt
from pydantic import SecretStr

ALGORITHM = "HS256"


class DeliveryUnauthorized(Exception):
    """The delivery's proof of origin is missing or does not verify; the message says which."""


class DeliveryVerifier:
    """Verifies the HS256 bearer JWT of dynamic-webhook deliveries with the OAuth app's client secret."""

    def __init__(
        self,
        client_secret: SecretStr,
        *,
        client_id: str | None,
        leeway_seconds: int = 30,
        max_token_lifetime_seconds: int = 3600,
    ) -> None:
        self._key = client_secret.get_secret_value().encode()
        self.client_id = client_id
        self.leeway_seconds = leeway_seconds
        self.max_token_lifetime_seconds = max_token_lifetime_seconds
        self._jwt = jwt.PyJWT(options={"enforce_minimum_key_length": False})

    def __repr__(self) -> str:
        return f"DeliveryVerifier(client_id={self.client_id!r}, secret=***)"

    def verify(self, authorization: str | None) -> dict:
        """Return the token's claims, or raise `DeliveryUnauthorized` saying what is wrong."""
        if not authorization:
            raise DeliveryUnauthorized(
                "missing Authorization header: Jira signs dynamic-webhook deliveries with a Bearer JWT"
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise DeliveryUnauthorized("Authorization header must be 'Bearer <JWT>'")
        try:
            with warnings.catch_warnings():
                # a short secret (the simulator's) is the app's choice, not the delivery's fault
                warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
                claims = self._jwt.decode(
                    token,
                    self._key,
                    algorithms=[ALGORITHM],
                    options={"require": ["exp"]},
                    leeway=self.leeway_seconds,
                )
        except jwt.InvalidAlgorithmError:
            algorithm = _header_algorithm(token)
            raise DeliveryUnauthorized(
                f"bearer token algorithm {algorithm!r} is not accepted: Jira signs {ALGORITHM} with the client secret"
            ) from None
        except jwt.InvalidSignatureError:
            raise DeliveryUnauthorized(
                "bearer token signature does not verify with the app's client secret "
                "(is JIRA_SECRET the secret of the app that registered the webhook?)"
            ) from None
        except jwt.ExpiredSignatureError:
            raise DeliveryUnauthorized("bearer token expired (exp is in the past)") from None
        except jwt.ImmatureSignatureError as exc:
            claim = "iat" if "(iat)" in str(exc) else "nbf"
            raise DeliveryUnauthorized(f"bearer token is not valid yet ({claim} is in the future)") from None
        except jwt.MissingRequiredClaimError:
            raise DeliveryUnauthorized(
                "bearer token has no exp claim: a token that never expires is refused"
            ) from None
        except jwt.InvalidTokenError as exc:
            raise DeliveryUnauthorized(f"bearer token is not a valid JWT ({exc})") from None
        for name in ("exp", "nbf", "iat"):  # PyJWT reads "123" and true as numbers; RFC 7519 does not
            value = claims.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise DeliveryUnauthorized(
                    f"bearer token claim {name} must be a number (seconds since the epoch)"
                )
        horizon = time.time() + self.max_token_lifetime_seconds + self.leeway_seconds
        if claims["exp"] > horizon:
            raise DeliveryUnauthorized(
                f"bearer token expires more than {self.max_token_lifetime_seconds} s from now: "
                "a token that practically never expires is refused"
            )
        issuer = claims.get("iss")
        if issuer is not None and self.client_id is not None and issuer != self.client_id:
            raise DeliveryUnauthorized(
                f"bearer token issuer {issuer!r} is not this app's client id (JIRA_CLIENT_ID)"
            )
        return claims


def _header_algorithm(token: str) -> object:
    try:
        return jwt.get_unverified_header(token).get("alg")
    except jwt.InvalidTokenError:
        return None


SIGNATURE_PREFIX = "sha256="


def verify_hub_signature(secret: str, body: bytes, header: str | None) -> None:
    """Check `X-Hub-Signature: sha256=<hex>` against the raw body; raise `DeliveryUnauthorized`."""
    if not header:
        raise DeliveryUnauthorized(
            "missing X-Hub-Signature header: this site's admin webhook is registered with a secret, "
            "so Jira signs every delivery"
        )
    method, _, signature = header.strip().partition("=")
    if method.lower() != "sha256" or not signature:
        raise DeliveryUnauthorized("X-Hub-Signature must be 'sha256=<hex digest>'")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.lower().encode("ascii", "replace"), expected.encode()):
        raise DeliveryUnauthorized(
            "X-Hub-Signature does not verify with this site's webhook secret "
            "(rotated elsewhere? run `jira-sync webhooks rotate-secret` for the site)"
        )
