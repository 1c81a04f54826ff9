"""A second session beside the read's own, for statements that do not wait on each other.

A catalog read spends about as long waiting for the server as turning its answers into
the model. With a second connection on the same engine (the same settings, its own
watchdog), one session's statement runs on the server while the other's rows become
the model, and a second server core answers too.

The second connection opens in its own thread while the first session reads. A server
that refuses it (a role's CONNECTION LIMIT, a full pool or max_connections) costs the
overlap and nothing else: work meant for it runs on the first session. Both sessions
read in READ COMMITTED as the one session did: each statement sees the database as it
was when that statement started.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .watchdog import Watchdog, watchdog_of

T = TypeVar("T")
Item = TypeVar("Item")


class Started(Generic[T]):
    """Work handed to the second session: run there, or here if the second session has
    not begun it when its result is wanted."""

    def __init__(self, work: Callable[[sa.Connection], T]) -> None:
        self.work = work
        self._claimed = False
        self._lock = threading.Lock()
        self.future: Future[T] = Future()

    def claim(self) -> bool:
        """Whether the caller is the one to run the work (first come)."""
        with self._lock:
            claimed, self._claimed = self._claimed, True
        return not claimed

    def result(self, conn: sa.Connection) -> T:
        """The work's result; `conn`, the first session, runs it if nobody has yet."""
        return self.work(conn) if self.claim() else self.future.result()


class Beside:
    def __init__(self, engine: Engine) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="dbschema-beside")
        self._watchdog: Watchdog | None = None
        self._opening = self._pool.submit(self._open, engine)

    def _open(self, engine: Engine) -> sa.Connection | None:
        try:
            conn = engine.connect()
        except sa.exc.SQLAlchemyError:  # refused or unreachable: the first session does it all
            return None
        self._watchdog = watchdog_of(conn)  # kept: a lost connection forgets it
        return conn

    def watchdog(self) -> Watchdog | None:
        """The second session's watchdog, once it is open."""
        return self._watchdog

    def start(self, work: Callable[[sa.Connection], T]) -> Started[T]:
        started = Started(work)
        self._pool.submit(self._run, started)
        return started

    def _run(self, started: Started[T]) -> None:
        conn = self._opening.result()
        if conn is None or not started.claim():
            return
        try:
            started.future.set_result(started.work(conn))
        except BaseException as error:
            started.future.set_exception(error)

    def __enter__(self) -> Beside:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if error is not None:
            self._cancel()  # the read failed: what the second session is doing is not wanted
        self._pool.shutdown(wait=True, cancel_futures=True)
        conn = self._opening.result()
        if conn is not None:
            with contextlib.suppress(sa.exc.SQLAlchemyError):  # lost: nothing to give back
                conn.close()

    def _cancel(self) -> None:
        conn = self._opening.result() if self._opening.done() else None
        if conn is not None:
            cancel(conn)


def cancel(conn: sa.Connection) -> None:
    """Cancel what `conn` runs on the server now, from any thread."""
    try:
        driver = conn.connection.driver_connection
    except sa.exc.SQLAlchemyError:
        return
    if isinstance(driver, psycopg.Connection):
        # Nothing running, or the server is gone: the wait ends either way.
        with contextlib.suppress(psycopg.Error):
            driver.cancel_safe(timeout=5)


class Shared(Generic[Item, T]):
    """Items of work two sessions share: each session takes the next item nobody has
    begun, until none is left."""

    def __init__(self, items: Iterable[Item], work: Callable[[sa.Connection, Item], T]) -> None:
        self._waiting = deque(items)
        self._work = work

    def close(self) -> None:
        """No item is begun from now on."""
        self._waiting.clear()

    def take(self, session: sa.Connection) -> list[T]:
        done: list[T] = []
        while True:
            try:
                item = self._waiting.popleft()  # atomic: no item is taken twice
            except IndexError:
                return done
            done.append(self._work(session, item))


def shared(
    conn: sa.Connection,
    beside: Beside | None,
    items: Iterable[Item],
    work: Callable[[sa.Connection, Item], T],
) -> list[T]:
    """`work` on each item, once, on whichever session is free: `conn`, and `beside`."""
    queue = Shared(items, work)
    started = beside.start(queue.take) if beside is not None else None
    mine = queue.take(conn)
    return mine if started is None else mine + started.result(conn)
