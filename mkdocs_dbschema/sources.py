"""Where a catalog comes from, behind one interface: a live database (a DSN), the
embedded server loaded from SQL files, from SQLAlchemy models or by Alembic migrations,
or a snapshot file.

`Source.url()` gives a database URL to read live (starting and loading the embedded
server when needed); a snapshot source has none and answers from the file instead.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from .catalog.connection import DatabaseError, display_url, mask_secrets, parse_url
from .catalog.embedded import EmbeddedError, EmbeddedServer, expand_sql_files
from .snapshot import Snapshot


class SourceError(Exception):
    """A source that cannot be used; the message is one line, safe to print."""


def load_metadata(spec: str, base: Path | None = None) -> sa.MetaData:
    """`package.module:Base.metadata` → the MetaData object it names."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise SourceError(
            f"models: expected module:attribute (such as app.models:Base.metadata), got {spec!r}"
        )
    added = str(base) if base is not None and str(base) not in sys.path else None
    if added:
        sys.path.insert(0, added)
    try:
        value: object = importlib.import_module(module_name)
    except Exception as error:
        raise SourceError(f"models: cannot import {module_name}: {type(error).__name__}: {error}") from None
    finally:
        if added:
            sys.path.remove(added)
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise SourceError(f"models: {module_name} has no attribute {attribute}")
        value = getattr(value, part)
    if isinstance(value, sa.MetaData):
        return value
    metadata = getattr(value, "metadata", None)  # a declarative Base itself
    if isinstance(metadata, sa.MetaData):
        return metadata
    raise SourceError(f"models: {spec} is no SQLAlchemy MetaData (try module:Base.metadata)")


def create_models(url: str, metadata: sa.MetaData) -> None:
    """`metadata.create_all` on an empty database, then ANALYZE so estimates are known."""
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.begin() as conn:
            for schema in sorted({t.schema for t in metadata.tables.values() if t.schema}):
                conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
            metadata.create_all(conn)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    except sa.exc.SQLAlchemyError as error:
        reason = " ".join(str(getattr(error, "orig", None) or error).split())
        raise SourceError(f"models: create_all failed: {reason}") from None
    finally:
        engine.dispose()


@contextlib.contextmanager
def _logging_kept() -> Iterator[None]:
    """env.py usually calls `logging.config.fileConfig`, which disables every logger it
    does not name (the plugin's warnings among them) and replaces the root's handlers."""
    manager = logging.Logger.manager
    root = logging.getLogger()
    saved_root = (root.level, root.handlers[:])
    saved = {
        name: (logger.disabled, logger.level, logger.handlers[:], logger.propagate)
        for name, logger in manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        yield
    finally:
        root.setLevel(saved_root[0])
        root.handlers[:] = saved_root[1]
        for name, (disabled, level, handlers, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.disabled, logger.propagate = disabled, propagate
            logger.setLevel(level)
            logger.handlers[:] = handlers


@contextlib.contextmanager
def _in_folder(folder: Path) -> Iterator[None]:
    """Alembic resolves a relative `script_location`, `version_locations` and
    `prepend_sys_path` against the working directory: run where `alembic upgrade` would."""
    saved_path = sys.path[:]
    try:
        with contextlib.chdir(folder):
            yield
    finally:
        sys.path[:] = saved_path  # prepend_sys_path entries are relative to that folder


_USER_TABLES = sa.text(
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
)


def _require_alembic() -> None:
    """Alembic is an optional extra: the plugin itself never needs it."""
    try:
        import alembic  # noqa: F401
    except ImportError:
        raise SourceError(
            "alembic: Alembic is not installed (pip install mkdocs-dbschema[alembic])"
        ) from None


def run_alembic(url: str, ini: Path) -> None:
    """`alembic upgrade head` on the database at `url`, in process, then ANALYZE."""
    _require_alembic()
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    sa_url = parse_url(url)
    config = Config(str(ini), stdout=sys.stderr)  # stdout carries the command's results
    try:
        with _in_folder(ini.parent), _logging_kept():
            # env.py reads it with config.get_main_option; % is ConfigParser interpolation.
            rendered = sa_url.render_as_string(hide_password=False)
            config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
            heads = ScriptDirectory.from_config(config).get_heads()
            command.upgrade(config, "head")
    except Exception as error:  # env.py and migrations may raise anything
        reason = " ".join(str(getattr(error, "orig", None) or error).split()) or "failed"
        raise SourceError(
            mask_secrets(f"alembic: {ini}: upgrade head failed: {type(error).__name__}: {reason}")
        ) from None
    engine = sa.create_engine(sa_url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # An env.py that takes its URL elsewhere migrated another database.
            if heads and not conn.execute(_USER_TABLES).scalar():
                raise SourceError(
                    f"alembic: {ini}: upgrade head left the embedded database empty; env.py must "
                    'connect with config.get_main_option("sqlalchemy.url")'
                )
            conn.execute(sa.text("ANALYZE"))
    except sa.exc.SQLAlchemyError as error:
        reason = " ".join(str(getattr(error, "orig", None) or error).split())
        raise SourceError(f"alembic: {ini}: ANALYZE failed: {reason}") from None
    finally:
        engine.dispose()


@dataclass
class Source:
    """One of: `dsn`, `sql_files`, `models`, `alembic` (the embedded server), `snapshot`."""

    dsn: str | None = None
    sql_files: Sequence[str] = ()
    models: str | None = None
    alembic: Path | None = None  # an alembic.ini, relative to `base`
    snapshot: Path | None = None
    base: Path = field(default_factory=Path.cwd)
    embedded: EmbeddedServer = field(default_factory=EmbeddedServer)

    @classmethod
    def parse(cls, text: str, base: Path | None = None) -> Source:
        """A command-line operand: a PostgreSQL URL, else a snapshot file."""
        base = base or Path.cwd()
        if text.startswith(("postgresql:", "postgres:", "postgresql+")):
            return cls(dsn=text, base=base)
        return cls(snapshot=Path(text), base=base)

    def check(self) -> None:
        given = [
            bool(self.dsn),
            bool(self.sql_files),
            bool(self.models),
            self.alembic is not None,
            self.snapshot is not None,
        ]
        if sum(given) > 1:
            raise SourceError("give one source: --dsn, --sql, --models, --alembic or a snapshot")
        if self.dsn:
            try:
                parse_url(self.dsn)
            except DatabaseError as error:
                raise SourceError(str(error)) from None

    @property
    def live(self) -> bool:
        return self.snapshot is None

    def describe(self) -> str:
        if self.dsn:
            return display_url(parse_url(self.dsn))
        if self.snapshot is not None:
            return f"snapshot {self.snapshot}"
        if self.models:
            return f"embedded PostgreSQL with models {self.models}"
        if self.alembic is not None:
            return f"embedded PostgreSQL with Alembic migrations {self.alembic}"
        return "embedded PostgreSQL with " + (", ".join(self.sql_files) or "nothing")

    def url(self) -> str:
        """A URL to read live; starts and loads the embedded server when needed."""
        if self.dsn:
            return self.dsn
        if self.snapshot is not None:
            raise SourceError(f"{self.snapshot} is a snapshot, not a database")
        try:
            if self.models:
                metadata = load_metadata(self.models, self.base)
                uri, _ = self.embedded.database_url([])
                create_models(uri, metadata)
                return uri
            if self.alembic is not None:
                ini = (self.base / self.alembic).resolve()
                if not ini.is_file():
                    raise SourceError(f"alembic: no such file {self.alembic} (relative to {self.base})")
                _require_alembic()  # before starting a server for nothing
                uri, _ = self.embedded.database_url([])
                run_alembic(uri, ini)
                return uri
            files = expand_sql_files(self.sql_files, self.base)
            uri, _ = self.embedded.database_url(files)
            return uri
        except EmbeddedError as error:
            raise SourceError(str(error)) from None

    def load(self) -> Snapshot:
        assert self.snapshot is not None
        return Snapshot.load(self.snapshot)

    def close(self) -> None:
        self.embedded.stop()
