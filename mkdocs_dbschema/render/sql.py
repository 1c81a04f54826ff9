"""SQL statements reassembled from catalog parts, for the card's code blocks.

Definitions come from PostgreSQL's own printers (pg_get_*def, pretty-printed as
psql's describe commands show them); these functions only add the statement around
them, so a block reads like a pg_dump statement, though not byte for byte its text.
"""

from __future__ import annotations

from ..analysis.redaction import Sample
from ..catalog.model import Constraint, ForeignKey, Index, Policy, Rule, Table, Trigger, UserType
from ..catalog.names import quote_ident
from .markdown import size


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def comment_lines(text: str | None, prefix: str = "") -> list[str]:
    if not text:
        return []
    lines = text.replace("\r\n", "\n").split("\n")
    return [f"-- {prefix}{lines[0]}"] + [f"-- {line}" for line in lines[1:]]


def constraint_sql(constraint: Constraint) -> str:
    lines = comment_lines(constraint.comment, "Purpose: ")
    lines.append(f"CONSTRAINT {quote_ident(constraint.name)} {constraint.definition}")
    return "\n".join(lines)


def foreign_key_sql(fk: ForeignKey) -> str:
    deferral = "NOT DEFERRABLE"
    if fk.deferrable:
        deferral = "DEFERRABLE INITIALLY " + ("DEFERRED" if fk.deferred else "IMMEDIATE")
    lines = comment_lines(fk.comment, "Purpose: ")
    if fk.inherited:
        lines.append("-- inherited from the partitioned parent")
    if fk.declared_on:
        lines.append(f"-- declared on partitions, not on the table: {', '.join(fk.declared_on)}")
    lines.append(f"CONSTRAINT {quote_ident(fk.name)}")
    lines.append(f"  {fk.definition}")
    lines.append(f"  -- ON DELETE {fk.on_delete} · ON UPDATE {fk.on_update} · MATCH {fk.match} · {deferral}")
    return "\n".join(lines)


def incoming_sql(fk: ForeignKey) -> str:
    pairs = ", ".join(
        f"{fk.table_display}.{quote_ident(c)} → {fk.ref_table_display}.{quote_ident(r)}"
        for c, r in zip(fk.columns, fk.ref_columns, strict=False)
    )
    note = f"-- {pairs}  ({quote_ident(fk.name)}, ON DELETE {fk.on_delete}, ON UPDATE {fk.on_update})"
    if fk.inherited:
        note += "\n--   through the partitioned table it references"
    if fk.declared_on:
        note += f"\n--   declared on its partitions {', '.join(fk.declared_on)}"
    return note


def index_sql(index: Index) -> str:
    lines = comment_lines(index.comment, "Purpose: ")
    if index.primary:
        lines.insert(0, "-- Primary key index")
    lines.append(index.definition + ";")
    return "\n".join(lines)


def policy_sql(policy: Policy, table: Table) -> str:
    lines = [
        f"CREATE POLICY {quote_ident(policy.name)}",
        f"  ON {table.display}",
        f"  AS {'PERMISSIVE' if policy.permissive else 'RESTRICTIVE'}",
        f"  FOR {policy.command}",
        f"  TO {', '.join(policy.roles)}",
    ]
    if policy.using is not None:
        lines.append(f"  USING ({policy.using})")
    if policy.check is not None:
        lines.append(f"  WITH CHECK ({policy.check})")
    return "\n".join(lines) + ";"


def trigger_sql(trigger: Trigger) -> str:
    return trigger.definition + ";"


def view_sql(table: Table) -> str:
    kind = "MATERIALIZED VIEW" if table.kind == "materialized view" else "VIEW"
    options = [o for o in table.options if not o.startswith("check_option=")]
    with_options = f" WITH ({', '.join(options)})" if options else ""
    check = table.option("check_option")
    suffix = f"\n  WITH {check.upper()} CHECK OPTION" if check else ""
    definition = (table.view_definition or "").rstrip().rstrip(";")
    return f"CREATE {kind} {table.display}{with_options} AS\n{definition}{suffix};"


def rule_sql(rule: Rule) -> str:
    lines = comment_lines(rule.comment, "Purpose: ")
    lines.append(rule.definition.rstrip().rstrip(";") + ";")
    return "\n".join(lines)


def type_sql(user_type: UserType) -> str:
    lines = comment_lines(user_type.comment)
    if user_type.kind == "enum":
        labels = ",\n".join("  " + quote_literal(label) for label in user_type.labels)
        lines.append(f"CREATE TYPE {user_type.name} AS ENUM (\n{labels}\n);")
    else:
        parts = [f"CREATE DOMAIN {user_type.name} AS {user_type.base_type}"]
        if user_type.default is not None:
            parts.append(f"  DEFAULT {user_type.default}")
        if user_type.not_null:
            parts.append("  NOT NULL")
        parts.extend(f"  {check}" for check in user_type.checks)
        lines.append("\n".join(parts) + ";")
    return "\n".join(lines)


def _unsorted_reason(table: Table) -> str:
    if table.kind in ("view", "foreign table"):
        return f"the first rows as the {table.kind} returns them (sorting would compute it whole)"
    if table.row_estimate is None:
        size_text = size(table.table_bytes)
        return f"never analysed and {size_text}, too big to sort: the first rows in storage order"
    return f"about {round(table.row_estimate):,} rows, too many to sort: the first rows in storage order"


def sample_sql(sample: Sample, table: Table, redacted: bool) -> str:
    state = "redacted" if redacted else "NOT redacted"
    if not sample.columns:  # nothing to select: say so rather than print a broken statement
        reason = "the role may read none of its columns" if sample.hidden else "the table has no columns"
        return f"-- no rows read from {table.display}: {reason}"
    rows = "1 row" if sample.limit == 1 else f"{sample.limit} rows"
    lines = [f"-- up to {rows}, {state}"]
    if sample.order is None:
        lines.append(f"-- no key: {_unsorted_reason(table)}")
        order = ""
    elif sample.order:
        order = " ORDER BY " + ", ".join(quote_ident(c) for c in sample.order)
    else:
        lines.append("-- no key: ordered by every column's text")
        order = " ORDER BY " + ", ".join(str(i) for i in range(1, len(sample.columns) + 1))
    columns = "*" if not sample.hidden else ", ".join(quote_ident(c) for c in sample.columns)
    # Shown on the page, never executed: samples.py composes the query it runs.
    lines.append(f"SELECT {columns} FROM {table.display}{order} LIMIT {sample.limit};")  # noqa: S608
    return "\n".join(lines)
