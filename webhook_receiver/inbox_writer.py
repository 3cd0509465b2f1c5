"""Group commit: the events of concurrent requests are committed together, one transaction per batch.

A synced SQLite commit costs about a millisecond of fsync and a few hundred microseconds of CPU;
one commit per request would cap the receiver near 1000 events/s. So each request appends its
event to the pending batch of its event loop and awaits its own future. While a commit is in
flight (in one writer thread, where the fsync does not block the loop), new events accumulate;
when it finishes, everything that accumulated goes into the next transaction. Under concurrent
load (the last batch held more than one event) the next commit waits `linger` seconds more, so
that the deliveries of the clients just answered join it; a lone delivery is committed at once.
The loop hands the writer one batch at a time: one thread hand-off per commit, not per request.

The guarantee stays per request: a future resolves only after the transaction holding its event
has committed, with True (stored), False (identifier already stored) or `InboxUnavailable`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field

from webhook_receiver.inbox import InboxStore, InboxUnavailable, WebhookEvent
from webhook_receiver.logging import log

logger = logging.getLogger("webhook_receiver.inbox")

Outcome = bool | BaseException


@dataclass
class _LoopBatches:
    """The pending events of one event loop and whether a commit of that loop is in flight."""

    pending: list[tuple[WebhookEvent, asyncio.Future[bool]]] = field(default_factory=list)
    committing: bool = False


class InboxWriter:
    """Commits events to an `InboxStore` from one thread, a batch per transaction."""

    def __init__(self, store: InboxStore, *, max_batch: int = 512, linger: float = 0.002) -> None:
        self.store = store
        self.max_batch = max_batch
        self.linger = linger
        self._executor: ThreadPoolExecutor | None = None
        self._loops: dict[asyncio.AbstractEventLoop, _LoopBatches] = {}
        self.commits = 0
        self.committed_events = 0

    def start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox-writer")

    def stop(self) -> None:
        """Finish the commits in flight, then stop the thread (the app stops after its last request)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    async def write(self, event: WebhookEvent) -> bool:
        """Durably store one event; True if new, False if this identifier was already stored.

        Raises `InboxUnavailable` when its transaction failed (the caller answers 503).
        """
        if self._executor is None:
            raise InboxUnavailable("the inbox writer is not running")
        loop = asyncio.get_running_loop()
        batches = self._loops.get(loop)
        if batches is None:
            batches = self._loops[loop] = _LoopBatches()
        future: asyncio.Future[bool] = loop.create_future()
        batches.pending.append((event, future))
        if not batches.committing:
            self._commit_next(loop, batches)
        return await future

    def _commit_next(self, loop: asyncio.AbstractEventLoop, batches: _LoopBatches) -> None:
        """Start committing what is pending (on the loop's thread; `committing` stays set)."""
        batch = batches.pending[: self.max_batch]
        del batches.pending[: self.max_batch]
        if self._executor is None:
            self._resolve(batch, [InboxUnavailable("the receiver is shutting down")] * len(batch))
            return
        batches.committing = True
        events = [event for event, _ in batch]
        started = time.perf_counter()
        done: Future[list[Outcome]] = self._executor.submit(self._store, events)

        def finished(_: Future[list[Outcome]]) -> None:
            with suppress(RuntimeError):  # a loop closed meanwhile has nobody waiting any more
                loop.call_soon_threadsafe(self._finished, loop, batches, batch, done, started)

        done.add_done_callback(finished)

    def _finished(
        self,
        loop: asyncio.AbstractEventLoop,
        batches: _LoopBatches,
        batch: list[tuple[WebhookEvent, asyncio.Future[bool]]],
        done: Future[list[Outcome]],
        started: float,
    ) -> None:
        """Back on the loop: answer the batch's requests, then commit what accumulated meanwhile."""
        results = done.result()
        self._resolve(batch, results)
        if not batches.pending:
            batches.committing = False
            self._loops.pop(loop, None)
        elif len(batch) > 1 and len(batches.pending) < self.max_batch and self.linger > 0:
            # concurrent load: the clients just answered are sending their next deliveries;
            # wait a moment so that one commit takes them all
            loop.call_later(self.linger, self._commit_next, loop, batches)
        else:
            self._commit_next(loop, batches)
        self._log(results, round((time.perf_counter() - started) * 1000, 2))

    @staticmethod
    def _resolve(batch: list[tuple[WebhookEvent, asyncio.Future[bool]]], results: list[Outcome]) -> None:
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # the client went away; its event is committed (or not) all the same
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    def _store(self, events: list[WebhookEvent]) -> list[Outcome]:
        """In the writer thread: one transaction; each event's outcome (never raises)."""
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
