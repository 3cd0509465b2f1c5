"""The README says what the product really has: its group table is the UI's."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import dagster as dg

from assets.definitions import build_definitions
from pipelines.config import load_sync_config

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def readme_groups() -> dict[str, set[str]]:
    """The README's group table: group -> the asset names its second column lists."""
    table = README[README.index("| group | assets (as the UI lists them) |") :].split("\n\n", 1)[0]
    groups: dict[str, set[str]] = {}
    for row in table.splitlines()[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        groups[cells[0].strip("`")] = set(re.findall(r"`([^`]+)`", cells[1]))
    return groups


def test_the_group_table_lists_every_asset_of_each_group_as_the_ui_shows_it() -> None:
    warnings.simplefilter("ignore", dg.BetaWarning)
    graph = build_definitions(load_sync_config(REPO / "jira_sync.yaml")).resolve_asset_graph()
    shown: dict[str, set[str]] = {}
    for node in graph.asset_nodes:
        if not node.is_materializable:
            continue
        key = node.key
        name = key.path[-1] if key.path[0] == node.group_name else key.to_user_string()
        shown.setdefault(node.group_name, set()).add(name)
    assert readme_groups() == shown
