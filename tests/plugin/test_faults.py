"""A server that dies or falls silent in the middle of a build: one line, never a
traceback, never a hang."""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from sites import build

pytestmark = pytest.mark.embedded_only


class FreezingProxy:
    """Forwards a PostgreSQL connection until the client sends `trigger`, then stops
    passing bytes either way while keeping both sockets open: to the client, a frozen
    backend or a network that drops packets silently."""

    def __init__(self, upstream_url: str, trigger: bytes) -> None:
        url = sa.make_url(upstream_url)
        host = url.query.get("host") or url.host or "127.0.0.1"
        self.upstream: tuple[int, object] = (
            (socket.AF_UNIX, f"{unquote(str(host))}/.s.PGSQL.{url.port or 5432}")
            if str(host).startswith("/")
            else (socket.AF_INET, (host, url.port or 5432))
        )
        self.database = url.database
        self.trigger = trigger
        self.frozen = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = [self.listener]
        self.closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self) -> str:
        return (
            f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}?sslmode=disable&gssencmode=disable"
        )

    def _serve(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            family, address = self.upstream
            server = socket.socket(family)  # type: ignore[arg-type]
            server.connect(address)  # type: ignore[arg-type]
            self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, server)
        selector.register(server, selectors.EVENT_READ, client)
        while not self.closed.is_set():
            for key, _ in selector.select(timeout=0.2):
                if self.frozen.is_set():
                    continue
                source = key.fileobj
                assert isinstance(source, socket.socket)
                try:
                    data = source.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                if source is client and self.trigger in data:
                    self.frozen.set()  # this message never arrives; nothing ever comes back
                    continue
                key.data.sendall(data)

    def close(self) -> None:
        self.closed.set()
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def freezing_proxy(sections_url: str) -> Iterator[type[FreezingProxy]]:
    proxies: list[FreezingProxy] = []

    def make(trigger: bytes) -> FreezingProxy:
        proxies.append(FreezingProxy(sections_url, trigger))
        return proxies[-1]

    yield make  # type: ignore[misc]
    for proxy in proxies:
        proxy.close()


PAGE = (
    "<< table: tenants >>\n\n<< table: open_bookings >>\n\n```sql\n-- explain\nSELECT * FROM tenants;\n```\n"
)


@pytest.mark.parametrize(
    ("trigger", "what"),
    [
        (b"current_schemas(true)", "reading the catalog"),
        (b"json_agg(to_json(ARRAY[", "reading sample rows"),
        (b"EXPLAIN", "planning query patterns"),
    ],
)
def test_a_server_that_stops_answering_ends_the_build(
    freezing_proxy, tmp_path: Path, trigger: bytes, what: str
) -> None:  # type: ignore[no-untyped-def]
    proxy = freezing_proxy(trigger)
    options = {"dsn": proxy.url(), "statement_timeout": 1000, "connect_timeout": 2}
    result = build(tmp_path, {"index.md": PAGE}, options)
    assert proxy.frozen.is_set()  # the server really fell silent mid-build
    assert result.returncode != 0 and "Traceback" not in result.log
    (line,) = [x for x in result.log.splitlines() if "stopped answering" in x]
    # Ended by the client-side deadline (statement_timeout + connect_timeout), said so.
    assert f"dbschema: the server stopped answering while {what}: no reply within 3 s" in line


def test_a_server_that_freezes_right_after_the_login_ends_the_build(freezing_proxy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proxy = freezing_proxy(b"pg_catalog.version()")  # SQLAlchemy's first question of a new connection
    options = {"dsn": proxy.url(), "statement_timeout": 1000, "connect_timeout": 2}
    result = build(tmp_path, {"index.md": PAGE}, options)
    assert proxy.frozen.is_set()
    assert result.returncode != 0 and "Traceback" not in result.log
    (line,) = [x for x in result.log.splitlines() if "dbschema:" in x]
    assert "cannot connect to PostgreSQL" in line


@pytest.mark.parametrize(
    ("sql", "page", "what"),
    [
        (
            "CREATE VIEW doomed AS SELECT pg_terminate_backend(pg_backend_pid()) AS gone;",
            "<< table: doomed >>\n\n<< table: tenants >>\n",
            "reading sample rows",
        ),
        (
            # IMMUTABLE plpgsql, never inlined: the planner folds it on its constant argument.
            "CREATE FUNCTION doom(int) RETURNS bool LANGUAGE plpgsql IMMUTABLE"
            " AS $$ BEGIN RETURN pg_terminate_backend(pg_backend_pid()); END $$;",
            "<< table: tenants >>\n\n```sql\n-- explain\nSELECT * FROM tenants WHERE doom(1);\n```\n",
            "planning query patterns",
        ),
    ],
)
def test_a_connection_lost_mid_build_is_one_line(
    make_db, tmp_path: Path, sql: str, page: str, what: str
) -> None:  # type: ignore[no-untyped-def]
    url = make_db("CREATE TABLE tenants (id int PRIMARY KEY); INSERT INTO tenants VALUES (1);" + sql)
    result = build(tmp_path, {"index.md": page}, {"dsn": url, "plan_functions": ["public.doom"]})
    assert result.returncode != 0 and "Traceback" not in result.log
    (line,) = [x for x in result.log.splitlines() if "dbschema:" in x]
    assert (
        f"dbschema: connection lost while {what}: terminating connection due to administrator command" in line
    )
    assert "ROLLBACK TO SAVEPOINT" not in result.log and "sqlalchemy" not in result.log
