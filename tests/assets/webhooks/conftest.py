"""Imports for the webhook asset tests: the real packages (not tests/ namesakes) and the shared kit.

pytest's prepend mode puts tests/ on sys.path, where tests/assets and tests/pipelines pass for
namespace packages `assets` and `pipelines`; a regular package on any later entry wins, so the
repo root is appended and namespace stand-ins already imported are dropped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))
for _shadowed in ("assets", "pipelines"):
    if _shadowed in sys.modules and getattr(sys.modules[_shadowed], "__file__", None) is None:
        del sys.modules[_shadowed]
KIT = str(REPO / "tests" / "pipelines" / "webhooks")
if KIT not in sys.path:
    sys.path.insert(0, KIT)


@pytest.fixture(scope="module")
def instance():
    """An in-memory Dagster instance: materializations, checks and run tags, without disk syncs."""
    return dg.DagsterInstance.ephemeral()


@pytest.fixture(scope="module")
def sqlite_instance():
    """A temporary sqlite-backed instance, as the daemon's: sensors look up earlier runs in it."""
    with dg.instance_for_test() as test_instance:
        yield test_instance
