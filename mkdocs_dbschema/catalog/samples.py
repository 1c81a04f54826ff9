"""Sample rows, read as PostgreSQL prints them, in a deterministic order.

Rows are raw here and may hold secrets: the plugin hands them straight to the
redactor and never keeps, logs or serializes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa
from psycopg import sql

from .connection import mask_secrets
from .model import Table


def _without_data(message: str, identifiers: set[str]) -> str:
    """The primary line of a server error, with every quoted value that is not a known
    identifier replaced: PostgreSQL quotes the offending data in messages such as
    `invalid input syntax for type bigint: "+34 612 ..."`."""
    primary = message.strip().splitlines()[0] if message.strip() else "unknown error"
    primary = re.sub(r'"([^"]*)"', lambda m: m.group() if m.group(1) in identifiers else '"…"', primary)
    return mask_secrets(" ".join(primary.split()))


@dataclass(frozen=True)
class RawSample:
    columns: tuple[str, ...]  # the columns the role may read, in table order
    hidden: tuple[str, ...]  # columns without SELECT privilege
    rows: tuple[tuple[str | None, ...], ...]
    note: str | None = None  # why there are no rows, when there are none
    problem: bool = False  # the note is worth a warning


def read_sample(conn: sa.Connection, table: Table, limit: int, role: str) -> RawSample:
    readable = tuple(c.name for c in table.columns if c.readable)
    hidden = tuple(c.name for c in table.columns if not c.readable)
    if not table.populated:
        return RawSample(readable, hidden, (), "the materialized view has not been populated yet")
    if not table.columns:
        return RawSample((), (), (), "the table has no columns")
    if not readable:
        return RawSample((), hidden, (), f"role {role} has no SELECT privilege on this table", True)
    primary = table.primary_key
    # Key columns are qualified: bare, `id` would name the `id::text` output column and
    # sort 10 before 2. Without a key, rows sort by every output column as text (any type
    # has a text form; not every type can be sorted).
    order = (
        [
            sql.SQL("{}.{}").format(sql.Identifier(table.schema, table.name), sql.Identifier(c))
            for c in primary.columns
        ]
        if primary is not None and set(primary.columns) <= set(readable)
        else [sql.Literal(i) for i in range(1, len(readable) + 1)]
    )
    # Identifiers are quoted by psycopg; nothing from a page or the catalog is spliced in as text.
    query = sql.SQL("SELECT {columns} FROM {table} ORDER BY {order} LIMIT {limit}").format(
        columns=sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in readable),
        table=sql.Identifier(table.schema, table.name),
        order=sql.SQL(", ").join(order),
        limit=sql.Literal(limit),
    )
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        with conn.begin_nested():
            rows = tuple(tuple(row) for row in driver.execute(query).fetchall())
    except psycopg.Error as error:  # raised by the driver itself, not wrapped by SQLAlchemy
        reason = _without_data(str(error), {table.schema, table.name, role, *readable, *hidden})
        return RawSample(readable, hidden, (), f"rows could not be read: {reason}", True)
    if rows:
        return RawSample(readable, hidden, rows)
    if table.rls_active:
        estimate = (
            "" if table.row_estimate is None else f" (it holds about {round(table.row_estimate):,} rows)"
        )
        note = f"row level security hides every row from role {role}{estimate}"
        return RawSample(readable, hidden, (), note, True)
    return RawSample(readable, hidden, (), "the table is empty")
