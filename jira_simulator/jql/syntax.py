"""The JQL syntax tree: clauses joined by AND/OR/NOT, and the ORDER BY fields."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple[str, ...]


Operand = str | Function  # a literal (quoted or not) or a function call
EMPTY = Function("EMPTY", ())


@dataclass(frozen=True)
class Clause:
    field: str
    operator: str  # =, !=, >, >=, <, <=, ~, !~, in, not in, is, is not
    values: tuple[Operand, ...]
    position: int


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Clause | And | Or | Not


@dataclass(frozen=True)
class SortField:
    field: str
    descending: bool


@dataclass(frozen=True)
class Query:
    where: Node | None
    order_by: tuple[SortField, ...]
    text: str

    @property
    def bounded(self) -> bool:
        return self.where is not None
