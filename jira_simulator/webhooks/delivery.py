"""Sending deliveries: worker threads, Jira's headers, retries with the same identifier.

Headers on every POST (reference/jira-cloud-api.md §6.2): `X-Atlassian-Webhook-Identifier` (a
UUID, the same on every retry), `X-Atlassian-Webhook-Retry: <n>` on retries only,
`X-Atlassian-Webhook-Flow: Primary`, `User-Agent: Atlassian Webhook HTTP Client`, and the
signature of its kind (`signing.py`). Retries follow 408, 409, 425, 429, 5xx, timeouts and
connection errors, at most 5, each after `webhook_retry_backoff_seconds` (Jira waits minutes);
other statuses fail at once.

`DeliveryQueue.sender` is where a delivery leaves the simulator: a `Sender` posts one attempt and
reports its status or error. Wrap it to lose, delay or repeat deliveries (faults) without
touching matching, signing or retries.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from jira_simulator.webhooks.signing import dynamic_authorization, hub_signature

MAX_RETRIES = 5
RETRY_STATUSES = {408, 409, 425, 429}


@dataclass
class Attempt:
    at_ms: int  # wall clock
    retry: int
    status: int | None
    error: str | None
    seconds: float


@dataclass
class Delivery:
    """One POST of one event to one URL (per app for dynamic webhooks, per admin webhook),
    retried with the same identifier."""

    identifier: str
    kind: Literal["dynamic", "admin"]
    url: str
    cloud_id: str
    event: str
    issue_key: str
    webhook_ids: list[int]
    body: bytes
    client_id: str = ""  # dynamic: the app whose client secret signs the JWT
    secret: str | None = field(default=None, repr=False)  # admin: signs X-Hub-Signature
    attempts: list[Attempt] = field(default_factory=list)
    state: str = "pending"  # pending | delivered | failed

    def summary(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "kind": self.kind,
            "url": self.url,
            "cloud_id": self.cloud_id,
            "event": self.event,
            "issue_key": self.issue_key,
            "matched_webhook_ids": self.webhook_ids,
            "signed": self.kind == "dynamic" or bool(self.secret),
            "state": self.state,
            "attempts": [
                {
                    "at_ms": a.at_ms,
                    "retry": a.retry,
                    "status": a.status,
                    "error": a.error,
                    "seconds": round(a.seconds, 3),
                }
                for a in self.attempts
            ],
        }


def delivery_headers(delivery: Delivery, retry: int, client_secret: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Atlassian Webhook HTTP Client",
        "X-Atlassian-Webhook-Identifier": delivery.identifier,
        "X-Atlassian-Webhook-Flow": "Primary",
    }
    if delivery.kind == "dynamic":
        headers["Authorization"] = dynamic_authorization(delivery.client_id, client_secret)
    elif delivery.secret:
        headers["X-Hub-Signature"] = hub_signature(delivery.secret, delivery.body)
    if retry:
        headers["X-Atlassian-Webhook-Retry"] = str(retry)
    return headers


@dataclass(frozen=True)
class SendResult:
    status: int | None
    error: str | None


class Sender(Protocol):
    def __call__(self, delivery: Delivery, headers: dict[str, str]) -> SendResult: ...


class HttpSender:
    """Posts over HTTP with one client for all workers."""

    def __init__(self, timeout_seconds: float) -> None:
        self.client = httpx.Client(timeout=timeout_seconds, follow_redirects=False)

    def __call__(self, delivery: Delivery, headers: dict[str, str]) -> SendResult:
        try:
            response = self.client.post(delivery.url, content=delivery.body, headers=headers)
        except httpx.TimeoutException as exc:
            return SendResult(None, f"timeout: {type(exc).__name__}")
        except httpx.TransportError as exc:
            return SendResult(None, f"connection: {type(exc).__name__}: {exc}")
        return SendResult(response.status_code, None)

    def close(self) -> None:
        self.client.close()


# Queued work: a delivery to attempt, or matching work that produces deliveries.
Job = Delivery | Callable[[], list[Delivery]]


class DeliveryQueue:
    """Worker threads that run matching jobs and attempt deliveries, retrying on Jira's terms."""

    def __init__(
        self,
        client_secret: Callable[[], str],
        retry_backoff_seconds: Callable[[], float],
        *,
        timeout_seconds: float,
        workers: int,
    ) -> None:
        self.client_secret = client_secret
        self.retry_backoff_seconds = retry_backoff_seconds
        self.timeout_seconds = timeout_seconds
        self.workers = workers
        self.sender: Sender | None = None
        # When to send each new delivery, in seconds from now ([] = never); None: once, at once.
        self.planner: Callable[[Delivery], list[float]] | None = None
        self.deliveries: list[Delivery] = []
        self._queue: list[tuple[float, int, Job]] = []
        self._seq = itertools.count()
        self.lock = threading.Condition()
        self._busy = 0
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._http: HttpSender | None = None

    def start(self) -> None:
        with self.lock:
            if self._threads:
                return
            self._stopping = False
            self._http = HttpSender(self.timeout_seconds)
            if self.sender is None:
                self.sender = self._http
            self._threads = [
                threading.Thread(target=self._work, name=f"webhook-delivery-{n}", daemon=True)
                for n in range(self.workers)
            ]
            for thread in self._threads:
                thread.start()

    def stop(self) -> None:
        with self.lock:
            self._stopping = True
            self.lock.notify_all()
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(self.timeout_seconds + 5)
        if self._http is not None:
            if self.sender is self._http:
                self.sender = None
            self._http.close()
            self._http = None

    def put(self, job: Job, *, due: float = 0.0) -> None:
        self.start()
        with self.lock:
            heapq.heappush(self._queue, (due, next(self._seq), job))
            self.lock.notify_all()

    @property
    def pending(self) -> int:
        with self.lock:
            return len(self._queue) + self._busy

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no job is queued or in flight (tests, graceful shutdown)."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(min(left, 0.05))
        return True

    def _work(self) -> None:
        while True:
            with self.lock:
                while not self._stopping and (not self._queue or self._queue[0][0] > time.monotonic()):
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self.lock.wait(wait)
                if self._stopping:
                    return
                _, _, job = heapq.heappop(self._queue)
                self._busy += 1
            try:
                if isinstance(job, Delivery):
                    self._attempt(job)
                else:
                    deliveries = job()
                    with self.lock:
                        self.deliveries.extend(deliveries)
                        for delivery in deliveries:
                            for delay in self.planner(delivery) if self.planner else [0.0]:
                                due = time.monotonic() + delay if delay else 0.0
                                heapq.heappush(self._queue, (due, next(self._seq), delivery))
                        self.lock.notify_all()
            finally:
                with self.lock:
                    self._busy -= 1
                    self.lock.notify_all()

    def _attempt(self, delivery: Delivery) -> None:
        retry = len(delivery.attempts)
        headers = delivery_headers(delivery, retry, self.client_secret())
        started = time.perf_counter()
        sender = self.sender
        assert sender is not None
        result = sender(delivery, headers)
        attempt = Attempt(
            int(time.time() * 1000), retry, result.status, result.error, time.perf_counter() - started
        )
        status = result.status
        retryable = result.error is not None or (
            status is not None and (status in RETRY_STATUSES or status >= 500)
        )
        with self.lock:
            delivery.attempts.append(attempt)
            if status is not None and 200 <= status < 300:
                delivery.state = "delivered"
            elif retryable and retry < MAX_RETRIES:
                due = time.monotonic() + self.retry_backoff_seconds()
                heapq.heappush(self._queue, (due, next(self._seq), delivery))
                self.lock.notify_all()
            else:
                delivery.state = "failed"
