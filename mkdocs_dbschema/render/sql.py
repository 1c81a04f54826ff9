"""SQL statements reassembled from catalog parts, for the card's code blocks.

Definitions come from PostgreSQL's own printers (pg_get_*def, pretty-printed as
psql's describe commands show them); these functions only add the statement around
them, so a block reads like a pg_dump statement, though not byte for byte its text.
"""

from __future__ import annotations

from ..analysis.redaction import Sample, mask_unambiguous
from ..catalog.model import Constraint, ForeignKey, Function, Index, Policy, Rule, Table, Trigger, UserType
from ..catalog.names import quote_ident
from .markdown import size

# A line longer than this is laid out across lines at its clauses, as the plan's
# TEMPLATE writes statements: no code block should need a scroll bar.
LONG_LINE = 72


def clauses(text: str, keywords: tuple[str, ...], indent: str = "  ") -> str:
    """`text` split before each top-level keyword (outside parentheses and quotes),
    continuation lines indented; a short text stays on one line."""
    if len(text) <= LONG_LINE:
        return text
    upper = text.upper()
    cuts: list[int] = []
    depth, quote = 0, ""
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == " " and depth == 0 and i > 0:
            for keyword in keywords:
                end = i + 1 + len(keyword)
                if upper.startswith(keyword, i + 1) and (end == len(text) or text[end] in " ("):
                    cuts.append(i)
                    break
    pieces = [text[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    return ("\n" + indent).join(piece for piece in pieces if piece)


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
    # FOREIGN KEY … REFERENCES … / ON DELETE … / ON UPDATE …, as the TEMPLATE writes it.
    layout = ("REFERENCES", "ON DELETE", "ON UPDATE", "MATCH", "DEFERRABLE", "NOT DEFERRABLE", "NOT VALID")
    lines.append("  " + clauses(fk.definition, layout, "    ").replace("\n    ", "\n  "))
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
    lines.append(clauses(index.definition, ("USING", "INCLUDE", "WITH", "WHERE", "NULLS")) + ";")
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
    layout = ("BEFORE", "AFTER", "INSTEAD OF", "FROM", "FOR EACH", "WHEN", "EXECUTE")
    return clauses(trigger.definition, layout) + ";"


def view_sql(table: Table) -> str:
    kind = "MATERIALIZED VIEW" if table.kind == "materialized view" else "VIEW"
    options = [o for o in table.options if not o.startswith("check_option=")]
    with_options = f" WITH ({', '.join(options)})" if options else ""
    check = table.option("check_option")
    suffix = f"\n  WITH {check.upper()} CHECK OPTION" if check else ""
    definition = (table.view_definition or "").rstrip().rstrip(";")
    return f"CREATE {kind} {table.display}{with_options} AS\n{definition}{suffix};"


def function_sql(function: Function, body: bool = False) -> str:
    """A function's header as CREATE FUNCTION prints it, its body only when asked for and
    then with unambiguous secrets (keys, tokens, passwords in URLs) masked."""
    lines = comment_lines(function.comment, "Purpose: ")
    lines.append(f"{function.kind.upper()} {function.name}")
    if function.kind != "procedure":
        lines.append(f"  RETURNS {function.returns}")
    lines.append(f"  LANGUAGE {function.language} {function.volatility}")
    if function.security_definer:
        lines.append("  SECURITY DEFINER")
    for setting in function.settings:
        name, _, value = setting.partition("=")
        shown = function.search_path if name == "search_path" else quote_literal(value)
        lines.append(f"  SET {name} = {shown}")
    if body and function.body is not None:
        text = mask_unambiguous(function.body).strip("\n")
        tag = "$$"
        while tag in text:
            tag = f"${tag.strip('$')}x$"
        lines.append(f"AS {tag}\n{text}\n{tag};")
    return "\n".join(lines)


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
