"""Sample rows, read as PostgreSQL prints them, in a deterministic order.

Rows are raw here and may hold secrets: the plugin hands them straight to the
redactor and never keeps, logs or serializes them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
    order: tuple[str, ...] | None = ()  # as sample_order says: what the rows are ordered by


def _split_columns(table: Table) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The columns the role may read, and those it may not, in table order."""
    readable = tuple(c.name for c in table.columns if c.readable)
    hidden = tuple(c.name for c in table.columns if not c.readable)
    return readable, hidden


def _unreadable(table: Table, role: str) -> RawSample | None:
    """Why no rows can be read at all, before asking the server."""
    readable, hidden = _split_columns(table)
    if not table.populated:
        return RawSample(readable, hidden, (), "the materialized view has not been populated yet")
    if not table.columns:
        return RawSample((), (), (), "the table has no columns")
    if not readable:
        return RawSample((), hidden, (), f"role {role} has no SELECT privilege on this table", True)
    return None


# Up to this many rows (by the planner's estimate), a table without a key is sorted by
# every column; above it, or never analyzed, sorting the whole table for five rows costs
# too much, and storage order is used.
SORT_LIMIT = 10_000


def sample_order(table: Table) -> tuple[str, ...] | None:
    """The columns sample rows are ordered by: the primary key, else a unique key over NOT
    NULL columns; `()`: every column's text (small tables); None: storage order."""
    readable = set(_split_columns(table)[0])
    primary = table.primary_key
    if primary is not None and set(primary.columns) <= readable:
        return primary.columns
    readable_key = next((key for key in table.unique_keys if set(key) <= readable), None)
    if readable_key is not None:
        return readable_key
    # A view has no row count to judge by; statement_timeout bounds its sort.
    if table.kind == "view" or (table.row_estimate is not None and table.row_estimate <= SORT_LIMIT):
        return ()
    return None


def _rows_query(table: Table, limit: int, order: tuple[str, ...] | None) -> sql.Composed:
    """One JSON array of the first `limit` rows, each an array of column texts.

    Keys sort in their own type (10 after 2); every column sorts by its text (any type
    has one; not every type can be sorted). The aggregate orders again by the same
    keys, so the rows keep that order exactly.
    """
    readable, _ = _split_columns(table)
    values = [sql.Identifier(f"v{i}") for i in range(len(readable))]
    selected = [
        sql.SQL("{}::text AS {}").format(sql.Identifier(c), v) for c, v in zip(readable, values, strict=True)
    ]
    keys: list[sql.Identifier] = []
    if order:
        keys = [sql.Identifier(f"k{i}") for i in range(len(order))]
        selected += [
            sql.SQL("{}.{} AS {}").format(sql.Identifier(table.schema, table.name), sql.Identifier(c), k)
            for c, k in zip(order, keys, strict=True)
        ]
    elif order == ():
        keys = values
    # Storage order (no keys): the scan's own order, kept stable by the session's
    # synchronize_seqscans = off (see connection.py).
    by = sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(keys)) if keys else sql.SQL("")
    # Identifiers are quoted by psycopg; nothing from a page or the catalog is spliced in as text.
    return sql.SQL(
        "SELECT json_agg(to_json(ARRAY[{values}]){by}) FROM "
        "(SELECT {selected} FROM {table}{by} LIMIT {limit}) AS sample"
    ).format(
        values=sql.SQL(", ").join(values),
        by=by,
        selected=sql.SQL(", ").join(selected),
        table=sql.Identifier(table.schema, table.name),
        limit=sql.Literal(limit),
    )


def _outcome(
    table: Table, rows: list[list[str | None]] | None, role: str, order: tuple[str, ...] | None
) -> RawSample:
    readable, hidden = _split_columns(table)
    if rows:
        return RawSample(readable, hidden, tuple(tuple(row) for row in rows), order=order)
    if table.rls_active:
        estimate = (
            "" if table.row_estimate is None else f" (it holds about {round(table.row_estimate):,} rows)"
        )
        note = f"row level security hides every row from role {role}{estimate}"
        return RawSample(readable, hidden, (), note, True, order)
    return RawSample(readable, hidden, (), "the table is empty", order=order)


def _failed(table: Table, error: psycopg.Error, role: str, order: tuple[str, ...] | None) -> RawSample:
    readable, hidden = _split_columns(table)
    reason = _without_data(str(error), {table.schema, table.name, role, *readable, *hidden})
    return RawSample(readable, hidden, (), f"rows could not be read: {reason}", True, order)


def read_samples(conn: sa.Connection, wanted: Sequence[tuple[Table, int]], role: str) -> dict[str, RawSample]:
    """Sample rows of every wanted table (by catalog key), in one statement.

    When that statement fails, each table is read on its own, so one unreadable table
    (an error raised by a view, a timeout) gets its note and the others their rows.
    """
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    samples: dict[str, RawSample] = {}
    queries: dict[str, tuple[Table, tuple[str, ...] | None, sql.Composed]] = {}
    for table, limit in wanted:
        early = _unreadable(table, role)
        if early is not None:
            samples[table.key] = early
        else:
            order = sample_order(table)
            queries[table.key] = (table, order, _rows_query(table, limit, order))
    if not queries:
        return samples
    batch = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}, ({})").format(sql.Literal(n), query)
        for n, (_, _, query) in enumerate(queries.values())
    )
    try:
        with conn.begin_nested():
            found = dict(driver.execute(batch).fetchall())
    except psycopg.Error:
        for table, order, query in queries.values():
            try:
                with conn.begin_nested():
                    row = driver.execute(query).fetchone()
            except psycopg.Error as error:  # raised by the driver itself, not wrapped by SQLAlchemy
                samples[table.key] = _failed(table, error, role, order)
            else:
                samples[table.key] = _outcome(table, row[0] if row else None, role, order)
        return samples
    for n, (table, order, _) in enumerate(queries.values()):
        # The page shows the query: it says the order the rows were read in.
        samples[table.key] = _outcome(table, found.get(n), role, order)
    return samples
