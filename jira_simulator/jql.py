"""JQL: the subset real sync tools send, parsed and evaluated the way Jira Cloud does.

`parse_jql(text)` gives a `Query` (or raises `JqlError` with Jira's messages);
`compile_query(query, context)` resolves names against a site and gives a `CompiledQuery` with
an issue predicate, a sort key and an index plan (project ids and created/updated ranges from
the top-level AND) so windowed searches do not scan every issue.

Dates without a zone (`"2024/01/31 10:00"`, `"2024-01-31"`) and date functions are read in the
**calling user's time zone**, as Jira does; relative periods (`-1d`, `-15m`, `4w 2d`) count from
the simulated clock; a bare number is epoch milliseconds and needs no zone.

`issue_matches(jql, issue, site, world)` evaluates one JQL filter against one issue (webhooks).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jira_simulator.model import STATUS_CATEGORIES, Issue, Site, World
from jira_simulator.timefmt import zone


class JqlError(ValueError):
    """Invalid JQL; `messages` are Jira's `errorMessages`."""

    def __init__(self, *messages: str) -> None:
        super().__init__(" ".join(messages))
        self.messages = list(messages)


UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
OPERATORS_TEXT = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'."
)
DATE_FORMATS_TEXT = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
    "or a period format e.g. '-5d', '4w 2d'."
)
MAX_ORDER_BY_FIELDS = 7

# ---------------------------------------------------------------------------------------------
# Tokens and syntax tree
# ---------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|!~|=|>|<|~|\(|\)|,|&&|\|\||!)
      | (?P<word>[^\s"'=!<>~(),&|]+)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}


@dataclass(frozen=True)
class Token:
    kind: str  # string | op | word | end
    text: str
    position: int  # 1-based character position

    @property
    def keyword(self) -> str | None:
        return self.text.lower() if self.kind == "word" and self.text.lower() in KEYWORDS else None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            remainder = text[position:].lstrip()
            start = len(text) - len(remainder)
            if remainder.startswith(('"', "'")):
                raise JqlError(
                    f"Error in the JQL Query: The quoted string '{remainder[1:]}' has not been completed. "
                    f"(line 1, character {start + 1})"
                )
            raise JqlError(
                f"Error in the JQL Query: The character '{remainder[0]}' is a reserved JQL character. "
                f"You must enclose it in a string or use the escape '\\u{ord(remainder[0]):04x}' instead. "
                f"(line 1, character {start + 1})"
            )
        kind = match.lastgroup or "word"
        value = match.group(kind)
        start = match.start(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append(Token(kind, value, start + 1))
        position = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


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


# ---------------------------------------------------------------------------------------------
# Evaluation against a site
# ---------------------------------------------------------------------------------------------

Predicate = Callable[[Issue], bool]


@dataclass
class JqlContext:
    """What names resolve against: the site, the world (users), the caller and the simulated now."""

    site: Site
    world: World
    account_id: str | None  # the caller: currentUser() and the zone of dates without one
    now_ms: int
    visible_project_ids: set[str] | None = None  # None: every project

    @property
    def tz(self) -> ZoneInfo:
        user = self.world.users.get(self.account_id or "")
        return zone(user.time_zone if user else "UTC")


@dataclass
class IndexPlan:
    """Restrictions from the top-level AND that an index can serve (each None = unrestricted)."""

    project_ids: set[str] | None = None
    issue_ids: set[str] | None = None
    created: tuple[int | None, int | None] | None = None  # inclusive bounds in ms
    updated: tuple[int | None, int | None] | None = None


@dataclass
class CompiledQuery:
    query: Query
    predicate: Predicate
    sort_key: Callable[[Issue], Any]
    plan: IndexPlan = field(default_factory=IndexPlan)


FIELD_ALIASES = {
    "issuekey": "key",
    "key": "key",
    "id": "id",
    "project": "project",
    "issuetype": "issuetype",
    "type": "issuetype",
    "status": "status",
    "statuscategory": "statuscategory",
    "assignee": "assignee",
    "reporter": "reporter",
    "creator": "creator",
    "parent": "parent",
    "created": "created",
    "createddate": "created",
    "updated": "updated",
    "updateddate": "updated",
    "resolved": "resolved",
    "resolutiondate": "resolved",
    "statuscategorychangeddate": "statuscategorychangeddate",
    "due": "duedate",
    "duedate": "duedate",
    "priority": "priority",
    "resolution": "resolution",
    "labels": "labels",
    "summary": "summary",
    "text": "text",
    "description": "description",
    "component": "component",
    "fixversion": "fixversion",
}
DATE_FIELDS = {"created", "updated", "resolved", "statuscategorychangeddate", "duedate"}
TEXT_FIELDS = {"summary", "text", "description"}
ORDERED_ID_FIELDS = {"key", "id"}
USER_FIELDS = {"assignee": "assignee_id", "reporter": "reporter_id", "creator": "creator_id"}


def _field_error(name: str) -> JqlError:
    return JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")


def _value_error(value: str, field_name: str) -> JqlError:
    return JqlError(f"The value '{value}' does not exist for the field '{field_name}'.")


def _operator_error(operator: str, field_name: str) -> JqlError:
    return JqlError(f"The operator '{operator.upper()}' is not supported by the '{field_name}' field.")


def _literal(value: Operand, field_name: str) -> str:
    if isinstance(value, Function):
        raise JqlError(f"Unable to find JQL function '{value.name}({', '.join(value.args)})'.")
    return value


class _Compiler:
    def __init__(self, context: JqlContext) -> None:
        self.context = context
        self.site = context.site

    # -- value resolution --------------------------------------------------------------------

    def project_ids(self, value: Operand, name: str) -> set[str]:
        text = _literal(value, name)
        wanted = text.casefold()
        visible = self.context.visible_project_ids
        found = {
            p.id
            for p in self.site.projects.values()
            if (p.id == text or p.key.casefold() == wanted or p.name.casefold() == wanted)
            and (visible is None or p.id in visible)
            and not p.archived
        }
        if not found:
            raise _value_error(text, name)
        return found

    def named_ids(self, value: Operand, name: str, items: dict[str, Any]) -> set[str]:
        text = _literal(value, name)
        wanted = text.casefold()
        found = {key for key, item in items.items() if key == text or item.name.casefold() == wanted}
        if not found:
            raise _value_error(text, name)
        return found

    def issue_type_ids(self, value: Operand, name: str) -> set[str]:
        if isinstance(value, Function):
            fn = value.name.casefold()
            if fn == "standardissuetypes":
                return {t.id for t in self.site.issue_types.values() if not t.subtask}
            if fn == "subtaskissuetypes":
                return {t.id for t in self.site.issue_types.values() if t.subtask}
        return self.named_ids(value, name, self.site.issue_types)

    def category_ids(self, value: Operand, name: str) -> set[int]:
        text = _literal(value, name).casefold()
        found = {
            c.id
            for c in STATUS_CATEGORIES.values()
            if text in (str(c.id), c.key.casefold(), c.name.casefold())
        }
        if not found:
            raise _value_error(_literal(value, name), name)
        return found

    def account_id(self, value: Operand, name: str) -> str | None:
        if isinstance(value, Function):
            if value.name.casefold() == "currentuser":
                return self.context.account_id
            raise JqlError(f"Unable to find JQL function '{value.name}()'.")
        wanted = value.casefold()
        for account_id in self.site.user_ids:
            user = self.context.world.users.get(account_id)
            if user is None:
                continue
            if (
                account_id == value
                or (user.email or "").casefold() == wanted
                or user.display_name.casefold() == wanted
            ):
                return account_id
        raise _value_error(value, name)

    def group_members(self, function: Function) -> set[str | None]:
        """`membersOf("group")`: the group's members (by group name, case-insensitive)."""
        wanted = function.args[0].casefold() if function.args else ""
        for group in self.site.groups.values():
            if group.name.casefold() == wanted:
                return set(group.member_ids)
        raise JqlError(f"The group '{function.args[0] if function.args else ''}' does not exist.")

    def issue_id(self, value: Operand, name: str) -> str:
        text = _literal(value, name)
        if text.isdigit():
            return text  # ids need not exist: `id = 99999` simply matches nothing
        issue = self.site.find_issue(text)
        if issue is None:
            raise JqlError(f"An issue with key '{text}' does not exist for field '{name}'.")
        return issue.id

    def date_ms(self, value: Operand, name: str) -> int:
        return parse_date(value, name, self.context)

    # -- clauses -------------------------------------------------------------------------------

    def compile(self, node: Node) -> Predicate:
        if isinstance(node, And):
            parts = [self.compile(p) for p in node.parts]
            return lambda issue: all(p(issue) for p in parts)
        if isinstance(node, Or):
            parts = [self.compile(p) for p in node.parts]
            return lambda issue: any(p(issue) for p in parts)
        if isinstance(node, Not):
            inner = self.compile(node.part)
            return lambda issue: not inner(issue)
        return self.clause(node)

    def clause(self, clause: Clause) -> Predicate:
        name = clause.field
        canonical = FIELD_ALIASES.get(name.casefold())
        if canonical is None:
            raise _field_error(name)
        op = clause.operator
        if op in ("is", "is not"):
            return self._emptiness(canonical, name, op == "is")
        if canonical in DATE_FIELDS:
            return self._date_clause(canonical, name, op, clause.values)
        if canonical in TEXT_FIELDS:
            return self._text_clause(canonical, name, op, clause.values)
        if op in ("~", "!~"):
            raise _operator_error(op, name)
        if canonical in ORDERED_ID_FIELDS and op in (">", ">=", "<", "<="):
            return self._ordered_id_clause(canonical, name, op, clause.values[0])
        if op not in ("=", "!=", "in", "not in"):
            raise _operator_error(op, name)
        negate = op in ("!=", "not in")
        member = self._membership(canonical, name, clause.values)
        if negate:
            return lambda issue: not member(issue)
        return member

    def _membership(self, canonical: str, name: str, values: tuple[Operand, ...]) -> Predicate:
        site = self.site
        has_empty = any(v is EMPTY for v in values)
        values = tuple(v for v in values if v is not EMPTY)
        if canonical == "project":
            ids = set().union(*(self.project_ids(v, name) for v in values)) if values else set()
            return lambda issue: issue.project_id in ids
        if canonical == "issuetype":
            ids = set().union(*(self.issue_type_ids(v, name) for v in values)) if values else set()
            return lambda issue: issue.issue_type_id in ids
        if canonical == "status":
            ids = set().union(*(self.named_ids(v, name, site.statuses) for v in values)) if values else set()
            return lambda issue: issue.status_id in ids
        if canonical == "statuscategory":
            categories = set().union(*(self.category_ids(v, name) for v in values)) if values else set()
            statuses = site.statuses
            return lambda issue: statuses[issue.status_id].category_id in categories
        if canonical == "priority":
            ids = (
                set().union(*(self.named_ids(v, name, site.priorities) for v in values)) if values else set()
            )
            return lambda issue: issue.priority_id in ids or (has_empty and issue.priority_id is None)
        if canonical == "resolution":
            ids: set[str | None] = set()
            for value in values:
                if isinstance(value, str) and value.casefold() == "unresolved":
                    ids.add(None)
                else:
                    ids |= self.named_ids(value, name, site.resolutions)
            if has_empty:
                ids.add(None)
            return lambda issue: issue.resolution_id in ids
        if canonical in USER_FIELDS:
            attribute = USER_FIELDS[canonical]
            accounts: set[str | None] = set()
            for value in values:
                if isinstance(value, Function) and value.name.casefold() == "membersof":
                    accounts |= self.group_members(value)
                else:
                    accounts.add(self.account_id(value, name))
            if has_empty:
                accounts.add(None)
            return lambda issue: getattr(issue, attribute) in accounts
        if canonical in ("key", "id"):
            ids = {self.issue_id(v, name) for v in values}
            return lambda issue: issue.id in ids
        if canonical == "parent":
            ids = {self.issue_id(v, name) for v in values}
            return lambda issue: issue.parent_id in ids or (has_empty and issue.parent_id is None)
        if canonical == "labels":
            labels = {_literal(v, name) for v in values}
            return lambda issue: bool(labels.intersection(issue.labels)) or (has_empty and not issue.labels)
        if canonical == "component":
            wanted = {_literal(v, name).casefold() for v in values}
            projects = site.projects

            def in_component(issue: Issue) -> bool:
                components = projects[issue.project_id].components
                return any(
                    c.id in issue.component_ids and (c.id in wanted or c.name.casefold() in wanted)
                    for c in components
                ) or (has_empty and not issue.component_ids)

            return in_component
        if canonical == "fixversion":
            wanted = {_literal(v, name).casefold() for v in values}
            projects = site.projects

            def in_version(issue: Issue) -> bool:
                versions = projects[issue.project_id].versions
                return any(
                    v.id in issue.fix_version_ids and (v.id in wanted or v.name.casefold() in wanted)
                    for v in versions
                ) or (has_empty and not issue.fix_version_ids)

            return in_version
        raise _field_error(name)

    def _emptiness(self, canonical: str, name: str, want_empty: bool) -> Predicate:
        getters: dict[str, Callable[[Issue], object]] = {
            "assignee": lambda i: i.assignee_id,
            "reporter": lambda i: i.reporter_id,
            "creator": lambda i: i.creator_id,
            "parent": lambda i: i.parent_id,
            "resolved": lambda i: i.resolved_ms,
            "resolution": lambda i: i.resolution_id,
            "priority": lambda i: i.priority_id,
            "duedate": lambda i: i.due_date,
            "labels": lambda i: i.labels or None,
            "component": lambda i: i.component_ids or None,
            "fixversion": lambda i: i.fix_version_ids or None,
            "description": lambda i: i.description,
            "summary": lambda i: i.summary,
            "created": lambda i: i.created_ms,
            "updated": lambda i: i.updated_ms,
            "statuscategorychangeddate": lambda i: i.status_category_changed_ms,
        }
        getter = getters.get(canonical)
        if getter is None:
            raise _operator_error("is" if want_empty else "is not", name)
        if want_empty:
            return lambda issue: getter(issue) is None
        return lambda issue: getter(issue) is not None

    def _date_clause(self, canonical: str, name: str, op: str, values: tuple[Operand, ...]) -> Predicate:
        if op in ("~", "!~"):
            raise _operator_error(op, name)
        getter = _date_getter(canonical, self.site)
        if op in ("in", "not in", "=", "!="):
            moments = {self.date_ms(v, name) // 60_000 for v in values if v is not EMPTY}
            has_empty = any(v is EMPTY for v in values)

            def member(issue: Issue) -> bool:
                value = getter(issue)
                if value is None:
                    return has_empty
                return value // 60_000 in moments

            if op in ("!=", "not in"):
                return lambda issue: getter(issue) is not None and not member(issue)
            return member
        bound = self.date_ms(values[0], name)
        compare = _COMPARE[op]
        return lambda issue: (value := getter(issue)) is not None and compare(value, bound)

    def _text_clause(self, canonical: str, name: str, op: str, values: tuple[Operand, ...]) -> Predicate:
        if op not in ("~", "!~"):
            raise _operator_error(op, name)
        words = [w for w in re.split(r"\W+", _literal(values[0], name).casefold()) if w]

        def contains(issue: Issue) -> bool:
            texts = []
            if canonical in ("summary", "text"):
                texts.append(issue.summary)
            if canonical in ("description", "text"):
                texts.append(issue.description or "")
            haystack = " ".join(texts).casefold()
            return all(w in haystack for w in words)

        if op == "!~":
            return lambda issue: not contains(issue)
        return contains

    def _ordered_id_clause(self, canonical: str, name: str, op: str, value: Operand) -> Predicate:
        compare = _COMPARE[op]
        text = _literal(value, name)
        if canonical == "id" or text.isdigit():
            bound = int(text)
            return lambda issue: compare(int(issue.id), bound)
        project_key, _, number = text.upper().rpartition("-")
        if not number.isdigit() or not project_key:
            raise JqlError(f"The issue key '{text}' for field '{name}' is invalid.")
        project = self.site.find_project(project_key)
        if project is None:
            raise JqlError(f"The issue key '{text}' for field '{name}' is invalid.")
        limit = int(number)

        def in_range(issue: Issue) -> bool:
            key_project, _, key_number = issue.key.rpartition("-")
            return key_project == project.key and compare(int(key_number), limit)

        return in_range

    # -- the index plan ------------------------------------------------------------------------

    def plan(self, node: Node | None) -> IndexPlan:
        plan = IndexPlan()
        if node is None:
            return plan
        parts = node.parts if isinstance(node, And) else (node,)
        for part in parts:
            if not isinstance(part, Clause):
                continue
            canonical = FIELD_ALIASES.get(part.field.casefold())
            if canonical == "project" and part.operator in ("=", "in"):
                ids = set().union(*(self.project_ids(v, part.field) for v in part.values if v is not EMPTY))
                plan.project_ids = ids if plan.project_ids is None else plan.project_ids & ids
            elif canonical in ("key", "id") and part.operator in ("=", "in"):
                ids = {self.issue_id(v, part.field) for v in part.values}
                plan.issue_ids = ids if plan.issue_ids is None else plan.issue_ids & ids
            elif canonical in ("created", "updated") and part.operator in (">", ">=", "<", "<="):
                bound = self.date_ms(part.values[0], part.field)
                low, high = getattr(plan, canonical) or (None, None)
                if part.operator in (">", ">="):
                    low = bound if low is None else max(low, bound)
                else:
                    high = bound if high is None else min(high, bound)
                setattr(plan, canonical, (low, high))
        return plan


_COMPARE: dict[str, Callable[[int, int], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _date_getter(canonical: str, site: Site) -> Callable[[Issue], int | None]:
    if canonical == "created":
        return lambda i: i.created_ms
    if canonical == "updated":
        return lambda i: i.updated_ms
    if canonical == "resolved":
        return lambda i: i.resolved_ms
    if canonical == "statuscategorychangeddate":
        return lambda i: i.status_category_changed_ms
    tz = zone(site.time_zone)

    def due(issue: Issue) -> int | None:
        if issue.due_date is None:
            return None
        return int(datetime.strptime(issue.due_date, "%Y-%m-%d").replace(tzinfo=tz).timestamp() * 1000)

    return due


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------

_PERIOD = re.compile(r"^\s*([-+]?)\s*((?:\d+\s*[wdhm]\s*)+)$", re.IGNORECASE)
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm])", re.IGNORECASE)
_PERIOD_MS = {"w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000}
_LOCAL_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")


def _period_ms(text: str) -> int | None:
    match = _PERIOD.match(text)
    if match is None:
        return None
    total = sum(int(n) * _PERIOD_MS[u.lower()] for n, u in _PERIOD_PART.findall(match.group(2)))
    return -total if match.group(1) == "-" else total


def parse_date(value: Operand, field_name: str, context: JqlContext) -> int:
    """A JQL date operand to epoch ms: local formats in the caller's zone, periods, epoch ms, functions."""
    if isinstance(value, Function):
        return _date_function(value, context)
    text = value.strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    period = _period_ms(text)
    if period is not None:
        return context.now_ms + period
    for fmt in _LOCAL_FORMATS:
        try:
            local = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return int(local.replace(tzinfo=context.tz).timestamp() * 1000)
    raise JqlError(f"Date value '{value}' for field '{field_name}' is invalid. {DATE_FORMATS_TEXT}")


def _date_function(function: Function, context: JqlContext) -> int:
    name = function.name.casefold()
    now = datetime.fromtimestamp(context.now_ms / 1000, context.tz)
    if name in ("now", "currentlogin", "lastlogin"):
        return context.now_ms
    offset_text = function.args[0] if function.args else ""
    units = {"day": "d", "week": "w", "month": "d", "year": "d"}
    starts = {
        "startofday": ("day", False),
        "endofday": ("day", True),
        "startofweek": ("week", False),
        "endofweek": ("week", True),
        "startofmonth": ("month", False),
        "endofmonth": ("month", True),
        "startofyear": ("year", False),
        "endofyear": ("year", True),
    }
    if name not in starts:
        raise JqlError(f"Unable to find JQL function '{function.name}({', '.join(function.args)})'.")
    unit, end = starts[name]
    offset_ms = 0
    if offset_text:
        text = offset_text if offset_text[-1:].isalpha() else offset_text + units[unit]
        parsed = _period_ms(text)
        if parsed is None:
            raise JqlError(f"Invalid offset '{offset_text}' for JQL function '{function.name}'.")
        offset_ms = parsed
    moment = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        moment -= timedelta(days=(moment.weekday() + 1) % 7)  # Jira weeks start on Sunday
    elif unit == "month":
        moment = moment.replace(day=1)
    elif unit == "year":
        moment = moment.replace(month=1, day=1)
    if end:
        if unit == "day":
            moment += timedelta(days=1)
        elif unit == "week":
            moment += timedelta(days=7)
        elif unit == "month":
            moment = (moment.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            moment = moment.replace(year=moment.year + 1)
        return int(moment.timestamp() * 1000) - 1 + offset_ms
    return int(moment.timestamp() * 1000) + offset_ms


# ---------------------------------------------------------------------------------------------
# Sorting and the public entry points
# ---------------------------------------------------------------------------------------------


def _key_sort(issue: Issue) -> tuple[str, int]:
    project_key, _, number = issue.key.rpartition("-")
    return project_key, int(number)


class _Descending:
    """Wraps a sort value so that ascending sort orders it descending (None always last)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return other.value < self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value


def _sort_getter(name: str, context: JqlContext) -> Callable[[Issue], Any]:
    canonical = FIELD_ALIASES.get(name.casefold(), name.casefold())
    site = context.site
    users = context.world.users
    getters: dict[str, Callable[[Issue], Any]] = {
        "key": _key_sort,
        "rank": lambda i: int(i.id),
        "id": lambda i: int(i.id),
        "created": lambda i: i.created_ms,
        "updated": lambda i: i.updated_ms,
        "resolved": lambda i: i.resolved_ms,
        "statuscategorychangeddate": lambda i: i.status_category_changed_ms,
        "duedate": lambda i: i.due_date,
        "priority": lambda i: -int(i.priority_id) if i.priority_id else None,
        "status": lambda i: site.statuses[i.status_id].name.casefold(),
        "issuetype": lambda i: site.issue_types[i.issue_type_id].name.casefold(),
        "project": lambda i: site.projects[i.project_id].key,
        "summary": lambda i: i.summary.casefold(),
        "assignee": lambda i: (
            users[i.assignee_id].display_name.casefold() if i.assignee_id in users else None
        ),
        "reporter": lambda i: (
            users[i.reporter_id].display_name.casefold() if i.reporter_id in users else None
        ),
    }
    getter = getters.get(canonical)
    if getter is None:
        raise _field_error(name)
    return getter


def _sort_key(order_by: tuple[SortField, ...], context: JqlContext) -> Callable[[Issue], Any]:
    fields = order_by or (SortField("key", True),)  # Jira's order without ORDER BY: newest key first
    getters = [(_sort_getter(f.field, context), f.descending) for f in fields]

    def key(issue: Issue) -> tuple[Any, ...]:
        parts: list[Any] = []
        for getter, descending in getters:
            value = getter(issue)
            # None sorts last in both directions, as Jira puts empty values last.
            parts.append((value is None, _Descending(value) if descending and value is not None else value))
        parts.append(int(issue.id))
        return tuple(parts)

    return key


def compile_query(query: Query, context: JqlContext) -> CompiledQuery:
    compiler = _Compiler(context)
    predicate: Predicate = compiler.compile(query.where) if query.where is not None else (lambda issue: True)
    return CompiledQuery(query, predicate, _sort_key(query.order_by, context), compiler.plan(query.where))


def issue_matches(jql: str, issue: Issue, site: Site, world: World, account_id: str | None = None) -> bool:
    """Whether one issue matches a JQL filter (for webhook registrations); raises `JqlError` if invalid."""
    context = JqlContext(site, world, account_id, world.clock.now_ms())
    query = parse_jql(jql)
    if query.where is None:
        return True
    return compile_query(query, context).predicate(issue)
