"""Recorded webhook registrations beside the inbox, which the receiver checks deliveries against."""

from __future__ import annotations

from pathlib import Path

from pipelines.inbox.registrations import WebhookRegistry


def test_record_replaces_a_sites_ids(tmp_path: Path) -> None:
    registry = WebhookRegistry(tmp_path / "inbox.sqlite")
    registry.record("acme", "c1", [1000, 1001, 1000])
    registry.record("acme", "c2", [5])
    assert registry.webhook_ids("acme", "c1") == {1000, 1001}
    registry.record("acme", "c1", [2000])
    assert registry.all() == {("acme", "c1"): frozenset({2000}), ("acme", "c2"): frozenset({5})}
    registry.record("acme", "c2", [])
    assert registry.webhook_ids("acme", "c2") == frozenset()
    registry.close()
