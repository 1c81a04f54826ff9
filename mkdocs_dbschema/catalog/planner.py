"""Planner statistics: read from one database, restored into the embedded PostgreSQL 18.

How a query plans depends on row and page counts and on per-column statistics
(pg_stats). A snapshot can carry them, with the schema's DDL from pg_dump, so that an
offline build plans query patterns as production would: the DDL is loaded into the
embedded server, the statistics are restored with `pg_restore_relation_stats` and
`pg_restore_attribute_stats` (PostgreSQL 18), and each table's and index's file is
extended to the recorded page count. That last step is needed because the planner
sizes a relation by its file, scaling `reltuples` by the pages it finds; the added
pages are sparse and all-zero, which PostgreSQL reads as empty pages, so they cost no
disk and hold no rows. The embedded server starts with autovacuum off for it: a
VACUUM would truncate the empty pages again, an ANALYZE overwrite the statistics.

Most common values and histograms are column data. They are kept only for columns no
redaction rule names and whose values no rule would mask; the other statistics
(null fraction, distinct count, correlation) stay.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import URL

from ..analysis.redaction import Redactor, mask_unambiguous
from .connection import mask_secrets
from .model import build
from .rows import query

PG_RESTORE_STATS = 180000  # server_version_num that has pg_restore_*_stats
DUMP_TIMEOUT = 600  # seconds
VALUE_FIELDS = ("most_common_vals", "histogram_bounds", "most_common_elems")
# pg_dump's per-run random key (psql's restricted mode); taken out so an unchanged
# schema dumps to the same bytes, and put back, freshly drawn, when loading.
RESTRICT_LINE = re.compile(r"^\\(?:un)?restrict \S+\n", re.M)


class PlannerError(Exception):
    """Statistics or DDL that could not be read; the message is one line, safe to print."""


@dataclass(frozen=True)
class RelationStats:
    schema: str
    name: str
    kind: str  # pg_class.relkind
    relpages: int
    reltuples: float
    relallvisible: int
    access_method: str | None = None  # btree, gin, heap, ...


@dataclass(frozen=True)
class ColumnStats:
    schema: str
    table: str
    column: str
    inherited: bool
    null_frac: float | None = None
    avg_width: int | None = None
    n_distinct: float | None = None
    most_common_vals: str | None = None
    most_common_freqs: tuple[float, ...] | None = None
    histogram_bounds: str | None = None
    correlation: float | None = None
    most_common_elems: str | None = None
    most_common_elem_freqs: tuple[float, ...] | None = None
    elem_count_histogram: tuple[float, ...] | None = None


@dataclass(frozen=True)
class PlannerStats:
    relations: tuple[RelationStats, ...] = ()
    columns: tuple[ColumnStats, ...] = ()
    schema_sql: str = ""  # pg_dump --schema-only of the same schemas
    roles: tuple[str, ...] = ()  # roles the DDL names (policies), created before loading


def _without_values(stats: ColumnStats) -> ColumnStats:
    return replace(
        stats,
        most_common_vals=None,
        most_common_freqs=None,
        histogram_bounds=None,
        most_common_elems=None,
        most_common_elem_freqs=None,
        elem_count_histogram=None,
    )


def redact_column_stats(stats: ColumnStats, redactor: Redactor | None) -> ColumnStats:
    """Value statistics only where no rule names the column or would mask a value;
    with no redactor (redaction off) none at all."""
    values = [getattr(stats, name) for name in VALUE_FIELDS if getattr(stats, name) is not None]
    if not values:
        return stats
    if redactor is None or redactor.column_rule(stats.column):
        return _without_values(stats)
    if any(redactor.text(value) != value for value in values):
        return _without_values(stats)
    return stats


def read_planner_stats(
    conn: sa.Connection, schemas: Sequence[str], redactor: Redactor | None, *, values: bool = False
) -> PlannerStats:
    """Three statements, whatever the number of relations. Column values (most common
    values, histograms) are kept for enum and boolean columns, whose values the schema
    names; with `values`, also for other table columns but JSON ones, as the redaction
    rules allow."""
    wanted = sorted(set(schemas))
    # Values print as the session's settings say; the embedded server reads them back
    # with its defaults.
    for setting in ("DateStyle = 'ISO, YMD'", "IntervalStyle = 'postgres'", "extra_float_digits = 3"):
        conn.execute(sa.text(f"SET LOCAL {setting}"))  # constants of this module
    relations = tuple(
        RelationStats(**dict(row._mapping))
        for row in conn.execute(query("planner_relations"), {"schemas": wanted})
    )
    columns = []
    for row in conn.execute(query("planner_columns"), {"schemas": wanted}):
        fields = dict(row._mapping)
        labelled, table_column, json_values = (
            fields.pop("labelled"),
            fields.pop("table_column"),
            fields.pop("json"),
        )
        for name in ("most_common_freqs", "most_common_elem_freqs", "elem_count_histogram"):
            if fields[name] is not None:
                fields[name] = tuple(fields[name])
        stats = ColumnStats(**fields)
        if labelled:
            columns.append(stats)
        elif values and table_column and not json_values:
            columns.append(redact_column_stats(stats, redactor))
        else:
            columns.append(_without_values(stats))
    roles = tuple(row.role for row in conn.execute(query("planner_roles"), {"schemas": wanted}))
    return PlannerStats(relations, tuple(columns), roles=roles)


def _literal_pattern(name: str) -> str:
    """A name as a pattern that matches it alone: double-quoted, inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def dump_schema(
    url: URL, schemas: Sequence[str], pg_dump: Path, statement_timeout_ms: int, lock_timeout_ms: int = 3_000
) -> str:
    """`pg_dump --schema-only` of `schemas`, unambiguous secrets masked. The password goes
    to pg_dump in its environment, never on its command line."""
    params: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "dbname": url.database,
        **{k: v for k, v in url.query.items() if isinstance(v, str) and "password" not in k},
    }
    env = dict(os.environ, PGOPTIONS=f"-c statement_timeout={statement_timeout_ms}")
    password = url.password if url.password is not None else url.query.get("password")
    if isinstance(password, str):
        env["PGPASSWORD"] = password
    command = [
        str(pg_dump),
        "--schema-only",
        "--no-owner",
        "--no-privileges",
        "--no-tablespaces",
        "--no-publications",
        "--no-subscriptions",
        "--no-security-labels",
        f"--lock-wait-timeout={lock_timeout_ms}",
        "--strict-names",
        # Quoted: a schema name is a pattern to pg_dump (case folded, * ? . wild).
        *("--schema=" + _literal_pattern(schema) for schema in sorted(set(schemas))),
        "--dbname",
        make_conninfo(**{k: v for k, v in params.items() if v is not None}),
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=DUMP_TIMEOUT, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PlannerError(f"pg_dump could not run: {error}") from None
    if result.returncode:
        reason = " ".join(result.stderr.split()) or f"exit code {result.returncode}"
        raise PlannerError(
            f"pg_dump failed: {mask_secrets(reason, password if isinstance(password, str) else None)}"
        )
    return mask_unambiguous(RESTRICT_LINE.sub("", result.stdout))


def load_statistics(path: Path) -> PlannerStats:
    """Planner statistics from a snapshot written with `--planner-stats`, or from a file
    holding just its `planner` part (the demo's)."""
    try:
        document = json.loads(path.read_text("utf-8"))
        if isinstance(document, dict) and "planner" in document:
            document = document["planner"]
        if not isinstance(document, dict) or not document.get("relations"):
            raise PlannerError(f"{path} holds no planner statistics (see `snapshot --planner-stats`)")
        return build(PlannerStats, document)
    except OSError as error:
        raise PlannerError(f"cannot read {path}: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise PlannerError(f"{path} is no planner statistics file: {type(error).__name__} {error}") from None


def restricted(schema_sql: str) -> str:
    """The DDL inside psql's restricted mode, as pg_dump writes it: no meta-command a
    hostile object name might smuggle in runs while it loads."""
    key = secrets.token_hex(16)
    return f"\\restrict {key}\n{schema_sql}\n\\unrestrict {key}\n"


def _extend(path: Path, pages: int, block_size: int, segment_pages: int) -> None:
    """Grow a relation's segment files to `pages` pages with sparse all-zero pages."""
    segment = 0
    while pages > 0:
        part = path if segment == 0 else path.with_name(f"{path.name}.{segment}")
        size = min(pages, segment_pages) * block_size
        if not part.exists() or part.stat().st_size < size:
            with part.open("ab") as file:
                file.truncate(size)
        pages -= segment_pages
        segment += 1


RESTORE_RELATIONS = """
SELECT count(*) FILTER (WHERE pg_restore_relation_stats(
    'schemaname', x.schema, 'relname', x.name, 'relpages', x.relpages,
    'reltuples', x.reltuples, 'relallvisible', x.relallvisible))
FROM jsonb_to_recordset(%s::jsonb)
    AS x(schema text, name text, relpages integer, reltuples real, relallvisible integer)
WHERE to_regclass(format('%%I.%%I', x.schema, x.name)) IS NOT NULL
"""

RESTORE_COLUMNS = """
SELECT count(*) FILTER (WHERE pg_restore_attribute_stats(
    'schemaname', x.schema, 'relname', x."table", 'attname', x."column", 'inherited', x.inherited,
    'null_frac', x.null_frac, 'avg_width', x.avg_width, 'n_distinct', x.n_distinct,
    'most_common_vals', x.most_common_vals, 'most_common_freqs', x.most_common_freqs,
    'histogram_bounds', x.histogram_bounds, 'correlation', x.correlation,
    'most_common_elems', x.most_common_elems, 'most_common_elem_freqs', x.most_common_elem_freqs,
    'elem_count_histogram', x.elem_count_histogram))
FROM jsonb_to_recordset(%s::jsonb)
    AS x(schema text, "table" text, "column" text, inherited boolean, null_frac real,
         avg_width integer, n_distinct real, most_common_vals text, most_common_freqs real[],
         histogram_bounds text, correlation real, most_common_elems text,
         most_common_elem_freqs real[], elem_count_histogram real[])
JOIN pg_attribute AS a
    ON a.attrelid = to_regclass(format('%%I.%%I', x.schema, x."table"))
   AND a.attname = x."column" AND NOT a.attisdropped
"""

STORAGE = """
SELECT n.nspname, c.relname, current_setting('data_directory') || '/' || pg_relation_filepath(c.oid)
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm', 'i')
  AND (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
"""


MAX_PAGES = 2**31 - 1  # BlockNumber's range less the invalid block


def check_statistics(stats: PlannerStats) -> None:
    """Numbers of the right kind and range, before any file is grown to them."""
    for r in stats.relations:
        numbers_ok = (
            all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_PAGES
                for v in (r.relpages, r.relallvisible)
            )
            and isinstance(r.reltuples, int | float)
            and r.reltuples >= -1
        )
        if not (numbers_ok and isinstance(r.schema, str) and isinstance(r.name, str)):
            raise PlannerError(f"planner statistics of {r.schema}.{r.name}: not page and row counts")


def restore(uri: str, stats: PlannerStats) -> list[str]:
    """Restore `stats` into the embedded server at `uri` (a superuser's, on this
    machine); the problems found, each one line."""
    check_statistics(stats)
    try:
        return _restore(uri, stats)
    except (psycopg.Error, OSError) as error:
        reason = " ".join(str(error).split())
        raise PlannerError(f"restoring planner statistics failed: {reason}") from None


def _restore(uri: str, stats: PlannerStats) -> list[str]:
    problems: list[str] = []
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.add_notice_handler(
            lambda notice: (
                problems.append(" ".join((notice.message_primary or "").split()))
                if notice.severity in ("WARNING", "ERROR")
                else None
            )
        )
        version = conn.info.server_version
        if version < PG_RESTORE_STATS:
            return [f"restoring planner statistics needs PostgreSQL 18 (the server is {version // 10000})"]
        settings: dict[str, int] = dict(
            conn.execute(
                "SELECT name, setting::bigint FROM pg_settings WHERE name IN ('block_size', 'segment_size')"
            ).fetchall()
        )
        pages = {(r.schema, r.name): r.relpages for r in stats.relations}
        names = list(pages)
        rows = conn.execute(STORAGE, ([s for s, _ in names], [n for _, n in names])).fetchall()
        for schema, name, path in rows:
            _extend(Path(path), pages[schema, name], settings["block_size"], settings["segment_size"])
        restored = conn.execute(RESTORE_RELATIONS, (json.dumps([asdict(r) for r in stats.relations]),))
        missing = len(stats.relations) - _count(restored)
        restored = conn.execute(RESTORE_COLUMNS, (json.dumps([asdict(c) for c in stats.columns]),))
        missing_columns = len(stats.columns) - _count(restored)
    if missing:
        problems.append(f"{missing} relation(s) of the statistics are not in the loaded schema")
    if missing_columns:
        problems.append(f"{missing_columns} column statistic(s) did not apply (no such column, bad values)")
    return problems


def _count(cursor: psycopg.Cursor[Any]) -> int:
    row = cursor.fetchone()
    return int(row[0]) if row else 0
