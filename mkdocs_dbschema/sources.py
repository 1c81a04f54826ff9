"""Where a catalog comes from, behind one interface: a live database (a DSN), the
embedded server loaded from SQL files or from SQLAlchemy models, or a snapshot file.

`Source.url()` gives a database URL to read live (starting and loading the embedded
server when needed); a snapshot source has none and answers from the file instead.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from .catalog.connection import DatabaseError, display_url, parse_url
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


@dataclass
class Source:
    """One of: `dsn`, `sql_files`, `models` (the embedded server), `snapshot`."""

    dsn: str | None = None
    sql_files: Sequence[str] = ()
    models: str | None = None
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
        given = [bool(self.dsn), bool(self.sql_files), bool(self.models), self.snapshot is not None]
        if sum(given) > 1:
            raise SourceError("give one source: --dsn, --sql, --models or a snapshot")
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
