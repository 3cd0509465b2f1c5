"""How a delivery proves it comes from Jira: a JWT for dynamic webhooks, HMAC for admin ones.

- Dynamic (OAuth 2.0 app) webhooks: `Authorization: Bearer <JWT>` "signed with the app's client
  secret" (Atlassian's webhooks page, reference/jira-cloud-api.md §6.3). Atlassian documents
  neither the algorithm nor the claims (an Atlassian Community question of May 2025, "OAuth 2.0
  Webhook Auth", asks exactly this and got no answer); implementers verify HS256 with the client
  secret. The simulator signs HS256 with claims `iss` (client id), `iat` and `exp` (iat + 5 min)
  in **wall-clock** seconds, so receivers verify with their own clock even when the simulated
  clock was advanced.
- Admin webhooks saved with a secret: `X-Hub-Signature: sha256=<hex>`, the HMAC-SHA256 of the
  raw body keyed with the secret (WebSub `method=signature`; Atlassian's "Secure admin webhooks"
  with the test vector secret `It's a Secret to Everybody`, body `Hello World!` ->
  `sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9`, quoted in
  reference/jira-cloud-api.md §6.3; also trigger.dev and Nango's Jira docs).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import warnings

import jwt

JWT_SECONDS = 300


def dynamic_authorization(client_id: str, client_secret: str) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "iat": now, "exp": now + JWT_SECONDS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)  # the simulator's secret may be short
        return f"Bearer {jwt.encode(claims, client_secret, algorithm='HS256')}"


def hub_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
