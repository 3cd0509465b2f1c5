"""The transforms' DuckDB SQL, translated for PostgreSQL: one SQL source for both engines.

The SQL files and the SQL in the asset modules are written once, in DuckDB's dialect (what the
embedded default runs as it is). On a PostgreSQL warehouse every statement goes through
`to_postgres`: sqlglot parses it as DuckDB SQL, the rewrites below turn the DuckDB-only forms into
standard ones, and sqlglot's PostgreSQL generator writes the result (types, `INTERVAL` literals,
`epoch`, `list`, `list_contains`, `json_extract_string`, NULL ordering of `DESC`, typed division).

Rewrites sqlglot does not do, or does wrong, for our SQL:

| DuckDB | PostgreSQL |
|---|---|
| `CREATE OR REPLACE TABLE/VIEW x` | `DROP ... IF EXISTS x` + `CREATE` (temp objects in `pg_temp`, dropped with CASCADE) |
| `DROP VIEW v`, `DROP TABLE t` (no schema: a helper) | `... CASCADE` (PostgreSQL binds views when they are made) |
| `QUALIFY row_number() OVER (PARTITION BY p ORDER BY o) = 1` | `SELECT DISTINCT ON (p) ... ORDER BY p, o` (keeps `SELECT *` intact) |
| other `QUALIFY` | a subquery with explicit column aliases (`SELECT *` refused: it would leak a column) |
| `ANTI JOIN` / `SEMI JOIN` (`ON` or `USING`) | `NOT EXISTS` / `EXISTS` with qualified columns |
| `GROUP BY ALL` | `GROUP BY` the positions of the non-aggregate select items |
| `arg_max(a, v)` / `arg_min(a, v)` | `(array_agg(a ORDER BY v DESC/ASC) FILTER (WHERE a, v not null))[1]` |
| `any_value(x)` | `min(x)` (deterministic: both engines agree whenever the group's values do) |
| `TRY_CAST(x AS <integer>)` | `CASE WHEN x ~ '^[+-]?[0-9]+$' THEN CAST(x AS ...) END` |
| `TRY_CAST(x AS <other>)` | `pg_temp.jira_sync_try_<type>(x)` (created by the connection) |
| `contains(s, t)` | `strpos(s, t) > 0` |
| `json_extract_string(j, '$.' + key)` (`||`) | `json_extract_path_text(j, key)` (sqlglot would pass the JSONPath as a key) |
| `unnest(generate_series(...))` | `generate_series(...)` (a set-returning function in PostgreSQL) |
| `func(...)[i]` | `(func(...))[i]` |
| schema `jira`, `analytics` | the warehouse's working schemas (see `WORKING_SCHEMAS`) |

Forms with no PostgreSQL equivalent (`ASOF JOIN`, `DESCRIBE`, `read_csv`, `QUALIFY` over `SELECT *`
other than the row_number form) raise `UnsupportedSql` naming the form and what to write instead;
`tests/assets/warehouse/test_postgres_sql.py` translates every `.sql` file of the project, and the
dual-engine tests run them on both engines and compare the tables row for row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

# A marker sqlglot prints where a `?` placeholder was (then `%` is escaped for psycopg2).
_PLACEHOLDER = "\x00jira_sync_placeholder\x00"
_INTEGER_TYPES = {
    exp.DataType.Type.BIGINT: 18,
    exp.DataType.Type.INT: 9,
    exp.DataType.Type.SMALLINT: 4,
    exp.DataType.Type.TINYINT: 2,
    exp.DataType.Type.UBIGINT: 18,
    exp.DataType.Type.UINT: 9,
}
# TRY_CAST targets served by the session's helper functions (see `TRY_CAST_FUNCTIONS`).
_TRY_FUNCTIONS = {
    exp.DataType.Type.TIMESTAMPTZ: "jira_sync_try_timestamptz",
    exp.DataType.Type.TIMESTAMP: "jira_sync_try_timestamp",
    exp.DataType.Type.DATE: "jira_sync_try_date",
    exp.DataType.Type.DOUBLE: "jira_sync_try_double",
    exp.DataType.Type.BOOLEAN: "jira_sync_try_boolean",
}
TRY_CAST_FUNCTIONS = "\n".join(
    f"""
CREATE OR REPLACE FUNCTION pg_temp.{name}(value text) RETURNS {kind} LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN value::{kind};
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;"""
    for name, kind in (
        ("jira_sync_try_timestamptz", "timestamptz"),
        ("jira_sync_try_timestamp", "timestamp"),
        ("jira_sync_try_date", "date"),
        ("jira_sync_try_double", "double precision"),
        ("jira_sync_try_boolean", "boolean"),
    )
)


class UnsupportedSql(ValueError):
    """A DuckDB form with no PostgreSQL translation; the message says what to write instead."""


@dataclass(frozen=True)
class PostgresStatement:
    """One translated statement. With placeholders (`%s`), literal `%` are doubled for psycopg2."""

    text: str
    placeholders: int


def to_postgres(sql: str, schemas: tuple[tuple[str, str], ...] = ()) -> tuple[PostgresStatement, ...]:
    """The PostgreSQL statements of a DuckDB SQL text (one or several statements).

    `schemas` renames schemas (`(("jira", "jira_work"), ...)`): the warehouse's working schemas.
    """
    return _translate(sql, schemas)


@lru_cache(maxsize=1024)
def _translate(sql: str, schemas: tuple[tuple[str, str], ...]) -> tuple[PostgresStatement, ...]:
    try:
        parsed = sqlglot.parse(sql, read="duckdb")
    except ParseError as exc:
        raise UnsupportedSql(f"not DuckDB SQL sqlglot can read: {exc}\n{_excerpt(sql)}") from None
    rename = dict(schemas)
    out: list[PostgresStatement] = []
    for statement in parsed:
        if statement is None:
            continue
        for rewritten in _statements(statement):
            rewritten = rewritten.transform(_rewrite_all, copy=False)
            _alias_subqueries(rewritten)
            if rename:
                _rename_schemas(rewritten, rename)
            out.append(_generate(rewritten, sql))
    return tuple(out)


def _generate(tree: exp.Expr, source: str) -> PostgresStatement:
    placeholders = 0
    for node in list(tree.find_all(exp.Placeholder)):
        node.replace(exp.var(_PLACEHOLDER))
        placeholders += 1
    try:
        text = tree.sql("postgres", unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise UnsupportedSql(f"{exc}\n{_excerpt(source)}") from None
    if placeholders:
        text = text.replace("%", "%%").replace(_PLACEHOLDER, "%s")
    return PostgresStatement(text, placeholders)


def _excerpt(sql: str, limit: int = 600) -> str:
    text = " ".join(sql.split())
    return f"in: {text[:limit]}{' ...' if len(text) > limit else ''}"


def _statements(statement: exp.Expr) -> list[exp.Expr]:
    """`CREATE OR REPLACE` becomes a drop and a create; refused statements raise."""
    if isinstance(statement, exp.Describe):
        raise UnsupportedSql(
            "DESCRIBE has no PostgreSQL equivalent; read the columns with "
            "assets.warehouse.relation_columns(con, relation)"
        )
    if isinstance(statement, exp.Drop) and str(statement.args.get("kind") or "").upper() in ("TABLE", "VIEW"):
        # DuckDB binds views by name when they are read, PostgreSQL when they are made: dropping a
        # helper view or temp table another helper view reads needs CASCADE (the transforms' own
        # tables are always schema-qualified and keep the default RESTRICT)
        if str(statement.args["kind"]).upper() == "VIEW" or not any(
            t.args.get("db") for t in _dropped(statement)
        ):
            statement.set("cascade", True)
        return [statement]
    if isinstance(statement, exp.Create) and statement.args.get("replace"):
        kind = str(statement.args.get("kind") or "").upper()
        if kind in ("TABLE", "VIEW"):
            target = statement.this if isinstance(statement.this, exp.Table) else statement.this.this
            temporary = _is_temporary(statement)
            name = target.copy()
            if temporary:
                name.set("db", exp.to_identifier("pg_temp"))
            drop = exp.Drop(tables=[name], kind=kind, exists=True, cascade=temporary)
            create = statement.copy()
            create.set("replace", False)
            return [drop, create]
    return [statement]


def _dropped(drop: exp.Drop) -> list[exp.Table]:
    return [t for t in (drop.args.get("tables") or [drop.this]) if isinstance(t, exp.Table)]


def _is_temporary(create: exp.Create) -> bool:
    properties = create.args.get("properties")
    return bool(properties and properties.find(exp.TemporaryProperty))


def _rename_schemas(tree: exp.Expr, rename: dict[str, str]) -> None:
    """Working schemas by their warehouse names; in a catalog query also the names in its literals."""
    catalog = False
    for table in tree.find_all(exp.Table):
        schema = table.args.get("db")
        if isinstance(schema, exp.Identifier) and schema.name.lower() == "information_schema":
            catalog = True
        elif isinstance(schema, exp.Identifier) and schema.name.lower() in rename:
            table.set("db", exp.to_identifier(rename[schema.name.lower()], quoted=schema.quoted))
    if catalog:
        for literal in tree.find_all(exp.Literal):
            if literal.is_string and literal.name.lower() in rename:
                literal.replace(exp.Literal.string(rename[literal.name.lower()]))


def _alias_subqueries(tree: exp.Expr) -> None:
    """PostgreSQL before 16 requires an alias on every subquery in FROM and JOIN."""
    for number, subquery in enumerate(list(tree.find_all(exp.Subquery))):
        if isinstance(subquery.parent, exp.From | exp.Join) and not subquery.alias:
            subquery.set("alias", exp.TableAlias(this=exp.to_identifier(f"_sub{number}")))


def _rewrite_all(node: exp.Expr) -> exp.Expr:
    """`_rewrite`, then the same over a replacement's own subtree (sqlglot's transform skips it)."""
    rewritten = _rewrite(node)
    if rewritten is not node:
        rewritten = rewritten.transform(_rewrite_all, copy=False)
    return rewritten


def _rewrite(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Select):
        _group_by_all(node)
        _semi_and_anti_joins(node)
        if node.args.get("qualify"):
            return _qualify(node)
        return node
    if isinstance(node, exp.Join) and str(node.args.get("method") or "").upper() == "ASOF":
        raise UnsupportedSql(
            "ASOF JOIN has no PostgreSQL equivalent; join on equality and carry the last value with a "
            "window (e.g. a running sum over a calendar), as assets/analytics/flow_daily.sql does"
        )
    if isinstance(node, exp.TryCast):
        return _try_cast(node)
    if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, exp.AnyValue):
        return exp.Min(this=node.this.this)  # DuckDB's any_value ignores nulls; so does min
    if isinstance(node, exp.AnyValue):
        return exp.Min(this=node.this)
    if isinstance(node, exp.ArgMax | exp.ArgMin):
        return _arg_extreme(node, descending=isinstance(node, exp.ArgMax))
    if isinstance(node, exp.JSONExtractScalar | exp.JSONExtract) and not isinstance(
        node.expression, exp.JSONPath
    ):
        return _computed_json_path(node)
    if isinstance(node, exp.Contains):
        return exp.GT(this=exp.StrPosition(this=node.this, substr=node.expression), expression=_number(0))
    if isinstance(node, exp.Explode) and isinstance(node.this, exp.GenerateSeries):
        return node.this
    if isinstance(node, exp.Bracket) and isinstance(node.this, exp.Func):
        node.set("this", exp.Paren(this=node.this))
        return node
    if isinstance(node, exp.ReadCSV) or (isinstance(node, exp.Anonymous) and node.name.lower() == "read_csv"):
        raise UnsupportedSql("read_csv reads files on the DuckDB host; read the file in Python instead")
    return node


def _computed_json_path(node: exp.JSONExtractScalar | exp.JSONExtract) -> exp.Expr:
    """`json_extract_string(j, '$.' || key)`: PostgreSQL takes the key itself, not a JSONPath."""
    path = node.expression
    if isinstance(path, exp.DPipe) and isinstance(path.this, exp.Literal) and path.this.name == "$.":
        function = (
            "JSON_EXTRACT_PATH_TEXT" if isinstance(node, exp.JSONExtractScalar) else "JSON_EXTRACT_PATH"
        )
        return exp.Anonymous(this=function, expressions=[node.this, path.expression])
    raise UnsupportedSql(
        "a computed JSON path translates to PostgreSQL only as '$.' || <key> (one level); "
        f"got {path.sql('duckdb')}"
    )


def _number(value: int) -> exp.Literal:
    return exp.Literal.number(value)


def _group_by_all(select: exp.Select) -> None:
    group = select.args.get("group")
    if not (group and group.args.get("all")):
        return
    positions = []
    for position, item in enumerate(select.expressions, 1):
        if isinstance(item, exp.Star) or (isinstance(item, exp.Column) and isinstance(item.this, exp.Star)):
            raise UnsupportedSql("GROUP BY ALL over SELECT * cannot be translated; name the columns")
        if not _aggregates(item):
            positions.append(_number(position))
    select.set("group", exp.Group(expressions=positions) if positions else None)


def _aggregates(item: exp.Expr) -> bool:
    """Whether a select item aggregates (or is a window function): GROUP BY ALL leaves it out."""
    stack = [item]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.AggFunc | exp.Window):
            return True
        for child in node.iter_expressions():
            if not isinstance(child, exp.Subquery | exp.Select):
                stack.append(child)
    return False


def _semi_and_anti_joins(select: exp.Select) -> None:
    joins = select.args.get("joins") or []
    for index, join in enumerate(list(joins)):
        kind = str(join.args.get("kind") or "").upper()
        if kind not in ("ANTI", "SEMI"):
            continue
        condition = join.args.get("on")
        using = join.args.get("using")
        if condition is None and using:
            if index != 0:
                raise UnsupportedSql(
                    f"{kind} JOIN ... USING after another join: write ON with qualified columns"
                )
            left = select.args["from_"].this.alias_or_name
            right = join.this.alias_or_name
            condition = exp.and_(
                *(exp.column(c.name, left).eq(exp.column(c.name, right)) for c in using), copy=False
            )
        if condition is None:
            raise UnsupportedSql(f"{kind} JOIN needs ON or USING")
        exists: exp.Expr = exp.Exists(this=exp.select("1").from_(join.this.copy()).where(condition.copy()))
        if kind == "ANTI":
            exists = exp.Not(this=exists)
        join.pop()
        select.where(exists, copy=False)


def _qualify(select: exp.Select) -> exp.Expr:
    condition = select.args["qualify"].this
    first = _first_row_window(condition)
    if first is not None and _distinct_on_safe(select, first):
        partition = first.args.get("partition_by") or []
        order = first.args.get("order")
        ordered = [exp.Ordered(this=p.copy(), nulls_first=False) for p in partition]
        ordered += [o.copy() for o in (order.expressions if order else [])]
        select.set("qualify", None)
        select.set("distinct", exp.Distinct(on=exp.Tuple(expressions=[p.copy() for p in partition])))
        select.set("order", exp.Order(expressions=ordered))
        return select
    return _qualify_subquery(select, condition)


def _first_row_window(condition: exp.Expr) -> exp.Window | None:
    """The window of `row_number() OVER (PARTITION BY ... ORDER BY ...) = 1` (or `<= 1`), if that is the form."""
    if not isinstance(condition, exp.EQ | exp.LTE):
        return None
    window, other = condition.this, condition.expression
    if isinstance(other, exp.Window) and isinstance(condition, exp.EQ):
        window, other = other, window
    if not (isinstance(window, exp.Window) and isinstance(window.this, exp.RowNumber)):
        return None
    if not (isinstance(other, exp.Literal) and not other.is_string and other.name == "1"):
        return None
    if not window.args.get("partition_by") or window.args.get("alias") or window.args.get("spec"):
        return None
    return window


def _distinct_on_safe(select: exp.Select, window: exp.Window) -> bool:
    """DISTINCT ON moves the window's keys to the query's ORDER BY, where an output alias would
    shadow a column of the same name: only safe without such names (and without DISTINCT/ORDER/LIMIT)."""
    if any(select.args.get(arg) for arg in ("distinct", "order", "limit", "offset")):
        return False
    shadowing = {
        item.alias_or_name.lower()
        for item in select.expressions
        if isinstance(item, exp.Alias)
        and not (isinstance(item.this, exp.Column) and item.this.name.lower() == item.alias.lower())
    }
    order = window.args.get("order")
    keys = [*(window.args.get("partition_by") or []), *(o.this for o in (order.expressions if order else []))]
    for key in keys:
        if isinstance(key, exp.Literal):
            return False
        for column in [key, *key.find_all(exp.Column)]:
            if isinstance(column, exp.Column) and not column.table and column.name.lower() in shadowing:
                return False
    return True


def _qualify_subquery(select: exp.Select, condition: exp.Expr) -> exp.Expr:
    """The general QUALIFY: filter a subquery that computes the windows under explicit aliases."""
    if any(isinstance(item, exp.Star) or item.find(exp.Star) for item in select.expressions):
        raise UnsupportedSql(
            "QUALIFY over SELECT * translates to PostgreSQL only in the form "
            "`row_number() OVER (PARTITION BY ... ORDER BY ...) = 1`; name the columns"
        )
    if any(select.args.get(arg) for arg in ("order", "limit", "offset")):
        raise UnsupportedSql("QUALIFY together with ORDER BY/LIMIT: move them to an outer query")
    inner = select.copy()
    inner.set("qualify", None)
    outer_items: list[exp.Expr] = []
    inner_items: list[exp.Expr] = []
    for position, item in enumerate(inner.expressions):
        alias = f"_q{position}"
        inner_items.append(exp.alias_(item.unalias() if isinstance(item, exp.Alias) else item, alias))
        name = item.alias_or_name if isinstance(item, exp.Alias | exp.Column) else None
        outer_items.append(exp.alias_(exp.column(alias), name) if name else exp.column(alias))
    filter_condition = condition.copy()
    for number, window in enumerate(list(filter_condition.find_all(exp.Window))):
        alias = f"_qw{number}"
        inner_items.append(exp.alias_(window.copy(), alias))
        window.replace(exp.column(alias))
    inner.set("expressions", inner_items)
    return exp.select(*outer_items).from_(inner.subquery("_qualified")).where(filter_condition)


def _try_cast(node: exp.TryCast) -> exp.Expr:
    target = node.args["to"]
    digits = _INTEGER_TYPES.get(target.this)
    text = exp.Cast(this=node.this.copy(), to=exp.DataType.build("TEXT"))
    if digits is not None:
        pattern = exp.Literal.string(rf"^\s*[+-]?[0-9]{{1,{digits}}}\s*$")
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.RegexpLike(this=text, expression=pattern),
                    true=exp.Cast(this=node.this.copy(), to=target.copy()),
                )
            ]
        )
    function = _TRY_FUNCTIONS.get(target.this)
    if function is None:
        raise UnsupportedSql(
            f"TRY_CAST to {target.sql('duckdb')} has no PostgreSQL translation here; "
            f"supported: integers, {', '.join(t.name for t in _TRY_FUNCTIONS)}"
        )
    return exp.Anonymous(this=f"pg_temp.{function}", expressions=[text])


def _arg_extreme(node: exp.ArgMax | exp.ArgMin, *, descending: bool) -> exp.Expr:
    value, key = node.this, node.expression
    aggregate = exp.ArrayAgg(
        this=exp.Order(this=value.copy(), expressions=[exp.Ordered(this=key.copy(), desc=descending)])
    )
    present = exp.and_(
        exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())),
        exp.Not(this=exp.Is(this=key.copy(), expression=exp.Null())),
    )
    filtered = exp.Filter(this=aggregate, expression=exp.Where(this=present))
    return exp.Bracket(this=exp.Paren(this=filtered), expressions=[_number(0)])
