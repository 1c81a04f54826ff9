"""MkDocs events only: collect directives, read the catalog once, expand pages."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from . import directives
from .analysis.dependencies import Level, dependency_levels
from .catalog.connection import (
    DatabaseError,
    SessionSettings,
    connect,
    create_engine,
    display_url,
    parse_url,
)
from .catalog.embedded import EmbeddedError, EmbeddedServer, demo_schema, expand_sql_files
from .catalog.model import Catalog
from .catalog.names import TableNameError, TableRef, parse_table_name
from .catalog.reader import read_catalog
from .config import DbSchemaConfig
from .render.cards import CardRenderer, RenderOptions

log = get_plugin_logger(__name__)

DIRECTIVE_KINDS = ("table",)


class DbSchemaPlugin(BasePlugin[DbSchemaConfig]):
    def __init__(self) -> None:
        self.embedded = EmbeddedServer()
        self.catalog: Catalog | None = None
        self.levels: dict[str, Level] = {}
        self.renderer: CardRenderer | None = None
        self.url: str | None = None

    # Defining on_startup keeps one plugin instance across `mkdocs serve` rebuilds,
    # so the embedded server starts once.
    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        self.command = command

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        base = Path(config.config_file_path or ".").resolve().parent
        extensions = frozenset(
            e if isinstance(e, str) else str(e) for e in config.markdown_extensions
        )
        templates = [Path(self.config.templates)] if self.config.templates else []
        self.renderer = CardRenderer(
            RenderOptions(
                heading_level=self.config.heading_level,
                groups=self.config.groups,
                group_label=self.config.group_label,
                extensions=extensions,
            ),
            templates,
        )
        self.base = base
        self.catalog = None
        return config

    # -- reading -----------------------------------------------------------------

    def _database_url(self) -> str:
        dsn = self.config.dsn or os.environ.get("DBSCHEMA_DSN")
        if dsn:
            return dsn
        patterns = self.config.embedded_sql
        try:
            files = expand_sql_files(patterns, self.base) if patterns else [demo_schema()]
            uri, loaded = self.embedded.database_url(files)
        except EmbeddedError as error:
            raise PluginError(f"dbschema: {error}") from None
        if loaded:
            log.info("embedded PostgreSQL loaded %s", ", ".join(str(f) for f in files))
        return uri

    def _read(self, refs: list[TableRef]) -> Catalog:
        try:
            url = parse_url(self._database_url())
            settings = SessionSettings(
                connect_timeout=self.config.connect_timeout,
                statement_timeout=self.config.statement_timeout,
                lock_timeout=self.config.lock_timeout,
                search_path=self.config.search_path,
            )
            engine = create_engine(url, settings)
            try:
                with connect(engine) as conn:
                    catalog = read_catalog(conn, refs)
            finally:
                engine.dispose()
        except DatabaseError as error:
            raise PluginError(f"dbschema: {error}") from None
        if self.url != display_url(url):
            self.url = display_url(url)
            source = "embedded " if not (self.config.dsn or os.environ.get("DBSCHEMA_DSN")) else ""
            log.info("documenting %s%s (PostgreSQL %s)", source, self.url, catalog.server_version)
        return catalog

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        refs: list[TableRef] = []
        for file in files.documentation_pages():
            for found in directives.find(file.content_string):
                ref = _table_ref(found)
                if isinstance(ref, TableRef):
                    refs.append(ref)
        self.catalog = self._read(refs) if refs else None
        self.levels = dependency_levels(self.catalog.graph) if self.catalog else {}
        return files

    # -- expanding ---------------------------------------------------------------

    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        found = directives.find(markdown)
        if not found:
            return None
        # Directives another plugin added after on_files: one more read for those.
        missing = [
            r
            for r in map(_table_ref, found)
            if isinstance(r, TableRef)
            and (self.catalog is None or str(r) not in self.catalog.resolved)
        ]
        if missing:
            extra = self._read(missing)
            if self.catalog is None:
                self.catalog = extra
            else:
                self.catalog = _merge(self.catalog, extra)
            self.levels = dependency_levels(self.catalog.graph)
        return directives.expand(markdown, lambda d: self._expand(d, page))

    def _expand(self, found: directives.Directive | directives.Malformed, page: Page) -> str:
        assert self.renderer is not None
        where = f"{page.file.src_uri}:{found.line}"
        ref = _table_ref(found)
        if isinstance(ref, str):
            return self._problem(where, found.source, ref)
        assert self.catalog is not None
        key = self.catalog.resolved.get(str(ref))
        if key is None:
            path = self.catalog.search_path or "empty"
            reason = f"no table or view named {ref} (search_path: {path})"
            return self._problem(where, found.source, reason)
        table = self.catalog.tables[key]
        return self.renderer.table_card(table, self.catalog, self.levels.get(key))

    def _problem(self, where: str, source: str, reason: str) -> str:
        assert self.renderer is not None
        log.warning("%s: %s: %s", where, source, reason)
        return self.renderer.notice("failure", f"dbschema: {source}", f"{reason} ({where})")

    def on_shutdown(self) -> None:
        self.embedded.stop()

    def on_serve(self, server: Any, /, *, config: MkDocsConfig, builder: Any) -> Any:
        if not (self.config.dsn or os.environ.get("DBSCHEMA_DSN")):
            for pattern in self.config.embedded_sql:
                for path in expand_sql_files([pattern], self.base):
                    server.watch(str(path))
        return server


def _table_ref(found: directives.Directive | directives.Malformed) -> TableRef | str:
    """The table a directive names, or the reason it names none."""
    if isinstance(found, directives.Malformed):
        return found.reason
    if found.kind not in DIRECTIVE_KINDS:
        known = ", ".join(DIRECTIVE_KINDS)
        return f"unknown directive {found.kind!r} (known: {known})"
    if not found.argument:
        return "the table directive needs a table name: << table: name >>"
    try:
        return parse_table_name(found.argument)
    except TableNameError as error:
        return str(error)


def _merge(first: Catalog, second: Catalog) -> Catalog:
    return Catalog(
        server_version=second.server_version,
        database=second.database,
        search_path=second.search_path,
        tables={**first.tables, **second.tables},
        types={**first.types, **second.types},
        graph={**first.graph, **second.graph},
        resolved={**first.resolved, **second.resolved},
    )
