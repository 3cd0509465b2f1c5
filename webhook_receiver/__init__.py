"""Starlette app that lands Jira webhooks in a durable inbox. Never opens the DuckDB warehouse."""
