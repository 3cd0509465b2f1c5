"""Verifying the JWT Jira puts on dynamic-webhook deliveries (`Authorization: Bearer <JWT>`).

Jira signs the token of an OAuth 2.0 app's webhooks with the app's client secret; implementers
verify it as HS256 (Atlassian does not document the claims). We check the signature, `exp`
(when present, with a small leeway for clock skew) and `iss` (when present, it must be our client
id). A delivery without a valid token is rejected with 401 and never stored.
"""

from __future__ import annotations

import warnings

import jwt
from pydantic import SecretStr


class DeliveryUnauthorized(Exception):
    """The delivery's bearer token is missing or does not verify; the message says which."""


class DeliveryVerifier:
    """Verifies bearer JWTs signed with the OAuth app's client secret."""

    def __init__(self, client_secret: SecretStr, *, client_id: str | None, leeway_seconds: int = 30) -> None:
        self._secret = client_secret.get_secret_value().encode()
        self.client_id = client_id
        self.leeway_seconds = leeway_seconds
        # Atlassian chooses the secret's length; a short one must still verify (tests, simulator).
        self.short_secret = len(self._secret) < 32

    def __repr__(self) -> str:
        return f"DeliveryVerifier(client_id={self.client_id!r}, secret=***)"

    def verify(self, authorization: str | None) -> dict:
        """Return the token's claims, or raise `DeliveryUnauthorized` saying what is wrong."""
        if not authorization:
            raise DeliveryUnauthorized(
                "missing Authorization header: Jira signs dynamic-webhook deliveries with a Bearer JWT"
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise DeliveryUnauthorized("Authorization header must be 'Bearer <JWT>'")
        try:
            claims = self._decode(token.strip())
        except jwt.ExpiredSignatureError as exc:
            raise DeliveryUnauthorized("bearer token expired (exp is in the past)") from exc
        except jwt.ImmatureSignatureError as exc:
            raise DeliveryUnauthorized(f"bearer token not valid yet: {exc}") from exc
        except jwt.InvalidSignatureError as exc:
            raise DeliveryUnauthorized(
                "bearer token signature does not verify with the app's client secret "
                "(is JIRA_SECRET the secret of the app that registered the webhook?)"
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise DeliveryUnauthorized(f"bearer token is not a valid HS256 JWT: {exc}") from exc
        issuer = claims.get("iss")
        if issuer is not None and self.client_id is not None and issuer != self.client_id:
            raise DeliveryUnauthorized(
                f"bearer token issuer {issuer!r} is not this app's client id (JIRA_CLIENT_ID)"
            )
        return claims

    def _decode(self, token: str) -> dict:
        options = {"verify_aud": False, "verify_exp": True, "verify_iat": True}
        if not self.short_secret:
            return jwt.decode(
                token, self._secret, algorithms=["HS256"], leeway=self.leeway_seconds, options=options
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
            return jwt.decode(
                token, self._secret, algorithms=["HS256"], leeway=self.leeway_seconds, options=options
            )
