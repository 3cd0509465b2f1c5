"""Jira's timestamp rendering against datetime's own ISO formatting, across zones and DST edges."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from jira_simulator.timefmt import format_timestamp, zone

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/Los_Angeles",
    "America/St_Johns",  # -0330 / -0230
    "Asia/Kathmandu",  # +0545
    "Australia/Lord_Howe",  # half-hour DST
    "Pacific/Kiritimati",  # +1400
    "Pacific/Pago_Pago",  # -1100
]
BERLIN_DST_2024 = 1_711_846_800  # 2024-03-31 01:00 UTC


def expected(ms: int, name: str) -> str:
    iso = datetime.fromtimestamp(ms / 1000, zone(name)).isoformat(timespec="milliseconds")
    return iso[:-3] + iso[-2:]  # Jira writes +hhmm, ISO +hh:mm


@pytest.mark.parametrize("name", ZONES)
def test_random_moments_render_as_iso_with_a_compact_offset(name: str) -> None:
    rng = random.Random(name)
    for ms in [rng.randrange(0, 2_000_000_000_000) for _ in range(2000)] + [0, 1, 999]:
        assert format_timestamp(ms, zone(name)) == expected(ms, name), ms


@pytest.mark.parametrize("name", ZONES)
def test_every_second_around_a_dst_change(name: str) -> None:
    for second in range(BERLIN_DST_2024 - 3700, BERLIN_DST_2024 + 3700, 7):
        ms = second * 1000 + 42
        assert format_timestamp(ms, zone(name)) == expected(ms, name), ms


def test_the_shape_jira_sends() -> None:
    assert format_timestamp(1_600_000_000_123, zone("Europe/Berlin")) == "2020-09-13T14:26:40.123+0200"
    assert format_timestamp(1_600_000_000_000, zone("America/St_Johns")) == "2020-09-13T09:56:40.000-0230"
