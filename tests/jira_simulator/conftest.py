"""Fixtures serving simulator worlds over loopback HTTP (helpers in served.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jira_simulator.generator import generate_world
from tests.jira_simulator.hook_receiver import Receiver, serve_receiver
from tests.jira_simulator.served import Served, serve_world


@pytest.fixture(name="serve_world")
def serve_world_fixture():
    """`serve_world(world, options=None)` as a fixture, for tests that serve a world of their own."""
    return serve_world


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """A read-only world for a test module (tests that mutate build their own)."""
    with serve_world(generate_world(600, seed=5)) as sim:
        yield sim


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    """A scripted webhook endpoint on loopback: (its recorder, its URL)."""
    with serve_receiver() as served:
        yield served
