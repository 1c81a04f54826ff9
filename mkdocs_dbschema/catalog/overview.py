"""Read a brief summary of every relation in the documented schemas, in one statement.

Whole-schema directives (navigation, summary, diagram, coverage) need every table
of a schema, not only the carded ones, but only a little about each: one batched
query covers them all, however many there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from .model import RELATION_KINDS, ColumnSummary, ForeignKeySummary, TableSummary
from .rows import rows


def _foreign_key(data: Mapping[str, Any]) -> ForeignKeySummary:
    return ForeignKeySummary(
        name=data["name"],
        columns=tuple(data["columns"]),
        ref_table=data["ref_table"],
        ref_schema=data["ref_schema"],
        ref_name=data["ref_name"],
        ref_columns=tuple(data["ref_columns"]),
    )


def _summary(row: Mapping[str, Any]) -> TableSummary:
    primary = (tuple(row["primary_key"]),) if row["primary_key"] else ()
    others = sorted(tuple(columns) for columns in row["unique_keys"] or ())
    foreign_keys = sorted(
        (_foreign_key(fk) for fk in row["foreign_keys"] or ()),
        key=lambda fk: (fk.name, fk.columns, fk.ref_table),
    )
    return TableSummary(
        key=row["key"],
        schema=row["schema"],
        name=row["name"],
        display=row["display"],
        kind=RELATION_KINDS.get(row["relkind"], row["relkind"]),
        comment=row["comment"],
        row_estimate=row["row_estimate"],
        total_bytes=row["total_bytes"],
        columns=tuple(ColumnSummary(**column) for column in row["columns"] or ()),
        unique_keys=(*primary, *others),
        foreign_keys=tuple(foreign_keys),
        parent=row["parent"],
        reads=tuple(sorted(row["reads"] or ())),
    )


def read_overview(
    conn: sa.Connection, oids: Sequence[int] = (), schemas: Sequence[str] = ()
) -> dict[str, TableSummary]:
    """Summaries of every relation in the schemas of `oids`, in `schemas` and on the
    search_path, by key (see overview_of)."""
    return overview_of(rows(conn, "overview", oids=sorted(set(oids)), schemas=sorted(set(schemas))))


def overview_of(read: Iterable[Mapping[str, Any]]) -> dict[str, TableSummary]:
    """overview.sql's rows as summaries by key, in code point order of the key (the same
    on every server, whatever its collation)."""
    return {row["key"]: _summary(row) for row in sorted(read, key=lambda row: str(row["key"]))}
