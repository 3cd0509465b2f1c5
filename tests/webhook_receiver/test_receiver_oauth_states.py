"""OAuth connect states in the receiver's SQLite file: single use, expiring, shared by processes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from webhook_receiver.oauth_states import ConnectState, OAuthStateStore


def test_connect_states_are_single_use_expiring_and_bound_to_the_tenant(tmp_path: Path) -> None:
    path = tmp_path / "inbox.sqlite"
    states = OAuthStateStore(path, ttl_seconds=600)
    first = states.issue("acme", admin=True)
    second = states.issue("globex", admin=False)
    assert first != second and len(first) >= 40
    assert states.consume(first) == ConnectState("acme", admin=True)
    assert states.consume(first) is None  # used
    assert states.consume("forged") is None
    # another process (same file) finishes a flow this one started
    other = OAuthStateStore(path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE oauth_states SET expires_at = 0 WHERE state = ?", (second,))
    assert other.consume(second) is None  # expired
    third = states.issue("acme", admin=False)
    assert other.consume(third) == ConnectState("acme", admin=False)
    states.close()
    other.close()
