"""Render table cards and notices from the catalog model with Jinja2 templates.

Every `{{ expression }}` is escaped for Markdown by the environment's finalize
hook; only values the templates build themselves (Markup) pass unchanged. A
user's template folder is searched before the packaged templates.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..analysis.advisors import LEVEL_ORDER, Finding
from ..analysis.dependencies import Level
from ..analysis.redaction import Cell, Sample
from ..catalog.model import Catalog, Table
from ..catalog.plans import QueryPlan
from . import markdown, sql

# Markdown extensions the cards use when present; without them the cards fall back
# to plain Markdown rather than printing syntax nobody renders.
ADMONITION = "admonition"
DETAILS = "pymdownx.details"
SUPERFENCES = "pymdownx.superfences"


@dataclass(frozen=True)
class RenderOptions:
    heading_level: int = 2
    groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    group_label: str = "Group"
    extensions: frozenset[str] = frozenset({ADMONITION, DETAILS, SUPERFENCES})
    redacted: bool = True
    activity_stats: bool = True


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
        text += Markup(f" <em>… (+{cell.truncated} chars)</em>")
    return text


def _join(items: Any, separator: str = "") -> Markup:
    return markdown.text(separator).join(markdown.text(item) for item in items)


def _replace(value: Any, old: str, new: str, count: int = -1) -> Markup:
    return markdown.text(str(value).replace(old, new, count))


class CardRenderer:
    def __init__(self, options: RenderOptions, template_dirs: Sequence[Path] = ()) -> None:
        self.options = options
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader([str(d) for d in template_dirs])]
        loaders.append(jinja2.PackageLoader("mkdocs_dbschema.render", "templates"))
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            finalize=_finalize,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # Output is Markdown: finalize escapes for Markdown and marks the result
            # safe, so autoescape only keeps macro and filter Markup from being escaped twice.
            autoescape=True,
        )
        self.env.filters.update(
            # Built-ins that would HTML-escape (not Markdown-escape) their input.
            join=_join,
            replace=_replace,
            e=markdown.text,
            escape=markdown.text,
            code=functools.partial(markdown.code_block, fenced=SUPERFENCES in options.extensions),
            ic=markdown.inline_code,
            size=markdown.size,
            count=markdown.count,
            constraint_sql=sql.constraint_sql,
            foreign_key_sql=sql.foreign_key_sql,
            incoming_sql=sql.incoming_sql,
            index_sql=sql.index_sql,
            policy_sql=sql.policy_sql,
            trigger_sql=sql.trigger_sql,
            view_sql=sql.view_sql,
            type_sql=sql.type_sql,
            sample_sql=sql.sample_sql,
        )
        self.env.globals.update(
            heading=self._heading,
            has_admonition=ADMONITION in options.extensions,
            has_details=DETAILS in options.extensions,
            group_label=options.group_label,
            redacted=options.redacted,
            activity_stats=options.activity_stats,
            cell_text=_cell_text,
            frequency=frequency,
            hit_ratio=hit_ratio,
        )

    def _heading(self, depth: int) -> Markup:
        return Markup("#" * min(6, self.options.heading_level + depth))

    def group_of(self, table: Table) -> str | None:
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
    ) -> str:
        return self.env.get_template("card.md.j2").render(
            table=table,
            catalog=catalog,
            level=level,
            sample=sample,
            findings=findings,
            group=self.group_of(table),
            types=[catalog.types[name] for name in table.types if name in catalog.types],
        )

    def migration_order(self, catalog: Catalog, levels: Mapping[str, Level]) -> str:
        by_level: dict[int, list[str]] = {}
        for key, level in levels.items():
            by_level.setdefault(level.level, []).append(catalog.names.get(key, key))
        cycles = sorted(
            {tuple(catalog.names.get(k, k) for k in level.cycle) for level in levels.values() if level.cycle}
        )
        self_referencing = sorted(catalog.names.get(k, k) for k, lv in levels.items() if lv.self_reference)
        return self.env.get_template("migration_order.md.j2").render(
            levels=[(n, sorted(names)) for n, names in sorted(by_level.items())],
            cycles=cycles,
            self_referencing=self_referencing,
        )

    def advisors(self, findings: Sequence[Finding]) -> str:
        """Findings grouped by advisor, most severe first: (name, level, why, findings)."""
        groups: dict[str, list[Finding]] = {}
        for finding in sorted(findings, key=lambda f: (LEVEL_ORDER[f.level], f.advisor, f.table)):
            groups.setdefault(finding.advisor, []).append(finding)
        return self.env.get_template("advisors.md.j2").render(
            groups=[(name, fs[0].level, fs[0].why, fs) for name, fs in groups.items()]
        )

    def plan(self, plan: QueryPlan) -> str:
        return self.env.get_template("plan.md.j2").render(plan=plan)

    def notice(self, kind: str, title: str, message: str) -> str:
        """A visible admonition in place of a directive that could not be expanded."""
        return self.env.get_template("notice.md.j2").render(kind=kind, title=title, message=message)
