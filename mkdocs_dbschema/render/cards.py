"""Render table cards and notices from the catalog model with Jinja2 templates.

Every `{{ expression }}` is escaped for Markdown by the environment's finalize
hook; only values the templates build themselves (Markup) pass unchanged. A
user's template folder is searched before the packaged templates. A template
that does not compile or fails while rendering raises TemplateProblem, whose
message names the file, the line and Jinja's reason.
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import os
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import jinja2.meta
from markupsafe import Markup, escape

from ..analysis.advisors import LEVEL_ORDER, Finding
from ..analysis.dependencies import Level
from ..analysis.redaction import Cell, Sample
from ..catalog.model import Catalog, Table
from ..catalog.plans import QueryPlan, refusal
from . import markdown, sql
from .blocks import HtmlBlocks, sql_html

# Markdown extensions the cards use when present; without them the cards fall back
# to plain Markdown rather than printing syntax nobody renders.
ADMONITION = "admonition"
DETAILS = "pymdownx.details"
SUPERFENCES = "pymdownx.superfences"
ATTR_LIST = "attr_list"  # stable card anchors and short table-of-contents labels
# Characters a Markdown link destination keeps as they are; the rest are percent-encoded
# so that no page path or anchor can end the link early.
URL_SAFE = "/#?=&:;.,%-_~+@!$"


# The sections a card can show, in its order; `sections:` and `hide:` pick among them.
CARD_SECTIONS = (
    "schema",
    "types",
    "definition",
    "primary-key",
    "foreign-keys",
    "constraints",
    "indexes",
    "policies",
    "triggers",
    "partitions",
    "integration",
    "performance",
    "advisors",
    "samples",
    "migration",
)


def visible_sections(shown: Sequence[str], hidden: Sequence[str]) -> frozenset[str]:
    """The sections a card shows: `shown` (empty: all) less `hidden`."""
    return frozenset(shown or CARD_SECTIONS) - set(hidden)


def unknown_sections(names: Sequence[str]) -> str | None:
    unknown = [n for n in names if n not in CARD_SECTIONS]
    if not unknown:
        return None
    return f"unknown section {unknown[0]!r} (known: {', '.join(CARD_SECTIONS)})"


def _nowhere(key: str) -> str | None:
    return None


@dataclass(frozen=True)
class TableLinks:
    """Table names as links to the page and anchor of their card; a table no page cards
    stays plain text, never a dead link. Names are keys or display names."""

    url: Callable[[str], str | None] = _nowhere  # key → Markdown link target from the current page
    keys: Mapping[str, str] = field(default_factory=dict)  # display name → key
    href: Callable[[str], str | None] = _nowhere  # key → URL of the built page, for HTML

    def __call__(self, name: str, shown: str | None = None) -> Markup:
        text = markdown.inline_code(shown or name)
        url = self.url(self.keys.get(name, name))
        if url is None:
            return text
        return Markup("[") + text + Markup(f"]({quote(url, safe=URL_SAFE)})")

    def html(self, name: str, shown: str | None = None) -> Markup:
        text = markdown.inline_code(shown or name)
        url = self.href(self.keys.get(name, name))
        if url is None:
            return text
        return Markup(f'<a href="{escape(quote(url, safe=URL_SAFE))}">{text}</a>')


@dataclass(frozen=True)
class RenderOptions:
    heading_level: int = 2
    groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    group_label: str = "Group"
    extensions: frozenset[str] = frozenset({ADMONITION, DETAILS, SUPERFENCES})
    redacted: bool = True
    activity_stats: bool = True
    function_bodies: bool = False  # show the source of the functions a card lists


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    return markdown.text(value)


# Activity thresholds (scans or row writes since statistics began), documented in docs/.
HIGH, MEDIUM = 10_000, 100


def frequency(events: int) -> str:
    return "High" if events >= HIGH else "Medium" if events >= MEDIUM else "Low"


def hit_ratio(hits: int | None, reads: int | None) -> str:
    """The share of block requests shared buffers answered, as pg_statio counts them."""
    total = (hits or 0) + (reads or 0)
    return "no reads yet" if not total else f"{100 * (hits or 0) / total:.1f}%"


def _cell_text(cell: Cell) -> Markup:
    if cell.text is None:
        return Markup("<em>NULL</em>")
    text = markdown.text(cell.text)
    if cell.rules:
        text = Markup("🔒 ") + text
    if cell.truncated:
        more = Markup(f" <em>… (+{cell.truncated} chars)</em>")
        if cell.whole is None:
            return text + more
        # The whole (already redacted) value on demand; the stylesheet keeps it inline.
        return (
            Markup('<details class="dbschema-value"><summary><span class="dbschema-short">')
            + text
            + more
            + Markup("</span></summary>")
            + markdown.text(cell.whole)
            + Markup("</details>")
        )
    return text


def _folded(title: Any, body: Any, kind: str = "abstract") -> Markup:
    """A block folded under a one-line title, with the browser's own <details>."""
    return (
        Markup('<details class="{}"><summary>').format(kind)
        + markdown.text(title)
        + Markup("</summary>\n")
        + markdown.text(body)
        + Markup("\n</details>")
    )


def _sql(value: Any, separator: str = "\n\n", summary: Any = None) -> Markup:
    """Highlighted SQL in HTML, folded under `summary` when one is given."""
    block = sql_html(markdown.code_text(value, separator))
    return block if summary is None else _folded(summary, block)


def _writer_markdown(value: Any) -> Markup:
    """Metadata text as the writer wrote it: inline Markdown; line breaks become spaces so
    that it stays inside its list item."""
    return Markup(" ".join(str(value).split()))


def _join(items: Any, separator: str = "") -> Markup:
    return markdown.text(separator).join(markdown.text(item) for item in items)


def _replace(value: Any, old: str, new: str, count: int = -1) -> Markup:
    return markdown.text(str(value).replace(old, new, count))


class TemplateProblem(ValueError):
    """A template that does not compile, or that failed while rendering."""


def _display_path(filename: str) -> str:
    """A template's file, relative to the working directory when it is below it."""
    try:
        return os.path.relpath(filename) if Path(filename).resolve().is_relative_to(Path.cwd()) else filename
    except ValueError:  # another drive
        return filename


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in memory, as bytes (which another process can send): a
    template's code is reused while its source is unchanged (Jinja checks the source's
    checksum)."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if (code := self.code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


# For the process: `mkdocs serve` makes a new renderer per build.
COMPILED = CompiledTemplates()


class CardRenderer:
    def __init__(
        self, options: RenderOptions, template_dirs: Sequence[Path] = (), blocks: HtmlBlocks | None = None
    ) -> None:
        self.options = options
        self.blocks = blocks or HtmlBlocks()
        self.template_dirs = tuple(Path(d).resolve() for d in template_dirs)
        self.user_loader = jinja2.FileSystemLoader([str(d) for d in template_dirs])
        self.package_loader = jinja2.PackageLoader("mkdocs_dbschema.render", "templates")
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([self.user_loader, self.package_loader]),
            finalize=_finalize,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # Output is Markdown: finalize escapes for Markdown and marks the result
            # safe, so autoescape only keeps macro and filter Markup from being escaped twice.
            autoescape=True,
            # Templates do not change during a build (serve makes a new renderer per build):
            # no file check each time a card imports its macros.
            auto_reload=False,
            bytecode_cache=COMPILED,
        )
        self.env.filters.update(
            # Built-ins that would HTML-escape (not Markdown-escape) their input.
            join=_join,
            replace=_replace,
            e=markdown.text,
            escape=markdown.text,
            code=functools.partial(markdown.code_block, fenced=SUPERFENCES in options.extensions),
            ic=markdown.inline_code,
            sql=_sql,
            size=markdown.size,
            count=markdown.count,
            constraint_sql=sql.constraint_sql,
            foreign_key_sql=sql.foreign_key_sql,
            incoming_sql=sql.incoming_sql,
            index_sql=sql.index_sql,
            policy_sql=sql.policy_sql,
            trigger_sql=sql.trigger_sql,
            view_sql=sql.view_sql,
            rule_sql=sql.rule_sql,
            function_sql=sql.function_sql,
            type_sql=sql.type_sql,
            sample_sql=sql.sample_sql,
            refusal=refusal,
            # Writers' metadata is theirs, like the page around it: Markdown, not escaped.
            md=_writer_markdown,
        )
        self.env.globals.update(
            heading=self._heading,
            has_admonition=ADMONITION in options.extensions,
            has_details=DETAILS in options.extensions,
            has_attr_list=ATTR_LIST in options.extensions,
            group_label=options.group_label,
            redacted=options.redacted,
            activity_stats=options.activity_stats,
            function_bodies=options.function_bodies,
            cell_text=_cell_text,
            folded_html=_folded,
            stash=self.blocks.store,
            heading_block=self._heading_block,
            frequency=frequency,
            hit_ratio=hit_ratio,
        )

    # -- templates ---------------------------------------------------------------

    def _is_user_file(self, filename: str) -> bool:
        path = Path(filename).resolve()
        return any(path.is_relative_to(folder) for folder in self.template_dirs)

    def _problem(self, name: str, error: Exception) -> TemplateProblem | None:
        """The TemplateProblem for an error raised by template `name`; None for an error
        that no template of the user's caused (a bug here: keep its traceback)."""
        if isinstance(error, jinja2.TemplateSyntaxError):
            filename, line = error.filename or error.name or name, error.lineno
            return TemplateProblem(f"template {_display_path(filename)}, line {line}: {error.message}")
        # Jinja rewrites the traceback so that each template frame carries the template's
        # file and line; the innermost user template is where to look, else the innermost one.
        frames = [
            (frame.f_code.co_filename, line)
            for frame, line in traceback.walk_tb(error.__traceback__)
            if "__jinja_exception__" in frame.f_globals
        ]
        mine = [f for f in frames if self._is_user_file(f[0])]
        if not isinstance(error, jinja2.TemplateError) and not mine:
            return None
        if isinstance(error, jinja2.TemplateNotFound):
            reason = f"template {error.name!r} not found"
        elif isinstance(error, jinja2.TemplateError):
            reason = error.message or type(error).__name__
        else:
            reason = f"{type(error).__name__}: {error}"
        filename, line = (mine or frames or [(name, 0)])[-1]
        where = f"template {_display_path(filename)}" + (f", line {line}" if line else "")
        return TemplateProblem(f"{where}: {reason}")

    def _render(self, name: str, **context: Any) -> str:
        try:
            return self.env.get_template(name).render(**context)
        except Exception as error:
            problem = self._problem(name, error)
            if problem is None:
                raise
            raise problem from error

    def packaged_templates(self) -> list[str]:
        return sorted(n for n in self.package_loader.list_templates() if n.endswith(".j2"))

    def check_templates(self) -> None:
        """Compile every template the cards may use, so that a syntax error stops the
        build at once, naming its file and line, rather than on the first page using it."""
        user = [n for n in self.user_loader.list_templates() if n.endswith(".j2")]
        for name in sorted({*self.packaged_templates(), *user}):
            try:
                self.env.get_template(name)
            except jinja2.TemplateError as error:
                raise self._problem(name, error) or TemplateProblem(str(error)) from error
            except UnicodeDecodeError as error:
                raise TemplateProblem(f"template {name}: not UTF-8 text ({error.reason})") from error

    def unknown_templates(self) -> dict[str, str | None]:
        """`.j2` files of the user's template folders that override no packaged template
        and that no template includes or imports: probably misspelt, so never used.
        Each maps to the closest packaged name, or None."""
        user = sorted(n for n in self.user_loader.list_templates() if n.endswith(".j2"))
        if not user:
            return {}
        packaged = self.packaged_templates()
        referenced: set[str] = set()
        for name in {*packaged, *user}:
            try:
                source = self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]
                referenced.update(filter(None, jinja2.meta.find_referenced_templates(self.env.parse(source))))
            except (jinja2.TemplateError, UnicodeDecodeError):  # check_templates reports it
                continue
        stems = {name.split(".")[0]: name for name in packaged}  # `.md.j2` alike would match anything

        def closest(name: str) -> str | None:
            match = difflib.get_close_matches(name.split(".")[0], stems, n=1)
            return stems[match[0]] if match else None

        return {name: closest(name) for name in user if name not in packaged and name not in referenced}

    def _level(self, depth: int) -> int:
        return min(6, self.options.heading_level + depth)

    def _heading_block(
        self, depth: int, text: str, anchor: str | None = None, label: str | None = None
    ) -> Markup:
        return self.blocks.heading(self._level(depth), text, anchor, label)

    def _heading(self, depth: int) -> Markup:
        return Markup("#" * self._level(depth))

    def group_of(self, table: Table) -> str | None:
        assigned = getattr(self.options.groups, "assigned", {})  # document.Groups: metadata's choice
        if table.key in assigned:
            return str(assigned[table.key])
        for group, patterns in self.options.groups.items():
            if any(fnmatch.fnmatchcase(table.name, p) or fnmatch.fnmatchcase(table.key, p) for p in patterns):
                return group
        return None

    def table_card(
        self,
        table: Table,
        catalog: Catalog,
        level: Level | None,
        sample: Sample | None = None,
        findings: Sequence[Finding] = (),
        *,
        anchor: str | None = None,
        link: TableLinks = TableLinks(),
        meta: Any = None,
        key_fields: Sequence[Any] = (),
        sections: frozenset[str] = frozenset(CARD_SECTIONS),
    ) -> str:
        """`meta`: the writers' metadata.TableMetadata of the table, or None; `key_fields`:
        its metadata.KeyField list, written and detected."""
        return self._render(
            "card.md.j2",
            table=table,
            catalog=catalog,
            level=level,
            sample=sample,
            findings=findings,
            group=self.group_of(table),
            types=[catalog.types[name] for name in table.types if name in catalog.types],
            anchor=anchor,
            link=link,
            reads=catalog.overview[table.key].reads if table.key in catalog.overview else (),
            inherits=catalog.overview[table.key].parent if table.key in catalog.overview else None,
            children=catalog.children.get(table.key, []),
            meta=meta,
            key_fields=key_fields,
            show=sections.__contains__,
        )

    def migration_order(
        self, catalog: Catalog, levels: Mapping[str, Level], link: TableLinks = TableLinks()
    ) -> str:
        by_level: dict[int, list[str]] = {}
        for key, level in levels.items():
            by_level.setdefault(level.level, []).append(catalog.names.get(key, key))
        cycles = sorted(
            {tuple(catalog.names.get(k, k) for k in level.cycle) for level in levels.values() if level.cycle}
        )
        self_referencing = sorted(catalog.names.get(k, k) for k, lv in levels.items() if lv.self_reference)
        return self._render(
            "migration_order.md.j2",
            levels=[(n, sorted(names)) for n, names in sorted(by_level.items())],
            cycles=cycles,
            self_referencing=self_referencing,
            link=link,
        )

    def advisors(self, findings: Sequence[Finding], link: TableLinks = TableLinks()) -> str:
        """Findings grouped by advisor, most severe first: (name, level, why, findings)."""
        groups: dict[str, list[Finding]] = {}
        for finding in sorted(findings, key=lambda f: (LEVEL_ORDER[f.level], f.advisor, f.table)):
            groups.setdefault(finding.advisor, []).append(finding)
        return self._render(
            "advisors.md.j2",
            groups=[(name, fs[0].level, fs[0].why, fs) for name, fs in groups.items()],
            link=link,
        )

    def functions(
        self, catalog: Catalog, schema: str, link: TableLinks = TableLinks(), bodies: bool | None = None
    ) -> str:
        """The functions and procedures of `schema` the catalog read (its documented schemas),
        for a `<< functions: schema >>` directive; bodies (redacted) when asked for."""
        chosen = [f for _, f in sorted(catalog.functions.items()) if f.schema == schema and f.documented]
        source = (
            '{% from "macros.md.j2" import functions_listing with context %}'
            "{{ functions_listing(functions, bodies) }}"
        )
        try:
            return self.env.from_string(source).render(
                functions=chosen,
                bodies=self.options.function_bodies if bodies is None else bodies,
                link=link,
            )
        except Exception as error:
            raise self._problem("macros.md.j2", error) or error from error

    def extensions(self, catalog: Catalog) -> str:
        return self._render("extensions.md.j2", extensions=sorted(catalog.extensions, key=lambda x: x.name))

    def plan(self, plan: QueryPlan) -> str:
        return self._render("plan.md.j2", plan=plan)

    def notice(self, kind: str, title: str, message: str) -> str:
        """A visible admonition in place of a directive that could not be expanded."""
        return self._render("notice.md.j2", kind=kind, title=title, message=message)
