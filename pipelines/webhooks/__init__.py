"""Jira dynamic webhooks of the OAuth app: admin client, per-site settings and the 30-day lifecycle.

Pure HTTP (OAuth bearer through the Atlassian gateway); no dagster, no starlette.
"""
