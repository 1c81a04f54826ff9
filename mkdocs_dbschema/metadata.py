"""What only writers know, kept as data: metadata files beside the pages.

A metadata file is YAML. Under `tables:`, each table (by name or `schema.name`)
may carry its purpose, group, integration details, key fields, migration notes,
growth rate, indexing strategy, purposes for its columns, indexes, constraints,
triggers and policies, labels, and relations the database does not declare.
A `.tbls.yml` (tbls' `comments:` and `relations:`) reads as the same metadata.

Loading never raises: every problem is a message naming the file and line, for
the plugin to warn with (so `--strict` fails).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .catalog.model import Catalog, ForeignKeySummary
from .catalog.names import TableNameError, find_relations, parse_table_name


@dataclass(frozen=True)
class Integration:
    api_endpoints: tuple[str, ...] = ()
    sync_frequency: str | None = None
    sync_direction: str | None = None
    external_id_mapping: str | None = None

    def __bool__(self) -> bool:
        return bool(
            self.api_endpoints or self.sync_frequency or self.sync_direction or self.external_id_mapping
        )


@dataclass(frozen=True)
class MigrationNotes:
    do: tuple[str, ...] = ()
    dont: tuple[str, ...] = ()
    special_handling: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.do or self.dont or self.special_handling)


@dataclass(frozen=True)
class Relation:
    """A foreign key the database does not declare: documented, not enforced."""

    table: str  # as written
    columns: tuple[str, ...]
    references: str  # the referenced table, as written
    ref_columns: tuple[str, ...]
    comment: str | None = None
    where: str = ""  # file:line


@dataclass(frozen=True)
class KeyField:
    column: str  # one column, or several that share a purpose: "sync_status / last_synced_at"
    purpose: str
    generated: bool = False  # detected from the column's name, not written by a writer

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in re.split(r"[/,]", self.column) if part.strip())


@dataclass(frozen=True)
class TableMetadata:
    name: str  # as written
    where: str  # file:line of its entry
    purpose: str | None = None
    group: str | None = None
    integration: Integration = Integration()
    key_fields: tuple[KeyField, ...] = ()
    migration: MigrationNotes = MigrationNotes()
    growth_rate: str | None = None
    indexing_strategy: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)
    constraints: dict[str, str] = field(default_factory=dict)
    triggers: dict[str, str] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    relations: tuple[Relation, ...] = ()
    lines: dict[str, str] = field(default_factory=dict)  # "columns.x" → file:line, for messages


@dataclass(frozen=True)
class Metadata:
    tables: tuple[TableMetadata, ...] = ()

    def for_key(self, key: str, catalog: Catalog) -> TableMetadata | None:
        """The metadata of the table `key`, all entries naming it merged (later files win)."""
        found = [t for t in self.tables if resolve(t.name, catalog) == key]
        if not found:
            return None
        merged = found[0]
        for later in found[1:]:
            merged = _merge(merged, later)
        return merged

    def relations(self) -> list[Relation]:
        return [r for t in self.tables for r in t.relations]


TABLE_FIELDS = {
    "purpose",
    "group",
    "integration",
    "key_fields",
    "migration_notes",
    "growth_rate",
    "indexing_strategy",
    "columns",
    "indexes",
    "constraints",
    "triggers",
    "policies",
    "labels",
    "relations",
}
INTEGRATION_FIELDS = {"api_endpoints", "sync_frequency", "sync_direction", "external_id_mapping"}
MIGRATION_FIELDS = {"do", "dont", "special_handling"}
RELATION_FIELDS = {"columns", "references", "ref_columns", "comment"}


class _Reader:
    """Walks a YAML node tree, keeping each value's line for messages."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[str] = []

    def at(self, node: yaml.Node) -> str:
        return f"{self.path}:{node.start_mark.line + 1}"

    def problem(self, node: yaml.Node, message: str) -> None:
        self.problems.append(f"{self.at(node)}: {message}")

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping")
            return []
        items: list[tuple[str, yaml.Node, yaml.Node]] = []
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                self.problem(key, f"{what}: keys must be names")
                continue
            items.append((str(key.value), key, value))
        return items

    def text(self, node: yaml.Node, what: str) -> str | None:
        if isinstance(node, yaml.ScalarNode):
            return str(node.value).strip()
        self.problem(node, f"{what} must be text")
        return None

    def texts(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        if isinstance(node, yaml.ScalarNode):
            return (str(node.value).strip(),)
        if isinstance(node, yaml.SequenceNode):
            return tuple(t for item in node.value if (t := self.text(item, what)) is not None)
        self.problem(node, f"{what} must be text or a list of texts")
        return ()

    def purposes(self, node: yaml.Node, what: str, lines: dict[str, str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for name, key, value in self.mapping(node, what):
            text = self.text(value, f"{what}.{name}")
            if text is not None:
                found[name] = text
                lines[f"{what}.{name}"] = self.at(key)
        return found

    def unknown(self, items: Iterable[tuple[str, yaml.Node, yaml.Node]], known: set[str], what: str) -> None:
        for name, key, _ in items:
            if name not in known:
                self.problem(key, f"unknown field {name!r} in {what} (known: {', '.join(sorted(known))})")


def _table(reader: _Reader, name: str, key: yaml.Node, node: yaml.Node) -> TableMetadata:
    items = reader.mapping(node, f"table {name}")
    reader.unknown(items, TABLE_FIELDS, f"table {name}")
    values: dict[str, Any] = {}
    lines: dict[str, str] = {}
    for field_name, field_key, value in items:
        lines[field_name] = reader.at(field_key)
        if field_name in ("purpose", "group", "growth_rate", "indexing_strategy"):
            values[field_name] = reader.text(value, field_name)
        elif field_name in ("columns", "indexes", "constraints", "triggers", "policies"):
            values[field_name] = reader.purposes(value, field_name, lines)
        elif field_name == "labels":
            values["labels"] = reader.texts(value, "labels")
        elif field_name == "key_fields":
            values["key_fields"] = tuple(
                KeyField(column, purpose)
                for column, purpose in reader.purposes(value, "key_fields", lines).items()
            )
        elif field_name == "integration":
            parts = reader.mapping(value, "integration")
            reader.unknown(parts, INTEGRATION_FIELDS, "integration")
            given = {n: v for n, _, v in parts}
            values["integration"] = Integration(
                api_endpoints=reader.texts(given["api_endpoints"], "api_endpoints")
                if "api_endpoints" in given
                else (),
                **{
                    n: reader.text(given[n], n)
                    for n in ("sync_frequency", "sync_direction", "external_id_mapping")
                    if n in given
                },
            )
        elif field_name == "migration_notes":
            parts = reader.mapping(value, "migration_notes")
            reader.unknown(parts, MIGRATION_FIELDS, "migration_notes")
            values["migration"] = MigrationNotes(
                **{n: reader.texts(v, n) for n, _, v in parts if n in MIGRATION_FIELDS}
            )
        elif field_name == "relations":
            values["relations"] = _relations(reader, name, value)
    return TableMetadata(name=name, where=reader.at(key), lines=lines, **values)


def _relations(reader: _Reader, table: str, node: yaml.Node) -> tuple[Relation, ...]:
    if not isinstance(node, yaml.SequenceNode):
        reader.problem(node, "relations must be a list")
        return ()
    found = []
    for item in node.value:
        parts = reader.mapping(item, "relation")
        reader.unknown(parts, RELATION_FIELDS, "relation")
        given = {n: v for n, _, v in parts}
        if "columns" not in given or "references" not in given:
            reader.problem(item, "a relation needs columns and references")
            continue
        references = reader.text(given["references"], "references") or ""
        columns = reader.texts(given["columns"], "columns")
        ref_columns = reader.texts(given["ref_columns"], "ref_columns") if "ref_columns" in given else ()
        comment = reader.text(given["comment"], "comment") if "comment" in given else None
        found.append(Relation(table, columns, references, ref_columns, comment, reader.at(item)))
    return tuple(found)


def _parse(path: Path, text: str) -> tuple[yaml.Node | None, str | None]:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        reason = getattr(error, "problem", None) or str(error)
        return None, f"{path}{line}: not valid YAML: {reason}"


def load(paths: Sequence[Path], base: Path | None = None) -> tuple[Metadata, list[str]]:
    """Every file's tables (a `.tbls.yml` by its own format), and the problems found."""
    tables: list[TableMetadata] = []
    problems: list[str] = []
    for path in paths:
        shown = str(path.relative_to(base)) if base and path.is_relative_to(base) else str(path)
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(f"{shown}: cannot read: {error}")
            continue
        root, problem = _parse(Path(shown), text)
        if problem:
            problems.append(problem)
            continue
        if root is None:
            continue
        reader = _Reader(shown)
        if path.name.endswith(".tbls.yml") or path.name == ".tbls.yml":
            tables.extend(_tbls(reader, root))
        else:
            top = reader.mapping(root, "the file")
            reader.unknown(top, {"tables"}, "the file")
            for name, _, value in top:
                if name == "tables":
                    tables.extend(
                        _table(reader, table, k, v) for table, k, v in reader.mapping(value, "tables")
                    )
        problems.extend(reader.problems)
    return Metadata(tuple(tables)), problems


def _tbls(reader: _Reader, root: yaml.Node) -> list[TableMetadata]:
    """tbls' `comments:` and `relations:` as metadata; its other settings are ignored."""
    tables: list[TableMetadata] = []
    for name, _, value in reader.mapping(root, "the file"):
        if name == "comments" and isinstance(value, yaml.SequenceNode):
            for item in value.value:
                given = {n: v for n, _, v in reader.mapping(item, "comment")}
                if "table" not in given:
                    reader.problem(item, "a tbls comment needs table")
                    continue
                table = reader.text(given["table"], "table") or ""
                lines: dict[str, str] = {}
                purposes: dict[str, Any] = {
                    ours: reader.purposes(given[theirs], ours, lines)
                    for theirs, ours in (
                        ("columnComments", "columns"),
                        ("indexComments", "indexes"),
                        ("constraintComments", "constraints"),
                        ("triggerComments", "triggers"),
                    )
                    if theirs in given
                }
                tables.append(
                    TableMetadata(
                        name=table,
                        where=reader.at(item),
                        purpose=reader.text(given["tableComment"], "tableComment")
                        if "tableComment" in given
                        else None,
                        labels=reader.texts(given["labels"], "labels") if "labels" in given else (),
                        lines=lines,
                        **purposes,
                    )
                )
        elif name == "relations" and isinstance(value, yaml.SequenceNode):
            for item in value.value:
                given = {n: v for n, _, v in reader.mapping(item, "relation")}
                if not {"table", "columns", "parentTable"} <= set(given):
                    reader.problem(item, "a tbls relation needs table, columns and parentTable")
                    continue
                table = reader.text(given["table"], "table") or ""
                relation = Relation(
                    table,
                    reader.texts(given["columns"], "columns"),
                    reader.text(given["parentTable"], "parentTable") or "",
                    reader.texts(given["parentColumns"], "parentColumns") if "parentColumns" in given else (),
                    reader.text(given["def"], "def") if "def" in given else None,
                    reader.at(item),
                )
                tables.append(TableMetadata(name=table, where=reader.at(item), relations=(relation,)))
    return tables


def _merge(first: TableMetadata, later: TableMetadata) -> TableMetadata:
    changes: dict[str, Any] = {}
    for item in dataclasses.fields(TableMetadata):
        mine, theirs = getattr(first, item.name), getattr(later, item.name)
        if item.name in ("name", "where"):
            continue
        if isinstance(mine, dict):
            changes[item.name] = {**mine, **theirs}
        elif item.name in ("relations", "key_fields", "labels"):
            changes[item.name] = tuple(dict.fromkeys((*mine, *theirs)))
        elif theirs:
            changes[item.name] = theirs
    return dataclasses.replace(first, **changes)


def resolve(name: str, catalog: Catalog) -> str | None:
    """The key of the table a metadata file names, resolved as PostgreSQL would; None
    when it names none or, unqualified and off the search path, several."""
    try:
        found = find_relations(parse_table_name(name), catalog.overview)
    except TableNameError:
        return None
    return found[0] if len(found) == 1 else None


def _several(name: str, catalog: Catalog) -> str:
    try:
        found = find_relations(parse_table_name(name), catalog.overview)
    except TableNameError:
        return ""
    return ", ".join(sorted(catalog.overview[k].schema for k in found)) if len(found) > 1 else ""


def validate(metadata: Metadata, catalog: Catalog) -> list[str]:
    """Names in the metadata that the database does not have, each with its file and line."""
    problems = []
    for table in metadata.tables:
        key = resolve(table.name, catalog)
        if key is None:
            several = _several(table.name, catalog)
            problems.append(
                f"{table.where}: {table.name} names a table in each of {several}: qualify it"
                if several
                else f"{table.where}: no table or view named {table.name} in the documented schemas"
            )
            continue
        summary = catalog.overview[key]
        known_columns = {c.name for c in summary.columns}
        detail = catalog.tables.get(key)
        checks: list[tuple[str, Iterable[str], set[str] | None]] = [
            ("column", table.columns, known_columns),
            ("key field", (c for k in table.key_fields for c in k.columns), known_columns),
            ("index", table.indexes, {i.name for i in detail.indexes} if detail else None),
            (
                "constraint",
                table.constraints,
                {c.name for c in detail.constraints} | {f.name for f in detail.foreign_keys}
                if detail
                else None,
            ),
            ("trigger", table.triggers, {t.name for t in detail.triggers} if detail else None),
            ("policy", table.policies, {p.name for p in detail.policies} if detail else None),
        ]
        for what, names, known in checks:
            if known is None:
                continue
            for name in names:
                if name not in known:
                    field_key = {"key field": "key_fields", "index": "indexes", "policy": "policies"}.get(
                        what, what + "s"
                    )
                    where = table.lines.get(f"{field_key}.{name}", table.where)
                    problems.append(f"{where}: {table.name} has no {what} {name!r}")
        for relation in table.relations:
            problems.extend(_check_relation(relation, key, catalog))
    return problems


def _check_relation(relation: Relation, key: str, catalog: Catalog) -> list[str]:
    problems = []
    target = resolve(relation.references, catalog)
    if target is None:
        return [f"{relation.where}: relation of {relation.table}: no table named {relation.references}"]
    for table_key, columns in ((key, relation.columns), (target, relation.ref_columns)):
        known = {c.name for c in catalog.overview[table_key].columns}
        shown = catalog.overview[table_key].display
        problems += [
            f"{relation.where}: relation of {relation.table}: {shown} has no column {c!r}"
            for c in columns
            if c not in known
        ]
    return problems


def virtual_graph(metadata: Metadata, catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """The relations the metadata declares, as graph edges (key → referenced keys)."""
    edges: dict[str, list[str]] = {}
    for relation in metadata.relations():
        source, target = resolve(relation.table, catalog), resolve(relation.references, catalog)
        if source and target:
            edges.setdefault(source, []).append(target)
    return {k: tuple(sorted(set(v))) for k, v in edges.items()}


# Key fields found by name alone, with the plan's standard migration rule for each.
DETECTED_KEY_FIELDS: tuple[tuple[str, str], ...] = (
    (r"^tenant_id$", "Tenant of the row: verify it against the migrated tenants on every row."),
    (
        r"(^|_)external_id$|^(motopress|airbnb|whatsapp|wa|waba|stripe|ical)_[a-z_]*id$|^wamid$|(^|_)uid$",
        "External platform identifier: preserve it exactly; a changed one breaks the sync.",
    ),
    (r"^sync_status$", "Current sync state: copy it, or the first run re-syncs everything."),
    (r"^last_synced_at$", "Last successful sync: copy it, or the first run re-syncs everything."),
    (r"(^|_)sync_error$|^last_error$", "Error of the last failed sync: copy it for the audit trail."),
)


def detected_key_fields(columns: Iterable[str], written: Iterable[KeyField] = ()) -> tuple[KeyField, ...]:
    """Key fields by the plan's naming rules, after those a writer wrote (which win)."""
    have = {c for k in written for c in k.columns}
    found = list(written)
    for column in columns:
        if column in have:
            continue
        for pattern, rule in DETECTED_KEY_FIELDS:
            if re.search(pattern, column):
                found.append(KeyField(column, rule, generated=True))
                break
    return tuple(found)


@dataclass(frozen=True)
class Applied:
    catalog: Catalog  # with the writers' purposes and relations in it
    tables: dict[str, TableMetadata]  # by table key
    groups: dict[str, str]  # table key → the group a metadata file gives it


def _purposes(items: tuple[Any, ...], purposes: Mapping[str, str]) -> tuple[Any, ...]:
    """Objects with a `name` and a `comment`, the writer's purpose in place of the comment."""
    return tuple(
        dataclasses.replace(item, comment=purposes[item.name]) if item.name in purposes else item
        for item in items
    )


def apply(metadata: Metadata, catalog: Catalog) -> Applied:
    """The catalog as the cards show it: a writer's purpose for a table, column, index,
    constraint, trigger or policy replaces (or stands in for) its comment; documented
    relations join the dependency graph and the overview (for the diagrams)."""
    by_key: dict[str, TableMetadata] = {}
    for key in dict.fromkeys(k for t in metadata.tables if (k := resolve(t.name, catalog))):
        merged = metadata.for_key(key, catalog)
        assert merged is not None
        by_key[key] = merged
    tables = dict(catalog.tables)
    for key, meta in by_key.items():
        if key in tables:
            table = tables[key]
            tables[key] = dataclasses.replace(
                table,
                comment=meta.purpose or table.comment,
                columns=_purposes(table.columns, meta.columns),
                indexes=_purposes(table.indexes, meta.indexes),
                constraints=_purposes(table.constraints, meta.constraints),
                foreign_keys=_purposes(table.foreign_keys, meta.constraints),
                triggers=_purposes(table.triggers, meta.triggers),
                policies=_purposes(table.policies, meta.policies),
            )
    overview = dict(catalog.overview)
    graph = {k: list(v) for k, v in catalog.graph.items()}
    for key, meta in by_key.items():
        summary = overview[key]
        documented = []
        for relation in meta.relations:
            target = resolve(relation.references, catalog)
            if target is None:
                continue  # validate() reports it
            ref = overview[target]
            name = f"documented: {', '.join(relation.columns)} → {ref.display}"
            documented.append(
                ForeignKeySummary(
                    name, relation.columns, target, ref.schema, ref.name, relation.ref_columns, True
                )
            )
            graph.setdefault(key, [])
            if target not in graph[key]:
                graph[key].append(target)
        overview[key] = dataclasses.replace(
            summary,
            comment=meta.purpose or summary.comment,
            columns=_purposes(summary.columns, meta.columns),
            foreign_keys=(*(fk for fk in summary.foreign_keys if not fk.documented), *documented),
        )
    applied = dataclasses.replace(
        catalog,
        tables=tables,
        overview=overview,
        graph={k: tuple(sorted(v)) for k, v in graph.items()},
    )
    groups = {key: meta.group for key, meta in by_key.items() if meta.group}
    return Applied(applied, by_key, groups)
