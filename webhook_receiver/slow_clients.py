"""Slow clients: a request must arrive whole within a deadline, and only so many may be arriving.

A client that sends its headers or body one byte every few seconds holds a connection, a file
descriptor and memory for as long as it likes: 500 of them were all kept open. uvicorn has a
keep-alive timeout for idle connections but no deadline for a request that is still arriving.

So each connection is armed when it opens and again after each response: its next request's
headers **and** body must have arrived within `body_timeout_seconds` (Jira's deliveries are at
most a few hundred KB and arrive in milliseconds), else the connection is closed. At most
`max_slow_connections` requests may be arriving at once; beyond that the one that started
arriving first is closed (not the newcomer: a flood of slow clients then only evicts itself,
while a real delivery, which arrives in milliseconds, gets through). A closed connection gets no
answer; Jira retries connection errors, and nothing was stored. The ASGI app sees a disconnect.

This hooks uvicorn's HTTP protocol (`connection_made`, `on_response_complete`,
`connection_lost`, and the request cycle's `more_body`), which both of its implementations have.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from webhook_receiver.logging import log

logger = logging.getLogger("webhook_receiver.slow_clients")


@dataclass
class SlowClientStats:
    timed_out: int = 0  # connections closed because their request did not arrive in time
    evicted: int = 0  # closed to make room: too many requests were arriving at once


@dataclass
class RequestDeadlines:
    """The requests of one process that are still arriving, oldest first."""

    body_timeout_seconds: float = 10.0
    max_slow_connections: int = 64
    stats: SlowClientStats = field(default_factory=SlowClientStats)
    arriving: OrderedDict[Any, tuple[object, asyncio.TimerHandle]] = field(default_factory=OrderedDict)

    def arm(self, protocol: Any) -> None:
        """The connection's next request starts now: it must arrive before the deadline."""
        self.disarm(protocol)
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.body_timeout_seconds, self._deadline, protocol)
        self.arriving[protocol] = (protocol.cycle, timer)
        while len(self.arriving) > self.max_slow_connections:
            oldest = next(iter(self.arriving))
            if self.has_arrived(oldest):
                self.disarm(oldest)
                continue
            self.stats.evicted += 1
            self._close(oldest, "slow_client.evicted", "too many requests arriving at once; the oldest goes")

    def disarm(self, protocol: Any) -> None:
        entry = self.arriving.pop(protocol, None)
        if entry is not None:
            entry[1].cancel()

    def has_arrived(self, protocol: Any) -> bool:
        """Its request's headers and body are in (or it is being answered): no longer at risk."""
        armed_cycle, _ = self.arriving[protocol]
        cycle = protocol.cycle
        return (
            cycle is not None
            and cycle is not armed_cycle
            and (not cycle.more_body or cycle.response_complete)
        )

    def _deadline(self, protocol: Any) -> None:
        if protocol not in self.arriving:
            return
        if self.has_arrived(protocol):
            self.disarm(protocol)
            return
        self.stats.timed_out += 1
        self._close(
            protocol,
            "slow_client.timed_out",
            f"the request did not arrive within {self.body_timeout_seconds:g} s",
        )

    def _close(self, protocol: Any, event: str, reason: str) -> None:
        self.disarm(protocol)
        client = getattr(protocol, "client", None)
        log(
            logger,
            event,
            level=logging.INFO,
            client=f"{client[0]}:{client[1]}" if client else None,
            reason=reason,
        )
        protocol.transport.close()


# One registry per process (uvicorn's workers each import this module): `configure` sets it up.
DEADLINES = RequestDeadlines()


def configure(body_timeout_seconds: float, max_slow_connections: int) -> RequestDeadlines:
    DEADLINES.body_timeout_seconds = body_timeout_seconds
    DEADLINES.max_slow_connections = max_slow_connections
    return DEADLINES


class DeadlineHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol (httptools, else h11) with request deadlines; pass as `http=`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        DEADLINES.arm(self)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            DEADLINES.arm(self)

    def connection_lost(self, exc: Exception | None) -> None:
        DEADLINES.disarm(self)
        super().connection_lost(exc)
