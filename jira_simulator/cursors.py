"""Search snapshots behind `nextPageToken`: each page sequence sees each matching issue exactly once.

The first page of a search evaluates the JQL once and keeps the ordered matching issue ids; later
pages read that list from an offset. Issues updated between pages keep their place (their new
data is rendered), deleted ones are skipped. Tokens are opaque to clients and bound to the JQL
and the caller. The store forgets the oldest snapshots beyond a budget of stored ids.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass

TOKEN_PREFIX = "sim1"


@dataclass(frozen=True)
class Snapshot:
    jql: str
    account_id: str
    cloud_id: str
    issue_ids: tuple[str, ...]


class InvalidToken(ValueError):
    pass


class SearchCursors:
    def __init__(self, max_ids: int = 20_000_000) -> None:
        self.max_ids = max_ids
        self._snapshots: OrderedDict[int, Snapshot] = OrderedDict()
        self._stored = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def save(self, snapshot: Snapshot) -> int:
        with self._lock:
            snapshot_id = next(self._ids)
            self._snapshots[snapshot_id] = snapshot
            self._stored += len(snapshot.issue_ids)
            while self._stored > self.max_ids and len(self._snapshots) > 1:
                _, dropped = self._snapshots.popitem(last=False)
                self._stored -= len(dropped.issue_ids)
            return snapshot_id

    def token(self, snapshot_id: int, offset: int) -> str:
        raw = f"{TOKEN_PREFIX}:{snapshot_id}:{offset}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def resolve(self, token: str, *, jql: str, account_id: str, cloud_id: str) -> tuple[int, Snapshot, int]:
        """The snapshot id, snapshot and offset a token points at, if it belongs to this search."""
        try:
            padded = token + "=" * (-len(token) % 4)
            prefix, snapshot_id, offset = base64.urlsafe_b64decode(padded).decode().split(":")
            if prefix != TOKEN_PREFIX:
                raise ValueError(prefix)
            key, start = int(snapshot_id), int(offset)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidToken("The provided next page token is invalid.") from None
        with self._lock:
            snapshot = self._snapshots.get(key)
            if snapshot is not None:
                self._snapshots.move_to_end(key)
        if snapshot is None:
            raise InvalidToken(
                "The provided next page token has expired. Start the search again without a token."
            )
        if snapshot.jql != jql or snapshot.account_id != account_id or snapshot.cloud_id != cloud_id:
            raise InvalidToken("The provided next page token does not belong to this JQL query.")
        return key, snapshot, start
