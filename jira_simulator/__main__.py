"""`python -m jira_simulator ...` is `jira-simulator ...`."""

from jira_simulator.cli import main

raise SystemExit(main())
