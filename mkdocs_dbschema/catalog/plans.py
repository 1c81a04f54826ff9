"""Plan query patterns with EXPLAIN, never executing them.

A pattern is prepared through libpq's own prepare message (one statement only;
nothing is spliced into another statement), its `'[PLACEHOLDER]'` literals
become parameters, and `EXPLAIN EXECUTE` shows the generic plan, so a
placeholder plans like the real value would. All of it runs in the read-only
session, inside a savepoint, under statement_timeout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import pq, sql

from .connection import mask_secrets

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
class QueryPlan:
    nodes: tuple[PlanNode, ...] = ()
    placeholders: tuple[str, ...] = ()
    error: str | None = None

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
