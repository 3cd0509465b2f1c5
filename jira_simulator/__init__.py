"""A faithful Jira Cloud simulator for demos, tests and benchmarks. Imports nothing from the project."""
