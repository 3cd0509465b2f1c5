"""Everything the receiver's endpoints share, opened by the lifespan and closed after the last request."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass

from pipelines.auth.oauth import AtlassianOAuthClient
from pipelines.auth.token_store import TokenStore
from pipelines.auth.webhook_secrets import WebhookSecretStore
from pipelines.inbox import open_inbox, open_registry
from pipelines.inbox.registrations import PostgresWebhookRegistry, WebhookRegistry
from pipelines.inbox.store import InboxStore
from webhook_receiver.admin_sites import AdminSites
from webhook_receiver.inbox_writer import InboxWriter
from webhook_receiver.logging import log
from webhook_receiver.oauth_states import OAuthStateStore, PostgresOAuthStateStore, open_oauth_states
from webhook_receiver.security import DeliveryVerifier
from webhook_receiver.settings import ReceiverSettings
from webhook_receiver.sites import SiteRegistry

logger = logging.getLogger("webhook_receiver")


@dataclass
class ReceiverState:
    settings: ReceiverSettings
    inbox: InboxStore
    writer: InboxWriter
    sites: SiteRegistry
    admin_sites: AdminSites
    webhook_registry: WebhookRegistry | PostgresWebhookRegistry
    oauth_states: OAuthStateStore | PostgresOAuthStateStore
    token_store: TokenStore
    verifier: DeliveryVerifier | None
    oauth_client: AtlassianOAuthClient | None
    receiver_id: str

    @classmethod
    def open(cls, settings: ReceiverSettings) -> ReceiverState:
        location = settings.inbox_location
        inbox = open_inbox(location, busy_timeout_ms=settings.busy_timeout_ms)
        webhook_registry = open_registry(location, busy_timeout_ms=settings.busy_timeout_ms)
        token_store = TokenStore(settings.token_dir)
        oauth = settings.oauth
        verifier = None
        if oauth.client_secret is not None:
            verifier = DeliveryVerifier(
                oauth.client_secret,
                client_id=oauth.client_id,
                leeway_seconds=settings.jwt_leeway_seconds,
                max_token_lifetime_seconds=settings.max_token_lifetime_seconds,
            )
        else:
            log(
                logger,
                "receiver.jwt_verification_disabled",
                level=logging.WARNING,
                reason=f"{oauth.client_secret_env} is not set: deliveries are checked by tenant and site only",
            )
        oauth_client = None
        if not oauth.missing_for_connect():
            assert oauth.client_id and oauth.client_secret and oauth.redirect_uri
            oauth_client = AtlassianOAuthClient(
                oauth.auth_url,
                oauth.api_url,
                oauth.client_id,
                oauth.client_secret.get_secret_value(),
                oauth.redirect_uri,
            )
        writer = InboxWriter(inbox)
        writer.start()
        return cls(
            settings=settings,
            inbox=inbox,
            writer=writer,
            sites=SiteRegistry(
                settings.tenants,
                token_store.sites,
                webhook_registry.webhook_ids,
                reload_interval=settings.lookup_reload_seconds,
            ),
            admin_sites=AdminSites(settings.tenants, WebhookSecretStore(settings.token_dir)),
            webhook_registry=webhook_registry,
            oauth_states=open_oauth_states(
                location,
                ttl_seconds=settings.oauth_state_ttl_seconds,
                busy_timeout_ms=settings.busy_timeout_ms,
            ),
            token_store=token_store,
            verifier=verifier,
            oauth_client=oauth_client,
            receiver_id=f"{socket.gethostname()}:{os.getpid()}",
        )

    def close(self) -> None:
        self.writer.stop()
        self.inbox.close()
        self.webhook_registry.close()
        self.oauth_states.close()
