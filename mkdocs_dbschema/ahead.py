"""Pages expanded ahead in a second process while MkDocs converts others.

MkDocs reads, expands and converts one page at a time, and on a large site most of that
time is the cards' templates and highlighting: work that needs the catalog and the page
alone. Just before the first page is read, `Ahead` forks one worker that takes pages a
little ahead of the build: the farthest page nobody has taken yet at most `LOOKAHEAD`
past the one the build is at, never the build's next one. The worker so gets the most
time before the build needs its page; when it is slower, the build takes the pages in
between itself. What the worker has done waits for the build a few pages at most: its
results are memory (unbounded, they added 430 MB to a 10,000-table build's peak).

For each page the worker sends back the Markdown it read and everything expanding it
gave: the expanded Markdown, the cards' HTML blocks, the log records, the anchors told to
autorefs, and the page converted when its conversion needs nothing but the page (see the
plugin's _expand_ahead). The build uses that only for the very same Markdown and replays
the records and anchors in its own process, in page order: a page reads the same
whichever side did the work. A worker that fails or dies costs nothing but time: the
build expands those pages.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

FREE, BUILD, WORKER = 0, 1, 2  # who took a page
LOOKAHEAD = 4  # pages past the build's that the worker may take

Anchor = tuple[tuple[Any, ...], dict[str, Any]]  # autorefs' register_anchor arguments after the page
T = TypeVar("T")


@dataclass(frozen=True)
class Expanded:
    """One page as the worker expanded it."""

    source: str  # the Markdown it expanded
    markdown: str | None  # what expanding gave (None: nothing to expand)
    html: dict[str, str]  # the cards' HTML blocks, by token
    headings: dict[str, tuple[int, str, str | None, str | None]]  # the cards' heading tokens
    records: list[logging.LogRecord]  # what expanding logged, in order
    anchors: list[Anchor]
    converted: Any = None  # the expanded page converted to HTML, when its conversion needs only it
    converting_records: list[logging.LogRecord] | None = None  # what converting logged


def available() -> bool:
    """Linux, and a second core to run on. The worker is forked: it shares the catalog
    already read instead of reading or pickling it again. macOS can fork too, but its
    system libraries may crash a forked child that calls them, so it is left out."""
    return sys.platform.startswith("linux") and len(os.sched_getaffinity(0)) > 1


class Ahead(Generic[T]):
    """A worker expanding `pages` (source URIs, in the order the build reads them) with
    `expand`, after `prepare` has made the forked copy of the plugin a worker. (The
    plugin also has one make pages' search entries ahead of the build: see on_env.)"""

    def __init__(
        self,
        pages: Sequence[str],
        expand: Callable[[str], T | None],
        prepare: Callable[[], None],
        lookahead: int = LOOKAHEAD,
    ) -> None:
        self.pages = list(pages)
        self.lookahead = lookahead
        self.order = {uri: index for index, uri in enumerate(self.pages)}
        self.expand, self.prepare = expand, prepare
        self.build_pid = os.getpid()
        context = multiprocessing.get_context("fork")
        # Who took each page (FREE, BUILD, WORKER), then the page the build is at.
        self.claims = context.Array("i", [FREE] * len(self.pages) + [-1])
        self.received: dict[int, T | None] = {}
        self.reader, writer = context.Pipe(duplex=False)
        # The caller freezes what the worker shares (gc.freeze): the worker's collections
        # then never touch, and so never copy, the pages it shares with the build.
        self.process = context.Process(target=self._work, args=(writer,), daemon=True)
        self.process.start()
        writer.close()  # the worker's end only: when the worker ends, reading ends

    def take(self, uri: str) -> T | None:
        """The worker's expansion of page `uri`, or None when the build expands it itself:
        a page the worker has not started is the build's from then on."""
        index = self.order.get(uri)
        if index is None:
            return None
        with self.claims.get_lock():
            self.claims[len(self.pages)] = index
            if self.claims[index] != WORKER:
                self.claims[index] = BUILD
                return None
        while index not in self.received:
            try:
                item = self.reader.recv()
            except (EOFError, OSError):  # the worker ended without it: the build expands it
                return None
            if item is None:  # the worker is done, and did not do this one
                return None
            self.received[item[0]] = item[1]
        return self.received.pop(index)

    def stop(self) -> None:
        """End the worker, done or not."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.reader.close()
        self.received.clear()

    # -- in the worker -------------------------------------------------------------

    def _work(self, writer: Connection) -> None:
        _leave_signals_to_the_build()
        self.reader.close()
        outbox: queue.SimpleQueue[tuple[int, T | None] | None] = queue.SimpleQueue()
        # Sending waits while the build is busy converting a page: a thread sends, so that
        # the worker goes on expanding meanwhile.
        sender = threading.Thread(target=_send, args=(outbox, writer))
        sender.start()
        try:
            self.prepare()
            while (index := self._claim()) is not None:
                try:
                    expanded = self.expand(self.pages[index])
                except Exception:  # the build expands it again and reports what goes wrong
                    expanded = None
                outbox.put((index, expanded))
        finally:
            outbox.put(None)
            sender.join()

    def _claim(self) -> int | None:
        """The next page to take, waiting while the worker is far enough ahead; None once
        no page is left that the build would not take first."""
        count = len(self.pages)
        while True:
            with self.claims.get_lock():
                at = int(self.claims[count])
                last = min(at + 1 + self.lookahead, count - 1)
                # The farthest free page in reach, never the build's next one: the worker
                # gets the most time before the build needs it.
                for index in range(last, at + 1, -1):
                    if self.claims[index] == FREE:
                        self.claims[index] = WORKER
                        return index
                if last == count - 1:  # nothing further off to wait for
                    return None
            if os.getppid() != self.build_pid:  # the build was killed: nobody to wait for
                return None
            time.sleep(0.005)


class Forked(Generic[T]):
    """`work()` run once in a forked process, beside the build: `result()` is its value,
    or None when it failed or could not be sent. With `nice`, the process runs at that
    lower priority: it takes what the build and the database server leave of the cores."""

    def __init__(self, work: Callable[[], T], nice: int = 0) -> None:
        context = multiprocessing.get_context("fork")
        self.reader, writer = context.Pipe(duplex=False)
        self.process = context.Process(target=self._run, args=(work, writer, nice), daemon=True)
        self.process.start()
        writer.close()

    def _run(self, work: Callable[[], T], writer: Connection, nice: int) -> None:
        _leave_signals_to_the_build()
        if nice:
            os.nice(nice)
        self.reader.close()
        try:
            value: T | None = work()
        except Exception:
            value = None
        try:
            writer.send(value)
        except OSError:  # the build stopped waiting
            pass
        except Exception:  # it does not pickle
            writer.send(None)
        finally:
            writer.close()

    def result(self, timeout: float) -> T | None:
        """The value, or None when none came within `timeout` seconds (the process is
        ended: the build does the work itself)."""
        try:
            return self.reader.recv() if self.reader.poll(timeout) else None
        except (EOFError, OSError):  # it ended without sending
            return None
        finally:
            self.stop()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.reader.close()


def _leave_signals_to_the_build() -> None:
    """In a forked process: the build ends it. Ctrl-C or a SIGTERM meant for the build
    (which the plugin turns into KeyboardInterrupt) would only print a second traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def _send(outbox: queue.SimpleQueue[tuple[int, Any] | None], writer: Connection) -> None:
    try:
        while (item := outbox.get()) is not None:
            try:
                writer.send(item)
            except OSError:
                raise
            except Exception:  # e.g. something that does not pickle: the build expands the page
                writer.send((item[0], None))
        writer.send(None)
    except OSError:  # the build's end is closed: it stopped, or was killed; nobody to tell
        pass
    finally:
        writer.close()


class RecordedLogs(logging.Handler):
    """In the worker: every record that would have been written, kept to be logged by the
    build instead (installed in place of every handler, so each record is kept once)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def install(self) -> None:
        loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
        for logger in loggers:
            if isinstance(logger, logging.Logger) and logger.handlers:
                logger.handlers = [self]

    def emit(self, record: logging.LogRecord) -> None:
        if self.records and self.records[-1] is record:  # a second handler up the chain
            return
        # Formatted here: arguments need not pickle, and mean the same as text.
        record.msg, record.args = record.getMessage(), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        self.records.append(record)

    def taken(self) -> list[logging.LogRecord]:
        records, self.records = self.records, []
        return records


def replay(records: Sequence[logging.LogRecord]) -> None:
    """Log, in this process, what the worker logged."""
    for record in records:
        logging.getLogger(record.name).handle(record)


class RecordedAnchors:
    """In the worker, in place of the autorefs plugin: the anchors a page registers."""

    def __init__(self) -> None:
        self.anchors: list[Anchor] = []

    def register_anchor(self, page: Any, *args: Any, **kwargs: Any) -> None:
        self.anchors.append((args, kwargs))

    def taken(self) -> list[Anchor]:
        anchors, self.anchors = self.anchors, []
        return anchors
