"""JQL text to a `Query`, with Jira's error messages and positions."""

from __future__ import annotations

from jira_simulator.jql.errors import OPERATORS_TEXT, JqlError
from jira_simulator.jql.lexer import Token, tokenize
from jira_simulator.jql.syntax import EMPTY, And, Clause, Function, Node, Not, Operand, Or, Query, SortField

MAX_ORDER_BY_FIELDS = 7


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, expected: str, token: Token | None = None) -> JqlError:
        token = token or self.current
        if token.kind == "end":
            return JqlError(f"Error in the JQL Query: Expecting {expected} before the end of the query.")
        return JqlError(
            f"Error in the JQL Query: Expecting {expected} but got '{token.text}'. "
            f"(line 1, character {token.position})"
        )

    def parse(self) -> Query:
        where = None
        if self.current.kind != "end" and self.current.keyword != "order":
            where = self.parse_or()
        order_by: list[SortField] = []
        if self.current.keyword == "order":
            self.advance()
            if self.current.keyword != "by":
                raise self.fail("'by'")
            self.advance()
            while True:
                token = self.advance()
                if token.kind not in ("word", "string") or token.keyword is not None:
                    raise self.fail("a field name", token)
                descending = False
                if self.current.keyword in ("asc", "desc"):
                    descending = self.advance().keyword == "desc"
                order_by.append(SortField(token.text, descending))
                if self.current.kind == "op" and self.current.text == ",":
                    self.advance()
                    continue
                break
            if len(order_by) > MAX_ORDER_BY_FIELDS:
                raise JqlError(
                    f"The ORDER BY clause contains {len(order_by)} fields; Jira accepts at most "
                    f"{MAX_ORDER_BY_FIELDS}."
                )
        if self.current.kind != "end":
            raise self.fail("either 'OR' or 'AND'" if where is not None else "a field name")
        return Query(where, tuple(order_by), self.text)

    def parse_or(self) -> Node:
        parts = [self.parse_and()]
        while self.current.keyword == "or" or (self.current.kind == "op" and self.current.text == "||"):
            self.advance()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def parse_and(self) -> Node:
        parts = [self.parse_not()]
        while self.current.keyword == "and" or (self.current.kind == "op" and self.current.text == "&&"):
            self.advance()
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_not(self) -> Node:
        token = self.current
        if token.keyword == "not" or (token.kind == "op" and token.text == "!"):
            self.advance()
            return Not(self.parse_not())
        if token.kind == "op" and token.text == "(":
            self.advance()
            node = self.parse_or()
            if not (self.current.kind == "op" and self.current.text == ")"):
                raise self.fail("')'")
            self.advance()
            return node
        return self.parse_clause()

    def parse_clause(self) -> Clause:
        token = self.advance()
        if token.kind not in ("word", "string") or (token.kind == "word" and token.keyword is not None):
            raise self.fail("a field name", token)
        field_name = token.text
        operator_token = self.current
        operator = self._operator()
        if operator in ("in", "not in"):
            values = self._list()
        elif operator in ("is", "is not"):
            value_token = self.advance()
            if value_token.keyword not in ("empty", "null"):
                raise JqlError(
                    f"Error in the JQL Query: Expecting 'EMPTY' or 'NULL' but got '{value_token.text}'. "
                    f"(line 1, character {value_token.position})"
                )
            values = (EMPTY,)
        else:
            values = (self._operand(),)
        return Clause(field_name, operator, values, operator_token.position)

    def _operator(self) -> str:
        token = self.current
        if token.kind == "op" and token.text in ("=", "!=", ">", ">=", "<", "<=", "~", "!~"):
            self.advance()
            return token.text
        if token.keyword == "in":
            self.advance()
            return "in"
        if token.keyword == "is":
            self.advance()
            if self.current.keyword == "not":
                self.advance()
                return "is not"
            return "is"
        if token.keyword == "not" and self.tokens[self.index + 1].keyword == "in":
            self.index += 2
            return "not in"
        if token.kind == "end":
            raise JqlError(
                "Error in the JQL Query: Expecting operator before the end of the query. " + OPERATORS_TEXT
            )
        raise JqlError(
            f"Error in the JQL Query: Expecting operator but got '{token.text}'. {OPERATORS_TEXT} "
            f"(line 1, character {token.position})"
        )

    def _list(self) -> tuple[Operand, ...]:
        if not (self.current.kind == "op" and self.current.text == "("):
            return (self._operand(),)  # `status IN someFunction()`
        self.advance()
        values = [self._operand()]
        while self.current.kind == "op" and self.current.text == ",":
            self.advance()
            values.append(self._operand())
        if not (self.current.kind == "op" and self.current.text == ")"):
            raise self.fail("')'")
        self.advance()
        return tuple(values)

    def _operand(self) -> Operand:
        token = self.advance()
        if token.kind == "string":
            return token.text
        if token.kind != "word":
            raise self.fail("either a value, list or function", token)
        if token.keyword in ("empty", "null"):
            return EMPTY
        if token.keyword is not None:
            raise JqlError(
                f"Error in the JQL Query: Expecting either a value, list or function but got '{token.text}'. "
                f"You must surround '{token.text}' in quotation marks to use it as a value. "
                f"(line 1, character {token.position})"
            )
        if self.current.kind == "op" and self.current.text == "(":
            self.advance()
            args: list[str] = []
            while not (self.current.kind == "op" and self.current.text == ")"):
                arg = self.advance()
                if arg.kind == "end":
                    raise self.fail("')'")
                if not (arg.kind == "op" and arg.text == ","):
                    args.append(arg.text)
            self.advance()
            return Function(token.text, tuple(args))
        return token.text


def parse_jql(text: str | None) -> Query:
    """Parse JQL, raising `JqlError` with Jira's messages. An empty string is a valid, unbounded query."""
    return _Parser(text or "").parse()
