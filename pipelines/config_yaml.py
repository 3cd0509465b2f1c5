"""Reading the sync file: YAML without duplicate keys, ${VAR} expansion, readable validation errors."""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

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


# pydantic error types -> what the value should be (the message then says what to write).
_EXPECTED = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "date": "a date",
    "datetime": "a date and time",
    "string": "text",
}
_BOUNDS = {
    "greater_than": ("greater than", "gt"),
    "greater_than_equal": ("at least", "ge"),
    "less_than": ("less than", "lt"),
    "less_than_equal": ("at most", "le"),
}


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (`X`, `X | None`, `list[X]`, `dict[str, X]`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def field_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> FieldInfo | None:
    """The field a validation error's location points at (list indexes and dict keys skipped)."""
    info = None
    for part in loc:
        if model is None:
            return info if isinstance(part, int) else None
        if isinstance(part, int) or part not in model.model_fields:
            continue
        info = model.model_fields[part]
        model = _model_in(info.annotation)
    return info


def _yaml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _example(kind: str, info: FieldInfo | None) -> str:
    """A value to write: the key's default when it has one of the right kind, else a generic one."""
    default = None if info is None else info.default
    generic = {"int": 10, "float": 1.5, "bool": True, "date": date(2024, 1, 1), "string": "text"}
    if default is not PydanticUndefined and default is not None and not isinstance(default, list | dict):
        return _yaml_value(default)
    if kind == "datetime":
        return "2024-01-01T00:00:00Z"
    return _yaml_value(generic.get(kind, "..."))


def _type_message(kind: str, given: Any, info: FieldInfo | None) -> str:
    expected = _EXPECTED[kind]
    example = _example(kind, info)
    if kind == "bool":
        return f"expected true or false, got {given!r}; write true or false (without quotes)"
    if kind == "date":
        return f"expected a date, got {given!r}; write YYYY-MM-DD, e.g. {example}"
    if kind == "string":
        return f"expected text, got {given!r}; put it in quotes, e.g. {_yaml_value(given)!r}"
    return f"expected {expected}, got {given!r}; write e.g. {example}"


def _bound_message(kind: str, error: Any, info: FieldInfo | None) -> str:
    words, _ = _BOUNDS[kind]
    limit = next(iter((error.get("ctx") or {}).values()), "?")
    if isinstance(limit, float) and limit.is_integer():
        limit = int(limit)
    example = _example("float", info)
    return f"must be {words} {limit}, got {error.get('input')!r}; write e.g. {example}"


def validation_problem(error: Any, model: type[BaseModel] | None = None) -> tuple[str, str]:
    """A pydantic error as (key path, what is wrong and what to write instead).

    `model` (the sync file's root model) lets a type error suggest the key's own default.
    """
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
    elif kind in _BOUNDS:
        message = _bound_message(kind, error, field_at(model, loc))
    elif (family := kind.split("_")[0]) in _EXPECTED and kind.endswith(
        ("_type", "_parsing", "_from_float", "_from_datetime_inexact", "_too_short", "_too_long")
    ):
        message = _type_message(family, error.get("input"), field_at(model, loc))
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
