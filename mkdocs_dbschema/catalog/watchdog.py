"""A client-side deadline for a server that stops answering.

statement_timeout is enforced by the server: a frozen backend or a network that
drops packets silently never sends the cancellation, and TCP keepalives only
probe an idle socket. The watchdog gives every statement `limit` seconds from
the moment it is sent; past that it shuts the socket down, so the blocked read
in libpq returns at once with a lost connection, which the caller reports.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

_KEY = "dbschema_watchdog"


class Watchdog:
    def __init__(self, fileno: int, limit: float) -> None:
        # A socket of our own on the same connection: shutting it down wakes libpq's read,
        # and its descriptor can never be reused for something else while we hold it.
        self._socket = socket.socket(fileno=os.dup(fileno))
        self.limit = limit
        self.fired = False
        self._deadline = time.monotonic() + limit
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="dbschema-watchdog", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        """A statement is about to be sent: it gets the whole limit."""
        with self._lock:
            self._deadline = time.monotonic() + self.limit

    def stop(self) -> None:
        with self._lock:
            if not self._stopped.is_set():
                self._stopped.set()
                self._socket.close()

    def _watch(self) -> None:
        while not self._stopped.wait(1.0 if self.limit > 1 else self.limit / 2):
            with self._lock:
                if self._stopped.is_set() or time.monotonic() < self._deadline:
                    continue
                self.fired = True
                with contextlib.suppress(OSError):  # the connection is gone: nothing to wake
                    self._socket.shutdown(socket.SHUT_RDWR)
                self._stopped.set()
                self._socket.close()
                return


def guard(engine: Engine, limit: float) -> None:
    """Watch every connection `engine` opens from its first statement on (the dialect's
    own start-up queries included), kicked before each statement SQLAlchemy sends."""

    # First of the connect listeners: the dialect's own start-up queries run after it.
    @event.listens_for(engine, "connect", insert=True)
    def start(dbapi_connection: Any, record: Any) -> None:
        assert isinstance(dbapi_connection, psycopg.Connection)
        record.info[_KEY] = Watchdog(dbapi_connection.pgconn.socket, limit)

    @event.listens_for(engine, "close")
    def stop(dbapi_connection: Any, record: Any) -> None:
        dog = record.info.pop(_KEY, None)
        if dog is not None:
            dog.stop()

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn: sa.Connection, *args: Any) -> None:
        kick(conn)


def watchdog_of(conn: sa.Connection) -> Watchdog | None:
    try:
        dog = conn.connection.info.get(_KEY)
    except sa.exc.SQLAlchemyError:  # closed, or lost and not yet rolled back
        return None
    return dog if isinstance(dog, Watchdog) else None


def kick(conn: sa.Connection) -> None:
    """For statements sent through the driver, which SQLAlchemy does not see."""
    dog = watchdog_of(conn)
    if dog is not None:
        dog.kick()
