"""Mermaid `erDiagram` text for a selection of tables.

Database text never reaches Mermaid as syntax: entities get generated ASCII ids
and carry their names as quoted aliases (`t_public_tenants["tenants"]`, Mermaid
10.5+), from which every character Mermaid's lexer treats specially is swapped
for a look-alike; attribute types and names keep only characters Mermaid's
attribute words allow. Comments are left out of the diagram.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..catalog.model import ColumnSummary, ForeignKeySummary, TableSummary
from .selection import anchor

COLUMN_CHOICES = ("keys", "all", "none")
# Mermaid's defaults (maxTextSize, maxEdges): beyond them it draws an error instead.
MAX_TEXT = 50_000
MAX_EDGES = 500


@dataclass(frozen=True)
class ErdOptions:
    columns: str = "keys"  # "keys" (PK/FK/unique columns), "all" or "none"
    depth: int | None = None  # for one table: tables within this many foreign-key hops


def erd_options(options: Mapping[str, str]) -> ErdOptions | str:
    """The options of `<< erd: ARG | columns: all | depth: 2 >>`, or what is wrong with them."""
    unknown = sorted(set(options) - {"columns", "depth"})
    if unknown:
        return f"unknown option {unknown[0]!r} (known: columns, depth)"
    columns = options.get("columns", "keys").strip().lower()
    if columns not in COLUMN_CHOICES:
        return f"columns: {columns!r} is not one of {', '.join(COLUMN_CHOICES)}"
    depth = None
    if "depth" in options:
        text = options["depth"].strip()
        if not text.isascii() or not text.isdigit():
            return f"depth: {text!r} is not a whole number of foreign-key hops"
        depth = int(text)
    return ErdOptions(columns, depth)


def neighbourhood(key: str, summaries: Mapping[str, TableSummary], depth: int) -> tuple[str, ...]:
    """`key` and the tables within `depth` foreign-key hops of it, either direction."""
    adjacent: dict[str, set[str]] = {k: set() for k in summaries}
    for summary in summaries.values():
        for fk in summary.foreign_keys:
            if fk.ref_table in adjacent:
                adjacent[summary.key].add(fk.ref_table)
                adjacent[fk.ref_table].add(summary.key)
    distance = {key: 0}
    queue = deque([key])
    while queue:
        current = queue.popleft()
        if distance[current] == depth:
            continue
        for other in sorted(adjacent.get(current, ())):
            if other not in distance:
                distance[other] = distance[current] + 1
                queue.append(other)
    return tuple(sorted(distance))


# Characters with a meaning to Mermaid (quotes end a name, % starts a comment, #name;
# is an entity code, backticks start Markdown strings, < > & reach the SVG's HTML).
_LOOK_ALIKES = str.maketrans(
    {ch: chr(ord(ch) + 0xFEE0) for ch in '"%\\#`<>&*'}  # the fullwidth forms, U+FF01 on
)
# Mermaid reads `... direction TB ...` anywhere in a line as a layout statement.
_DIRECTION = re.compile(r"(direction)(\s+(?:tb|bt|rl|lr))", re.IGNORECASE)
_ZERO_WIDTH_SPACE = "\u200b"  # not whitespace to JavaScript's \s


def _printable(text: str) -> str:
    return "".join(
        " " if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch
        for ch in text
    )


def label(text: str) -> str:
    """`text` as the inside of a double-quoted Mermaid name."""
    cleaned = " ".join(_printable(text).translate(_LOOK_ALIKES).split())
    return _DIRECTION.sub(rf"\1{_ZERO_WIDTH_SPACE}\2", cleaned) or "_"


_KEY_WORD = re.compile(r"(?:pk|fk|uk)(?![A-Za-z0-9_])", re.IGNORECASE)


def word(text: str, extra: str = "") -> str:
    """`text` as a Mermaid attribute word: ASCII letters, digits, `_`, `-`, characters
    from U+00C0 on, and `extra`; any other character becomes `_`."""
    kept = "".join(
        ch
        if (ch.isascii() and (ch.isalnum() or ch in "_-" + extra))
        or (ord(ch) >= 0xC0 and ch.isprintable() and not ch.isspace())
        else "_"
        for ch in "_".join(_printable(text).split())
    )
    if not kept or not (kept[0].isalpha() or kept[0] == "_") or _KEY_WORD.match(kept):
        kept = "_" + kept  # a word starts with a letter and is never a key marker
    return kept


def type_word(type_name: str) -> str:
    """`timestamp with time zone` → `timestamp_with_time_zone`, `numeric(12,2)` kept."""
    return word(type_name.replace('"', ""), extra="()[].,")


def _markers(column: ColumnSummary, fk_columns: set[str]) -> list[str]:
    return [
        marker
        for marker, present in (
            ("PK", column.primary_key),
            ("FK", column.name in fk_columns),
            ("UK", column.unique and not column.primary_key),
        )
        if present
    ]


def cardinality(summary: TableSummary, fk: ForeignKeySummary) -> str:
    """Crow's feet for `referenced <this> referencing`.

    The referenced side is exactly one when every key column is NOT NULL, else zero
    or one; the referencing side is zero or one when the key columns hold a unique
    key (each referenced row is referenced at most once), else zero or many. The
    line is solid (identifying) when the key columns are part of the primary key.
    """
    by_name = {c.name: c for c in summary.columns}
    required = all(name in by_name and not by_name[name].nullable for name in fk.columns)
    unique = any(set(key) <= set(fk.columns) for key in summary.unique_keys)
    primary_key = {c.name for c in summary.columns if c.primary_key}
    # A documented relation is drawn dashed whatever its columns: the database does not enforce it.
    identifying = bool(primary_key) and set(fk.columns) <= primary_key and not fk.documented
    return ("||" if required else "|o") + ("--" if identifying else "..") + ("o|" if unique else "o{")


def _ids(keys: Iterable[str]) -> dict[str, str]:
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for key in sorted(keys):
        base = "t_" + re.sub(r"[^a-z0-9_]", "_", anchor(key))
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        ids[key] = candidate
        taken.add(candidate)
    return ids


def erd(keys: Sequence[str], summaries: Mapping[str, TableSummary], columns: str = "keys") -> str:
    """Mermaid source (no fence) of the tables `keys` with their outgoing foreign keys;
    referenced tables outside `keys` appear as boxes without columns."""
    inside = sorted(set(keys))
    outside: dict[str, tuple[str, str]] = {}
    edges: list[tuple[str, str, str, str, str]] = []  # referenced, referencing, crow's feet, role, name
    for key in inside:
        summary = summaries[key]
        for fk in summary.foreign_keys:
            if fk.ref_table not in inside:
                target = summaries.get(fk.ref_table)
                outside[fk.ref_table] = (
                    (target.schema, target.name) if target else (fk.ref_schema, fk.ref_name)
                )
            role = ", ".join(fk.columns) + (" (documented)" if fk.documented else "")
            edges.append((fk.ref_table, key, cardinality(summary, fk), role, fk.name))
    names = {k: (summaries[k].schema, summaries[k].name) for k in inside} | outside
    one_schema = len({schema for schema, _ in names.values()}) == 1
    ids = _ids(names)

    def entity(key: str) -> str:
        schema, name = names[key]
        return f'{ids[key]}["{label(name if one_schema else f"{schema}.{name}")}"]'

    lines = ["erDiagram"]
    for key in sorted(names):
        if key not in summaries or key in outside or columns == "none":
            lines.append(f"    {entity(key)}")
            continue
        summary = summaries[key]
        fk_columns = {name for fk in summary.foreign_keys for name in fk.columns}
        attributes = []
        for column in summary.columns:
            markers = _markers(column, fk_columns)
            if columns == "keys" and not markers:
                continue
            keys_text = f" {', '.join(markers)}" if markers else ""
            attributes.append(f"        {type_word(column.type)} {word(column.name)}{keys_text}")
        if attributes:
            lines += [f"    {entity(key)} {{", *attributes, "    }"]
        else:
            lines.append(f"    {entity(key)}")
    for referenced, referencing, feet, role, _ in sorted(edges):
        lines.append(f'    {ids[referenced]} {feet} {ids[referencing]} : "{label(role)}"')
    return "\n".join(lines) + "\n"


def diagram_problem(text: str) -> str | None:
    """Why Mermaid would refuse to draw `text`, if it would."""
    # Relationship lines are the only ones holding ` : "` (names have no straight quotes).
    edges = sum(1 for line in text.splitlines() if ' : "' in line)
    if len(text) > MAX_TEXT:
        return (
            f"the diagram is {len(text):,} characters, more than Mermaid draws ({MAX_TEXT:,}): "
            "use `columns: keys` or `columns: none`, or a narrower argument"
        )
    if edges > MAX_EDGES:
        return (
            f"the diagram has {edges} relationships, more than Mermaid draws ({MAX_EDGES}): "
            "narrow the argument"
        )
    return None
