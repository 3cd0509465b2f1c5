"""Group commit: one writer thread commits the events of concurrent requests in shared transactions.

A synced SQLite commit costs about a millisecond of fsync and a few hundred microseconds of CPU.
Committing each request separately would cap the receiver near 1000 events/s; instead, every
request hands its event to the writer thread and awaits its own future, and the thread commits
everything that queued up while the previous commit was syncing. Under concurrent load (the last
batch held more than one event) it also lingers for stragglers: it keeps collecting while events
arrive less than `linger_gap` apart, for at most `max_linger`, so one commit serves a whole burst.
Alone, a delivery is committed at once. The guarantee stays per request: a future resolves only
after the transaction holding its event has committed.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from contextlib import suppress
from dataclasses import dataclass

from webhook_receiver.inbox import InboxStore, InboxUnavailable, WebhookEvent
from webhook_receiver.logging import log

logger = logging.getLogger("webhook_receiver.inbox")


@dataclass(slots=True)
class _Pending:
    event: WebhookEvent
    future: asyncio.Future[bool]
    loop: asyncio.AbstractEventLoop


_STOP = object()


class InboxWriter:
    """Commits events to an `InboxStore` from one thread, in batches of whatever is waiting."""

    def __init__(
        self,
        store: InboxStore,
        *,
        max_batch: int = 512,
        linger_gap: float = 0.0005,
        max_linger: float = 0.004,
    ) -> None:
        self.store = store
        self.max_batch = max_batch
        self.linger_gap = linger_gap
        self.max_linger = max_linger
        self._last_batch_size = 0
        self._queue: queue.SimpleQueue[_Pending | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.commits = 0
        self.committed_events = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop the thread."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    async def write(self, event: WebhookEvent) -> bool:
        """Durably store one event; True if new, False if this identifier was already stored.

        Raises `InboxUnavailable` when the transaction failed (the caller answers 503).
        """
        if self._thread is None:
            raise InboxUnavailable("the inbox writer is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._queue.put(_Pending(event, future, loop))
        return await future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch, stopping = self._collect(first)  # type: ignore[arg-type]
            self._commit(batch)
        self._fail_queued()

    def _collect(self, first: _Pending) -> tuple[list[_Pending], bool]:
        """The batch for one commit, and whether stop() was requested meanwhile."""
        batch = [first]
        linger = self._last_batch_size > 1
        deadline = time.monotonic() + self.max_linger
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                timeout = min(self.linger_gap, deadline - time.monotonic())
                if not linger or timeout <= 0:
                    break
                try:
                    item = self._queue.get(timeout=timeout)
                except queue.Empty:
                    break
            if item is _STOP:
                return batch, True
            batch.append(item)  # type: ignore[arg-type]
        self._last_batch_size = len(batch)
        return batch, False

    def _fail_queued(self) -> None:
        """Requests that arrived after stop() get 503 instead of waiting forever."""
        leftovers: list[tuple[_Pending, BaseException]] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Pending):
                leftovers.append((item, InboxUnavailable("the receiver is shutting down")))
        self._dispatch(leftovers)

    def _commit(self, batch: list[_Pending]) -> None:
        started = time.perf_counter()
        results = self._store(batch)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        self._dispatch(list(zip(batch, results, strict=True)))
        # one line per commit (after the acks went out): per-delivery lines are debug-level
        failures = [result for result in results if isinstance(result, BaseException)]
        if failures:
            log(
                logger,
                "inbox.commit_failed",
                level=logging.ERROR,
                events=len(batch),
                failed=len(failures),
                ms=elapsed_ms,
                reason=str(failures[0]),
            )
        else:
            stored = sum(1 for result in results if result is True)
            log(
                logger,
                "inbox.committed",
                events=len(batch),
                stored=stored,
                duplicates=len(batch) - stored,
                ms=elapsed_ms,
            )

    def _store(self, batch: list[_Pending]) -> list[bool | BaseException]:
        """One transaction for the batch; each request's outcome (True new, False duplicate, or the error)."""
        try:
            outcome = self.store.store([pending.event for pending in batch])
        except InboxUnavailable as exc:  # the database itself failed: every request gets 503
            return [InboxUnavailable(str(exc)) for _ in batch]
        except Exception as exc:
            # a value the database refused: commit the others one by one so that only its request fails
            if len(batch) == 1:
                return [InboxUnavailable(f"the event could not be stored: {exc}")]
            return [result for pending in batch for result in self._store([pending])]
        self.commits += 1
        self.committed_events += len(batch)
        return list(outcome)

    @staticmethod
    def _dispatch(results: list[tuple[_Pending, bool | BaseException]]) -> None:
        """Resolve futures on their own event loops: one wake-up per loop per batch."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Pending, bool | BaseException]]] = {}
        for pending, result in results:
            by_loop.setdefault(pending.loop, []).append((pending, result))
        for loop, loop_results in by_loop.items():
            # A loop closed while we committed has nobody waiting any more.
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, loop_results)


def _resolve(results: list[tuple[_Pending, bool | BaseException]]) -> None:
    for pending, result in results:
        if pending.future.done():
            continue
        if isinstance(result, BaseException):
            pending.future.set_exception(result)
        else:
            pending.future.set_result(result)
