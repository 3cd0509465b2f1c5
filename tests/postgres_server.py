"""The PostgreSQL server of the tests: `JIRA_SYNC_TEST_POSTGRES_URL` (CI's .ci/run starts one and
sets it). Without it, every PostgreSQL test skips and says why, so `make test` stays fast anywhere.

`scratch_database()` gives a test its own database (created and dropped around it), so tests of
several engineers or runs on one server never see each other's schemas. A role without CREATEDB
gets the configured database itself, emptied of the schemas the tests write.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from jira_sync.deploy_postgres import end_client_sessions, with_database

POSTGRES_URL = os.environ.get("JIRA_SYNC_TEST_POSTGRES_URL")
requires_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="no PostgreSQL server: set JIRA_SYNC_TEST_POSTGRES_URL (CI starts one)"
)
# What the tests create in a shared database (the fallback without CREATEDB).
TEST_SCHEMAS = (
    "jira_raw",
    "jira_raw_staging",
    "jira_work",
    "analytics_work",
    "jira",
    "analytics",
    "jira__publishing",
    "analytics__publishing",
    "jira_sync_inbox",
)


def psycopg2_module():
    return pytest.importorskip("psycopg2", reason="psycopg2 is not installed (pip install -e '.[postgres]')")


@contextmanager
def scratch_database(prefix: str = "jira_sync_test") -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards (sessions still on it are ended)."""
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server: set JIRA_SYNC_TEST_POSTGRES_URL (CI starts one)")
    psycopg2 = psycopg2_module()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(POSTGRES_URL)
    admin.autocommit = True
    try:
        _create(admin, name, psycopg2)
    except psycopg2.errors.InsufficientPrivilege:
        admin.close()
        yield from _shared_database(psycopg2)
        return
    try:
        yield with_database(POSTGRES_URL, name)
    finally:
        cursor = admin.cursor()
        end_client_sessions(cursor, name)
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def _create(admin, name: str, psycopg2) -> None:
    """Text sorts bytewise, as in DuckDB (collation C), with Unicode case mapping (ctype C.UTF-8)."""
    try:
        admin.cursor().execute(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'"
        )
    except psycopg2.errors.InvalidParameterValue:  # no C.UTF-8 locale on this server
        admin.cursor().execute(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C'"
        )


def _shared_database(psycopg2) -> Iterator[str]:
    def empty() -> None:
        with psycopg2.connect(POSTGRES_URL) as connection:
            cursor = connection.cursor()
            cursor.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) OR nspname LIKE '%%\\_\\_retired\\_%%'",
                [list(TEST_SCHEMAS)],
            )
            for (schema,) in cursor.fetchall():
                cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
        connection.close()

    empty()
    try:
        yield POSTGRES_URL
    finally:
        empty()
