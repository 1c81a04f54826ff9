"""Table names as writers type them, parsed the way PostgreSQL parses identifiers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

_UNQUOTED = re.compile(r"[^\W\d][\w$]*")
# Keywords that quote_ident quotes (PostgreSQL 18: pg_get_keywords() where catcode <> 'U').
_KEYWORD_LIST = """
    all analyse analyze and any array as asc asymmetric authorization between bigint binary bit
    boolean both case cast char character check coalesce collate collation column concurrently
    constraint create cross current_catalog current_date current_role current_schema current_time
    current_timestamp current_user dec decimal default deferrable desc distinct do else end except
    exists extract false fetch float for foreign freeze from full grant greatest group grouping
    having ilike in initially inner inout int integer intersect interval into is isnull join json
    json_array json_arrayagg json_exists json_object json_objectagg json_query json_scalar
    json_serialize json_table json_value lateral leading least left like limit localtime
    localtimestamp merge_action national natural nchar none normalize not notnull null nullif
    numeric offset on only or order out outer overlaps overlay placing position precision primary
    real references returning right row select session_user setof similar smallint some substring
    symmetric system_user table tablesample then time timestamp to trailing treat trim true union
    unique user using values varchar variadic verbose when where window with xmlattributes xmlconcat
    xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable
"""
KEYWORDS = frozenset(_KEYWORD_LIST.split())
_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1


class TableNameError(ValueError):
    """A table name that PostgreSQL would not parse."""


@dataclass(frozen=True, order=True)
class TableRef:
    schema: str | None
    name: str

    def __str__(self) -> str:
        parts = [self.name] if self.schema is None else [self.schema, self.name]
        return ".".join(quote_ident(p) for p in parts)


def quote_ident(name: str) -> str:
    """Quote like PostgreSQL's quote_ident, so remediation SQL runs as printed."""
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) and name not in KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def truncate_identifier(name: str) -> str:
    """Cut `name` to 63 bytes at a character boundary, as PostgreSQL cuts every
    identifier it parses (UTF-8, the encoding of nearly every database)."""
    encoded = name.encode("utf-8")
    if len(encoded) <= MAX_IDENTIFIER_BYTES:
        return name
    return encoded[:MAX_IDENTIFIER_BYTES].decode("utf-8", errors="ignore")


def parse_table_name(text: str) -> TableRef:
    """`name`, `schema.name`, `"Quoted Name"`, `ops."odd.name"`.

    Unquoted ASCII letters fold to lower case, as PostgreSQL folds them, and a
    part longer than 63 bytes is cut to 63, as PostgreSQL cuts it when it
    creates the table.
    """
    if "\x00" in text:  # any other character is allowed in a quoted identifier
        raise TableNameError(f"NUL character in table name {text!r}: no PostgreSQL name can hold one")
    parts: list[str] = []
    pos, text = 0, text.strip()
    while True:
        if pos >= len(text):
            raise TableNameError(f"expected a name after {text!r}" if text else "no table name given")
        if text[pos] == '"':
            end = pos + 1
            chunk = []
            while True:
                close = text.find('"', end)
                if close < 0:
                    raise TableNameError(f"unterminated quoted identifier in {text!r}")
                chunk.append(text[end:close])
                if text.startswith('"', close + 1):  # "" is an escaped quote
                    chunk.append('"')
                    end = close + 2
                    continue
                pos = close + 1
                break
            name = "".join(chunk)
            if not name:
                raise TableNameError(f"zero-length quoted identifier in {text!r}")
            parts.append(name)
        else:
            match = _UNQUOTED.match(text, pos)
            if not match:
                raise TableNameError(f"unexpected {text[pos]!r} in table name {text!r}")
            parts.append(match.group().translate(_ASCII_UPPER))
            pos = match.end()
        if pos == len(text):
            break
        if text[pos] != ".":
            raise TableNameError(f"unexpected {text[pos]!r} in table name {text!r}")
        pos += 1
    if len(parts) > 2:
        raise TableNameError(f"{text!r} has too many dotted parts (use schema.table)")
    parts = [truncate_identifier(part) for part in parts]
    return TableRef(None, parts[0]) if len(parts) == 1 else TableRef(parts[0], parts[1])


class Named(Protocol):
    @property
    def schema(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def display(self) -> str: ...  # as regclass prints it: unqualified when the search path finds it


def find_relations(ref: TableRef, relations: Mapping[str, Named]) -> list[str]:
    """The keys of the relations `ref` names, as PostgreSQL would resolve it: a qualified
    name exactly; an unqualified one the relation the search path finds first (the one
    that prints unqualified), else every relation of that name, in any schema."""
    if ref.schema is not None:
        return [k for k, r in relations.items() if (r.schema, r.name) == (ref.schema, ref.name)]
    named = [k for k, r in relations.items() if r.name == ref.name]
    visible = [k for k in named if relations[k].display == quote_ident(ref.name)]
    return visible or named
