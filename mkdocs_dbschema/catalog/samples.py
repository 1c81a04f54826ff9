"""Sample rows, read as PostgreSQL prints them, in a deterministic order.

Rows are raw here and may hold secrets: the plugin hands them straight to the
redactor and never keeps, logs or serializes them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql

from .connection import mask_secrets
from .model import Table
from .watchdog import kick


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
# every column; above it, sorting the whole table for five rows costs too much, and
# storage order is used. A table never analysed is judged by its size instead.
SORT_LIMIT = 10_000
SORT_BYTES = 1024 * 1024
# Views and foreign tables run code or reach other servers: each is read alone, so
# a slow one costs its own timeout once and keeps the others' rows.
ALONE_KINDS = frozenset({"view", "foreign table"})


def sample_order(table: Table) -> tuple[str, ...] | None:
    """The columns sample rows are ordered by: the primary key, else a unique key over NOT
    NULL columns; `()`: every column's text (small tables); None: the order rows come in."""
    readable = set(_split_columns(table)[0])
    primary = table.primary_key
    if primary is not None and set(primary.columns) <= readable:
        return primary.columns
    readable_key = next((key for key in table.unique_keys if set(key) <= readable), None)
    if readable_key is not None:
        return readable_key
    if table.kind in ALONE_KINDS:  # sorting would compute the whole view first
        return None
    if table.row_estimate is None:
        return () if table.table_bytes <= SORT_BYTES else None
    return () if table.row_estimate <= SORT_LIMIT else None


@cache
def _rows_template(values: int, keys: int, sorted_by_values: bool) -> sql.SQL:
    """_rows_query's statement for a shape of table: `{}` for the table's identifiers
    (its columns', then its key columns', then the table's), `{limit}` for the limit. The
    template is this code's own text; only the identifiers come from the catalog."""
    aliases = [f'"v{i}"' for i in range(values)]
    key_aliases = [f'"k{i}"' for i in range(keys)]
    selected = [f"{{}}::text AS {alias}" for alias in aliases]
    selected += [f"{{}}.{{}} AS {alias}" for alias in key_aliases]
    sort = key_aliases or (aliases if sorted_by_values else [])
    by = f" ORDER BY {', '.join(sort)}" if sort else ""
    # Numbered aliases and placeholders only: composed once per shape, filled by psycopg.
    return sql.SQL(
        f"SELECT json_agg(to_json(ARRAY[{', '.join(aliases)}]){by}) FROM "  # noqa: S608
        f"(SELECT {', '.join(selected)} FROM {{}}{by} LIMIT {{limit}}) AS sample"
    )


def _rows_query(table: Table, limit: int, order: tuple[str, ...] | None) -> sql.Composed:
    """One JSON array of the first `limit` rows, each an array of column texts.

    Keys sort in their own type (10 after 2); every column sorts by its text (any type
    has one; not every type can be sorted). The aggregate orders again by the same
    keys, so the rows keep that order exactly.

    Storage order (no keys) is the scan's own order, kept stable by the session's
    synchronize_seqscans = off (see connection.py). Identifiers are quoted by psycopg;
    nothing from a page or the catalog is spliced in as text.
    """
    readable, _ = _split_columns(table)
    relation = sql.Identifier(table.schema, table.name)
    keys = order or ()
    identifiers = [sql.Identifier(c) for c in readable]
    for column in keys:
        identifiers += [relation, sql.Identifier(column)]
    return _rows_template(len(readable), len(keys), order == ()).format(
        *identifiers, relation, limit=sql.Literal(limit)
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


def _connection_lost(driver: psycopg.Connection[Any]) -> bool:
    return bool(driver.broken or driver.closed)


class Budget:
    """One time budget for the whole sample read: several slow views together cost
    it once, not one statement_timeout each (sessions sharing the read share it too)."""

    def __init__(self, total_ms: int) -> None:
        self.total_ms = total_ms
        self.ends = time.monotonic() + total_ms / 1000

    def left_ms(self) -> int:
        return max(0, int((self.ends - time.monotonic()) * 1000))

    def spend(self) -> None:
        """Nothing is left: reads not begun are noted as not read."""
        self.ends = time.monotonic()


def _read_alone(
    conn: sa.Connection, driver: psycopg.Connection[Any], table: Table, query: sql.Composed, budget: Budget
) -> list[list[str | None]] | None:
    """One relation's rows within what is left of the budget; raises psycopg.Error."""
    left = budget.left_ms()
    if left <= 0:
        raise _OverBudget
    kick(conn)
    with conn.begin_nested() as savepoint:
        driver.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(left)))
        row = driver.execute(query).fetchone()
        savepoint.rollback()  # gives back its locks (and the timeout); nothing was written
    return row[0] if row else None


_Query = tuple[Table, tuple[str, ...] | None, sql.Composed]


class _OverBudget(Exception):
    pass


# Relation locks one sample statement may hold. A read-only transaction keeps every lock
# it takes until it ends, and the lock table is shared by the whole server (about 64 per
# connection at the defaults): reading thousands of tables at once would leave the
# application's own queries "out of shared memory". Chunks within the budget are each
# rolled back to a savepoint once read, which gives their locks back.
LOCK_BUDGET = 1_000


def _lock_cost(table: Table) -> int:
    """The locks reading a table takes: itself, its TOAST table and every index the
    planner opens, for each partition of a partitioned table."""
    per_relation = 2 + len(table.indexes)
    return per_relation * max(1, len(table.partitions) + 1)


def parts(wanted: Sequence[tuple[Table, int]], count: int) -> list[list[tuple[Table, int]]]:
    """`wanted` in at most `count` consecutive parts of about equal lock cost (the work
    each part gives the server), for sessions that share the read."""
    costs = [_lock_cost(table) for table, _ in wanted]
    share = sum(costs) / count if wanted else 1
    found: list[list[tuple[Table, int]]] = [[] for _ in range(count)]
    spent = 0
    for item, cost in zip(wanted, costs, strict=True):
        found[min(count - 1, int(spent // share))].append(item)
        spent += cost
    return [part for part in found if part]


def _chunks(items: list[_Query], budget: int) -> Iterator[list[_Query]]:
    chunk: list[_Query] = []
    cost = 0
    for item in items:
        item_cost = _lock_cost(item[0])
        if chunk and cost + item_cost > budget:
            yield chunk
            chunk, cost = [], 0
        chunk.append(item)
        cost += item_cost
    if chunk:
        yield chunk


def _chunk_query(chunk: list[_Query]) -> sql.Composed:
    """One statement reading every table of a chunk: (number in the chunk, rows as JSON)."""
    return sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}, ({})").format(sql.Literal(n), query) for n, (_, _, query) in enumerate(chunk)
    )


def _read_chunk(
    conn: sa.Connection, driver: psycopg.Connection[Any], chunk: list[_Query]
) -> list[dict[int, Any] | None]:
    with conn.begin_nested() as savepoint:
        found = dict(driver.execute(_chunk_query(chunk)).fetchall())
        savepoint.rollback()  # gives back the chunk's locks; nothing was written
    return [found]


# Every chunk in one statement: a DO block reads each chunk in a block of its own and
# rolls that block back once read, which gives the chunk's locks back. A DO block
# returns nothing, so each chunk's rows come out as one notice. The reads were composed
# by psycopg (identifiers quoted) and reach the block in a transaction-local setting.
# Unless the server is known to keep notices out of its log (log_min_messages at warning
# or above), the block reads nothing: rows never reach a log, and each table is read alone.
READ_CHUNKS = """
DO $dbschema$
DECLARE
    chunk record;
    chunk_rows text;
BEGIN
    IF current_setting('log_min_messages') NOT IN ('warning', 'error', 'log', 'fatal', 'panic') THEN
        RAISE EXCEPTION USING ERRCODE = 'DBS02', MESSAGE = 'notices would reach the server log';
    END IF;
    PERFORM set_config('client_min_messages', 'notice', true);
    FOR chunk IN
        SELECT ordinality - 1 AS number, value AS query
        FROM json_array_elements_text(current_setting('dbschema.sample_reads')::json) WITH ORDINALITY
    LOOP
        BEGIN
            EXECUTE chunk.query INTO chunk_rows;
            RAISE NOTICE USING
                MESSAGE = 'dbschema-sample ' || chunk.number || ' ' || coalesce(chunk_rows, '{}');
            RAISE EXCEPTION USING ERRCODE = 'DBS01';  -- back to the block's start: its locks go
        EXCEPTION
            WHEN SQLSTATE 'DBS01' THEN NULL;
            WHEN OTHERS THEN NULL;  -- no notice: that chunk's tables are read alone
        END;
    END LOOP;
END
$dbschema$
"""


def _read_chunks(
    conn: sa.Connection, driver: psycopg.Connection[Any], chunks: list[list[_Query]]
) -> list[dict[int, Any] | None]:
    """Each chunk's rows by number in the chunk, None where the chunk failed; one
    statement whatever the number of chunks."""
    reads = [
        sql.SQL("SELECT json_object_agg(n, rows) FROM ({}) AS chunk (n, rows)")
        .format(_chunk_query(chunk))
        .as_string(driver)
        for chunk in chunks
    ]
    notices: dict[int, dict[int, Any]] = {}

    def collect(notice: psycopg.errors.Diagnostic) -> None:
        message = notice.message_primary or ""
        if message.startswith("dbschema-sample "):
            number, _, rows = message.removeprefix("dbschema-sample ").partition(" ")
            try:
                notices[int(number)] = {int(n): found for n, found in json.loads(rows).items()}
            except ValueError:  # not ours after all: that chunk's tables are read alone
                return

    driver.add_notice_handler(collect)
    try:
        with conn.begin_nested():
            driver.execute("SELECT set_config('dbschema.sample_reads', %s, true)", (json.dumps(reads),))
            driver.execute(READ_CHUNKS)
    except psycopg.Error:
        if _connection_lost(driver):
            raise
        # A timeout part-way: the chunks read before it keep their rows.
    finally:
        driver.remove_notice_handler(collect)
    return [notices.get(number) for number in range(len(chunks))]


def read_samples(
    conn: sa.Connection,
    wanted: Sequence[tuple[Table, int]],
    role: str,
    budget_ms: int = 30_000,
    lock_budget: int = LOCK_BUDGET,
    budget: Budget | None = None,
) -> dict[str, RawSample]:
    """Sample rows of every wanted table (by catalog key).

    Tables, partitions and materialized views are read in chunks of at most
    `lock_budget` relation locks, each giving its locks back once read, all in one
    statement; views and foreign tables one statement each. When the batch fails, each of its tables is
    read alone, so one unreadable table gets its note and the others their rows. Those
    reads share one budget of `budget_ms` (or `budget`, which sessions reading other
    tables may share); the batch is bounded by the session's statement_timeout. A lost
    connection is raised, not noted: nothing after it can be read.
    """
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    budget = budget or Budget(budget_ms)
    samples: dict[str, RawSample] = {}
    batched: dict[str, tuple[Table, tuple[str, ...] | None, sql.Composed]] = {}
    alone: dict[str, tuple[Table, tuple[str, ...] | None, sql.Composed]] = {}
    for table, limit in wanted:
        early = _unreadable(table, role)
        if early is not None:
            samples[table.key] = early
        else:
            order = sample_order(table)
            queries = alone if table.kind in ALONE_KINDS else batched
            queries[table.key] = (table, order, _rows_query(table, limit, order))
    chunks = list(_chunks(list(batched.values()), lock_budget))
    unread: dict[str, _Query] = {}
    try:
        kick(conn)
        if not chunks:  # views and foreign tables only: nothing to read in a batch
            read = []
        elif len(chunks) == 1:
            read = _read_chunk(conn, driver, chunks[0])
        else:
            read = _read_chunks(conn, driver, chunks)
    except psycopg.Error:
        if _connection_lost(driver):
            raise
        read = [None] * len(chunks)
    for chunk, found in zip(chunks, read, strict=True):
        if found is None:
            unread.update((item[0].key, item) for item in chunk)
            continue
        for n, (table, order, _) in enumerate(chunk):
            # The page shows the query: it says the order the rows were read in.
            samples[table.key] = _outcome(table, found.get(n), role, order)
    alone = {**unread, **alone}
    for table, order, query in alone.values():
        try:
            rows = _read_alone(conn, driver, table, query, budget)
        except _OverBudget:
            readable, hidden = _split_columns(table)
            note = (
                f"not read: slower relations used the whole sample-read budget "
                f"({budget.total_ms / 1000:g} s, the statement_timeout)"
            )
            samples[table.key] = RawSample(readable, hidden, (), note, True, order)
        except psycopg.Error as error:  # raised by the driver itself, not wrapped by SQLAlchemy
            if _connection_lost(driver):
                raise
            samples[table.key] = _failed(table, error, role, order)
        else:
            samples[table.key] = _outcome(table, rows, role, order)
    return samples
