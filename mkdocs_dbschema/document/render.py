"""Expand the whole-schema directives: `tables`, `summary`, `erd` and `coverage`.

`context()` is pure: it turns a directive into a template name and the values the
template shows. `render()` renders that template with the card renderer's Jinja
environment, so the same Markdown escaping, heading levels, extension fallbacks
and user template folders apply as for table cards.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from ..analysis.dependencies import Level
from ..catalog.model import TableSummary
from ..render import markdown
from ..render.cards import CardRenderer
from .erd import diagram_problem, erd, erd_options, neighbourhood
from .listing import (
    STORED_KINDS,
    Entry,
    Link,
    coverage,
    integration_candidates,
    levels_of,
    listings,
    make_entry,
    overall,
)
from .selection import Selection, select

KINDS = ("tables", "summary", "erd", "coverage")
TEMPLATES = {kind: f"{kind}.md.j2" for kind in KINDS}
UNGROUPED = "Other tables"
DEFAULT_TABLE_DEPTH = 1  # `<< erd: one_table >>`: the table and its direct neighbours


class DocumentError(ValueError):
    """A whole-schema directive that cannot be expanded; the message says why."""


def _no_link(key: str) -> str | None:
    return None


@dataclass(frozen=True)
class Site:
    """What the whole-schema directives of one page need to know."""

    summaries: Mapping[str, TableSummary]  # Catalog.overview
    groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # URL (relative to the current page, with `#anchor(key)`) of the card of a table;
    # None when no page cards it.
    link: Link = _no_link
    # Dependency levels by key; None: computed from the overview's foreign keys.
    levels: Mapping[str, Level] | None = None


# Characters a Markdown link destination keeps as they are; the rest are percent-encoded
# so that no page path or anchor can end the link early.
_URL_SAFE = "/#?=&:;.,%-_~+@!$"


def linked(entry: Entry) -> Markup:
    """The table's name, linked to its card when a page cards it."""
    name = markdown.text(entry.display)
    if entry.url is None:
        return name
    return Markup("[") + name + Markup(f"]({quote(entry.url, safe=_URL_SAFE)})")


def _select(argument: str, site: Site) -> Selection:
    selection = select(argument, site.summaries, site.groups)
    if isinstance(selection, str):
        raise DocumentError(selection)
    return selection


def _refuse_options(kind: str, options: Mapping[str, str]) -> None:
    if options:
        raise DocumentError(f"`{kind}` takes no options (got {', '.join(sorted(options))})")


def context(kind: str, argument: str, options: Mapping[str, str], site: Site) -> tuple[str, dict[str, Any]]:
    """The template and its variables for `<< kind: argument | options >>`.
    Raises DocumentError for an unknown kind, argument or option."""
    if kind not in KINDS:
        raise DocumentError(f"unknown directive {kind!r} (known: {', '.join(KINDS)})")
    selection = _select(argument, site)
    common: dict[str, Any] = {"selection": selection, "link": linked, "ungrouped": UNGROUPED}
    if kind == "erd":
        parsed = erd_options(options)
        if isinstance(parsed, str):
            raise DocumentError(parsed)
        keys = selection.keys
        if selection.kind == "table":
            depth = DEFAULT_TABLE_DEPTH if parsed.depth is None else parsed.depth
            keys = neighbourhood(keys[0], site.summaries, depth)
        elif parsed.depth is not None:
            raise DocumentError(f"depth applies to one table; {argument!r} names {len(keys)}")
        diagram = erd(keys, site.summaries, parsed.columns)
        problem = diagram_problem(diagram)
        if problem:
            raise DocumentError(problem)
        levels = levels_of(site.summaries) if site.levels is None else site.levels
        # Mermaid's erDiagram has no click targets: the names below the diagram link instead.
        shown = [key for key in keys if key in site.summaries]
        entries = [make_entry(site.summaries[key], levels, site.link) for key in shown]
        return TEMPLATES[kind], {**common, "diagram": diagram, "tables": keys, "entries": entries}
    _refuse_options(kind, options)
    levels = levels_of(site.summaries) if site.levels is None else site.levels
    parts = listings(selection.keys, site.summaries, site.groups, levels, site.link)
    everything = overall(parts)
    common.update(listings=parts, total=everything, stored_kinds=STORED_KINDS)
    if kind == "coverage":
        common.update(
            coverages=[coverage(part, site.summaries) for part in parts],
            total_coverage=coverage(everything, site.summaries),
            candidates=integration_candidates(everything, site.summaries, site.groups),
        )
    return TEMPLATES[kind], common


def render(renderer: CardRenderer, kind: str, argument: str, options: Mapping[str, str], site: Site) -> str:
    """Markdown for `<< kind: argument | options >>`. Raises DocumentError (argument or
    options wrong) or TemplateProblem (a user's template broke)."""
    name, values = context(kind, argument, options, site)
    return renderer._render(name, **values)


def link_to(pages: Mapping[str, str], current: str, anchor: Callable[[str], str]) -> Link:
    """A `link` for `Site`: `pages` maps a table key to the source path (relative to
    docs_dir, `/`-separated) of the page carding it; links are relative to `current`."""
    here = posixpath.dirname(current)

    def link(key: str) -> str | None:
        page = pages.get(key)
        if page is None:
            return None
        target = "" if page == current else posixpath.relpath(page, here or ".")
        return f"{target}#{anchor(key)}"

    return link
