"""Plan query patterns with EXPLAIN, never executing them.

A pattern is prepared through libpq's own prepare message (one statement only;
nothing is spliced into another statement), its `'[PLACEHOLDER]'` literals
become parameters, and `EXPLAIN EXECUTE` shows the generic plan, so a
placeholder plans like the real value would. All of it runs in the read-only
session, inside a savepoint, under statement_timeout.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import pq, sql

from .connection import mask_secrets
from .watchdog import kick

PLACEHOLDER = re.compile(r"'\[([A-Z][A-Z0-9_]*)\]'")  # '[TENANT_ID]': upper case, so '[a-f]' stays a regex
PLAN_TIMEOUT_MS = 5_000


@dataclass(frozen=True)
class PlanNode:
    depth: int
    node_type: str
    relation: str | None
    index: str | None
    rows: float
    cost: float
    condition: str = ""  # what the step matches or filters on, as EXPLAIN prints it


@dataclass(frozen=True)
class Untrusted:
    """A function that is not built in, which planning a pattern may run."""

    function: str  # schema.name
    via: str  # "function" / "operator" / "relation" / "cast"
    word: str  # what in the pattern leads to it


@dataclass(frozen=True)
class QueryPlan:
    nodes: tuple[PlanNode, ...] = ()
    placeholders: tuple[str, ...] = ()
    error: str | None = None
    # Why it was not planned: planning would run functions nobody allowed.
    refused: tuple[Untrusted, ...] = ()

    @property
    def collapsed(self) -> bool:
        """The planner proved the query returns nothing: a step filtered by a constant
        `false` (PostgreSQL 18: `One-Time Filter: false`; 15: `Filter: false` or
        `Filter: (false AND ...)`), which row level security adds when the documenting
        role's policies admit no row."""
        return any(_CONSTANT_FALSE.match(part) for node in self.nodes for part in node.condition.split(" · "))

    @property
    def indexes(self) -> list[str]:
        return sorted({n.index for n in self.nodes if n.index})

    @property
    def sequential_scans(self) -> list[str]:
        return sorted({n.relation for n in self.nodes if n.node_type == "Seq Scan" and n.relation})


# Tokens that may hold `'[X]'` without it being a placeholder: comments, quoted
# identifiers, dollar-quoted bodies and any other string literal.
_TOKENS = re.compile(
    r"""--[^\n]*|/\*.*?\*/|"(?:[^"]|"")*"|(?P<dollar>\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$).*?(?P=dollar)"""
    r"""|[Ee]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'""",
    re.S,
)


def parametrize(query: str) -> tuple[str, tuple[str, ...]]:
    """`'[TENANT_ID]'` → `$1`, the same placeholder → the same parameter.

    Only a whole string literal is a placeholder: one in a comment, inside a longer
    literal (`'[a-f]+'`) or in a quoted identifier stays as written.
    """
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        placeholder = PLACEHOLDER.fullmatch(match.group())
        if placeholder is None:
            return match.group()
        if placeholder.group(1) not in names:
            names.append(placeholder.group(1))
        return f"${names.index(placeholder.group(1)) + 1}"

    return _TOKENS.sub(number, query), tuple(names)


# EXPLAIN's condition fields, shown in this order with these labels.
CONDITIONS = (
    ("Index Cond", "index"),
    ("Recheck Cond", "recheck"),
    ("Hash Cond", "hash"),
    ("Merge Cond", "merge"),
    ("Join Filter", "join filter"),
    ("Filter", "filter"),
    ("One-Time Filter", "one-time filter"),
)


def _walk(plan: dict[str, Any], depth: int = 0) -> list[PlanNode]:
    node = PlanNode(
        depth,
        plan.get("Node Type", "?"),
        plan.get("Relation Name"),
        plan.get("Index Name"),
        float(plan.get("Plan Rows", 0)),
        float(plan.get("Total Cost", 0)),
        " · ".join(f"{label}: {plan[key]}" for key, label in CONDITIONS if plan.get(key)),
    )
    return [node] + [n for child in plan.get("Plans", []) for n in _walk(child, depth + 1)]


_WORDS = re.compile(
    r"""--[^\n]*|/\*.*?\*/|(?P<dollar>\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$).*?(?P=dollar)"""
    r"""|[Ee]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'"""
    r"""|"(?P<quoted>(?:[^"]|"")*)"(?P<qcall>\s*\()?"""
    r"""|(?P<word>[^\W\d][\w$]*)(?P<call>\s*\()?"""
    r"""|(?P<operator>[-+*/<>=~!@#%^&|`?]+)""",
    re.S,
)


@dataclass(frozen=True)
class Words:
    """What a pattern names: candidates for functions, operators and relations."""

    functions: frozenset[str]
    operators: frozenset[str]
    relations: frozenset[str]


# Keywords that apply operators the pattern never spells out; planning may run those
# operators' functions too (folding constants, estimating selectivity from common values).
IMPLIED_OPERATORS = {
    "in": ("=", "<>"),
    "between": (">=", "<="),
    "like": ("~~", "!~~"),
    "ilike": ("~~*", "!~~*"),
    "similar": ("~", "!~"),
    "distinct": ("=",),  # IS DISTINCT FROM, SELECT DISTINCT
    "using": ("=",),  # JOIN ... USING (a)
    "natural": ("=",),
    "case": ("=",),  # CASE x WHEN y
    "nullif": ("=",),
}


def _operator_names(run: str) -> set[str]:
    """The operators a run of operator characters names, split as PostgreSQL's lexer
    splits it: a name ends in + or - only if it also holds one of ~ ! @ # % ^ & | ` ?
    (`x=-1` is `=` then a unary `-`), and `!=` means `<>`."""
    name = run
    while len(name) > 1 and name[-1] in "+-" and not any(c in "~!@#%^&|`?" for c in name):
        name = name[:-1]
    names = {name, *run[len(name) :]}
    return names | {"<>"} if "!=" in names else names


def pattern_words(query: str) -> Words:
    """Identifiers (folded as PostgreSQL folds them) and operators outside strings and comments."""
    functions: set[str] = set()
    operators: set[str] = set()
    relations: set[str] = set()
    for match in _WORDS.finditer(query):
        if match["operator"]:
            operators.update(_operator_names(match["operator"]))
            continue
        if match["quoted"] is not None:
            word, call = match["quoted"].replace('""', '"'), match["qcall"]
        elif match["word"]:
            word, call = match["word"].lower(), match["call"]
        else:
            continue  # a comment or a string
        relations.add(word)  # `INSERT INTO t (a)`: a name before `(` may be a table too
        if call:
            functions.add(word)
        if match["word"]:
            operators.update(IMPLIED_OPERATORS.get(word, ()))
    return Words(frozenset(functions), frozenset(operators), frozenset(relations))


_VIA = {
    "function": "called as {}",
    "operator": "behind the operator {}",
    "relation": "used by {}",
    "cast": "in a cast to {}",
}


def _reached(untrusted: Untrusted) -> str:
    if untrusted.via == "cast" and not untrusted.word:
        return "in an implicit or assignment cast"
    return _VIA[untrusted.via].format(untrusted.word)


def refusal(plan: QueryPlan) -> str:
    """Why a pattern was not planned, and how to allow it."""
    named = ", ".join(f"{u.function}() ({_reached(u)})" for u in plan.refused)
    listed = ", ".join(sorted({u.function for u in plan.refused}))
    return (
        f"it may run {named}. Planning evaluates STABLE and IMMUTABLE functions called with "
        f"constant arguments, so it can run their code. To allow it, list them in the plugin "
        f"option plan_functions ([{listed}]) or on the marker line (-- explain | functions: {listed})."
    )


def untrusted_calls(conn: sa.Connection, queries: Sequence[str]) -> dict[str, list[Untrusted]]:
    """For each query, the functions that are not built in which planning it may run:
    one statement for all of them."""
    words = {query: pattern_words(query) for query in queries}
    if not words:
        return {}
    rows = conn.execute(
        sa.text(resources.files(__package__).joinpath("sql/pattern_functions.sql").read_text("utf-8")),
        {
            "functions": sorted(set().union(*(w.functions for w in words.values()))),
            "operators": sorted(set().union(*(w.operators for w in words.values()))),
            "relations": sorted(set().union(*(w.relations for w in words.values()))),
        },
    ).all()
    found: dict[str, list[Untrusted]] = {}
    for query, named in words.items():
        kinds = {
            "function": named.functions,
            "operator": named.operators,
            "relation": named.relations,
            "cast": named.relations | {""},  # a type's name is a word too; '' applies to all
        }
        found[query] = [Untrusted(row.name, row.via, row.word) for row in rows if row.word in kinds[row.via]]
    return found


_CONSTANT_FALSE = re.compile(r"(?:one-time )?filter: (?:false$|\(false AND )")


class _PlanFailed(Exception):
    pass


def plan_query(conn: sa.Connection, query: str, number: int, timeout_ms: int = PLAN_TIMEOUT_MS) -> QueryPlan:
    text, names = parametrize(query)
    if not text.strip():
        return QueryPlan(error="the block holds no query")
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    statement = f"dbschema_pattern_{number}"
    try:
        with conn.begin_nested():
            result = driver.pgconn.prepare(statement.encode(), text.encode())
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise _PlanFailed((result.error_message or b"").decode("utf-8", "replace"))
            driver.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            # Planning evaluates STABLE and IMMUTABLE functions on constants: bound it.
            driver.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(int(timeout_ms))))
            arguments = sql.SQL("({})").format(sql.SQL(", ").join([sql.NULL] * len(names)))
            explain = sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE {}{}").format(
                sql.Identifier(statement), arguments if names else sql.SQL("")
            )
            kick(conn)  # the statements above share one watchdog period: explaining gets its own
            row = driver.execute(explain).fetchone()
            driver.execute(sql.SQL("DEALLOCATE {}").format(sql.Identifier(statement)))
    except (_PlanFailed, psycopg.Error) as error:
        # The primary message only: PostgreSQL's LINE/caret context shows the rewritten query.
        reason = str(error).strip().splitlines()[0].removeprefix("ERROR:").strip()
        return QueryPlan(placeholders=names, error=mask_secrets(reason))
    document = row[0] if row else None
    if not (
        isinstance(document, list) and document and isinstance(document[0], dict) and "Plan" in document[0]
    ):
        # EXPLAIN of SET, SHOW, VACUUM, DO ... says only "Utility Statement".
        return QueryPlan(
            placeholders=names, error="not a plannable query (SELECT, INSERT, UPDATE, DELETE, ...)"
        )
    return QueryPlan(tuple(_walk(document[0]["Plan"])), names)
