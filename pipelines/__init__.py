"""dlt sources, OAuth token handling and config models for Jira Cloud. Imports no dagster, no starlette."""
