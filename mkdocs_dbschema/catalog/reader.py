"""Read the catalog of the requested tables in a fixed number of queries.

One statement per object kind covers every requested table, so the cost of a
build does not grow with the number of tables or directives.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from .connection import DatabaseError, mask_secrets
from .model import (
    RELATION_KINDS,
    Catalog,
    Column,
    Constraint,
    ForeignKey,
    Index,
    Partition,
    Policy,
    Table,
    Trigger,
    UserType,
)
from .names import TableRef

LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a lock_timeout
FK_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}
FK_MATCH = {"s": "SIMPLE", "f": "FULL", "p": "PARTIAL"}
CONSTRAINT_KINDS = {"p": "primary key", "u": "unique", "c": "check", "x": "exclusion"}


@cache
def query(name: str) -> sa.TextClause:
    return sa.text(resources.files(__package__).joinpath(f"sql/{name}.sql").read_text("utf-8"))


def _rows(conn: sa.Connection, name: str, **params: Any) -> list[Mapping[str, Any]]:
    try:
        return [dict(row._mapping) for row in conn.execute(query(name), params)]
    except DBAPIError as error:
        reason = " ".join(str(error.orig).split())
        if getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE and "oids" in params:
            reason += _lock_holders(conn, params["oids"])
        raise DatabaseError(f"reading the catalog failed ({name}.sql): {mask_secrets(reason)}") from None


def _lock_holders(conn: sa.Connection, oids: Sequence[int]) -> str:
    """Who keeps the catalog read waiting: a migration, usually. Best effort."""
    try:
        conn.rollback()
        holders = conn.execute(query("locks"), {"oids": list(oids)}).all()
    except DBAPIError:
        return ""
    if not holders:
        return ""
    named = ", ".join(f"{row.relation} (pid {row.pid}, {row.application})" for row in holders)
    return f"; locked by another session: {named}; build again when it has finished"


def _by_key(rows: Iterable[Mapping[str, Any]], key: str = "key") -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


def _pick(row: Mapping[str, Any], cls: type, **overrides: Any) -> Any:
    """Build a model object from the row's columns of the same names."""
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in row.items() if k in names}
    values.update(overrides)
    for k, v in values.items():
        if isinstance(v, list):
            values[k] = tuple(v)
    return cls(**values)


def read_catalog(conn: sa.Connection, refs: Sequence[TableRef]) -> Catalog:
    """Resolve `refs` like PostgreSQL would and read everything a card shows about them."""
    refs = list(dict.fromkeys(refs))
    resolved_rows = _rows(
        conn,
        "resolve",
        schemas=[r.schema for r in refs],
        names=[r.name for r in refs],
    )
    oids = sorted({row["oid"] for row in resolved_rows if row["oid"] is not None})
    search_path = resolved_rows[0]["search_path"] if resolved_rows else ""
    role = resolved_rows[0]["role"] if resolved_rows else ""
    stats_since = resolved_rows[0]["stats_since"] if resolved_rows else None

    relations = _rows(conn, "relations", oids=oids)
    key_of_oid = {row["oid"]: row["key"] for row in relations}
    resolved = {str(ref): key_of_oid.get(row["oid"]) for ref, row in zip(refs, resolved_rows, strict=True)}
    hints = {str(ref): row["hint"] for ref, row in zip(refs, resolved_rows, strict=True) if row["hint"]}

    columns = _by_key(_rows(conn, "columns", oids=oids))
    types = {row["name"]: _pick(row, UserType) for row in _rows(conn, "types", oids=oids)}
    indexes = _by_key(_rows(conn, "indexes", oids=oids))
    policies = _by_key(_rows(conn, "policies", oids=oids))
    triggers = _by_key(_rows(conn, "triggers", oids=oids))
    partitions = _by_key(_rows(conn, "partitions", oids=oids))
    edges: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    for row in _rows(conn, "graph", oids=oids):
        edges[row["key"]].extend([row["ref"]] if row["ref"] else [])
        names[row["key"]] = row["display"]
    graph = {key: tuple(refs) for key, refs in edges.items()}

    constraints: dict[str, list[Constraint]] = defaultdict(list)
    fks_out: dict[str, list[ForeignKey]] = defaultdict(list)
    fks_in: dict[str, list[ForeignKey]] = defaultdict(list)
    for row in _rows(conn, "constraints", oids=oids):
        if row["contype"] != "f":
            constraints[row["table_key"]].append(
                _pick(row, Constraint, kind=CONSTRAINT_KINDS[row["contype"]])
            )
            continue
        fk = _pick(
            row,
            ForeignKey,
            table=row["table_key"],
            ref_table=row["ref_key"],
            ref_table_display=row["ref_display"],
            on_delete=FK_ACTIONS[row["on_delete"]],
            on_update=FK_ACTIONS[row["on_update"]],
            match=FK_MATCH[row["match"]],
        )
        fks_out[fk.table].append(fk)
        # A partition's copy of its parent's key is listed once, at the parent.
        if not fk.inherited:
            fks_in[fk.ref_table].append(fk)

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
    )
