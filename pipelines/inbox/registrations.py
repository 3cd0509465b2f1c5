"""Which dynamic-webhook IDs are registered for each site, as the receiver checks deliveries against.

The webhook lifecycle (`jira-sync webhooks ...`, the Dagster refresh sensor) records the IDs it
registered with `open_registry(location).record(...)` (`WebhookRegistry` in the SQLite file,
`PostgresWebhookRegistry` in the PostgreSQL inbox). A delivery whose `matchedWebhookIds`
share no ID with its site's recorded set is rejected (403). A site with no recorded IDs (webhooks
registered by other tooling) is checked by tenant, site and JWT only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.inbox.postgres_db import SCHEMA, PostgresDatabase
from pipelines.inbox.sqlite_db import SQLiteDatabase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_registrations (
    tenant_id   TEXT    NOT NULL,
    cloud_id    TEXT    NOT NULL,
    webhook_id  INTEGER NOT NULL,
    recorded_at TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, cloud_id, webhook_id)
);
"""


class WebhookRegistry:
    """Registered webhook IDs per (tenant, site), in the receiver's SQLite file."""

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 5000) -> None:
        self._db = SQLiteDatabase(path, busy_timeout_ms=busy_timeout_ms)
        self._db.ensure_schema(_SCHEMA)

    def record(self, tenant_id: str, cloud_id: str, webhook_ids: Iterable[int]) -> None:
        """Replace the site's registered IDs (an empty list forgets them)."""
        now = datetime.now(UTC).isoformat()
        with self._db.write() as connection:
            connection.execute(
                "DELETE FROM webhook_registrations WHERE tenant_id = ? AND cloud_id = ?",
                (tenant_id, cloud_id),
            )
            connection.executemany(
                "INSERT INTO webhook_registrations (tenant_id, cloud_id, webhook_id, recorded_at) "
                "VALUES (?, ?, ?, ?)",
                [(tenant_id, cloud_id, int(webhook_id), now) for webhook_id in set(webhook_ids)],
            )

    def webhook_ids(self, tenant_id: str, cloud_id: str) -> frozenset[int]:
        rows = (
            self._db.connection()
            .execute(
                "SELECT webhook_id FROM webhook_registrations WHERE tenant_id = ? AND cloud_id = ?",
                (tenant_id, cloud_id),
            )
            .fetchall()
        )
        return frozenset(row[0] for row in rows)

    def all(self) -> dict[tuple[str, str], frozenset[int]]:
        """Every site's registered IDs, keyed by (tenant_id, cloud_id)."""
        registered: dict[tuple[str, str], set[int]] = {}
        for tenant_id, cloud_id, webhook_id in self._db.connection().execute(
            "SELECT tenant_id, cloud_id, webhook_id FROM webhook_registrations"
        ):
            registered.setdefault((tenant_id, cloud_id), set()).add(webhook_id)
        return {key: frozenset(ids) for key, ids in registered.items()}

    def close(self) -> None:
        self._db.close()


_POSTGRES_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.webhook_registrations (
    tenant_id   TEXT        NOT NULL,
    cloud_id    TEXT        NOT NULL,
    webhook_id  BIGINT      NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, cloud_id, webhook_id)
);
"""


class PostgresWebhookRegistry:
    """Registered webhook IDs per (tenant, site) in the PostgreSQL inbox (schema `jira_sync_inbox`)."""

    def __init__(self, url: str) -> None:
        self._db = PostgresDatabase(url, application_name="jira-sync webhook registry")
        self._db.ensure_schema(_POSTGRES_SCHEMA)

    def record(self, tenant_id: str, cloud_id: str, webhook_ids: Iterable[int]) -> None:
        """Replace the site's registered IDs (an empty list forgets them)."""
        ids = sorted({int(webhook_id) for webhook_id in webhook_ids})
        with self._db.transaction() as cursor:
            cursor.execute(
                f"DELETE FROM {SCHEMA}.webhook_registrations WHERE tenant_id = %s AND cloud_id = %s",
                [tenant_id, cloud_id],
            )
            for webhook_id in ids:
                cursor.execute(
                    f"INSERT INTO {SCHEMA}.webhook_registrations VALUES (%s, %s, %s, now())",
                    [tenant_id, cloud_id, webhook_id],
                )

    def webhook_ids(self, tenant_id: str, cloud_id: str) -> frozenset[int]:
        def read(cursor: Any) -> frozenset[int]:
            cursor.execute(
                f"SELECT webhook_id FROM {SCHEMA}.webhook_registrations WHERE tenant_id = %s AND cloud_id = %s",
                [tenant_id, cloud_id],
            )
            return frozenset(row[0] for row in cursor.fetchall())

        return self._db.run(read)

    def all(self) -> dict[tuple[str, str], frozenset[int]]:
        def read(cursor: Any) -> list[tuple]:
            cursor.execute(f"SELECT tenant_id, cloud_id, webhook_id FROM {SCHEMA}.webhook_registrations")
            return cursor.fetchall()

        registered: dict[tuple[str, str], set[int]] = {}
        for tenant_id, cloud_id, webhook_id in self._db.run(read):
            registered.setdefault((tenant_id, cloud_id), set()).add(webhook_id)
        return {key: frozenset(ids) for key, ids in registered.items()}

    def close(self) -> None:
        self._db.close()
