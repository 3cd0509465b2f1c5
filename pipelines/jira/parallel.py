"""Run fetch tasks on a thread pool and stream what they emit through a bounded queue.

Windows are fetched in parallel while cursor pages within one window stay sequential; the queue
bound keeps memory flat however large the import (workers block until the consumer catches up).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

Emit = Callable[[Any], None]
Task = Callable[[Emit], None]


class _Stopped(Exception):
    """The consumer went away; the task ends quietly."""


@dataclass
class _Failure:
    exc: BaseException


_DONE = object()


def stream_tasks(tasks: list[Task], workers: int, max_pending: int | None = None) -> Iterator[Any]:
    """Yield every item the tasks emit (in arrival order); re-raise the first task failure."""
    if not tasks:
        return
    pending: queue.Queue = queue.Queue(maxsize=max_pending or max(2, workers * 2))
    stop = threading.Event()

    def put(item: Any) -> None:
        while not stop.is_set():
            try:
                pending.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stopped

    def run(task: Task) -> None:
        try:
            task(put)
            put(_DONE)
        except _Stopped:
            return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            try:
                put(_Failure(exc))
            except _Stopped:
                return

    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(tasks))), thread_name_prefix="jira-fetch")
    try:
        for task in tasks:
            pool.submit(run, task)
        remaining = len(tasks)
        while remaining:
            item = pending.get()
            if item is _DONE:
                remaining -= 1
            elif isinstance(item, _Failure):
                raise item.exc
            else:
                yield item
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
