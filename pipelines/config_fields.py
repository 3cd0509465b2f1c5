"""Building blocks of the sync file's models: value types, the strict base model, the error type."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from pipelines.registry import ENTITIES

IssueCategory = Literal["feature", "bug", "chore", "discovery", "incident", "other"]
KeywordCategory = Literal["incident", "bug", "discovery", "feature", "chore"]
IssueState = Literal["open", "in_progress", "closed"]
# The entities a site can sync: those the table registry names (pipelines/registry.py).
Entity = Literal[ENTITIES]  # type: ignore[valid-type]
WebhookEvent = Literal[
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
    "issue_property_set",
    "issue_property_deleted",
]
ALL_ENTITIES: list[Entity] = list(ENTITIES)

# The seed's keyword heuristics, in precedence order (first category whose keyword matches wins).
DEFAULT_TYPE_KEYWORDS: dict[str, list[str]] = {
    "incident": ["incident", "outage", "emergency", "production"],
    "bug": ["bug", "defect", "fix"],
    "discovery": ["spike", "research", "investigation", "discovery"],
    "feature": ["story", "feature", "epic", "enhancement"],
    "chore": ["task", "chore", "maintenance", "technical"],
}

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
JOB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
FIELD_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,127}$")


class SyncConfigError(ValueError):
    """A sync file that cannot be used; the message lists every problem found."""

    def __init__(self, source: Path | str, problems: list[tuple[str, str]]) -> None:
        self.source = str(source)
        self.problems = problems
        if len(problems) == 1:
            key, message = problems[0]
            text = f"{self.source}: {key}: {message}" if key else f"{self.source}: {message}"
        else:
            lines = [f"  - {key}: {message}" if key else f"  - {message}" for key, message in problems]
            text = f"{self.source}: {len(problems)} problems:\n" + "\n".join(lines)
        super().__init__(text)


def looks_like_secret(value: str) -> bool:
    """Heuristic for a credential pasted where an environment variable name belongs."""
    if value.startswith(("ATATT", "ATCTT", "eyJ")) or len(value) >= 40:
        return True
    has_lower = any(c.islower() for c in value)
    has_digit = any(c.isdigit() for c in value)
    return len(value) >= 16 and has_lower and has_digit and "_" not in value


def env_name(value: str | None) -> str | None:
    """Validate the value of an `*_env` key: an environment variable name, never a secret."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise PydanticCustomError("env_name", "write the name of an environment variable, e.g. JIRA_SECRET")
    if looks_like_secret(value):
        raise PydanticCustomError(
            "env_name",
            "this looks like a literal secret (value not shown); keys ending in _env hold the NAME of an "
            "environment variable: put the secret in a variable and write its name here, e.g. JIRA_SECRET",
        )
    if not ENV_NAME.match(value):
        raise PydanticCustomError(
            "env_name",
            f"{value!r} is not an environment variable name; use upper-case letters, digits and _, "
            "e.g. JIRA_TEAMS_API_TOKEN",
        )
    return value


EnvName = Annotated[str | None, BeforeValidator(env_name)]


class StrictModel(BaseModel):
    """Rejects unknown keys with the closest valid key as a suggestion."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            valid = list(cls.model_fields)
            for key in data:
                if key not in valid:
                    close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.6)
                    hint = f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(valid)}"
                    raise PydanticCustomError(
                        "unknown_key", "unknown key '{key}'; {hint}", {"key": str(key), "hint": hint}
                    )
        return data


def http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL; write e.g. https://acme.atlassian.net")
    return value.rstrip("/")


def require_unique(items: list[tuple[str, str]], what: str) -> None:
    first: dict[str, str] = {}
    for path, value in items:
        if value in first:
            raise PydanticCustomError(
                "duplicate",
                "duplicate {what} '{value}' (also at {first}); every {what} must be unique in the file",
                {"what": what, "value": value, "first": first[value], "key_path": path},
            )
        first[value] = path
