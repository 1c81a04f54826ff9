"""Read the catalog of the requested tables in a fixed number of queries.

One statement per object kind covers every requested table, so the cost of a
build does not grow with the number of tables or directives.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa

from .beside import Beside, shared
from .model import (
    RELATION_KINDS,
    Catalog,
    Column,
    Constraint,
    Extension,
    ForeignKey,
    Function,
    Index,
    OwnedSequence,
    Partition,
    Policy,
    Rule,
    Table,
    Trigger,
    UserType,
)
from .names import TableRef
from .overview import overview_of
from .rows import rows

FK_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}
FK_MATCH = {"s": "SIMPLE", "f": "FULL", "p": "PARTIAL"}
CONSTRAINT_KINDS = {"p": "primary key", "u": "unique", "c": "check", "x": "exclusion"}


def _by_key(found: Iterable[Mapping[str, Any]], key: str = "key") -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in found:
        grouped[row[key]].append(row)
    return grouped


@cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


def _pick(row: Mapping[str, Any], cls: type, **overrides: Any) -> Any:
    """Build a model object from the row's columns of the same names."""
    names = _field_names(cls)
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in row.items() if k in names}
    values.update(overrides)
    return cls(**values)


# The statements that follow the name resolution, the slower first: two sessions
# share them out (see _all_rows).
KINDS = (
    "relations",
    "indexes",
    "overview",
    "constraints",
    "columns",
    "graph",
    "partitions",
    "policies",
    "triggers",
    "functions",
    "types",
    "sequences",
    "rules",
    "database",
)


Statement = tuple[str, dict[str, Any]]  # a query's name and its parameters


def _all_rows(
    conn: sa.Connection, beside: Beside | None, statements: Iterable[Statement]
) -> dict[str, list[Mapping[str, Any]]]:
    """The rows of each statement (a query name and its parameters), each sent once, on
    whichever session is free: `conn`, and `beside` when given."""

    def read(session: sa.Connection, statement: Statement) -> tuple[str, list[Mapping[str, Any]]]:
        name, params = statement
        return name, rows(session, name, **params)

    return dict(shared(conn, beside, statements, read))


def read_catalog(
    conn: sa.Connection,
    refs: Sequence[TableRef],
    *,
    overview_schemas: Sequence[str] | None = None,
    beside: Beside | None = None,
) -> Catalog:
    """Resolve `refs` like PostgreSQL would and read everything a card shows about them.
    With `overview_schemas` (None: none), the catalog's overview summarises every relation
    of those schemas and of the documented tables' (read_overview). With `beside`, a
    second session shares the statements."""
    refs = list(dict.fromkeys(refs))
    resolved_rows = rows(
        conn,
        "resolve",
        schemas=[r.schema for r in refs],
        names=[r.name for r in refs],
    )
    oids = sorted({row["oid"] for row in resolved_rows if row["oid"] is not None})
    search_path = resolved_rows[0]["search_path"] if resolved_rows else ""
    role = resolved_rows[0]["role"] if resolved_rows else ""
    stats_since = resolved_rows[0]["stats_since"] if resolved_rows else None

    params: dict[str, dict[str, Any]] = {
        "database": {},
        "overview": {"oids": oids, "schemas": sorted(set(overview_schemas or ()))},
    }
    wanted = [name for name in KINDS if name != "overview" or overview_schemas is not None]
    read = _all_rows(conn, beside, [(name, params.get(name, {"oids": oids})) for name in wanted])
    relations = read["relations"]
    key_of_oid = {row["oid"]: row["key"] for row in relations}
    resolved = {str(ref): key_of_oid.get(row["oid"]) for ref, row in zip(refs, resolved_rows, strict=True)}
    hints = {
        str(ref): row["hint"] or row["near"]
        for ref, row in zip(refs, resolved_rows, strict=True)
        if row["hint"] or row["near"]
    }

    columns = _by_key(read["columns"])
    types = {row["name"]: _pick(row, UserType) for row in read["types"]}
    indexes = _by_key(read["indexes"])
    policies = _by_key(read["policies"])
    triggers = _by_key(read["triggers"])
    partitions = _by_key(read["partitions"])
    rules = _by_key(read["rules"])
    sequences = _by_key(read["sequences"])
    functions = {row["key"]: _pick(row, Function) for row in read["functions"]}
    uses: dict[str, list[str]] = defaultdict(list)
    for function in functions.values():
        for use in function.used_by:
            uses[use.split(" ", 1)[1]].append(function.key)
    (database,) = read["database"]
    edges: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    for row in read["graph"]:
        edges[row["key"]].extend([row["ref"]] if row["ref"] else [])
        names[row["key"]] = row["display"]
    graph = {key: tuple(refs) for key, refs in edges.items()}

    constraints: dict[str, list[Constraint]] = defaultdict(list)
    fks_out, fks_in = _foreign_keys(read["constraints"], constraints)

    tables: dict[str, Table] = {}
    for row in relations:
        key = row["key"]
        table_columns = [_pick(c, Column) for c in columns[key]]
        kind = RELATION_KINDS.get(row["relkind"], row["relkind"])
        if row["parent"]:
            kind = "partition"
        tables[key] = _pick(
            row,
            Table,
            kind=kind,
            columns=tuple(table_columns),
            constraints=tuple(constraints[key]),
            foreign_keys=tuple(fks_out[key]),
            referenced_by=tuple(sorted(fks_in[key], key=lambda f: (f.table, f.name))),
            indexes=tuple(_pick(i, Index) for i in indexes[key]),
            policies=tuple(_pick(p, Policy) for p in policies[key]),
            triggers=tuple(_pick(t, Trigger) for t in triggers[key]),
            partitions=tuple(
                _pick(p, Partition, kind=RELATION_KINDS.get(p["relkind"], p["relkind"]))
                for p in partitions[key]
            ),
            types=tuple(sorted({c["user_type"] for c in columns[key] if c["user_type"]})),
            rules=tuple(_pick(r, Rule) for r in rules[key]),
            sequences=tuple(_pick(s, OwnedSequence) for s in sequences[key]),
            functions=tuple(sorted(set(uses[key]))),
        )

    version = conn.dialect.server_version_info or ()
    return Catalog(
        server_version=".".join(str(v) for v in version),
        database=conn.engine.url.database or "",
        search_path=search_path,
        role=role,
        stats_since=stats_since,
        tables=tables,
        types=types,
        graph=graph,
        names=names,
        resolved=resolved,
        hints=hints,
        functions=functions,
        extensions=tuple(_pick(e, Extension) for e in database["extensions"]),
        api_schemas=tuple(database["api_schemas"]),
        overview=overview_of(read["overview"]) if overview_schemas is not None else {},
    )


def _fk(row: Mapping[str, Any], **overrides: Any) -> ForeignKey:
    fields: dict[str, Any] = {
        "table": row["table_key"],
        "ref_table": row["ref_key"],
        "ref_table_display": row["ref_display"],
        "on_delete": FK_ACTIONS[row["on_delete"]],
        "on_update": FK_ACTIONS[row["on_update"]],
        "match": FK_MATCH[row["match"]],
    }
    return _pick(row, ForeignKey, **{**fields, **overrides})  # type: ignore[no-any-return]


def _grouped(fks: list[tuple[ForeignKey, str]], **overrides: Any) -> ForeignKey:
    """One key declared alike on several partitions, as the key of their partitioned table."""
    first = fks[0][0]
    return dataclasses.replace(first, declared_on=tuple(sorted(p for _, p in fks)), **overrides)


def _foreign_keys(
    found: Iterable[Mapping[str, Any]], constraints: dict[str, list[Constraint]]
) -> tuple[dict[str, list[ForeignKey]], dict[str, list[ForeignKey]]]:
    """Outgoing and incoming foreign keys per table key, as a reader thinks of them.

    PostgreSQL keeps, besides each declared key, a copy per partition of the table it
    references (a made-up name, on the same table) and a copy on each partition of a
    partitioned referencing table. The referencing table lists its key once; a
    referenced partition lists the key that reaches it through its parent. Keys
    declared on each partition alike (not on the partitioned table) are one key of
    the partitioned table too, naming the partitions, and one incoming key of the
    table they reference.
    """
    fks_out: dict[str, list[ForeignKey]] = defaultdict(list)
    fks_in: dict[str, list[ForeignKey]] = defaultdict(list)
    on_partitions: dict[tuple[Any, ...], list[tuple[ForeignKey, str]]] = defaultdict(list)
    into_partitions: dict[tuple[Any, ...], list[tuple[ForeignKey, str]]] = defaultdict(list)
    for row in found:
        if row["contype"] != "f":
            constraints[row["table_key"]].append(
                _pick(row, Constraint, kind=CONSTRAINT_KINDS[row["contype"]])
            )
            continue
        fk = _fk(row)
        declared = not row["inherited"]
        from_partition = declared and row["table_key"] != row["table_root_key"]
        if row["documented"] and not row["partition_copy"]:
            fks_out[fk.table].append(fk)
        if from_partition:
            # Declared on a partition: also a key of its partitioned table.
            shape = (fk.columns, fk.ref_table, fk.ref_columns, fk.on_delete, fk.on_update, fk.match)
            on_partitions[(row["table_root_key"], row["table_root_display"], *shape)].append(
                (fk, row["table_display"])
            )
        if row["partition_copy"]:
            # Reaches a partition through its parent: incoming there, under the declared name.
            fks_in[fk.ref_table].append(dataclasses.replace(fk, name=row["origin_name"], inherited=True))
        elif declared and from_partition:
            into_partitions[
                (row["table_root_key"], row["table_root_display"], fk.ref_table, fk.columns)
            ].append((fk, row["table_display"]))
        elif declared:
            fks_in[fk.ref_table].append(fk)
    for (root, _display, *_), fks in on_partitions.items():
        fks_out[root].append(_grouped(fks, table=root, table_display=_display))
    for (root, display, ref, _), fks in into_partitions.items():
        fks_in[ref].append(_grouped(fks, table=root, table_display=display))
    return fks_out, fks_in
