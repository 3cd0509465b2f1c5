"""The `jira-sync` command line: the main job (`demo`), `dev`, webhook lifecycle, connect, config check."""
