"""The text-versus-metadata rule for asset checks catches what it is meant to, and only that."""

from __future__ import annotations

import dagster as dg
import pytest

from tests.check_text import assert_text_agrees_with_metadata, stated_numbers


def test_a_count_the_metadata_contradicts_is_caught() -> None:
    with pytest.raises(AssertionError, match="1 is not in its metadata"):
        assert_text_agrees_with_metadata(
            "webhook traffic is silent: t/acme had 1 changes in the sweep", {"sweep_changes": 0}
        )


def test_counts_percentages_and_rounded_figures_found_nested_in_the_metadata_agree() -> None:
    assert_text_agrees_with_metadata(
        "3 of 40 changes were not delivered (7.5%); the soonest expires in 29.9 days",
        {
            "missed": dg.MetadataValue.int(3),
            "sites": dg.MetadataValue.json([{"changes": 40}]),
            "miss_rate": 0.075,
            "min_days_left": 29.93,
        },
    )
    assert_text_agrees_with_metadata("more than 20% of their issues", {"threshold": 0.2})


def test_numbers_inside_names_dates_versions_and_paths_are_not_claims() -> None:
    text = "ACME-12 (cloud 62f5680c, updated 2026-12-03 10:15:00) v1.0.0 data/w2.duckdb 24h ?admin=1 #3"
    assert stated_numbers(text) == []
