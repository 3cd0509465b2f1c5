"""The package boundaries of docs/architecture.md, read from the source: a new import that crosses
one fails here, naming the file and the module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("pipelines", "assets", "webhook_receiver", "jira_simulator", "jira_sync")

# package -> top-level modules it must never import
FORBIDDEN = {
    "pipelines": {
        "dagster",
        "dagster_dlt",
        "starlette",
        "assets",
        "webhook_receiver",
        "jira_sync",
        "jira_simulator",
    },
    "assets": {"webhook_receiver", "starlette", "jira_sync", "jira_simulator"},
    "webhook_receiver": {"duckdb", "dagster", "assets", "jira_sync", "jira_simulator"},
    "jira_simulator": {"pipelines", "assets", "webhook_receiver", "jira_sync"},
}


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_stay_inside_its_boundary(package: str) -> None:
    crossings = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for module in sorted(imported_modules(path))
        if module.split(".")[0] in FORBIDDEN[package]
    ]
    assert not crossings, f"{package}/ crosses its boundary (docs/architecture.md): " + "; ".join(crossings)


def test_the_checked_packages_are_the_projects() -> None:
    assert set(FORBIDDEN) | {"jira_sync"} == set(PROJECT)
