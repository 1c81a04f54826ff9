"""MkDocs events only: collect directives, read the catalog once, expand pages."""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import gc
import glob
import hashlib
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority, get_plugin_logger
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import TableOfContents
from mkdocs.utils import get_relative_url
from sqlalchemy.engine import URL

from . import ahead, directives, document, metadata
from .analysis.advisors import ADVISOR_NAMES, AdvisorOptions, Finding, advise
from .analysis.dependencies import Level, dependency_levels
from .analysis.redaction import Redactor
from .catalog.connection import DatabaseError, SessionSettings, display_url, parse_url
from .catalog.embedded import (
    EmbeddedError,
    EmbeddedServer,
    demo_schema,
    demo_statistics,
    expand_sql_files,
    sql_folders,
)
from .catalog.model import Catalog, Table
from .catalog.names import TableNameError, TableRef, parse_table_name
from .catalog.plans import QueryPlan, refusal
from .collect import Collection, SampleRequest, collect, merge, plan_offline, sample_limit
from .config import DbSchemaConfig
from .document import link_to
from .render.blocks import HtmlBlocks, HtmlBlocksExtension, for_search, with_blocks, without_blocks
from .render.cards import (
    ATTR_LIST,
    COMPILED,
    CardRenderer,
    RenderOptions,
    TableLinks,
    TemplateProblem,
    unknown_sections,
    visible_sections,
)
from .snapshot import Snapshot, SnapshotError
from .theme import CompiledAhead

log = get_plugin_logger(__name__)

# Markdown extensions the plugin's Markdown uses, and what each gives it (a card's
# tables, lists and SQL are HTML it writes itself and need none).
EXTENSION_USES = {
    "admonition": "notice boxes",
    "pymdownx.details": "folded migration notes and advisor findings",
    "pymdownx.superfences": "fenced SQL of query plans and listings, and diagrams",
    "attr_list": "stable card anchors, links between cards, short table-of-contents labels",
    "tables": "plan, listing and summary tables",
    "toc": "heading anchors",
}
STYLESHEET = "assets/dbschema/dbschema.css"
# Below this many cards a worker expanding pages ahead saves less than it costs to start.
AHEAD_MIN_CARDS = 100
CATALOG_WIDE = ("migration-order", "advisors", "extensions")  # directives about every documented table


# Markdown extensions whose conversion of a page depends on nothing but the page (and
# autorefs, whose registrations are replayed): with any other, serve converts every page.
CACHEABLE_EXTENSIONS = frozenset(
    {
        *("abbr", "admonition", "attr_list", "def_list", "fenced_code", "footnotes", "md_in_html"),
        *("meta", "nl2br", "sane_lists", "smarty", "tables", "toc", "wikilinks", "codehilite", "extra"),
        *("markdown.extensions." + name for name in ("abbr", "admonition", "attr_list", "tables", "toc")),
        "AutorefsExtension",
        "HtmlBlocksExtension",  # the cards' own HTML, keyed by a digest of it
    }
)
UNCACHEABLE_PYMDOWNX = frozenset({"pymdownx.snippets"})  # reads other files


@dataclass(frozen=True)
class RenderedPage:
    """What converting a page's Markdown gave, as MkDocs' Page.render leaves it."""

    key: str
    html: str
    toc: Any
    title: str | None
    anchor_ids: set[str] | None
    links_to_anchors: dict[Any, Any] | None
    anchors: tuple[tuple[tuple[Any, ...], dict[str, Any]], ...] = ()  # what autorefs was told


@dataclass(frozen=True)
class Survey:
    """What one page asks of the database."""

    any_directive: bool  # well-formed or not: each gets a card or a located warning
    requests: dict[TableRef, SampleRequest]  # table → the most sample rows any directive asks for
    patterns: dict[str, tuple[str, ...]]  # query patterns to plan → functions the page allows
    wants_graph: bool  # << migration-order >> or << advisors >>
    cards: list[tuple[int, TableRef, bool]]  # (line, table, an intentional copy)
    schemas: set[str]  # arguments of whole-schema directives that may name a schema
    wants_overview: bool  # << tables >>, << summary >>, << erd >> or << coverage >>


@dataclass(frozen=True)
class LastRead:
    """`mkdocs serve`: the site read of the last build and what it answered."""

    request: tuple[object, ...]  # DbSchemaPlugin._request
    collection: Collection  # as read, before metadata, with its fingerprint


class DbSchemaPlugin(BasePlugin[DbSchemaConfig]):
    def __init__(self) -> None:
        self.embedded = EmbeddedServer()
        self.collection: Collection | None = None
        self.levels: dict[str, Level] = {}
        self.renderer: CardRenderer | None = None
        self.theme_templates = CompiledAhead()  # on_files fills it
        self.toc: Any = None  # a page's table of contents while search is given another
        self.blocks = HtmlBlocks()  # the cards' HTML, put in the pages past Python-Markdown
        self.searched: list[str] = []  # the page's card HTML while search reads its text
        self.files: Files | None = None
        self.redactor: Redactor | None = None
        self.findings: dict[str, list[Finding]] = {}
        self.card_pages: dict[str, str] = {}  # table key → the page holding its card
        self.card_lines: dict[str, tuple[str, int]] = {}  # ... and the directive's line
        self.anchored: set[str] = set()  # tables whose card on the page being expanded has its anchor
        self.keys_by_display: dict[str, str] = {}
        self.overview_schemas: list[str] | None = None
        self.linking = False
        self.mermaid = False
        self.autorefs: Any = None
        self.url: str | None = None
        self.dsn: str | None = None
        self.snapshot: Snapshot | None = None  # with no DSN: the site builds from this file
        self.metadata = metadata.Metadata()
        self.metadata_files: list[Path] = []
        self.table_metadata: dict[str, metadata.TableMetadata] = {}  # by table key
        self.command: str = "build"
        self.last_read: LastRead | None = None  # `mkdocs serve` only: see _read
        self.offline: tuple[object, str] | None = None  # (snapshot file stamp, embedded URL)
        # `mkdocs serve`: each page's last conversion, reused while its inputs are unchanged.
        self.rendered: dict[str, RenderedPage] = {}
        self.reusing: dict[str, RenderedPage] = {}
        self.converting: dict[str, str] = {}
        self.page_signature: str | None = None
        self.recorded: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.directive_pages: set[str] = set()  # pages with a directive, as on_files read them
        self.card_count = 0
        # `mkdocs build`: pages expanded in a second process.
        self.ahead: ahead.Ahead[ahead.Expanded] | None = None
        # `mkdocs build`: Material's search entries of pages, made in a second process (on_env).
        self.indexing: ahead.Ahead[list[dict[str, Any]]] | None = None
        self.indexed_as: dict[str, tuple[Any, ...]] = {}  # what the entries were made from
        self.entries: list[dict[str, Any]] | None = None  # the page's entries, made ahead
        self.search_meta: Any = None  # the page's own `search` metadata while its entries are added
        self.search: Any = None  # Material's search plugin, when it is given entries made ahead
        self.logs: ahead.RecordedLogs | None = None  # in that process: what expanding a page logs
        # Pages the worker converted too, with what converting them logged.
        self.converted_ahead: dict[str, tuple[RenderedPage, list[Any]]] = {}
        self.changed_after_expanding = True  # see _markdown_handlers_after_expanding

    # Defining on_startup keeps one plugin instance across `mkdocs serve` rebuilds,
    # so the embedded server starts once.
    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        # MkDocs keeps this instance for the process: a new serve or build starts afresh.
        self.command = command
        self.last_read = None
        self.rendered, self.reusing, self.converting = {}, {}, {}
        self.page_signature = None
        _stop_cleanly_on_termination()
        _skip_final_collection()

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        base = Path(config.config_file_path or ".").resolve().parent
        extensions = frozenset(e if isinstance(e, str) else str(e) for e in config.markdown_extensions)
        if missing := [f"{name} ({use})" for name, use in EXTENSION_USES.items() if name not in extensions]:
            log.warning(
                "markdown_extensions: without %s the cards fall back to plainer Markdown "
                "(see docs/plugin/install.md)",
                ", ".join(missing),
            )
        self.mermaid = any(
            fence.get("name") == "mermaid"
            for fence in config.mdx_configs.get("pymdownx.superfences", {}).get("custom_fences", [])
        )
        templates = [Path(self.config.templates)] if self.config.templates else []
        self.renderer = CardRenderer(
            RenderOptions(
                heading_level=self.config.heading_level,
                groups=self.config.groups,
                group_label=self.config.group_label,
                extensions=extensions,
                redacted=self.config.redaction.enabled,
                activity_stats=self.config.activity_stats,
                function_bodies=self.config.function_bodies,
            ),
            templates,
            self.blocks,
        )
        # MkDocs passes its list to Python-Markdown, which takes Extension instances too.
        config.markdown_extensions.append(HtmlBlocksExtension(self.blocks))  # type: ignore[arg-type]
        for name, close in self.renderer.unknown_templates().items():
            hint = f" (did you mean {close}?)" if close else ""
            log.warning(
                "templates: %s overrides no packaged template and no template includes it%s", name, hint
            )
        redaction = self.config.redaction
        try:
            self.redactor = Redactor.configured(
                redaction.column_rules, redaction.value_rules, redaction.disable
            )
        except ValueError as error:
            raise PluginError(f"dbschema: redaction: {error}") from None
        advisors = self.config.advisors
        unknown = sorted(set(advisors.disable) - set(ADVISOR_NAMES))
        if unknown:
            known = ", ".join(ADVISOR_NAMES)
            raise PluginError(
                f"dbschema: advisors.disable: unknown advisor(s) {', '.join(unknown)} (known: {known})"
            )
        self.dsn = self.config.dsn or os.environ.get("DBSCHEMA_DSN")
        if self.dsn:
            try:
                parse_url(self.dsn)  # a malformed URL stops the build before any page is read
            except DatabaseError as error:
                raise PluginError(f"dbschema: {error}") from None
        self.snapshot = None
        if self.config.snapshot and not self.dsn:
            try:
                self.snapshot = Snapshot.load(base / self.config.snapshot)
            except SnapshotError as error:
                raise PluginError(f"dbschema: {error}") from None
        elif not self.dsn and not self.config.embedded:
            raise PluginError(
                "dbschema: no dsn and no DBSCHEMA_DSN, and embedded: false forbids the embedded server"
            )
        self.advisor_options = AdvisorOptions(
            exposed_schemas=advisors.exposed_schemas
            if advisors.exposed_schemas == "auto"
            else tuple(advisors.exposed_schemas),
            trusted_roles=tuple(advisors.trusted_roles),
            disabled=frozenset(advisors.disable),
            excluded=tuple(advisors.exclude),
            # A fresh embedded server has scanned nothing: "unused" would mean nothing there.
            activity=self.config.activity_stats and bool(self.dsn),
        )
        if not redaction.enabled:
            self.redactor = None
            log.warning("redaction is off (redaction.enabled: false): sample values are published as stored")
        self.base = base
        if problem := unknown_sections([*self.config.sections, *self.config.hide]):
            raise PluginError(f"dbschema: sections / hide: {problem}")
        self._load_metadata(base)
        self.collection = None
        # Links need stable anchors on card headings, which attr_list writes.
        self.linking = ATTR_LIST in extensions
        self.wrap_cards = self.config.stylesheet
        if self.config.stylesheet and STYLESHEET not in config.extra_css:
            config.extra_css.append(STYLESHEET)
        self.autorefs = config.plugins.get("autorefs")
        return config

    # -- reading -----------------------------------------------------------------

    def _load_metadata(self, base: Path) -> None:
        """Read the writers' metadata files; each problem is a located warning."""
        self.metadata_files = sorted(
            {path for pattern in self.config.metadata for path in _matching(base, pattern)}
        )
        for pattern in self.config.metadata:
            if not _matching(base, pattern):
                log.warning("metadata: %s matches no file", pattern)
        self.metadata, problems = metadata.load(self.metadata_files, base)
        self.metadata_reported: set[str] = set()
        for problem in problems:
            log.warning("metadata: %s", problem)

    def _apply_metadata(self) -> None:
        """Check the metadata against the catalog, then let it fill the cards."""
        collection = self.collection
        self.table_metadata = {}
        if collection is None or not self.metadata.tables:
            return
        for problem in metadata.validate(self.metadata, collection.catalog):
            if problem not in self.metadata_reported:  # a later read checks the same files again
                self.metadata_reported.add(problem)
                log.warning("metadata: %s", problem)
        applied = metadata.apply(self.metadata, collection.catalog)
        self.collection = dataclasses.replace(collection, catalog=applied.catalog)
        self.table_metadata = applied.tables
        assert self.renderer is not None
        groups = document.Groups(self.config.groups, applied.groups)
        self.renderer.options = dataclasses.replace(self.renderer.options, groups=groups)

    def _plan_offline(
        self, snapshot: Snapshot, patterns: Mapping[str, Sequence[str]]
    ) -> dict[str, QueryPlan]:
        """Patterns the snapshot holds no plan for, planned on the embedded server loaded
        with its schema and planner statistics (loaded once per snapshot file)."""
        assert snapshot.planner is not None and self.config.snapshot is not None
        path = self.base / self.config.snapshot
        stamp = (str(path), path.stat().st_mtime_ns, path.stat().st_size)
        same = self.offline is not None and self.offline[0] == stamp and self.embedded.running
        loaded = self.offline[1] if same and self.offline is not None else None
        try:
            uri, plans, problems = plan_offline(
                snapshot.planner,
                snapshot.catalog.search_path,
                patterns,
                self.config.plan_functions,
                self.settings(),
                self.embedded,
                loaded,
            )
        except DatabaseError as error:
            raise PluginError(f"dbschema: {error}") from None
        if loaded is None:
            self.offline = (stamp, uri)
            log.info("planned %d pattern(s) offline with the snapshot's planner statistics", len(plans))
            if problems:
                # Extensions or roles this server lacks; a pattern they break shows its own error.
                shown = "; ".join(problems[:3]) + (
                    f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
                )
                log.info("%d statement(s) of the snapshot's schema did not load: %s", len(problems), shown)
        return plans

    def settings(self) -> SessionSettings:
        return SessionSettings(
            connect_timeout=self.config.connect_timeout,
            statement_timeout=self.config.statement_timeout,
            lock_timeout=self.config.lock_timeout,
            search_path=self.config.search_path,
        )

    def database_url(self) -> str:
        if self.dsn:
            return self.dsn
        patterns = self.config.embedded_sql
        statistics = self.base / self.config.embedded_stats if self.config.embedded_stats else None
        try:
            files = expand_sql_files(patterns, self.base) if patterns else [demo_schema()]
            if not patterns and statistics is None:
                statistics = demo_statistics()
            if statistics is not None and not statistics.is_file():
                raise EmbeddedError(f"embedded_stats: no file {statistics}")
            uri, loaded = self.embedded.database_url(files, statistics)
        except EmbeddedError as error:
            raise PluginError(f"dbschema: {error}") from None
        for problem in self.embedded.problems if loaded else ():
            log.warning("embedded_stats: %s", problem)
        if loaded:
            # A fresh server may hand out the same OIDs and transaction IDs: no fingerprint
            # tells its catalog from the last one's.
            self.last_read = None
            log.info("embedded PostgreSQL loaded %s", ", ".join(str(f) for f in files))
        return uri

    def _read(
        self,
        refs: Mapping[TableRef, SampleRequest],
        patterns: Mapping[str, Sequence[str]],
        *,
        site: bool = False,
    ) -> Collection:
        """Read what `refs` and `patterns` need. `site`: the read of every page's requests
        (on_files); under `mkdocs serve` it is kept, and the next rebuild asking the same
        runs only the schema fingerprint while that matches (catalog/fingerprint.py)."""
        if self.snapshot is not None:
            collection = self.snapshot.collection(refs, patterns)
            if self.url != self.config.snapshot:
                self.url = self.config.snapshot
                version = collection.catalog.server_version
                log.info("documenting snapshot %s (PostgreSQL %s)", self.url, version)
            unplanned = {q: f for q, f in patterns.items() if q not in self.snapshot.plans}
            if unplanned and self.snapshot.planner is not None:
                plans = self._plan_offline(self.snapshot, unplanned)
                collection = dataclasses.replace(collection, plans={**collection.plans, **plans})
            return collection
        try:
            url = parse_url(self.database_url())
            settings = self.settings()
            serving = site and self.command == "serve"
            request = self._request(url, settings, refs, patterns) if serving else None
            last = self.last_read if request is not None else None
            collection = collect(
                url,
                settings,
                refs,
                patterns,
                redactor=self.redactor,
                max_value_length=self.config.max_value_length,
                plan_functions=self.config.plan_functions,
                overview_schemas=self.overview_schemas,
                fingerprint=serving,
                reuse=last.collection if last is not None and last.request == request else None,
            )
        except DatabaseError as error:
            raise PluginError(f"dbschema: {error}") from None
        if site:
            self.last_read = LastRead(request, collection) if request is not None else None
            if last is not None and collection is last.collection:
                log.info("database schema unchanged (fingerprint): cards from the last read")
        for warning in collection.warnings:
            log.warning("%s", warning)
        if self.url != display_url(url):
            self.url = display_url(url)
            source = "" if self.dsn else "embedded "
            log.info("documenting %s%s (PostgreSQL %s)", source, self.url, collection.catalog.server_version)
        return collection

    def _request(
        self,
        url: URL,
        settings: SessionSettings,
        refs: Mapping[TableRef, SampleRequest],
        patterns: Mapping[str, Sequence[str]],
    ) -> tuple[object, ...]:
        """Everything a site read depends on besides the database: equal requests on an
        unchanged database read the same. The plugin's whole configuration is part of it
        (redaction rules, value lengths, plan functions...): an edited mkdocs.yml reads anew."""
        return (
            url.render_as_string(hide_password=False),
            settings,
            dict(refs),
            {query: tuple(functions) for query, functions in patterns.items()},
            None if self.overview_schemas is None else tuple(self.overview_schemas),
            deepcopy(dict(self.config)),
        )

    def _survey(self, markdown: str) -> Survey:
        """What a page asks for, from one scan of it."""
        found = [f for _, _, f in directives.scan(markdown) if f is not None]
        requests: dict[TableRef, SampleRequest] = {}
        cards: list[tuple[int, TableRef, bool]] = []
        schemas: set[str] = set()
        wants_overview = False
        for item in found:
            if not isinstance(item, directives.Directive):
                continue
            if item.kind in document.KINDS or item.kind == "functions":
                wants_overview = True
                schemas.add(item.argument.removesuffix(".*"))
                continue
            ref = _table_ref(item)
            if isinstance(ref, TableRef):
                limit = _card_options(item, self.config.samples)
                sections = _card_sections(item, self.config.sections, self.config.hide)
                if isinstance(sections, frozenset) and "samples" not in sections:
                    limit = 0  # a card that hides its samples reads none
                request = SampleRequest(limit if isinstance(limit, int) else 0, "samples" in item.options)
                requests[ref] = _wider(requests.get(ref), request)
                cards.append((item.line, ref, _is_copy(item)))
        return Survey(
            any_directive=any(not isinstance(f, directives.QueryPattern) for f in found),
            requests=requests,
            patterns=_allowed_functions(f for f in found if isinstance(f, directives.QueryPattern)),
            wants_graph=any(isinstance(f, directives.Directive) and f.kind in CATALOG_WIDE for f in found),
            cards=cards,
            schemas=schemas,
            wants_overview=wants_overview,
        )

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        refs: dict[TableRef, SampleRequest] = {}
        patterns: dict[str, tuple[str, ...]] = {}
        wants_graph = wants_overview = False
        schemas: set[str] = set()
        cards: list[tuple[str, int, TableRef, bool]] = []
        self.files = files
        self.directive_pages = set()
        for file in sorted(files.documentation_pages(), key=lambda f: f.src_uri):
            survey = self._survey(file.content_string)
            for ref, request in survey.requests.items():
                refs[ref] = _wider(refs.get(ref), request)
            for query, functions in survey.patterns.items():
                patterns[query] = tuple(dict.fromkeys((*patterns.get(query, ()), *functions)))
            wants_graph = wants_graph or survey.wants_graph
            wants_overview = wants_overview or survey.wants_overview
            schemas |= survey.schemas
            cards += [(file.src_uri, line, ref, copy) for line, ref, copy in survey.cards]
            if survey.any_directive or survey.patterns:
                self.directive_pages.add(file.src_uri)
        # Always: cards link inheritance and the relations a view reads through it.
        self.overview_schemas = sorted(schemas)
        wanted = refs or patterns or wants_graph or wants_overview
        # Under `mkdocs build`, the templates compile in a forked process while the database is
        # read (a thread would take the build's own time: one interpreter lock): the cards'
        # (0.13 s), checked here once the read is done, before any page, and the theme's page
        # templates (0.2 s), for the build's environment (see theme.py).
        renderer = self.renderer
        assert renderer is not None  # on_config made it
        theme_env = config.theme.get_env()
        self.theme_templates = CompiledAhead()
        compiling = None
        # A fork copies only the forking thread: with another plugin's threads running,
        # one may hold a lock the copy would wait on.
        if wanted and self._forks() and threading.active_count() == 1:
            compiling = ahead.Forked(lambda: _compiled(renderer, theme_env), nice=NICE)
        try:
            # Raw, as read: metadata (re-loaded by every on_config) applies on top below.
            with _without_collection():
                self.collection = self._read(refs, patterns, site=True) if wanted else None
        except BaseException:
            if compiling is not None:
                compiling.stop()
            raise
        if compiling is not None and (compiled := compiling.result(COMPILE_TIMEOUT)) is not None:
            self.theme_templates.imported(compiled[0], theme_env)
            COMPILED.code.update(compiled[1])
        try:
            renderer.check_templates()  # what compiled above only loads
        except TemplateProblem as error:
            raise PluginError(f"dbschema: {error}") from None
        self._apply_metadata()
        self._analyse()
        self._place_cards(cards)
        self.card_count = len(cards)
        return files

    def _forks(self) -> bool:
        """Whether the build may fork: serve runs threads (its server, its watcher), which a
        fork would not carry."""
        return self.command != "serve" and self.config.parallel and ahead.available()

    def _place_cards(self, cards: Sequence[tuple[str, int, TableRef, bool]]) -> None:
        """The page each table's card is on: the link target of every mention of it.
        A second card of a table warns, unless marked as a copy."""
        self.card_pages = {}
        self.card_lines = {}
        catalog = self.catalog
        if catalog is None:
            return
        for src_uri, line, ref, copy in cards:
            key = catalog.resolved.get(str(ref))
            if key is None or copy:
                continue
            if key in self.card_lines:
                first, first_line = self.card_lines[key]
                log.warning(
                    "%s:%s: %s is carded on %s:%s too; links go to the first card. Mark an "
                    "intentional second card << table: %s | copy: yes >>",
                    src_uri,
                    line,
                    catalog.tables[key].display,
                    first,
                    first_line,
                    ref,
                )
                continue
            self.card_pages[key] = src_uri
            self.card_lines[key] = (src_uri, line)

    # -- expanding ---------------------------------------------------------------

    def expand_page(self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str | None:
        """The page with every directive expanded (MkDocs' on_page_markdown)."""
        survey = self._survey(markdown)
        if not survey.patterns and not survey.any_directive:
            return None
        done = self.ahead.take(page.file.src_uri) if self.ahead is not None else None
        if done is not None and done.source == markdown:  # else another plugin changed it since
            return self._expanded_ahead(done, page)
        requests = survey.requests
        known = self.collection
        unplanned = {
            query: functions
            for query, functions in survey.patterns.items()
            if known is None or query not in known.plans
        }
        # Directives another plugin added after on_files: one more read for those.
        missing = {
            ref: request
            for ref, request in requests.items()
            if known is None or str(ref) not in known.catalog.resolved
        }
        # A page of malformed directives only needs no database to say so.
        needs_catalog = bool(requests or survey.patterns or survey.wants_graph or survey.wants_overview)
        if needs_catalog and (missing or unplanned or known is None):
            if self.logs is not None:  # a worker never reads: the build expands this page
                raise _NeedsRead
            self._stop_ahead()  # pages it expanded ahead did not see what this read adds
            if survey.schemas - set(self.overview_schemas or ()):
                self.overview_schemas = sorted({*(self.overview_schemas or ()), *survey.schemas})
            extra = self._read(missing, unplanned)
            self.collection = extra if known is None else merge(known, extra)
            self._apply_metadata()
            self._analyse()
        self.anchored = set()
        try:
            return directives.expand(markdown, lambda d: self._expand(d, page))
        except TemplateProblem as error:
            raise PluginError(f"dbschema: {page.file.src_uri}: {error}") from None

    @event_priority(-100)  # after every other plugin: the Markdown as it will be converted
    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        # Whatever an interrupted build left half done.
        self.reusing, self.converting, self.page_signature = {}, {}, None
        self.blocks.clear()
        self._stop_recording()
        self._stop_ahead()

    # -- expanding ahead (ahead.py) ----------------------------------------------------

    @event_priority(-100)  # after other plugins' on_nav: the pages as the build reads them
    def on_nav(self, nav: Any, /, *, config: MkDocsConfig, files: Files) -> Any:
        self._stop_ahead()
        # What exists now (the catalog, the configuration, the templates) lives until the
        # build ends: the collector stops walking it on every full collection (0.3 s of a
        # 1,000-table build), and a worker forked now leaves it shared, untouched.
        gc.freeze()
        if not self._forks() or self.card_count < AHEAD_MIN_CARDS:
            return nav
        pages = [f.src_uri for f in files.documentation_pages() if f.src_uri in self.directive_pages]
        if len(pages) > 1:
            self.changed_after_expanding = self._markdown_handlers_after_expanding(config)
            self.ahead = ahead.Ahead(
                pages,
                lambda uri: self._expand_ahead(uri, config, files),
                self._become_worker,
            )
        return nav

    def _markdown_handlers_after_expanding(self, config: MkDocsConfig) -> bool:
        """Whether another plugin's on_page_markdown runs after this one expands a page, and
        may change the Markdown a page the worker converted is converted from."""
        later = _handlers_after(config.plugins.events["page_markdown"], self.expand_page)
        return later is None or any(getattr(h, "__self__", None) is not self for h in later)

    def _become_worker(self) -> None:
        """In the worker: log and register anchors for the build to replay, never read."""
        self.ahead = None
        self.logs = ahead.RecordedLogs()
        self.logs.install()
        if self.autorefs is not None:
            self.autorefs = ahead.RecordedAnchors()

    def _expand_ahead(self, uri: str, config: MkDocsConfig, files: Files) -> ahead.Expanded | None:
        """In the worker: page `uri` read and expanded as the build would."""
        assert self.logs is not None
        file = files.get_file_from_path(uri)
        if file is None:
            return None
        page = file.page or Page(None, file, config)  # MkDocs makes pages out of the nav so
        page.read_source(config)
        source = page.markdown or ""
        self.logs.taken()
        try:
            markdown = self.expand_page(source, page=page, config=config, files=files)
        except _NeedsRead:
            return None
        anchors = self.autorefs.taken() if isinstance(self.autorefs, ahead.RecordedAnchors) else []
        records = self.logs.taken()
        # Converted here too when the conversion needs nothing but the page (no autorefs,
        # which follows the build's current page; no extension that reads other files).
        signature = self._page_signature(config, files)
        converted = None
        if signature is not None and self.autorefs is None:
            page.markdown = source if markdown is None else markdown
            page.render(config, files)
            links = page.links_to_anchors
            converted = RenderedPage(
                _page_key(page.markdown, page, signature),
                page.content or "",
                page.toc,
                page._title_from_render,
                page.present_anchor_ids,
                None if links is None else {linked.src_uri: found for linked, found in links.items()},
            )
        html, headings = self.blocks.taken()
        if converted is not None and not self.changed_after_expanding:
            html, headings = {}, {}  # no plugin can make the build convert it again: not sent
        converting_records = self.logs.taken()
        return ahead.Expanded(
            source, markdown, html, headings, records, anchors, converted, converting_records
        )

    def _expanded_ahead(self, done: ahead.Expanded, page: Page) -> str | None:
        """A page the worker expanded, as if expanded here."""
        self.blocks.add(done.html, done.headings)
        if done.converted is not None:
            self.converted_ahead[page.file.src_uri] = (done.converted, done.converting_records or [])
        ahead.replay(done.records)
        for args, kwargs in done.anchors if self.autorefs is not None else ():
            self.autorefs.register_anchor(page, *args, **kwargs)
        return done.markdown

    def _stop_ahead(self) -> None:
        if self.ahead is not None:
            self.ahead.stop()
            self.ahead = None
        self.converted_ahead = {}
        if self.indexing is not None:
            self.indexing.stop()
            self.indexing = None
        self.indexed_as = {}

    def on_build_error(self, *, error: Exception) -> None:
        self._stop_ahead()
        gc.unfreeze()

    def _page_signature(self, config: MkDocsConfig, files: Files) -> str | None:
        """What besides its Markdown a page's conversion depends on, once per build; None
        when an extension may do more than convert the page (read other files, register
        objects) and pages must be converted every time."""
        if self.page_signature is None:
            names = []
            for extension in config.markdown_extensions:
                name = extension if isinstance(extension, str) else type(extension).__qualname__
                if name not in CACHEABLE_EXTENSIONS and not (
                    name.startswith("pymdownx.") and name not in UNCACHEABLE_PYMDOWNX
                ):
                    return None
                names.append(name)
            self.page_signature = repr((names, config.mdx_configs, sorted(f.src_uri for f in files)))
        return self.page_signature

    @event_priority(-100)  # after every other plugin: the Markdown as it will be converted
    def _reuse_unchanged_page(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        """`mkdocs serve`: a page whose final Markdown, address, neighbours and Markdown
        settings are those of the last build is not converted again; on_page_content puts
        the last HTML back. A narrative edit converts that one page. `mkdocs build`: a page
        the worker converted (ahead.py) is not converted again, if no plugin has changed
        its Markdown since."""
        if (done := self.converted_ahead.pop(page.file.src_uri, None)) is not None:
            converted, records = done
            signature = self._page_signature(config, files)
            if signature is not None and converted.key == _page_key(markdown, page, signature):
                ahead.replay(records)
                links = converted.links_to_anchors
                if links is not None:  # the worker's files, by path: this build's File objects
                    found = {uri: files.get_file_from_path(uri) for uri in links}
                    links = {file: links[uri] for uri, file in found.items() if file is not None}
                self.reusing[page.file.src_uri] = dataclasses.replace(converted, links_to_anchors=links)
                return ""  # nothing to convert
        signature = self._page_signature(config, files) if self.command == "serve" else None
        if signature is None:
            return None
        key = _page_key(markdown, page, signature)
        last = self.rendered.get(page.file.src_uri)
        if last is not None and last.key == key:
            self.reusing[page.file.src_uri] = last
            return ""  # nothing to convert
        self.converting[page.file.src_uri] = key
        self._start_recording()
        return None

    on_page_markdown = CombinedEvent(expand_page, _reuse_unchanged_page)

    # autorefs learns a page's headings and anchors while the page converts: a page that
    # is not converted again replays what autorefs was told the last time.
    def _start_recording(self) -> None:
        autorefs = self.autorefs
        if autorefs is None:
            return
        register = type(autorefs).register_anchor
        self.recorded = []

        def recording(page: Page, *args: Any, **kwargs: Any) -> Any:
            self.recorded.append((args, kwargs))
            return register(autorefs, page, *args, **kwargs)

        autorefs.register_anchor = recording

    def _stop_recording(self) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        if self.autorefs is not None and "register_anchor" in vars(self.autorefs):
            del self.autorefs.register_anchor
        recorded, self.recorded = self.recorded, []
        return recorded

    @event_priority(100)  # before other plugins: they see the page as a conversion leaves it
    def on_page_content(self, html: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str | None:
        # The page's cards are in its HTML now: their blocks, most of a build's memory, go.
        self.blocks.clear()
        source = page.file.src_uri
        if (last := self.reusing.pop(source, None)) is not None:
            page.toc, page.present_anchor_ids = last.toc, last.anchor_ids
            page._title_from_render = last.title
            if last.links_to_anchors is not None:
                page.links_to_anchors = last.links_to_anchors
            for args, kwargs in last.anchors if self.autorefs is not None else ():
                self.autorefs.register_anchor(page, *args, **kwargs)
            return last.html
        if (key := self.converting.pop(source, None)) is not None:
            self.rendered[source] = RenderedPage(
                key,
                html,
                page.toc,
                page._title_from_render,
                page.present_anchor_ids,
                page.links_to_anchors,
                tuple(self._stop_recording()),
            )
        return None

    @property
    def catalog(self) -> Catalog | None:
        return self.collection.catalog if self.collection else None

    def _analyse(self) -> None:
        catalog = self.catalog
        self.levels = dependency_levels(catalog.graph) if catalog else {}
        self.findings = advise(catalog, self.advisor_options) if catalog else {}
        names: dict[str, str] = {}
        if catalog is not None:
            names.update({s.display: key for key, s in catalog.overview.items()})
            names.update({display: key for key, display in catalog.names.items()})
            names.update({t.display: key for key, t in catalog.tables.items()})
        self.keys_by_display = names

    def _expand(self, found: directives.Found, page: Page) -> str:
        assert self.renderer is not None
        where = f"{page.file.src_uri}:{found.line}"
        if isinstance(found, directives.QueryPattern):
            assert self.collection is not None
            plan = self.collection.plans[found.sql]
            if found.problem:
                log.warning("%s: %s", where, found.problem)
            if plan.refused:
                log.warning("%s: query pattern not planned: %s", where, refusal(plan))
            elif plan.error:
                log.warning("%s: query pattern does not plan: %s", where, plan.error)
            return self.renderer.plan(plan)
        if isinstance(found, directives.Directive) and found.kind in CATALOG_WIDE:
            assert self.catalog is not None
            if found.argument or found.options:
                return self._problem(where, found.source, f"{found.kind} takes no argument")
            links = self._links(page)
            if found.kind == "extensions":
                return self.renderer.extensions(self.catalog)
            if found.kind == "advisors":
                return self.renderer.advisors([f for fs in self.findings.values() for f in fs], links)
            return self.renderer.migration_order(self.catalog, self.levels, links)
        if isinstance(found, directives.Directive) and found.kind in document.KINDS:
            return self._document(found, page, where)
        if isinstance(found, directives.Directive) and found.kind == "functions":
            return self._functions(found, page, where)
        ref = _table_ref(found)
        if isinstance(ref, str):
            return self._problem(where, found.source, ref)
        assert self.catalog is not None
        key = self.catalog.resolved.get(str(ref))
        if key is None:
            path = self.catalog.search_path or "empty"
            reason = f"no table or view named {ref} (search_path: {path})"
            if hint := self.catalog.hints.get(str(ref)):
                reason += f"; did you mean {hint}?"
            return self._problem(where, found.source, reason)
        assert isinstance(found, directives.Directive)
        limit = _card_options(found, self.config.samples)
        if isinstance(limit, str):
            return self._problem(where, found.source, limit)
        sections = _card_sections(found, self.config.sections, self.config.hide)
        if isinstance(sections, str):
            return self._problem(where, found.source, sections)
        table = self.catalog.tables[key]
        # System relations show rows only when asked: their rows are other sessions' data.
        limit = sample_limit(table, SampleRequest(limit, "samples" in found.options))
        sample = self.collection.samples.get(key) if self.collection else None
        # The first card of the table on the page its links go to, whatever line it is on
        # now (a plugin before this one may have added lines since on_files).
        target = (
            self.card_pages.get(key) == page.file.src_uri and not _is_copy(found) and key not in self.anchored
        )
        if target:
            self.anchored.add(key)
        meta = self.table_metadata.get(key)
        if target:
            self._register(page, table)
        card = self.renderer.table_card(
            table,
            self.catalog,
            self.levels.get(key),
            sample.first(limit) if sample and limit else None,
            self.findings.get(key, ()),
            anchor=document.anchor(key) if target else None,
            link=self._links(page),
            meta=meta,
            sections=sections,
            key_fields=metadata.detected_key_fields(
                [c.name for c in table.columns], meta.key_fields if meta else ()
            ),
        )
        if self.wrap_cards:
            # A block of its own, so the card's stylesheet touches the card only.
            # Search sees the wrapper, so text after the card stays in the page's own section.
            opening = self.blocks.store('<div class="dbschema-card">', text_for_search=False)
            closing = self.blocks.store("</div>", text_for_search=False)
            card = f"{opening}{card.strip()}{closing}"
        return self.blocks.merged(card)

    def _links(self, page: Page) -> TableLinks:
        if not self.linking:
            return TableLinks()
        return TableLinks(
            link_to(self.card_pages, page.file.src_uri, document.anchor),
            self.keys_by_display,
            self._href(page),
        )

    def _href(self, page: Page) -> Callable[[str], str | None]:
        """Links in a card's own HTML: the built page's URL, as MkDocs makes Markdown links."""
        files = self.files

        def href(key: str) -> str | None:
            source = self.card_pages.get(key)
            target = files.get_file_from_path(source) if files is not None and source else None
            if target is None:
                return None
            there = "" if source == page.file.src_uri else get_relative_url(target.url, page.url)
            return f"{there}#{document.anchor(key)}"

        return href

    def _register(self, page: Page, table: Table) -> None:
        """Let writers link a card from prose, `[motopress_sync_log][]`, through autorefs."""
        autorefs = self.autorefs
        if autorefs is None or not self.linking:
            return
        for identifier in dict.fromkeys((table.display, table.key)):
            autorefs.register_anchor(page, identifier, document.anchor(table.key), primary=True)

    def _functions(self, found: directives.Directive, page: Page, where: str) -> str:
        assert self.renderer is not None and self.catalog is not None
        read = sorted({f.schema for f in self.catalog.functions.values() if f.documented})
        if found.argument not in read:
            known = ", ".join(read) or "none"
            return self._problem(
                where, found.source, f"no functions read for schema {found.argument!r} (read: {known})"
            )
        unknown = sorted(set(found.options) - {"bodies"})
        if unknown:
            return self._problem(where, found.source, f"unknown option {unknown[0]!r} (known: bodies)")
        answer = found.options.get("bodies", "").lower()
        if answer not in ("", "yes", "true", "no", "false"):
            return self._problem(where, found.source, f"bodies must be yes or no, not {answer!r}")
        bodies = None if not answer else answer in ("yes", "true")  # unset: the config's choice
        return self.renderer.functions(self.catalog, found.argument, self._links(page), bodies=bodies)

    def _document(self, found: directives.Directive, page: Page, where: str) -> str:
        assert self.renderer is not None and self.catalog is not None
        if found.kind == "erd" and not self.mermaid:
            log.warning(
                "%s: %s: no mermaid custom fence in pymdownx.superfences: the diagram shows as "
                "its source (see docs/plugin/directives.md#whole-schema-directives)",
                where,
                found.source,
            )
        links = self._links(page)
        site = document.Site(
            summaries=self.catalog.overview,
            groups=self.config.groups,
            link=links.url,
            levels={**document.levels_of(self.catalog.overview), **self.levels},
        )
        try:
            return document.render(self.renderer, found.kind, found.argument, found.options, site)
        except document.DocumentError as error:
            return self._problem(where, found.source, str(error))

    def _problem(self, where: str, source: str, reason: str) -> str:
        assert self.renderer is not None
        log.warning("%s: %s: %s", where, source, reason)
        return self.renderer.notice("failure", f"dbschema: {source}", f"{reason} ({where})")

    # Material's search reads each page's HTML with html.parser in its on_page_context; the
    # cards' tables and highlighted SQL are most of a large site's tags. Search is given their
    # words without their tags, and the HTML is put back after. Under `mkdocs build` a
    # second process makes most pages' entries while the build renders page templates
    # (on_env): search skips such a page, and its entries are added in its place.
    @event_priority(-100)  # after other plugins' on_env: every page is converted
    def on_env(self, env: Any, /, *, config: MkDocsConfig, files: Files) -> Any:
        self._stop_ahead()  # every page is converted: nothing left for the page worker
        self.theme_templates.give_to(env)
        search = _material_search(config)
        pages = [f.page for f in files.documentation_pages() if f.page is not None]
        handlers = config.plugins.events["page_context"]
        after_mine = _handlers_after(handlers, self._text_for_search) or []
        if (
            search is None
            # Search reads the page right after this plugin hands it over: no other plugin
            # in between may change what it reads.
            or after_mine[:1] != [search.on_page_context]
            or handlers.count(search.on_page_context) != 1
            or not self._forks()
            or self.card_count < AHEAD_MIN_CARDS
            or len(pages) < 2
        ):
            return env
        self.indexed_as = {page.file.src_uri: _search_inputs(page) for page in pages}
        gc.freeze()  # the converted pages too: shared with the worker, untouched
        logs = ahead.RecordedLogs()

        def entries(uri: str) -> list[dict[str, Any]] | None:
            made = _entries(search, files, uri)
            # Whatever indexing logs is logged by the build, which indexes such a page itself.
            return None if logs.taken() else made

        # From the last page back, while the build indexes from the first: the worker is done
        # where they meet, half-way, and every page of the build's heap it shares is copied
        # for as long as it runs (the build goes on writing its heap).
        self.indexing = ahead.Ahead(
            [page.file.src_uri for page in pages], entries, logs.install, lookahead=len(pages)
        )
        self.search = search
        return env

    def _entries_ahead(self, page: Page) -> list[dict[str, Any]] | None:
        """The page's search entries the worker made, if what they were made from is
        what search would read now (no plugin has changed the page since on_env)."""
        if self.indexing is None:
            return None
        entries = self.indexing.take(page.file.src_uri)
        made_from = self.indexed_as.pop(page.file.src_uri, None)
        return entries if made_from is not None and made_from == _search_inputs(page) else None

    @event_priority(50)
    def _text_for_search(self, context: Any, /, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        self.searched, self.entries, self.toc = [], None, None
        if page.content and self.indexing is not None:
            self.entries = self._entries_ahead(page)
            if self.entries is not None:
                # Search adds nothing of its own for the page, and does not read its blocks.
                self.search_meta = page.meta.get("search", _MISSING)
                page.meta["search"] = {**(page.meta.get("search") or {}), "exclude": True}
                page.content, self.searched = without_blocks(page.content)
                return context
        if page.content and ("search" in config.plugins or "material/search" in config.plugins):
            page.content, self.searched = for_search(page.content)
            if _material_search(config) is not None:  # MkDocs' own search needs the table
                self.toc, page.toc = page.toc, _toc_for_search(page.toc)
        return context

    @event_priority(-50)
    def _html_after_search(self, context: Any, /, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        if page.content:
            page.content = with_blocks(page.content, self.searched)  # without search: markers dropped
        if self.toc is not None:
            page.toc, self.toc = self.toc, None
        if self.entries is not None:
            if self.search_meta is _MISSING:
                del page.meta["search"]
            else:
                page.meta["search"] = self.search_meta
            self.search.search_index.entries.extend(self.entries)
        self.searched, self.entries, self.search_meta = [], None, None
        return context

    on_page_context = CombinedEvent(_text_for_search, _html_after_search)

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        self._stop_ahead()
        gc.unfreeze()
        if self.config.stylesheet:
            target = Path(config.site_dir) / STYLESHEET
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(
                resources.files("mkdocs_dbschema.render").joinpath("assets/dbschema.css").read_bytes()
            )

    def on_shutdown(self) -> None:
        self.embedded.stop()
        self.offline = None

    def on_serve(self, server: Any, /, *, config: MkDocsConfig, builder: Any) -> Any:
        # Folders too: a metadata file added to a globbed folder rebuilds the site.
        for path in {*self.metadata_files, *(f.parent for f in self.metadata_files)}:
            server.watch(str(path))
        if not self.dsn:
            # Folders, not files: a migration added while serving triggers a rebuild too.
            for folder in sql_folders(self.config.embedded_sql, self.base):
                server.watch(str(folder))
            for option in (self.config.embedded_stats, self.config.snapshot):
                if option:  # a snapshot or statistics file written anew while serving shows at once
                    server.watch(str(self.base / option))
        return server


_MISSING = object()


def _material_search(config: MkDocsConfig) -> Any:
    """Material's search plugin when it indexes pages as this plugin knows it to (a list
    of entries that add_entry_from_context fills, page by page); else None."""
    for name in ("search", "material/search"):
        search: Any = config.plugins.get(name)
        index = getattr(search, "search_index", None)
        if (
            type(search).__module__ == "material.plugins.search.plugin"
            and search.config.enabled
            and isinstance(getattr(index, "entries", None), list)
            and callable(getattr(index, "add_entry_from_context", None))
        ):
            return search
    return None


@contextlib.contextmanager
def _without_collection() -> Iterator[None]:
    """No garbage collection while the database is read: the rows and the model it makes
    live until the build ends, and the collector's passes over the whole process meanwhile
    (0.2 s at 1,000 tables) found nothing to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# The template compile's priority below the build's: it fills the moments the read waits.
NICE = 10
# It takes a third of a second; past this, the build compiles the templates itself.
COMPILE_TIMEOUT = 30


def _compiled(renderer: CardRenderer, theme_env: Any) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """In a forked process: the theme's page templates and the cards' templates, compiled."""
    theme = CompiledAhead()
    theme.fill(theme_env)
    with contextlib.suppress(TemplateProblem):  # reported by the build, which compiles it again
        renderer.check_templates()
    return theme.code, COMPILED.code


def _handlers_after(
    handlers: list[Callable[..., Any]], handler: Callable[..., Any]
) -> list[Callable[..., Any]] | None:
    """The handlers of an event that run after `handler`; None unless it runs once."""
    if handlers.count(handler) != 1:
        return None
    return handlers[handlers.index(handler) + 1 :]


def _search_inputs(page: Page) -> tuple[Any, ...]:
    """What Material's search reads of a page (its table of contents by identity)."""
    return (page.content, page.toc, page.url, page.title, deepcopy(page.meta))


def _toc_for_search(toc: Any) -> Any:
    """The table of contents Material's search is given: none, when each entry's link is
    `#` and its id (MkDocs' entries are; another plugin's may not be). Material's search
    looks up each heading's entry for its link, walking the whole table from the top (a
    page of 50 cards: 30,000 steps), and links `#` and the heading's id where it finds
    none. (MkDocs' own search indexes only headings it finds in the table.)"""
    if not toc:
        return toc
    entries = list(toc)
    while entries:
        entry = entries.pop()
        if getattr(entry, "url", None) != f"#{getattr(entry, 'id', None)}":
            return toc
        entries += getattr(entry, "children", ())
    return TableOfContents([])


def _entries(search: Any, files: Files, uri: str) -> list[dict[str, Any]] | None:
    """In the worker: page `uri`'s search entries, made by Material's own code from what
    the build's search would read."""
    file = files.get_file_from_path(uri)
    page = None if file is None else file.page
    if page is None or not page.content:
        return None
    page.content, _ = for_search(page.content)
    page.toc = _toc_for_search(page.toc)
    index = type(search.search_index)(**search.search_index.config)
    index.add_entry_from_context(page)
    return list(index.entries)


def _page_key(markdown: str, page: Page, signature: str) -> str:
    """What a page's conversion depends on (see _page_signature), as one digest."""
    return hashlib.sha256("\0".join((markdown, page.url, signature)).encode()).hexdigest()


class _NeedsRead(Exception):
    """In the worker: a page asks for what the site's read did not read."""


@functools.cache  # once a process
def _skip_final_collection() -> None:
    """Leaving the interpreter, a last full collection walks every object a build left
    (0.5 s after 1,000 tables) only to free memory the process gives back anyway; frozen
    objects are not walked. Python does not promise finalizers at exit either."""
    atexit.register(gc.freeze)


def _stop_cleanly_on_termination() -> None:
    """SIGTERM and SIGHUP (CI cancelling a job, a closed terminal) end the process like
    Ctrl-C, so the embedded server is stopped and its folder removed on the way out."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(signum) is signal.SIG_DFL:  # never replace someone else's handler
                signal.signal(signum, interrupt)
        except ValueError:  # not the main thread: leave signals alone
            return


def _table_ref(found: directives.Directive | directives.Malformed) -> TableRef | str:
    """The table a directive names, or the reason it names none."""
    if isinstance(found, directives.Malformed):
        return found.reason
    if found.kind != "table":
        known = ", ".join(directives.KINDS)
        return f"unknown directive {found.kind!r} (known: {known})"
    if not found.argument:
        return "the table directive needs a table name: << table: name >>"
    try:
        return parse_table_name(found.argument)
    except TableNameError as error:
        return str(error)


def _matching(base: Path, pattern: str) -> list[Path]:
    return sorted(Path(p) for p in glob.glob(str(base / pattern), recursive=True) if Path(p).is_file())


def _is_copy(directive: directives.Directive) -> bool:
    return directive.options.get("copy", "").lower() in ("yes", "true")


CARD_OPTIONS = ("samples", "copy", "sections", "hide")


def _listed(value: str) -> list[str]:
    return [part.strip().lower() for part in value.split(",") if part.strip()]


def _card_sections(
    directive: directives.Directive, shown: Sequence[str], hidden: Sequence[str]
) -> frozenset[str] | str:
    """The sections of one card: the directive's `sections:` / `hide:`, else the config's."""
    chosen = _listed(directive.options["sections"]) if "sections" in directive.options else list(shown)
    left_out = _listed(directive.options["hide"]) if "hide" in directive.options else list(hidden)
    problem = unknown_sections([*chosen, *left_out])
    return problem if problem else visible_sections(chosen, left_out)


def _card_options(directive: directives.Directive, default: int) -> int | str:
    """The sample rows a table directive asks for, or why its options are wrong."""
    unknown = sorted(set(directive.options) - set(CARD_OPTIONS))
    if unknown:
        return f"unknown option {unknown[0]!r} (known: {', '.join(CARD_OPTIONS)})"
    if directive.options.get("copy", "yes").lower() not in ("yes", "no", "true", "false"):
        return f"copy must be yes or no, not {directive.options['copy']!r}"
    value = directive.options.get("samples")
    if value is None:
        return default
    if not (value.isascii() and value.isdigit() and len(value) <= 4) or int(value) > 1000:
        return f"samples must be a whole number from 0 to 1000, not {value!r}"
    return int(value)


def _allowed_functions(patterns: Iterable[directives.QueryPattern]) -> dict[str, tuple[str, ...]]:
    """Each query → every function any of its marker lines allows planning to run."""
    allowed: dict[str, tuple[str, ...]] = {}
    for pattern in patterns:
        allowed[pattern.sql] = tuple(dict.fromkeys((*allowed.get(pattern.sql, ()), *pattern.functions)))
    return allowed


def _wider(known: SampleRequest | None, new: SampleRequest) -> SampleRequest:
    """Two directives for one table: the more rows, asked for if either asked."""
    if known is None:
        return new
    return SampleRequest(max(known.limit, new.limit), known.explicit or new.explicit)
