"""Group commit: the events of concurrent requests are committed together, one transaction per batch.

A synced SQLite commit costs a few hundred microseconds of CPU and an fsync whatever it holds;
one commit per request would cap the receiver near 1000 events/s. So each request appends its
event to the writer's pending list and awaits its own future. One dedicated writer thread takes
everything pending, commits it in one transaction (the fsync never blocks the event loop), and
hands the outcomes back with one `call_soon_threadsafe` per batch (per event loop), which resolves
that batch's futures. While a commit is in flight, the loop keeps validating new deliveries; they
form the next batch. Under load batches therefore grow with the commit time by themselves, and
a lone delivery on a quiet receiver is committed at once. (Waiting a little before each commit
to gather more was measured: it made batches bigger but left the loop idle while every client
waited for the same commit, costing a quarter of the throughput.)

The guarantee stays per request: a future resolves only after the transaction holding its event
has committed, with True (stored), False (identifier already stored) or `InboxUnavailable`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from contextlib import suppress

from pipelines.inbox.events import WebhookEvent
from pipelines.inbox.store import InboxStore, InboxUnavailable
from webhook_receiver.logging import log

logger = logging.getLogger("webhook_receiver.inbox")

Outcome = bool | BaseException
_Waiting = tuple[WebhookEvent, asyncio.Future[bool], asyncio.AbstractEventLoop]


class InboxWriter:
    """Commits events to an `InboxStore` from one thread, a batch per transaction."""

    # 400 events: the SQLite inbox commits up to that many with a single statement (see Inbox.store)
    def __init__(self, store: InboxStore, *, max_batch: int = 400) -> None:
        self.store = store
        self.max_batch = max_batch
        self._pending: list[_Waiting] = []
        self._wakeup = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.commits = 0
        self.committed_events = 0

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Commit what is pending, then stop the thread (the app stops after its last request)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        with self._wakeup:
            self._stopping = True
            self._wakeup.notify()
        thread.join()

    async def write(self, event: WebhookEvent) -> bool:
        """Durably store one event; True if new, False if this identifier was already stored.

        Raises `InboxUnavailable` when its transaction failed (the caller answers 503).
        """
        if self._thread is None:
            raise InboxUnavailable("the inbox writer is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        with self._wakeup:
            self._pending.append((event, future, loop))
            if len(self._pending) == 1:
                self._wakeup.notify()
        return await future

    def _run(self) -> None:
        """The writer thread: take a batch, commit it, answer it; until stopped with nothing pending."""
        while True:
            with self._wakeup:
                while not self._pending and not self._stopping:
                    self._wakeup.wait()
                if not self._pending:
                    return
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
            started = time.perf_counter()
            results = self._store([event for event, _, _ in batch])
            self._answer(batch, results)
            self._log(results, round((time.perf_counter() - started) * 1000, 2))

    def _store(self, events: list[WebhookEvent]) -> list[Outcome]:
        """One transaction; each event's outcome (never raises)."""
        try:
            outcome = self.store.store(events)
        except InboxUnavailable as exc:  # the database itself failed: every request gets 503
            return [InboxUnavailable(str(exc)) for _ in events]
        except Exception as exc:
            # a value the database refused: commit the others one by one so that only its request fails
            if len(events) == 1:
                return [InboxUnavailable(f"the event could not be stored: {exc}")]
            return [result for event in events for result in self._store([event])]
        self.commits += 1
        self.committed_events += len(events)
        return list(outcome)

    @staticmethod
    def _answer(batch: list[_Waiting], results: list[Outcome]) -> None:
        """Hand each event loop its part of the batch: one thread-safe callback per loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], Outcome]]] = {}
        for (_, future, loop), result in zip(batch, results, strict=True):
            by_loop.setdefault(loop, []).append((future, result))
        for loop, answers in by_loop.items():
            with suppress(RuntimeError):  # a loop closed meanwhile has nobody waiting any more
                loop.call_soon_threadsafe(_resolve, answers)

    @staticmethod
    def _log(results: list[Outcome], elapsed_ms: float) -> None:
        """One line per commit (after the answers went out); per-delivery lines are debug-level."""
        failures = [result for result in results if isinstance(result, BaseException)]
        if failures:
            log(
                logger,
                "inbox.commit_failed",
                level=logging.ERROR,
                events=len(results),
                failed=len(failures),
                ms=elapsed_ms,
                reason=str(failures[0]),
            )
            return
        stored = sum(1 for result in results if result is True)
        log(
            logger,
            "inbox.committed",
            events=len(results),
            stored=stored,
            duplicates=len(results) - stored,
            ms=elapsed_ms,
        )


def _resolve(answers: list[tuple[asyncio.Future[bool], Outcome]]) -> None:
    """On the event loop: resolve the futures of one committed batch."""
    for future, result in answers:
        if future.done():  # the client went away; its event is committed (or not) all the same
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
