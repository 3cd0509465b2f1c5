"""Reading the sync file: YAML without duplicate keys, ${VAR} expansion, readable validation errors."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

import yaml

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (PyYAML silently keeps the last one)."""


def construct_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (keep only one)", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)


def format_loc(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part.startswith(("function-", "literal[")):
            continue
        else:
            path += f".{part}" if path else str(part)
    return path


def validation_problem(error: Any) -> tuple[str, str]:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-after")))
    key = format_loc(loc)
    kind = error["type"]
    ctx = error.get("ctx") or {}
    message = error["msg"]
    if "key_path" in ctx:
        key = ctx["key_path"]
    if kind == "unknown_key":
        key = f"{key}.{ctx['key']}" if key else ctx["key"]
        message = message.replace(f"unknown key '{ctx['key']}'; ", "unknown key; ")
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "")
        choices = [c.strip() for c in expected.replace(" or ", ", ").split(",") if c.strip()]
        given = error.get("input")
        close = difflib.get_close_matches(str(given), choices, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]}?)" if close else ""
        message = f"unknown value {given!r}; write one of: {', '.join(choices)}{hint}"
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind in ("dict_type", "model_type"):
        message = "expected a mapping of keys (key: value)"
    elif kind == "list_type":
        message = "expected a list, e.g. [a, b]"
    return key, message


def expand(value: Any, path: str, environ: Mapping[str, str], problems: list[tuple[str, str]]) -> Any:
    """Expand ${VAR} / ${VAR:-default} in strings; `*_env` keys hold names and are left alone."""
    if isinstance(value, dict):
        return {
            k: v
            if isinstance(k, str) and k.endswith("_env")
            else expand(v, f"{path}.{k}" if path else str(k), environ, problems)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [expand(v, f"{path}[{i}]", environ, problems) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if environ.get(name):
                return environ[name]
            if default is not None:
                return default
            problems.append(
                (path, f"environment variable {name} is not set; set it or write ${{{name}:-default}}")
            )
            return match.group(0)

        return VARIABLE.sub(substitute, value)
    return value
