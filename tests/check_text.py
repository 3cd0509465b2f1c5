"""An asset check's text and its metadata must tell the same story.

Every number the description states (a count, a percentage, a threshold, hours or days) must be one
of the numbers in the check's metadata: "had 1 changes" beside `sweep_changes 0` is the kind of
disagreement this catches. Numbers inside names (dates, versions, keys such as ABC-12, paths) are
not counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

# A standalone number, optionally a percentage; not part of a word, date, key, version or path.
_NUMBER = re.compile(r"(?<![\w.\-/:=#])(\d+(?:\.\d+)?)(%?)(?![\w\-/:]|\.\d)")


def stated_numbers(text: str) -> list[tuple[float, int, bool]]:
    """(value, decimals, is_percent) of each number in `text`."""
    return [
        (float(value), len(value.split(".")[1]) if "." in value else 0, bool(percent))
        for value, percent in _NUMBER.findall(text)
    ]


def metadata_numbers(value: Any) -> Iterator[float]:
    """Every number in a metadata value, nested dicts and lists included."""
    value = getattr(value, "value", value)  # MetadataValue
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from metadata_numbers(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from metadata_numbers(item)


def _agrees(stated: float, decimals: int, percent: bool, known: list[float]) -> bool:
    for number in known:
        candidates = [number * 100] if percent else [number]
        if percent and number > 1:  # a share given in percent already
            candidates.append(number)
        if any(round(c, decimals) == stated for c in candidates):
            return True
    return False


def assert_text_agrees_with_metadata(description: str | None, metadata: Mapping[str, Any]) -> None:
    known = list(metadata_numbers(dict(metadata)))
    disagreeing = [
        f"{value:g}{'%' if percent else ''}"
        for value, decimals, percent in stated_numbers(description or "")
        if not _agrees(value, decimals, percent, known)
    ]
    assert not disagreeing, (
        f"the check says {description!r}, but {', '.join(disagreeing)} is not in its metadata {dict(metadata)}"
    )


def assert_evaluation_is_honest(evaluation: Any) -> None:
    """For a `dg.AssetCheckEvaluation` or `dg.AssetCheckResult`."""
    assert_text_agrees_with_metadata(evaluation.description, evaluation.metadata or {})
