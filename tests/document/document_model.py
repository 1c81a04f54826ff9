"""Build overview model objects with keyword arguments, for tests that need no database."""

from __future__ import annotations

from collections.abc import Sequence

from mkdocs_dbschema.catalog.model import ColumnSummary, ForeignKeySummary, TableSummary
from mkdocs_dbschema.catalog.names import quote_ident

# A name that tries every way out of a Mermaid name, a fence and Markdown.
HOSTILE = 'x"] ; %%{init: {"theme": "dark"}}%% <script>alert(1)</script> ``` ]] #quot; direction TB\n}'


def key_of(name: str, schema: str = "public") -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def column(
    name: str, type: str = "integer", *, nullable: bool = True, comment: str | None = None, pk: bool = False
) -> ColumnSummary:
    return ColumnSummary(name=name, type=type, nullable=nullable and not pk, comment=comment, primary_key=pk)


def fk(
    columns: Sequence[str], ref: str, ref_columns: Sequence[str] = ("id",), ref_schema: str = "public"
) -> ForeignKeySummary:
    return ForeignKeySummary(
        name=f"{'_'.join(columns)}_fkey",
        columns=tuple(columns),
        ref_table=key_of(ref, ref_schema),
        ref_schema=ref_schema,
        ref_name=ref,
        ref_columns=tuple(ref_columns),
    )


def table(
    name: str,
    *columns: ColumnSummary,
    schema: str = "public",
    kind: str = "table",
    comment: str | None = None,
    rows: float | None = 10,
    size: int = 8192,
    fks: Sequence[ForeignKeySummary] = (),
    unique: Sequence[Sequence[str]] = (),
) -> TableSummary:
    """A table; columns default to a primary key `id`; `unique` lists unique keys besides it."""
    columns = columns or (column("id", pk=True),)
    primary = tuple(c.name for c in columns if c.primary_key)
    unique_columns = {name for key in unique for name in key}
    columns = tuple(
        ColumnSummary(
            name=c.name,
            type=c.type,
            nullable=c.nullable,
            comment=c.comment,
            primary_key=c.primary_key,
            unique=c.name in unique_columns,
        )
        for c in columns
    )
    display = quote_ident(name) if schema == "public" else f"{quote_ident(schema)}.{quote_ident(name)}"
    return TableSummary(
        key=key_of(name, schema),
        schema=schema,
        name=name,
        display=display,
        kind=kind,
        comment=comment,
        row_estimate=rows,
        total_bytes=size,
        columns=columns,
        unique_keys=((primary,) if primary else ()) + tuple(tuple(k) for k in unique),
        foreign_keys=tuple(fks),
    )


def by_key(*tables: TableSummary) -> dict[str, TableSummary]:
    return {t.key: t for t in sorted(tables, key=lambda t: t.key)}
