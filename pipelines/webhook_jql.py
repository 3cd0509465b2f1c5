"""The JQL subset that Jira accepts in a dynamic webhook's `jqlFilter`.

Jira rejects a registration item whose filter uses anything else ("The clause X is unsupported"),
and the webhook then never exists. Validating before sending turns that into a clear config error.
Subset (OpenAPI `WebhookDetails.jqlFilter`): fields `issueKey`, `project`, `issuetype`, `status`,
`assignee`, `reporter`, `issue.property[...]`, `cf[id]`; operators `=`, `!=`, `IN`, `NOT IN`;
clauses combined with `AND` / `OR` and parentheses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALLOWED_FIELDS = ("issueKey", "project", "issuetype", "status", "assignee", "reporter")
ALLOWED_OPERATORS = ("=", "!=", "IN", "NOT IN")
_ALLOWED_LOWER = {name.lower() for name in ALLOWED_FIELDS}
_PROPERTY_FIELD = re.compile(r"^issue\.property\[[^\]]+\](\.[A-Za-z0-9_.]+)?$", re.IGNORECASE)
_CUSTOM_FIELD = re.compile(r"^cf\[\d+\]$", re.IGNORECASE)

ALLOWED_SUMMARY = (
    "allowed fields: issueKey, project, issuetype, status, assignee, reporter, issue.property[...], "
    "cf[id] (the epic label field only); operators: =, !=, IN, NOT IN; combine clauses with AND / OR"
)

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|!~|=|~|<|>)
      | (?P<punct>[(),])
      | (?P<word>[^\s()=,!<>~"']+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # string | op | punct | word
    text: str
    start: int


def _tokenize(jql: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(jql):
        if jql[pos:].strip() == "":
            break
        match = _TOKEN.match(jql, pos)
        if not match or match.end() == pos:
            raise ValueError(
                f"webhook JQL filter {jql!r}: cannot read it from position {pos} ({jql[pos:]!r})"
            )
        kind = match.lastgroup or "word"
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, jql: str) -> None:
        self.jql = jql
        self.tokens = _tokenize(jql)
        self.pos = 0

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def keyword(self, offset: int = 0) -> str:
        token = self.peek(offset)
        return token.text.upper() if token and token.kind == "word" else ""

    def fail(self, what: str) -> ValueError:
        return ValueError(f"webhook JQL filter {self.jql!r}: {what}; {ALLOWED_SUMMARY}")

    def parse(self) -> None:
        if not self.tokens:
            raise self.fail("it is empty (Jira requires a filter; e.g. `project = ABC`)")
        self.expression()
        token = self.peek()
        if token is not None:
            if self.keyword() == "ORDER":
                raise self.fail("the clause `ORDER BY` is unsupported")
            raise self.fail(f"unexpected {token.text!r} at position {token.start}")

    def expression(self) -> None:
        self.term()
        while self.keyword() == "OR":
            self.pos += 1
            self.term()

    def term(self) -> None:
        self.factor()
        while self.keyword() == "AND":
            self.pos += 1
            self.factor()

    def factor(self) -> None:
        token = self.peek()
        if token is None:
            raise self.fail("it ends where a clause was expected")
        if token.kind == "punct" and token.text == "(":
            self.pos += 1
            self.expression()
            closing = self.peek()
            if closing is None or closing.text != ")":
                raise self.fail("a parenthesis is not closed")
            self.pos += 1
            return
        if self.keyword() == "NOT":
            raise self.fail("the clause `NOT ...` is unsupported (use != or NOT IN)")
        self.clause()

    def clause(self) -> None:
        start = self.pos
        field_token = self.peek()
        if field_token is None or field_token.kind not in ("word", "string"):
            raise self.fail(
                f"expected a field at position {field_token.start if field_token else len(self.jql)}"
            )
        field_name = field_token.text.strip("\"'")
        self.pos += 1
        operator = self.operator()
        self.values(operator)
        clause_text = " ".join(t.text for t in self.tokens[start : self.pos])
        if not _field_allowed(field_name):
            raise self.fail(f"the clause `{clause_text}` is unsupported (field `{field_name}`)")
        if operator not in ALLOWED_OPERATORS:
            raise self.fail(f"the clause `{clause_text}` is unsupported (operator `{operator}`)")

    def operator(self) -> str:
        token = self.peek()
        if token is None:
            raise self.fail("a clause has no operator")
        if token.kind == "op":
            self.pos += 1
            return token.text
        word = self.keyword()
        if word == "NOT" and self.keyword(1) == "IN":
            self.pos += 2
            return "NOT IN"
        if word == "IS" and self.keyword(1) == "NOT":
            self.pos += 2
            return "IS NOT"
        if word in ("IN", "IS", "WAS", "CHANGED"):
            self.pos += 1
            return word
        raise self.fail(f"expected an operator at position {token.start}, found {token.text!r}")

    def values(self, operator: str) -> None:
        token = self.peek()
        if token is None:
            raise self.fail(f"operator `{operator}` has no value")
        if token.kind == "punct" and token.text == "(":
            self.pos += 1
            while True:
                item = self.peek()
                if item is None or item.kind not in ("word", "string"):
                    raise self.fail("a value list is not closed")
                self.value_item()
                separator = self.peek()
                if separator is not None and separator.text == ",":
                    self.pos += 1
                    continue
                if separator is not None and separator.text == ")":
                    self.pos += 1
                    return
                raise self.fail("a value list is not closed")
        if token.kind not in ("word", "string") or self.keyword() in ("AND", "OR"):
            raise self.fail(f"operator `{operator}` has no value")
        self.value_item()

    def value_item(self) -> None:
        self.pos += 1
        # A function call such as currentUser() or membersOf("team").
        token = self.peek()
        if token is not None and token.text == "(":
            depth = 0
            while (token := self.peek()) is not None:
                self.pos += 1
                depth += token.text == "("
                depth -= token.text == ")"
                if depth == 0:
                    return
            raise self.fail("a function call is not closed")


def _field_allowed(name: str) -> bool:
    return name.lower() in _ALLOWED_LOWER or bool(_PROPERTY_FIELD.match(name) or _CUSTOM_FIELD.match(name))


def validate_webhook_jql(jql: str) -> None:
    """Raise ValueError naming the first clause Jira would reject in a dynamic-webhook filter."""
    _Parser(jql).parse()
