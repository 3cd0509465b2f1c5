"""Dagster definitions generated from the sync file (raw, core, analytics, webhooks, publish)."""
