"""Simulated time: the wall clock, shifted by an offset the admin API advances, optionally running fast.

`speed` is simulated seconds per wall second. At speed 60 a simulated hour passes in one wall
minute, so Atlassian's hourly points quota resets every minute and tests and benchmarks can watch
many quota hours go by. Everything that reads `now_ms()` follows (data timestamps of mutations,
token and webhook expiry, JQL's relative dates, the quota hour).

What a client has to *wait* is always said in wall seconds (`Retry-After`, the `t` and `w` of the
RateLimit headers): `wall_seconds` converts. Instants (`X-RateLimit-Reset`, `serverTime`) are on
the simulated clock, as Jira's are on Jira's.
"""

from __future__ import annotations

import time

MAX_SPEED = 3600.0


class ClockError(ValueError):
    """A clock setting that cannot be used; the message says what to write instead."""


def check_speed(speed: float) -> float:
    if not 0 < speed <= MAX_SPEED:
        raise ClockError(
            f"clock speed must be > 0 and <= {MAX_SPEED:g} simulated seconds per wall second, got {speed}"
        )
    return float(speed)


class Clock:
    """`now_ms()` = anchor + (wall time since the anchor) x speed + offset."""

    def __init__(self, offset_ms: int = 0, speed: float = 1.0) -> None:
        self.offset_ms = offset_ms
        wall = time.time() * 1000
        # (anchor wall ms, anchor simulated ms, speed), replaced as one tuple so readers need no lock
        self._pace = (wall, wall, check_speed(speed))

    @property
    def speed(self) -> float:
        return self._pace[2]

    def _simulated(self, wall_ms: float) -> float:
        anchor_wall, anchor_sim, speed = self._pace
        return anchor_sim + (wall_ms - anchor_wall) * speed

    def now_ms(self) -> int:
        return int(self._simulated(time.time() * 1000)) + self.offset_ms

    def advance(self, ms: int) -> int:
        self.offset_ms += ms
        return self.now_ms()

    def set_speed(self, speed: float) -> None:
        """Change the pace from now on; simulated time does not jump."""
        speed = check_speed(speed)
        wall = time.time() * 1000
        self._pace = (wall, self._simulated(wall), speed)

    def wall_seconds(self, simulated_ms: float) -> float:
        """How long `simulated_ms` of simulated time lasts on the wall clock."""
        return simulated_ms / 1000 / self.speed
