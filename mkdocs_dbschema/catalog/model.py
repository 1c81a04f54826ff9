"""The catalog model: plain frozen dataclasses that round-trip through JSON.

Every layer after the reader works from this model only, so a saved catalog can
be rendered offline and compared between runs.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

# pg_class.relkind → what a reader calls it.
RELATION_KINDS = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as format_type() prints it
    nullable: bool
    default: str | None = None
    comment: str | None = None
    identity: str | None = None  # "ALWAYS" / "BY DEFAULT"
    generated: str | None = None  # expression of a generated column
    generated_kind: str | None = None  # "STORED" / "VIRTUAL"
    readable: bool = True  # the documenting role may SELECT it
    collation: str | None = None  # COLLATE of the column when not its type's own, quoted
    grants: tuple[str, ...] = ()  # column privileges, "role: SELECT, UPDATE"


@dataclass(frozen=True)
class Constraint:
    """Primary key, unique, check or exclusion constraint."""

    name: str
    kind: str  # "primary key" / "unique" / "check" / "exclusion"
    definition: str  # pg_get_constraintdef
    columns: tuple[str, ...] = ()
    comment: str | None = None
    validated: bool = True


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str  # qualified key of the referencing table
    table_display: str
    columns: tuple[str, ...]
    ref_table: str  # qualified key of the referenced table
    ref_table_display: str
    ref_columns: tuple[str, ...]
    definition: str  # pg_get_constraintdef
    on_delete: str
    on_update: str
    match: str
    deferrable: bool
    deferred: bool
    validated: bool = True
    inherited: bool = False  # cloned from the parent of a partition
    comment: str | None = None
    # A key declared on partitions (not on the partitioned table): their display names.
    declared_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Index:
    name: str
    definition: str  # pg_get_indexdef
    method: str
    unique: bool
    primary: bool
    partial: bool
    expression: bool
    valid: bool
    size_bytes: int
    columns: tuple[str, ...] = ()  # key columns; "" for an expression
    constraint: str | None = None  # the constraint this index backs
    comment: str | None = None
    scans: int = 0  # pg_stat_all_indexes.idx_scan (summed over partitions)
    partitioned: bool = False  # the index of a partitioned table
    attached: bool = False  # a partition's copy of its parent table's index
    structure: str = ""  # method, columns, operator classes, expressions, predicate: no name


@dataclass(frozen=True)
class Policy:
    name: str
    permissive: bool
    command: str  # ALL / SELECT / INSERT / UPDATE / DELETE
    roles: tuple[str, ...]  # quoted; "public" for everyone
    using: str | None
    check: str | None
    comment: str | None = None


@dataclass(frozen=True)
class Trigger:
    name: str
    definition: str  # pg_get_triggerdef
    enabled: str  # "enabled" / "disabled" / "replica" / "always"
    function: str
    function_search_path_set: bool = True
    function_user_defined: bool = True  # SQL or PL/pgSQL, not built in or from an extension
    is_constraint: bool = False
    inherited: bool = False
    comment: str | None = None


@dataclass(frozen=True)
class Partition:
    name: str  # display name
    bound: str  # pg_get_expr(relpartbound)
    kind: str
    row_estimate: float | None
    total_bytes: int
    depth: int = 1  # 1: a partition of the table; 2: of one of those; ...
    partition_key: str | None = None  # a sub-partitioned partition's own key


@dataclass(frozen=True)
class Rule:
    name: str
    definition: str  # pg_get_ruledef
    event: str  # SELECT / INSERT / UPDATE / DELETE
    instead: bool
    enabled: str = "enabled"
    comment: str | None = None


@dataclass(frozen=True)
class OwnedSequence:
    """A sequence a column owns (serial) or uses as identity; never its current value."""

    name: str  # display name
    column: str
    ownership: str  # "owned" / "identity"
    type: str
    start: int
    increment: int
    min_value: int
    max_value: int
    cache: int
    cycle: bool
    comment: str | None = None


@dataclass(frozen=True)
class Function:
    """A function or procedure of the documented schemas, or one a documented table uses."""

    key: str  # schema.name(identity arguments), quoted
    name: str  # regprocedure: as ALTER FUNCTION takes it under the session search_path
    schema: str
    kind: str  # function / procedure / aggregate / window
    language: str
    returns: str
    volatility: str  # IMMUTABLE / STABLE / VOLATILE
    security_definer: bool
    search_path: str | None  # its SET search_path; None: the caller's
    settings: tuple[str, ...] = ()  # every SET of the function, "name=value"
    user_defined: bool = True  # SQL or PL/pgSQL, not from an extension
    extension: str | None = None
    documented: bool = True  # in a documented schema (else only used by a documented table)
    body: str | None = None  # source of a SQL or PL/pgSQL function; shown only on request
    # Schemas holding what the body names without a schema, in search_path order.
    body_schemas: tuple[str, ...] = ()
    used_by: tuple[str, ...] = ()  # "trigger public.t", "policy public.t", "default ...", "check ..."
    comment: str | None = None

    def uses(self, key: str) -> list[str]:
        """How the table `key` uses this function: trigger, default, check, policy."""
        return list(self._uses_by_table.get(key, ()))

    @functools.cached_property
    def _uses_by_table(self) -> dict[str, list[str]]:
        # Once per function: a trigger function shared by every table is asked by each card.
        uses: dict[str, list[str]] = {}
        for use in self.used_by:
            how, key = use.split(" ", 1)
            uses.setdefault(key, []).append(how)
        return {key: sorted(hows) for key, hows in uses.items()}


@dataclass(frozen=True)
class Extension:
    name: str
    version: str
    schema: str
    relocatable: bool = False
    comment: str | None = None


@dataclass(frozen=True)
class UserType:
    """An enum or domain that a documented column uses."""

    name: str
    kind: str  # "enum" / "domain"
    labels: tuple[str, ...] = ()
    base_type: str | None = None
    not_null: bool = False
    default: str | None = None
    checks: tuple[str, ...] = ()
    comment: str | None = None


@dataclass(frozen=True)
class Table:
    key: str  # schema-qualified and quoted: unique, independent of search_path
    schema: str
    name: str
    display: str  # as regclass prints it under the session search_path
    kind: str
    comment: str | None
    row_estimate: float | None  # None: never analyzed
    total_bytes: int
    table_bytes: int
    index_bytes: int
    rls_enabled: bool
    rls_forced: bool
    rls_active: bool = False  # row level security applies to the documenting role
    populated: bool = True  # false for a materialized view never refreshed
    partition_key: str | None = None
    parent: str | None = None  # display name of the partitioned parent
    partition_bound: str | None = None
    view_definition: str | None = None
    root: str | None = None  # key of a partition's partition root
    options: tuple[str, ...] = ()  # reloptions: "security_invoker=true", "fillfactor=70", ...
    foreign_server: str | None = None  # a foreign table's server (wrapper)
    foreign_options: tuple[str, ...] = ()  # ... and its OPTIONS, "name 'value'"
    reads: tuple[str, ...] = ()  # keys of the relations a view reads
    owner: str | None = None
    grants: tuple[str, ...] = ()  # table privileges, "role: INSERT, SELECT"
    columns: tuple[Column, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    referenced_by: tuple[ForeignKey, ...] = ()
    indexes: tuple[Index, ...] = ()
    policies: tuple[Policy, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    partitions: tuple[Partition, ...] = ()
    types: tuple[str, ...] = ()  # names of enums / domains the columns use
    rules: tuple[Rule, ...] = ()
    sequences: tuple[OwnedSequence, ...] = ()
    functions: tuple[str, ...] = ()  # keys of the functions it uses (Catalog.functions)
    # Activity statistics (pg_stat_all_tables); None where PostgreSQL keeps none.
    seq_scan: int | None = None
    idx_scan: int | None = None
    inserts: int | None = None
    updates: int | None = None
    deletes: int | None = None
    live_tuples: int | None = None
    dead_tuples: int | None = None
    last_vacuum: str | None = None
    last_analyze: str | None = None
    heap_hits: int | None = None  # pg_statio_all_tables: blocks found in shared buffers
    heap_reads: int | None = None  # ... and read from outside them
    index_hits: int | None = None
    index_reads: int | None = None

    def option(self, name: str) -> str | None:
        """The value of a storage parameter or view option, as set; None: not set."""
        return next((o.split("=", 1)[1] for o in self.options if o.split("=", 1)[0] == name), None)

    @property
    def primary_key(self) -> Constraint | None:
        return next((c for c in self.constraints if c.kind == "primary key"), None)

    @property
    def unique_keys(self) -> list[tuple[str, ...]]:
        """Columns of every unique index over NOT NULL columns: each identifies a row."""
        not_null = {c.name for c in self.columns if not c.nullable}
        return [
            index.columns
            for index in self.indexes
            if index.unique and index.valid and not index.partial and not index.expression
            if index.columns and set(index.columns) <= not_null
        ]


@dataclass(frozen=True)
class Catalog:
    server_version: str
    database: str
    search_path: str
    role: str = ""  # the role the catalog was read as
    stats_since: str | None = None  # when activity statistics were last reset; None: never
    tables: dict[str, Table] = field(default_factory=dict)
    types: dict[str, UserType] = field(default_factory=dict)
    # The FK graph of every table in the documented schemas: key → keys it references.
    graph: dict[str, tuple[str, ...]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # graph key → display name
    # What each directive name resolved to (None: no such table).
    resolved: dict[str, str | None] = field(default_factory=dict)
    # For a directive name that resolved to nothing, a name that would resolve: the
    # same name in another case (`"MixedCase"`) or in a schema off the path (`ops.orders`).
    hints: dict[str, str] = field(default_factory=dict)
    # Every relation of the documented schemas, briefly: for whole-schema directives.
    overview: dict[str, TableSummary] = field(default_factory=dict)
    # Functions of the documented schemas and those the documented tables use, by key.
    functions: dict[str, Function] = field(default_factory=dict)
    extensions: tuple[Extension, ...] = ()
    # Schemas the API roles that exist (anon, authenticated) may use: what an API exposes.
    api_schemas: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, indent=1)

    @functools.cached_property
    def children(self) -> dict[str, list[str]]:
        """Each relation's children (partitions, inheriting tables) in the overview, sorted:
        found once, not by a scan of every relation per card."""
        children: dict[str, list[str]] = {}
        for key, summary in sorted(self.overview.items()):
            if summary.parent is not None:
                children.setdefault(summary.parent, []).append(key)
        return children

    @classmethod
    def from_json(cls, text: str) -> Catalog:
        return build(cls, json.loads(text))


@dataclass(frozen=True)
class ColumnSummary:
    name: str
    type: str  # as format_type() prints it
    nullable: bool
    comment: str | None = None
    primary_key: bool = False  # part of the primary key
    unique: bool = False  # part of a unique key other than the primary key


@dataclass(frozen=True)
class ForeignKeySummary:
    name: str
    columns: tuple[str, ...]
    ref_table: str  # qualified key of the referenced table (its partition root)
    ref_schema: str
    ref_name: str
    ref_columns: tuple[str, ...]
    documented: bool = False  # declared in a metadata file, not in the database


@dataclass(frozen=True)
class TableSummary:
    """What whole-schema pages (navigation, summary, diagram, coverage) need of a relation."""

    key: str  # schema-qualified and quoted, as Table.key
    schema: str
    name: str
    display: str
    kind: str  # RELATION_KINDS value; partitions are folded into their root
    comment: str | None = None
    row_estimate: float | None = None  # None: never analyzed, or a view
    total_bytes: int = 0
    columns: tuple[ColumnSummary, ...] = ()
    # Column sets of the primary key (first) and of every other unique constraint or
    # plain unique index; NULLs aside, each identifies at most one row.
    unique_keys: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKeySummary, ...] = ()
    parent: str | None = None  # key of the table it inherits from (not a partition's root)
    reads: tuple[str, ...] = ()  # keys of the relations a view reads


T = TypeVar("T")


def build(cls: type[T], data: Mapping[str, Any]) -> T:
    """A model object from plain data (its JSON form). A field the data lacks takes its
    default, so a file written before a field was added still loads."""
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise KeyError(f"{cls.__name__}.{f.name}")
    return cls(**kwargs)


def _convert(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if value is None:
        return None
    if origin in (typing.Union, types.UnionType):
        return _convert(next(a for a in args if a is not type(None)), value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v) for v in value)
        return tuple(_convert(a, v) for a, v in zip(args, value, strict=True))
    if origin is dict:
        return {k: _convert(args[1], v) for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        return build(hint, value)  # type: ignore[arg-type]
    return value
