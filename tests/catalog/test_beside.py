"""The second session beside a read's own, on a real server."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
import pytest
import sqlalchemy as sa
from conftest import Server, ensure_role

from mkdocs_dbschema.analysis.redaction import Redactor
from mkdocs_dbschema.catalog.beside import Beside, shared
from mkdocs_dbschema.catalog.connection import SessionSettings, create_engine, parse_url
from mkdocs_dbschema.catalog.names import TableRef
from mkdocs_dbschema.collect import SampleRequest, collect


def _pid(conn: sa.Connection) -> int:
    return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _wait_for(conn: sa.Connection, query: str, **params: object) -> None:
    """Until `query` (on a session of its own, outside the read) finds a row."""
    deadline = time.monotonic() + 60
    while not conn.execute(sa.text(query), params).first():
        conn.rollback()  # a transaction sees one snapshot of pg_stat_activity
        assert time.monotonic() < deadline, f"never seen: {query}"
        time.sleep(0.02)


def test_work_runs_on_a_second_session_while_the_first_waits_for_it(server: Server) -> None:
    engine = create_engine(parse_url(server.admin_url), SessionSettings())
    try:
        with engine.connect() as first, engine.connect() as watcher, Beside(engine) as beside:
            first.execute(sa.text("SELECT pg_advisory_lock(4242)"))

            def blocked(conn: sa.Connection) -> int:
                conn.execute(sa.text("SELECT pg_advisory_lock(4242)"))  # until the first lets go
                conn.execute(sa.text("SELECT pg_advisory_unlock(4242)"))
                return _pid(conn)

            started = beside.start(blocked)
            # Run on the first session, the work would not wait: it holds the lock itself.
            _wait_for(
                watcher,
                "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted",
            )
            first.execute(sa.text("SELECT pg_advisory_unlock(4242)"))
            assert started.result(first) != _pid(first)
    finally:
        engine.dispose()


def test_shared_work_is_done_once_each_by_both_sessions(server: Server) -> None:
    engine = create_engine(parse_url(server.admin_url), SessionSettings())
    done: dict[int, int] = {}  # item: the backend that did it

    def work(conn: sa.Connection, item: int) -> int:
        done[item] = _pid(conn)
        deadline = time.monotonic() + 60
        while item == 0 and len(set(done.values())) < 2:  # the first item waits for the other session
            assert time.monotonic() < deadline, "the other session never took an item"
            time.sleep(0.01)
        return item * 10

    try:
        with engine.connect() as first, Beside(engine) as beside:
            results = shared(first, beside, range(6), work)
            assert sorted(results) == [0, 10, 20, 30, 40, 50]
            assert sorted(done) == list(range(6))
            assert _pid(first) in done.values() and len(set(done.values())) == 2
            assert shared(first, None, [1, 2], lambda conn, item: _pid(conn)) == [_pid(first)] * 2
    finally:
        engine.dispose()


LIMITED_SQL = (
    ensure_role("dbschema_one_session", "LOGIN CONNECTION LIMIT 1")
    + """
CREATE TABLE listings (id int PRIMARY KEY, title text);
INSERT INTO listings VALUES (1, 'Sea view'), (2, 'Garden');
GRANT SELECT ON listings TO dbschema_one_session;
"""
)


def test_a_role_allowed_one_connection_reads_everything_on_it(
    make_db: Callable[..., str], server: Server
) -> None:
    url = make_db(LIMITED_SQL)
    limited = sa.make_url(url).set(username="dbschema_one_session")
    dsn = limited.render_as_string(hide_password=False)
    with psycopg.connect(dsn), pytest.raises(psycopg.OperationalError, match="too many connections"):
        psycopg.connect(dsn).close()

    engine = create_engine(limited, SessionSettings())
    try:
        with engine.connect() as first, Beside(engine) as beside:
            assert beside.start(_pid).result(first) == _pid(first)
    finally:
        engine.dispose()

    found = collect(
        limited,
        SessionSettings(),
        {TableRef(None, "listings"): SampleRequest(5)},
        redactor=None,
        max_value_length=100,
        overview_schemas=[],
    )
    assert [c.name for c in found.catalog.tables["public.listings"].columns] == ["id", "title"]
    rows = found.samples["public.listings"].rows
    assert [[cell.text for cell in row] for row in rows] == [["1", "Sea view"], ["2", "Garden"]]
    assert set(found.catalog.overview) == {"public.listings"}


def test_a_read_that_fails_cancels_what_the_second_session_runs(server: Server) -> None:
    engine = create_engine(parse_url(server.admin_url), SessionSettings())
    outcome: list[BaseException] = []

    def slow(conn: sa.Connection) -> None:
        try:
            conn.execute(sa.text("SELECT pg_sleep(600), 'dbschema-beside-test'"))
        except sa.exc.DBAPIError as error:
            outcome.append(error.orig or error)

    try:
        with engine.connect() as watcher:
            with pytest.raises(RuntimeError), engine.connect(), Beside(engine) as beside:
                beside.start(slow)
                _wait_for(
                    watcher,
                    "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE :q",
                    q="%pg_sleep(600), 'dbschema-beside-test'%",
                )
                raise RuntimeError("the first session's read failed")
            assert [type(error) for error in outcome] == [psycopg.errors.QueryCanceled]
    finally:
        engine.dispose()


class _FailingRedactor(Redactor):
    """Fails on the schema's text (a column default), as the sessions read sample rows."""

    def text(self, value: str) -> str:
        if value == "0":
            raise RuntimeError("redaction failed")
        return super().text(value)


def test_a_read_that_fails_while_samples_are_read_begins_no_part(
    make_db: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sample rows are read on both sessions while the build redacts the schema's text: when
    that fails, the parts not begun stay unread (and the parts in flight are cancelled)."""
    url = make_db(
        # Four parts of one relation each: two slow views, which the sessions take first,
        # and two tables that a session would take next, once its view ended.
        "".join(f"CREATE VIEW slow{i} AS SELECT {i} AS n FROM pg_sleep(600);" for i in range(2))
        + "ALTER VIEW slow0 ALTER COLUMN n SET DEFAULT 0;"  # what the failing redactor is given
        + "CREATE TABLE t2 (n int); CREATE TABLE t3 (n int);"
    )
    sent: list[str] = []
    execute = psycopg.Connection.execute

    def recording(self: psycopg.Connection[object], query: object, *args: object, **kwargs: object) -> object:
        sent.append(query.as_string(self) if isinstance(query, psycopg.sql.Composable) else str(query))
        return execute(self, query, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(psycopg.Connection, "execute", recording)
    tables = {TableRef(None, name): SampleRequest(5) for name in ("slow0", "slow1", "t2", "t3")}
    with pytest.raises(RuntimeError, match="redaction failed"):
        collect(
            parse_url(url),
            SessionSettings(statement_timeout=3000),  # a view ends by then, cancelled or not
            tables,
            redactor=_FailingRedactor(),
            max_value_length=100,
            overview_schemas=[],
        )
    assert not [q for q in sent if '"t2"' in q or '"t3"' in q]
