"""A parsed `Query` resolved against a site: an issue predicate, a sort key and an index plan."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jira_simulator.jql.context import JqlContext
from jira_simulator.jql.dates import date_getter, parse_date
from jira_simulator.jql.errors import JqlError, field_error, operator_error, value_error
from jira_simulator.jql.fields import DATE_FIELDS, FIELD_ALIASES, ORDERED_ID_FIELDS, TEXT_FIELDS, USER_FIELDS
from jira_simulator.jql.ordering import sort_key
from jira_simulator.jql.parser import parse_jql
from jira_simulator.jql.syntax import EMPTY, And, Clause, Function, Node, Not, Operand, Or, Query
from jira_simulator.model import STATUS_CATEGORIES, Issue, Site, World

Predicate = Callable[[Issue], bool]


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


def _literal(value: Operand, field_name: str) -> str:
    if isinstance(value, Function):
        raise JqlError(f"Unable to find JQL function '{value.name}({', '.join(value.args)})'.")
    return value


_COMPARE: dict[str, Callable[[int, int], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


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
            and p.live
        }
        if not found:
            raise value_error(text, name)
        return found

    def named_ids(self, value: Operand, name: str, items: dict[str, Any]) -> set[str]:
        text = _literal(value, name)
        wanted = text.casefold()
        found = {key for key, item in items.items() if key == text or item.name.casefold() == wanted}
        if not found:
            raise value_error(text, name)
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
            raise value_error(_literal(value, name), name)
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
        raise value_error(value, name)

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
            raise field_error(name)
        op = clause.operator
        if op in ("is", "is not"):
            return self._emptiness(canonical, name, op == "is")
        if canonical in DATE_FIELDS:
            return self._date_clause(canonical, name, op, clause.values)
        if canonical in TEXT_FIELDS:
            return self._text_clause(canonical, name, op, clause.values)
        if op in ("~", "!~"):
            raise operator_error(op, name)
        if canonical in ORDERED_ID_FIELDS and op in (">", ">=", "<", "<="):
            return self._ordered_id_clause(canonical, name, op, clause.values[0])
        if op not in ("=", "!=", "in", "not in"):
            raise operator_error(op, name)
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
        raise field_error(name)

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
            raise operator_error("is" if want_empty else "is not", name)
        if want_empty:
            return lambda issue: getter(issue) is None
        return lambda issue: getter(issue) is not None

    def _date_clause(self, canonical: str, name: str, op: str, values: tuple[Operand, ...]) -> Predicate:
        if op in ("~", "!~"):
            raise operator_error(op, name)
        getter = date_getter(canonical, self.site)
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
            raise operator_error(op, name)
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


def compile_query(query: Query, context: JqlContext) -> CompiledQuery:
    compiler = _Compiler(context)
    predicate: Predicate = compiler.compile(query.where) if query.where is not None else (lambda issue: True)
    return CompiledQuery(query, predicate, sort_key(query.order_by, context), compiler.plan(query.where))


def issue_matches(jql: str, issue: Issue, site: Site, world: World, account_id: str | None = None) -> bool:
    """Whether one issue matches a JQL filter (for webhook registrations); raises `JqlError` if invalid."""
    context = JqlContext(site, world, account_id, world.clock.now_ms())
    query = parse_jql(jql)
    if query.where is None:
        return True
    return compile_query(query, context).predicate(issue)
