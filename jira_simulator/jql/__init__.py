"""JQL: the subset real sync tools send, parsed and evaluated the way Jira Cloud does.

`parse_jql(text)` gives a `Query` (or raises `JqlError` with Jira's messages);
`compile_query(query, context)` resolves names against a site and gives a `CompiledQuery` with
an issue predicate, a sort key and an index plan (project ids and created/updated ranges from
the top-level AND) so windowed searches do not scan every issue.

Dates without a zone (`"2024/01/31 10:00"`, `"2024-01-31"`) and date functions are read in the
**calling user's time zone**, as Jira does; relative periods (`-1d`, `-15m`, `4w 2d`) count from
the simulated clock; a bare number is epoch milliseconds and needs no zone.

`issue_matches(jql, issue, site, world)` evaluates one JQL filter against one issue (webhooks).

Modules: `lexer` (tokens), `syntax` (the tree), `parser`, `fields` (names and aliases), `dates`,
`context`, `ordering` (ORDER BY), `compiler` (predicate and index plan), `errors`.
"""

from __future__ import annotations

from jira_simulator.jql.compiler import CompiledQuery, IndexPlan, Predicate, compile_query, issue_matches
from jira_simulator.jql.context import JqlContext
from jira_simulator.jql.errors import UNBOUNDED, JqlError
from jira_simulator.jql.parser import parse_jql
from jira_simulator.jql.syntax import EMPTY, And, Clause, Function, Node, Not, Operand, Or, Query, SortField

__all__ = [
    "EMPTY",
    "UNBOUNDED",
    "And",
    "Clause",
    "CompiledQuery",
    "Function",
    "IndexPlan",
    "JqlContext",
    "JqlError",
    "Node",
    "Not",
    "Operand",
    "Or",
    "Predicate",
    "Query",
    "SortField",
    "compile_query",
    "issue_matches",
    "parse_jql",
]
