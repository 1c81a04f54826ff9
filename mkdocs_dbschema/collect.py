"""One read of the database for a whole site: catalog, redacted samples, plans.

The plugin (and any other front end) says what it needs; this module opens one
read-only, time-bounded session (and a second beside it, catalog/beside.py), reads
it all in a fixed number of statements and returns plain data. Every failure comes
back as a DatabaseError whose one line says what was being read, never a driver
traceback.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import URL

from .analysis.redaction import Redactor, Sample, redact_defaults, redact_sample, redact_schema_text
from .catalog.beside import Beside, Shared, cancel
from .catalog.connection import (
    DatabaseError,
    SessionSettings,
    connect,
    create_engine,
    mask_secrets,
    parse_url,
)
from .catalog.embedded import EmbeddedError, EmbeddedServer
from .catalog.fingerprint import read_fingerprint
from .catalog.model import Catalog, Table
from .catalog.names import TableRef
from .catalog.overview import read_overview
from .catalog.planner import PlannerError, PlannerStats, dump_schema, read_planner_stats, restore
from .catalog.plans import PLAN_TIMEOUT_MS, QueryPlan, plan_query, untrusted_calls
from .catalog.reader import read_catalog
from .catalog.samples import LOCK_BUDGET, Budget, parts, read_samples
from .catalog.watchdog import Watchdog, guard, watchdog_of

# Their rows hold other sessions' queries, settings and role data: read only on request.
SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema"})


@dataclass(frozen=True)
class SampleRequest:
    limit: int  # the most rows any directive asks for
    explicit: bool = False  # some directive said `samples: N`


@dataclass(frozen=True)
class Collection:
    catalog: Catalog
    samples: dict[str, Sample] = field(default_factory=dict)  # by table key
    plans: dict[str, QueryPlan] = field(default_factory=dict)  # by query pattern
    warnings: tuple[str, ...] = ()  # for the build log
    fingerprint: str | None = None  # of the database when this was read (on request)


def sample_limit(table: Table, request: SampleRequest) -> int:
    if table.schema in SYSTEM_SCHEMAS and not request.explicit:
        return 0
    return request.limit


@contextmanager
def _session(url: URL, settings: SessionSettings) -> Iterator[sa.Connection]:
    """One read-only, time-bounded connection, watched client-side; disposed after."""
    engine = create_engine(url, settings)
    guard(engine, settings.connect_timeout + settings.statement_timeout / 1000)
    try:
        with connect(engine) as conn:
            yield conn
    finally:
        engine.dispose()


@contextmanager
def _reading(
    dog: Watchdog | None, what: str, beside: Callable[[], Watchdog | None] = lambda: None
) -> Iterator[None]:
    """Turn a lost connection or a silent server into one line naming `what`; `beside`
    gives the watchdog of the second session, if one opened."""
    try:
        yield
    except (sa.exc.SQLAlchemyError, psycopg.Error, DatabaseError) as error:
        fired = next((d for d in (dog, beside()) if d is not None and d.fired), None)
        if fired is not None:
            raise DatabaseError(
                f"the server stopped answering while {what}: no reply within {fired.limit:g} s "
                "(statement_timeout + connect_timeout); check the server and the network"
            ) from None
        if isinstance(error, DatabaseError):  # already one line, naming its query
            raise
        reason = " ".join(str(_first_cause(error)).split())
        raise DatabaseError(f"connection lost while {what}: {mask_secrets(reason)}") from None


def _first_cause(error: BaseException) -> BaseException:
    """The driver error that started it: after a lost connection, the rollback that
    follows fails too ("the connection is closed") and hides the reason."""
    first: BaseException = error
    seen: BaseException | None = error
    while seen is not None:
        # Only a connection's own error: a data error before it may quote row data.
        if isinstance(seen, psycopg.OperationalError):
            first = seen
        seen = getattr(seen, "orig", None) or seen.__context__
    return first


def collect(
    url: URL,
    settings: SessionSettings,
    tables: Mapping[TableRef, SampleRequest],
    patterns: Mapping[str, Sequence[str]] | Sequence[str] = (),
    *,
    redactor: Redactor | None,
    max_value_length: int,
    plan_functions: Sequence[str] = (),
    overview_schemas: Sequence[str] | None = None,
    schemas: Sequence[str] = (),
    schema_samples: SampleRequest | None = None,
    fingerprint: bool = False,
    reuse: Collection | None = None,
) -> Collection:
    """Everything the pages ask for. `patterns` maps each query pattern to the functions
    its page allows planning to run; `plan_functions` are allowed everywhere (globs over
    `schema.name`). With `overview_schemas` (None: no overview), every relation of those
    schemas and of the documented tables' schemas is summarised too. Every relation of
    `schemas` is read whole as well (listed by the overview: no query per table), each
    with `schema_samples`.

    With `fingerprint`, the session first reads the schema fingerprint and keeps it on
    the collection. `reuse` (a collection read with its fingerprint, for the same
    arguments) comes back as it is, after that one statement, when the fingerprint
    still matches: nothing the cards show has changed since."""
    with _session(url, settings) as conn:
        dog = watchdog_of(conn)
        stamp = None
        if fingerprint or reuse is not None:
            with _reading(dog, "reading the schema fingerprint"):
                stamp = read_fingerprint(conn)
            if reuse is not None and reuse.fingerprint == stamp:
                return reuse
        with Beside(conn.engine) as beside:
            with _reading(dog, "reading the catalog", beside.watchdog):
                if schemas:
                    tables = {**schema_tables(conn, schemas, schema_samples or SampleRequest(0)), **tables}
                    overview_schemas = sorted({*(overview_schemas or ()), *schemas})
                read = read_catalog(conn, list(tables), overview_schemas=overview_schemas, beside=beside)
            # Sample rows on both sessions, each taking the next part nobody has begun, while
            # this thread redacts the schema's text (the sessions mostly wait for the server).
            budget = Budget(settings.statement_timeout)
            sampling = Shared(
                parts(_sample_requests(read, tables), SAMPLE_PARTS),
                lambda session, part: _samples(session, read, part, redactor, max_value_length, budget),
            )
            started = beside.start(sampling.take)
            with ThreadPoolExecutor(1, thread_name_prefix="dbschema-samples") as own_session:
                mine = own_session.submit(sampling.take, conn)
                try:
                    catalog = (
                        read if redactor is None else redact_schema_text(redact_defaults(read, redactor))
                    )
                    with _reading(dog, "reading sample rows", beside.watchdog):
                        read_parts = mine.result() + started.result(conn)
                except BaseException:
                    # Failed or interrupted: no part is begun, and this session's read ends
                    # (the second session's is cancelled as it closes).
                    sampling.close()
                    budget.spend()
                    cancel(conn)
                    raise
            by_key = sorted(item for part in read_parts for item in part.items())
        samples = {key: sample for key, (sample, _) in by_key}
        warnings = [warning for _, (_, warning) in by_key if warning is not None]
        with _reading(dog, "planning query patterns"):
            plans = _plan(conn, patterns, plan_functions, settings)
    return Collection(catalog, samples, plans, tuple(warnings), stamp)


def _plan(
    conn: sa.Connection,
    patterns: Mapping[str, Sequence[str]] | Sequence[str],
    plan_functions: Sequence[str],
    settings: SessionSettings,
) -> dict[str, QueryPlan]:
    """Plan each pattern, unless planning it may run a function nobody allowed."""
    plans: dict[str, QueryPlan] = {}
    allowed = dict(patterns) if isinstance(patterns, Mapping) else dict.fromkeys(patterns, ())
    timeout = min(settings.statement_timeout, PLAN_TIMEOUT_MS)
    calls = untrusted_calls(conn, list(allowed))
    for query, page_allows in allowed.items():
        globs = (*plan_functions, *page_allows)
        refused = [u for u in calls[query] if not any(fnmatchcase(u.function, g) for g in globs)]
        plans[query] = (
            QueryPlan(refused=tuple(refused)) if refused else plan_query(conn, query, len(plans), timeout)
        )
    return plans


def read_planner(
    url: URL, settings: SessionSettings, catalog: Catalog, redactor: Redactor | None, *, values: bool = False
) -> PlannerStats:
    """Planner statistics and the DDL of the schemas `catalog` documents, for a snapshot
    that plans offline as this database would (`values`: see read_planner_stats)."""
    schemas = sorted({t.schema for t in catalog.tables.values()})
    with _session(url, settings) as conn, _reading(watchdog_of(conn), "reading planner statistics"):
        stats = read_planner_stats(conn, schemas, redactor, values=values)
    pg_dump = EmbeddedServer.pg_dump()
    try:
        schema_sql = dump_schema(url, schemas, pg_dump, settings.statement_timeout, settings.lock_timeout)
    except PlannerError as error:
        raise DatabaseError(str(error)) from None
    # Defaults and bodies hold values too (an address as a DEFAULT): the value rules apply
    # as on the cards. The DDL only serves planning, so a masked literal costs nothing.
    if redactor is not None:
        schema_sql = redactor.text(schema_sql)
    return dataclasses.replace(stats, schema_sql=schema_sql)


def plan_offline(
    planner: PlannerStats,
    search_path: str,
    patterns: Mapping[str, Sequence[str]] | Sequence[str],
    plan_functions: Sequence[str],
    settings: SessionSettings,
    server: EmbeddedServer,
    loaded: str | None = None,
) -> tuple[str, dict[str, QueryPlan], list[str]]:
    """Plan `patterns` on the embedded server loaded with a snapshot's schema and planner
    statistics: (its URL, to pass back as `loaded` while the snapshot is the same; the
    plans; what did not load, for the log)."""
    problems: list[str] = []
    uri = loaded
    try:
        if uri is None:
            uri, problems = server.database_from_schema(planner.schema_sql, planner.roles)
            problems += restore(uri, planner)
        with _session(parse_url(uri), dataclasses.replace(settings, search_path=search_path)) as conn:
            plans = _plan(conn, patterns, plan_functions, settings)
    except (EmbeddedError, PlannerError, psycopg.Error, sa.exc.SQLAlchemyError, OSError) as error:
        reason = " ".join(str(getattr(error, "orig", None) or error).split())
        raise DatabaseError(f"planning offline on the embedded PostgreSQL failed: {reason}") from None
    return uri, plans, problems


def schema_tables(
    conn: sa.Connection, schemas: Sequence[str], request: SampleRequest
) -> dict[TableRef, SampleRequest]:
    """Every relation of `schemas` (partitions under their root), from one overview read."""
    wanted = set(schemas)
    overview = read_overview(conn, schemas=sorted(wanted))
    return {TableRef(s.schema, s.name): request for s in overview.values() if s.schema in wanted}


def _sample_requests(catalog: Catalog, tables: Mapping[TableRef, SampleRequest]) -> list[tuple[Table, int]]:
    """Each table to sample once, with the most rows any of its directives asks for."""
    limits: dict[str, int] = {}
    for ref, request in tables.items():
        key = catalog.resolved.get(str(ref))
        if key is not None:
            limit = sample_limit(catalog.tables[key], request)
            if limit > 0:
                limits[key] = max(limit, limits.get(key, 0))
    return [(catalog.tables[key], limit) for key, limit in sorted(limits.items())]


# Parts of the sample read that two sessions share out; each session holds half the
# relation locks one session may (the lock table is the server's, see samples.py).
SAMPLE_PARTS = 4


def _samples(
    conn: sa.Connection,
    catalog: Catalog,
    wanted: Sequence[tuple[Table, int]],
    redactor: Redactor | None,
    max_value_length: int,
    budget: Budget,
) -> dict[str, tuple[Sample, str | None]]:
    """Read, then at once redact, the sample rows of `wanted`: each with its warning, if any."""
    limits = {table.key: limit for table, limit in wanted}
    samples: dict[str, tuple[Sample, str | None]] = {}
    raw_samples = read_samples(conn, wanted, catalog.role, budget=budget, lock_budget=LOCK_BUDGET // 2)
    for key, raw in raw_samples.items():
        table = catalog.tables[key]
        sample = redact_sample(raw, table, limits[key], redactor, max_value_length)
        # The redacted note: a server error may quote row data.
        samples[key] = sample, f"sample rows of {table.display}: {sample.note}" if raw.problem else None
    return samples


def merge(first: Collection, second: Collection) -> Collection:
    """A later read (directives another plugin added) on top of the first."""
    a, b = first.catalog, second.catalog
    catalog = dataclasses.replace(
        b,
        tables={**a.tables, **b.tables},
        types={**a.types, **b.types},
        graph={**a.graph, **b.graph},
        names={**a.names, **b.names},
        resolved={**a.resolved, **b.resolved},
        hints={**a.hints, **b.hints},
        overview={**a.overview, **b.overview},
        functions={**a.functions, **b.functions},
        extensions=b.extensions or a.extensions,
        api_schemas=b.api_schemas or a.api_schemas,
    )
    return Collection(
        catalog,
        {**first.samples, **second.samples},
        {**first.plans, **second.plans},
        first.warnings + second.warnings,
    )
