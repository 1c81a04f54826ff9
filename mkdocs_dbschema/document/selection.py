"""Which tables a whole-schema directive covers, and where each table's card lives.

The argument of `<< tables: ARG >>` and its kin is `*`, a group name from the
`groups` option, a schema (`public`, `ops.*`), a glob over table names or keys
(`motopress_*`), one table (`tenants`, `ops."Odd Name"`), or several of these
separated by commas (`Motopress, Airbnb`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..catalog.model import TableSummary
from ..catalog.names import TableNameError, find_relations, parse_table_name

GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True)
class Selection:
    argument: str
    kind: str  # "all" / "group" / "schema" / "glob" / "table" / "list"
    keys: tuple[str, ...]  # sorted


class Groups(dict[str, Sequence[str]]):
    """The `groups` option (group → name patterns), plus the tables that metadata files
    put in a group by key, which win over the patterns."""

    def __init__(
        self, patterns: Mapping[str, Sequence[str]], assigned: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(patterns)
        self.assigned = dict(assigned or {})
        for group in self.assigned.values():
            self.setdefault(group, ())


def group_of(summary: TableSummary, groups: Mapping[str, Sequence[str]]) -> str | None:
    """The group a metadata file gives the table, else the first group with a pattern
    matching its name or key (as the cards decide)."""
    if isinstance(groups, Groups) and summary.key in groups.assigned:
        return groups.assigned[summary.key]
    for group, patterns in groups.items():
        if any(fnmatch.fnmatchcase(summary.name, p) or fnmatch.fnmatchcase(summary.key, p) for p in patterns):
            return group
    return None


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "none"


def _schema_of(argument: str) -> str | None:
    """The schema written as `ops`, `ops.*` or `"Odd Schema".*`; None when not that shape."""
    try:
        ref = parse_table_name(argument.removesuffix(".*"))
    except TableNameError:
        return None
    return ref.name if ref.schema is None else None


def _table(argument: str, summaries: Mapping[str, TableSummary]) -> list[str]:
    try:
        return find_relations(parse_table_name(argument), summaries)
    except TableNameError:
        return []


def select(
    argument: str, summaries: Mapping[str, TableSummary], groups: Mapping[str, Sequence[str]]
) -> Selection | str:
    """The tables `argument` names, or a message saying why none and what is known."""
    argument = argument.strip()
    schemas = sorted({s.schema for s in summaries.values()})
    known = f"groups: {_listed(list(groups))}; schemas: {_listed(schemas)}"
    if not argument:
        return f"give a group, a schema, a glob over table names or * ({known})"
    if argument == "*":
        return Selection(argument, "all", tuple(sorted(summaries)))
    parts = _split_list(argument)
    if len(parts) > 1:  # `Motopress, Airbnb`: every table any part names
        listed: set[str] = set()
        for part in parts:
            chosen = select(part, summaries, groups)
            if isinstance(chosen, str):
                return chosen
            listed.update(chosen.keys)
        return Selection(argument, "list", tuple(sorted(listed)))
    if argument in groups:
        keys = tuple(sorted(k for k, s in summaries.items() if group_of(s, groups) == argument))
        if not keys:
            patterns = ", ".join(groups[argument]) or "no patterns"
            return (
                f"group {argument!r} ({patterns}) holds no table of the documented schemas "
                f"({_listed(schemas)})"
            )
        return Selection(argument, "group", keys)
    schema = _schema_of(argument)
    if schema is not None and schema in schemas:
        return Selection(
            argument, "schema", tuple(sorted(k for k, s in summaries.items() if s.schema == schema))
        )
    if GLOB_CHARACTERS & set(argument):
        keys = tuple(
            sorted(
                k
                for k, s in summaries.items()
                if fnmatch.fnmatchcase(s.name, argument) or fnmatch.fnmatchcase(k, argument)
            )
        )
        if not keys:
            return f"{argument!r} matches no table of the documented schemas ({known})"
        return Selection(argument, "glob", keys)
    tables = _table(argument, summaries)
    if len(tables) == 1:
        return Selection(argument, "table", tuple(tables))
    if tables:
        return f"{argument!r} is ambiguous: qualify it with its schema ({_listed(sorted(tables))})"
    return f"no group, schema or table named {argument!r} ({known})"


def _split_list(argument: str) -> list[str]:
    """Split on commas outside double-quoted identifiers."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in argument:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


_SIMPLE = re.compile(r"[a-z0-9_]+")


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9_]+", "-", ascii_text.lower()).strip("-") or "_"


def anchor(key: str) -> str:
    """A stable HTML id for the card of table `key`, from its schema and name only.

    `public.tenants` gives `public-tenants`. A name that does not map one to one
    onto `[a-z0-9_]` (capitals, spaces, quotes, accents) gets a readable slug and
    a hash of the key after a double hyphen, which a plain id never holds:
    `public."Odd Name"` gives `public-odd-name--` and eight hex digits.
    """
    ref = parse_table_name(key)
    schema, name = ref.schema or "", ref.name
    if _SIMPLE.fullmatch(schema) and _SIMPLE.fullmatch(name):
        return f"{schema}-{name}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    return f"{_slug(schema)}-{_slug(name)}--{digest}"
