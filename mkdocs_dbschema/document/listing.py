"""Navigation, summary and coverage of a selection of tables, as plain data.

Everything is computed from the catalog overview; links come from a callable the
plugin passes in, which knows which page cards which table (None: no page does,
so the name stays plain text rather than becoming a dead link).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..analysis.dependencies import Level, dependency_levels
from ..catalog.model import TableSummary
from .selection import group_of

Link = Callable[[str], "str | None"]

# Relations that hold rows of their own: a missing estimate means "never analyzed".
STORED_KINDS = frozenset({"table", "partitioned table", "materialized view"})
# Relations that take part in the foreign-key graph.
GRAPH_KINDS = frozenset({"table", "partitioned table", "foreign table"})

_SENTENCE = re.compile(r".*?(?:[.!?](?=\s|$)|[\u3002\uff01\uff1f])")  # also the CJK full stop, ! and ?


def first_sentence(comment: str | None) -> str | None:
    """The first sentence of the first non-blank line: "Synced rooms. More." → "Synced rooms."."""
    lines = [line.strip() for line in (comment or "").splitlines() if line.strip()]
    if not lines:
        return None
    match = _SENTENCE.match(lines[0])
    return match.group().strip() if match else lines[0]


def graph_of(summaries: Mapping[str, TableSummary]) -> dict[str, tuple[str, ...]]:
    """The foreign-key graph of the overview: key → keys it references."""
    return {
        key: tuple(sorted({fk.ref_table for fk in s.foreign_keys}))
        for key, s in summaries.items()
        if s.kind in GRAPH_KINDS
    }


def levels_of(summaries: Mapping[str, TableSummary]) -> dict[str, Level]:
    return dependency_levels(graph_of(summaries))


@dataclass(frozen=True)
class Entry:
    """One table as listings show it."""

    key: str
    display: str
    kind: str
    url: str | None  # where its card is; None: carded nowhere
    level: int | None  # dependency level; None for views
    row_estimate: float | None
    total_bytes: int
    purpose: str | None  # first sentence of its comment

    @property
    def unanalyzed(self) -> bool:
        return self.kind in STORED_KINDS and self.row_estimate is None


@dataclass(frozen=True)
class Listing:
    """Tables of one group (name None: of no group, or every selected table)."""

    name: str | None
    entries: tuple[Entry, ...]

    @property
    def rows(self) -> float:
        return sum(e.row_estimate or 0 for e in self.entries)

    @property
    def unanalyzed(self) -> int:
        return sum(e.unanalyzed for e in self.entries)

    @property
    def total_bytes(self) -> int:
        return sum(e.total_bytes for e in self.entries)

    @property
    def levels(self) -> tuple[int, int] | None:
        found = [e.level for e in self.entries if e.level is not None]
        return (min(found), max(found)) if found else None


def make_entry(summary: TableSummary, levels: Mapping[str, Level], link: Link) -> Entry:
    level = levels.get(summary.key) if summary.kind in GRAPH_KINDS else None
    return Entry(
        key=summary.key,
        display=summary.display,
        kind=summary.kind,
        url=link(summary.key),
        level=level.level if level else None,
        row_estimate=summary.row_estimate,
        total_bytes=summary.total_bytes,
        purpose=first_sentence(summary.comment),
    )


def _order(entry: Entry) -> tuple[bool, int, str, str]:
    # Dependency order reads as load order; views (no level) last.
    return (entry.level is None, entry.level or 0, entry.display, entry.key)


def listings(
    keys: Iterable[str],
    summaries: Mapping[str, TableSummary],
    groups: Mapping[str, Sequence[str]],
    levels: Mapping[str, Level],
    link: Link,
) -> tuple[Listing, ...]:
    """The selected tables by group: groups in the order of the `groups` option, then
    the tables of no group; empty groups left out; tables by dependency level, then name."""
    by_group: dict[str | None, list[Entry]] = {}
    for key in keys:
        summary = summaries[key]
        by_group.setdefault(group_of(summary, groups), []).append(make_entry(summary, levels, link))
    order = [*groups, None]
    return tuple(
        Listing(name, tuple(sorted(by_group[name], key=_order))) for name in order if name in by_group
    )


def overall(parts: Sequence[Listing]) -> Listing:
    return Listing(None, tuple(sorted((e for part in parts for e in part.entries), key=_order)))


def percent(part: int, whole: int) -> str:
    """`part` of `whole` in whole percent, never rounded up to 100% nor down to 0%."""
    if not whole:
        return "n/a"
    shown = round(100 * part / whole)
    if part < whole:
        shown = min(shown, 99)
    if part > 0:
        shown = max(shown, 1)
    return f"{shown}%"


@dataclass(frozen=True)
class Coverage:
    """How far the documentation of one group has come."""

    name: str | None
    carded: tuple[Entry, ...]
    uncarded: tuple[Entry, ...]
    uncommented_tables: tuple[Entry, ...]
    columns: int
    # Tables with columns that have no comment: (table, those columns).
    uncommented_columns: tuple[tuple[Entry, tuple[str, ...]], ...]

    @property
    def tables(self) -> int:
        return len(self.carded) + len(self.uncarded)

    @property
    def carded_percent(self) -> str:
        return percent(len(self.carded), self.tables)

    @property
    def commented_tables_percent(self) -> str:
        return percent(self.tables - len(self.uncommented_tables), self.tables)

    @property
    def uncommented_column_count(self) -> int:
        return sum(len(names) for _, names in self.uncommented_columns)

    @property
    def commented_columns_percent(self) -> str:
        return percent(self.columns - self.uncommented_column_count, self.columns)


def coverage(listing: Listing, summaries: Mapping[str, TableSummary]) -> Coverage:
    entries = sorted(listing.entries, key=lambda e: (e.display, e.key))
    uncommented_columns = []
    columns = 0
    for entry in entries:
        summary = summaries[entry.key]
        columns += len(summary.columns)
        missing = tuple(c.name for c in summary.columns if not (c.comment or "").strip())
        if missing:
            uncommented_columns.append((entry, missing))
    return Coverage(
        name=listing.name,
        carded=tuple(e for e in entries if e.url is not None),
        uncarded=tuple(e for e in entries if e.url is None),
        uncommented_tables=tuple(e for e in entries if not (summaries[e.key].comment or "").strip()),
        columns=columns,
        uncommented_columns=tuple(uncommented_columns),
    )


# TASK 5.1 of the integration plan: what makes a table look like an integration table.
INTEGRATION_PREFIXES = ("motopress_", "airbnb_", "whatsapp_")
INTEGRATION_SUFFIXES = ("_sync_log",)
_EXTERNAL_ID = re.compile(r"external_id|(motopress|airbnb|whatsapp)_id")
_SYNC = re.compile(r"(^|_)sync")  # sync_status, last_synced_at, airbnb_sync_token; not "async"


@dataclass(frozen=True)
class Candidate:
    entry: Entry
    reasons: tuple[str, ...]


def integration_reasons(summary: TableSummary) -> tuple[str, ...]:
    """Why the plan's TASK 5.1 rules would call this table an integration table."""
    name = summary.name.lower()
    reasons = [f"name starts with {p}" for p in INTEGRATION_PREFIXES if name.startswith(p)]
    reasons += [f"name ends with {s}" for s in INTEGRATION_SUFFIXES if name.endswith(s)]
    for column in summary.columns:
        lowered = column.name.lower()
        if _EXTERNAL_ID.search(lowered):
            reasons.append(f"column {column.name} (external id)")
        elif _SYNC.search(lowered):
            reasons.append(f"column {column.name} (sync state)")
    return tuple(reasons)


def integration_candidates(
    listing: Listing, summaries: Mapping[str, TableSummary], groups: Mapping[str, Sequence[str]]
) -> tuple[Candidate, ...]:
    """Tables of the listing that look like integration tables but belong to no group."""
    found = []
    for entry in sorted(listing.entries, key=lambda e: (e.display, e.key)):
        summary = summaries[entry.key]
        reasons = integration_reasons(summary)
        if reasons and group_of(summary, groups) is None:
            found.append(Candidate(entry, reasons))
    return tuple(found)
