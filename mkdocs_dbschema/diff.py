"""Compare two catalogs: tables, columns, constraints, foreign keys, indexes, policies,
triggers, partitions and user types added, removed or changed.

Both sides become JSON trees first (the snapshot's own form), so every field the
model has is compared, including fields added after this module was written.
Statistics (row estimates, sizes, scan counters) are left out unless asked for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .catalog.model import Catalog
from .snapshot import merge_stats, split_stats

# Table fields that hold named objects, and what one of them is called.
NAMED = {
    "columns": "column",
    "constraints": "constraint",
    "foreign_keys": "foreign key",
    "indexes": "index",
    "policies": "policy",
    "triggers": "trigger",
    "partitions": "partition",
}
# Derived from other fields (or from the other table's side of a key): no news of their own.
IGNORED = frozenset({"display", "referenced_by", "table_display", "ref_table_display"})


@dataclass(frozen=True)
class Change:
    kind: str  # "table", "column", "index", ..., "type"
    name: str  # the object's name; for a table or type, its key
    change: str  # "added" / "removed" / "changed"
    table: str | None = None  # the table key of an object inside a table
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name → (before, after)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "change": self.change,
            "table": self.table,
            "fields": {k: {"before": a, "after": b} for k, (a, b) in sorted(self.fields.items())},
        }

    @property
    def where(self) -> str:
        return f"{self.table}.{self.name}" if self.table else self.name


def _tree(catalog: Catalog, stats: bool) -> dict[str, Any]:
    structure, moving = split_stats(catalog)
    tree: dict[str, Any] = merge_stats(structure, moving) if stats else structure
    return tree


def _fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    names = sorted((set(before) | set(after)) - IGNORED)
    return {n: (before.get(n), after.get(n)) for n in names if before.get(n) != after.get(n)}


def _named(items: list[Any]) -> dict[str, Any]:
    return {item["name"]: item for item in items if isinstance(item, dict) and "name" in item}


def compare(before: Catalog, after: Catalog, *, stats: bool = False) -> list[Change]:
    a, b = _tree(before, stats), _tree(after, stats)
    changes: list[Change] = []
    tables_a, tables_b = a["tables"], b["tables"]
    for key in sorted(set(tables_a) | set(tables_b)):
        if key not in tables_b:
            changes.append(Change("table", key, "removed"))
            continue
        if key not in tables_a:
            changes.append(Change("table", key, "added"))
            continue
        old, new = tables_a[key], tables_b[key]
        plain = {k: v for k, v in old.items() if k not in NAMED}
        fields = _fields(plain, {k: v for k, v in new.items() if k not in NAMED})
        if fields:
            changes.append(Change("table", key, "changed", fields=fields))
        for attribute, kind in NAMED.items():
            items_a, items_b = _named(old.get(attribute, [])), _named(new.get(attribute, []))
            for name in sorted(set(items_a) | set(items_b)):
                if name not in items_b:
                    changes.append(Change(kind, name, "removed", key))
                elif name not in items_a:
                    changes.append(Change(kind, name, "added", key))
                elif fields := _fields(items_a[name], items_b[name]):
                    changes.append(Change(kind, name, "changed", key, fields))
    types_a, types_b = a["types"], b["types"]
    for name in sorted(set(types_a) | set(types_b)):
        if name not in types_b:
            changes.append(Change("type", name, "removed"))
        elif name not in types_a:
            changes.append(Change("type", name, "added"))
        elif fields := _fields(types_a[name], types_b[name]):
            changes.append(Change("type", name, "changed", fields=fields))
    return changes


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def as_text(changes: list[Change]) -> str:
    if not changes:
        return "no differences\n"
    marks = {"added": "+", "removed": "-", "changed": "~"}
    lines: list[str] = []
    for change in changes:
        lines.append(f"{marks[change.change]} {change.kind} {change.where}")
        for name, (old, new) in sorted(change.fields.items()):
            lines.append(f"    {name}: {_show(old)} -> {_show(new)}")
    counts = {c: sum(1 for x in changes if x.change == c) for c in marks}
    lines.append(f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed")
    return "\n".join(lines) + "\n"


def as_json(changes: list[Change]) -> str:
    return json.dumps({"changes": [c.to_dict() for c in changes]}, indent=2, ensure_ascii=False) + "\n"
