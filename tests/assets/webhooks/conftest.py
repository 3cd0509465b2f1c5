"""Fixtures of the webhook asset tests; the shared kit lives in tests/pipelines/webhooks."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def instance():
    """An in-memory Dagster instance: materializations, checks and run tags, without disk syncs."""
    return dg.DagsterInstance.ephemeral()


@pytest.fixture(scope="module")
def sqlite_instance():
    """A temporary sqlite-backed instance, as the daemon's: sensors look up earlier runs in it."""
    with dg.instance_for_test() as test_instance:
        yield test_instance
