"""Snapshot files: one read of a database, saved as deterministic JSON.

A snapshot holds the catalog model, the (already redacted) sample rows and the
plans of the query patterns it was asked to plan. Numbers that move while the
database is used (row estimates, sizes, scan counters, vacuum times) live in a
`stats` tree of their own, shaped like the catalog tree, so the `catalog` part
of an unchanged database is byte-identical from one read to the next.

The file is versioned: a file of another format version is refused with one line
naming the version it needs; fields a file lacks (written before they existed)
take their defaults, and fields this version does not know are ignored.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .analysis.redaction import Sample
from .catalog.model import Catalog, build
from .catalog.names import TableRef
from .catalog.planner import PlannerStats
from .catalog.plans import QueryPlan
from .collect import Collection

FORMAT = "mkdocs-dbschema snapshot"
VERSION = 1  # the format this code writes
READS = (1,)  # the formats it reads

# Counters that move whenever the database is read or written (sample reads included):
# dropped unless asked for, so a snapshot of an unchanged database repeats byte for byte.
ACTIVITY_FIELDS = frozenset(
    {
        "seq_scan",
        "idx_scan",
        "inserts",
        "updates",
        "deletes",
        "live_tuples",
        "dead_tuples",
        "last_vacuum",
        "last_analyze",
        "heap_hits",
        "heap_reads",
        "index_hits",
        "index_reads",
    }
)


# Fields that move with use, by dataclass: kept in the `stats` tree.
STATS_FIELDS: dict[str, frozenset[str]] = {
    "Catalog": frozenset({"stats_since"}),
    "Table": frozenset({"row_estimate", "total_bytes", "table_bytes", "index_bytes"}) | ACTIVITY_FIELDS,
    "Index": frozenset({"size_bytes", "scans"}),
    "Partition": frozenset({"row_estimate", "total_bytes"}),
    "TableSummary": frozenset({"row_estimate", "total_bytes"}),
}


def _nothing(names: Iterable[str]) -> dict[str, Any]:
    return dict.fromkeys(names)


def without_activity(catalog: Catalog) -> Catalog:
    tables = {
        key: dataclasses.replace(
            table,
            indexes=tuple(dataclasses.replace(i, scans=0) for i in table.indexes),
            **_nothing(ACTIVITY_FIELDS),
        )
        for key, table in catalog.tables.items()
    }
    return dataclasses.replace(catalog, tables=tables, stats_since=None)


class SnapshotError(Exception):
    """A snapshot that cannot be written or read; the message is one line."""


@dataclass(frozen=True)
class Snapshot:
    catalog: Catalog
    samples: dict[str, Sample] = field(default_factory=dict)
    plans: dict[str, QueryPlan] = field(default_factory=dict)
    schemas: tuple[str, ...] = ()  # whole schemas read (`--schema`)
    names: tuple[str, ...] = ()  # directive names read (`--site`)
    planner: PlannerStats | None = None  # `--planner-stats`: plan offline as this database would

    @classmethod
    def of(
        cls,
        collection: Collection,
        schemas: Iterable[str] = (),
        names: Iterable[str] = (),
        *,
        activity: bool = False,
        planner: PlannerStats | None = None,
    ) -> Snapshot:
        """With `activity` False, the scan and write counters are left out."""
        return cls(
            collection.catalog if activity else without_activity(collection.catalog),
            dict(collection.samples),
            dict(collection.plans),
            tuple(sorted(set(schemas))),
            tuple(sorted(set(names))),
            planner,
        )

    # -- writing -------------------------------------------------------------

    def to_json(self) -> str:
        catalog, stats = split_stats(self.catalog)
        document = {
            "format": FORMAT,
            "version": VERSION,
            "request": {"schemas": list(self.schemas), "names": list(self.names)},
            "catalog": catalog,
            "samples": {k: dataclasses.asdict(v) for k, v in sorted(self.samples.items())},
            "plans": {k: dataclasses.asdict(v) for k, v in sorted(self.plans.items())},
            "stats": stats or {},
        }
        if self.planner is not None:  # apart from the catalog: it moves with use
            document["planner"] = dataclasses.asdict(self.planner)
        return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    def write(self, path: Path) -> None:
        """Whole or not at all: a serve watching the file never reads half of it."""
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(self.to_json(), "utf-8")
        partial.replace(path)

    # -- reading -------------------------------------------------------------

    @classmethod
    def from_json(cls, text: str, where: str = "snapshot") -> Snapshot:
        try:
            document = json.loads(text)
        except ValueError as error:
            raise SnapshotError(f"{where} is not JSON: {error}") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise SnapshotError(f"{where} is not a mkdocs-dbschema snapshot")
        version = document.get("version")
        if version not in READS:
            needs = " or ".join(str(v) for v in READS)
            hint = (
                "upgrade mkdocs-dbschema to read it"
                if isinstance(version, int) and version > max(READS)
                else "write it again with `mkdocs-dbschema snapshot`"
            )
            raise SnapshotError(
                f"{where} is snapshot format version {version}; this mkdocs-dbschema reads "
                f"version {needs}: {hint}"
            )
        try:
            tree = merge_stats(document["catalog"], document.get("stats") or {})
            catalog = build(Catalog, tree)
            samples = {k: build(Sample, v) for k, v in (document.get("samples") or {}).items()}
            plans = {k: build(QueryPlan, v) for k, v in (document.get("plans") or {}).items()}
            planner = build(PlannerStats, document["planner"]) if document.get("planner") else None
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise SnapshotError(f"{where} is damaged: {type(error).__name__} {error}") from None
        request = document.get("request") or {}
        return cls(
            catalog,
            samples,
            plans,
            tuple(request.get("schemas") or ()),
            tuple(request.get("names") or ()),
            planner,
        )

    @classmethod
    def load(cls, path: Path) -> Snapshot:
        try:
            text = path.read_text("utf-8")
        except OSError as error:
            raise SnapshotError(f"cannot read snapshot {path}: {error.strerror or error}") from None
        return cls.from_json(text, str(path))

    # -- offline reads -------------------------------------------------------

    def search_path(self) -> list[str]:
        """The schemas an unqualified name was looked up in, in order: pg_catalog first
        unless the recorded path names it, as PostgreSQL does."""
        path = [s for s in self.catalog.search_path.split(", ") if s]
        return path if "pg_catalog" in path else ["pg_catalog", *path]

    def resolve(self, ref: TableRef) -> str | None:
        known = self.catalog.resolved.get(str(ref))
        if known is not None:
            return known
        schemas = [ref.schema] if ref.schema is not None else self.search_path()
        for schema in schemas:
            key = str(TableRef(schema, ref.name))
            if key in self.catalog.tables:
                return key
        return None

    def _hint(self, ref: TableRef) -> str | None:
        lower = ref.name.lower()
        return next(
            (t.display for _, t in sorted(self.catalog.tables.items()) if t.name.lower() == lower), None
        )

    def collection(
        self, tables: Iterable[TableRef], patterns: Mapping[str, Sequence[str]] | Sequence[str] = ()
    ) -> Collection:
        """What `collect` would return for these requests, from the file: names resolve
        through the recorded search path, patterns get the plans recorded for them."""
        resolved: dict[str, str | None] = {}
        hints: dict[str, str] = {}
        for ref in tables:
            key = self.resolve(ref)
            resolved[str(ref)] = key
            hint = self._hint(ref) if key is None else None
            if hint:
                hints[str(ref)] = hint
        # Only what was asked for, as a live read returns: advisors and the migration
        # order cover the documented tables, not every table the file holds.
        wanted = {key for key in resolved.values() if key is not None}
        catalog = dataclasses.replace(
            self.catalog,
            tables={k: t for k, t in self.catalog.tables.items() if k in wanted},
            types={
                k: t
                for k, t in self.catalog.types.items()
                if any(k in self.catalog.tables[w].types for w in wanted)
            },
            resolved=resolved,
            hints=hints,
        )
        plans = {
            query: self.plans.get(query)
            or QueryPlan(
                error="the snapshot holds no plan for this pattern; write it with "
                "`mkdocs-dbschema snapshot --site` so the site's patterns are planned, "
                "or with `--planner-stats` so new ones plan offline"
            )
            for query in patterns
        }
        return Collection(catalog, dict(self.samples), plans, ())


# -- the structure / stats split ---------------------------------------------


def split_stats(value: Any) -> tuple[Any, Any]:
    """(structure, stats) JSON trees of a model object; stats is None when empty."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        moving = STATS_FIELDS.get(type(value).__name__, frozenset())
        structure: dict[str, Any] = {}
        stats: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.name in moving:
                stats[f.name] = item
                continue
            structure[f.name], inner = split_stats(item)
            if inner is not None:
                stats[f.name] = inner
        return structure, stats or None
    if isinstance(value, list | tuple):
        pairs = [split_stats(v) for v in value]
        listed = [inner if inner is not None else {} for _, inner in pairs]
        return [s for s, _ in pairs], listed if any(listed) else None
    if isinstance(value, dict):
        structure = {}
        stats = {}
        for k, v in value.items():
            structure[k], inner = split_stats(v)
            if inner is not None:
                stats[k] = inner
        return structure, stats or None
    return value, None


def merge_stats(structure: Any, stats: Any) -> Any:
    """The structure tree with the stats tree laid over it."""
    if isinstance(structure, dict) and isinstance(stats, dict):
        merged = dict(structure)
        for k, v in stats.items():
            merged[k] = merge_stats(structure[k], v) if k in structure else v
        return merged
    if isinstance(structure, list) and isinstance(stats, list):
        return [merge_stats(s, stats[i]) if i < len(stats) else s for i, s in enumerate(structure)]
    return stats if stats is not None else structure
