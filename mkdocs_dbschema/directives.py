"""Find `<< kind: argument | option: value >>` lines in Markdown, outside code.

A directive stands on a line of its own. Lines inside fenced code (``` or ~~~
of any length) and indented code blocks are never directives, so a page can
show the syntax literally. Directives nested in list items, admonitions or
tabs keep their indentation, and so does the card that replaces them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)<<(?P<body>.*)>>[ \t]*$")
_KIND = re.compile(r"\s*(?P<kind>[A-Za-z][\w-]*)\s*(?:(?P<sep>[:|])(?P<rest>.*))?$", re.S)
_FENCE_OPEN = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_CONTAINER = re.compile(r"^[ \t]*(?:[-*+][ \t]|\d{1,9}[.)][ \t]|!!!|\?\?\?\+?|===\+?[ \t]|/// )")


class DirectiveError(ValueError):
    """A directive that cannot be understood; the message says why."""


@dataclass(frozen=True)
class Directive:
    kind: str
    argument: str
    options: dict[str, str] = field(default_factory=dict)
    source: str = ""  # the directive as written, for messages
    line: int = 0  # 1-based
    indent: str = ""

    def __hash__(self) -> int:
        return hash((self.kind, self.argument, self.source, self.line))


@dataclass(frozen=True)
class Malformed:
    source: str
    line: int
    indent: str
    reason: str


EXPLAIN_MARKER = "-- explain"


@dataclass(frozen=True)
class QueryPattern:
    """A fenced SQL block whose first line is `-- explain`: planned at every build."""

    sql: str  # the query, marker line removed
    line: int  # line of the opening fence
    marker_line: int
    indent: str

    @property
    def source(self) -> str:
        return f"query pattern at line {self.line}"


def _split_unquoted(text: str, sep: str) -> list[str]:
    """Split on `sep` outside double-quoted identifiers."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unquoted(text: str) -> str:
    """`text` with the inside of every double-quoted identifier blanked out."""
    return "".join(piece if i % 2 == 0 else " " * len(piece) for i, piece in enumerate(text.split('"')))


def parse_directive(body: str) -> tuple[str, str, dict[str, str]]:
    """`kind: argument | key: value | ...` or `kind | key: value` → (kind, argument, options)."""
    if re.search(r">>.*<<", _unquoted(body)):
        raise DirectiveError("one directive per line: put each `<< ... >>` on a line of its own")
    match = _KIND.match(body)
    if not match:
        raise DirectiveError("expected `<< kind: argument >>`")
    kind = match["kind"].lower()
    pieces = _split_unquoted(match["rest"] or "", "|")
    if match["sep"] == "|":  # `<< kind | option: value >>`: options, no argument
        pieces.insert(0, "")
    argument = pieces[0].strip()
    options: dict[str, str] = {}
    for piece in pieces[1:]:
        key, colon, value = piece.partition(":")
        if not colon or not key.strip():
            raise DirectiveError(f"option {piece.strip()!r} is not `name: value`")
        name = key.strip().lower()
        if name in options:
            raise DirectiveError(f"option {name!r} given twice")
        options[name] = value.strip()
    return kind, argument, options


def _indent_width(indent: str) -> int:
    return len(indent.expandtabs(4))


Found = Directive | Malformed | QueryPattern


def _query_pattern(opening: int, indent: str, info: str, body: list[str]) -> QueryPattern | None:
    if not info.strip().lower().startswith("sql"):
        return None
    for offset, text in enumerate(body):
        if not text.strip():
            continue
        if text.strip().lower() != EXPLAIN_MARKER:
            return None
        query = "\n".join(
            line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in body[offset + 1 :]
        )
        return QueryPattern(query.strip("\n"), opening, opening + 1 + offset, indent)
    return None


def scan(markdown: str) -> Iterator[tuple[int, str, Found | None]]:
    """Yield (line number, line, what it holds) for every line of the page.

    A query pattern is reported on the line of its closing fence.
    """
    fence: str | None = None
    fence_start = 0
    fence_indent = fence_info = ""
    fence_body: list[str] = []
    containers: list[int] = []  # content indents of open list items / admonitions / tabs
    previous_blank = True
    in_indented_code = in_comment = False
    for number, line in enumerate(markdown.split("\n"), start=1):
        if in_comment:  # a commented-out directive stays commented out
            in_comment = "-->" not in line
            yield number, line, None
            continue
        if fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence) and stripped == fence[0] * len(stripped):
                fence = None
                yield number, line, _query_pattern(fence_start, fence_indent, fence_info, fence_body)
            else:
                fence_body.append(line)
                yield number, line, None
            continue
        if not line.strip():
            previous_blank = True
            yield number, line, None
            continue
        width = _indent_width(line[: len(line) - len(line.lstrip())])
        while containers and width < containers[-1]:
            containers.pop()
        base = containers[-1] if containers else 0
        blank_before, previous_blank = previous_blank, False
        if width >= base + 4 and (blank_before or in_indented_code):
            in_indented_code = True
            yield number, line, None
            continue
        in_indented_code = False
        opening = _FENCE_OPEN.match(line)
        if opening and not (opening["fence"][0] == "`" and "`" in opening["info"]):
            fence, fence_start, fence_info, fence_body = opening["fence"], number, opening["info"], []
            fence_indent = line[: len(line) - len(line.lstrip())]
            yield number, line, None
            continue
        if line.lstrip().startswith("<!--"):
            in_comment = "-->" not in line.lstrip()[4:]
            yield number, line, None
            continue
        if _CONTAINER.match(line):
            containers.append(width + 4)
        match = _DIRECTIVE.match(line)
        if not match:
            yield number, line, None
            continue
        source = line.strip()
        # The card goes where its container's content starts: Markdown wants headings and
        # admonitions there, and 1-3 extra spaces (or a lazy paragraph line) would break them.
        indent = " " * base
        try:
            kind, argument, options = parse_directive(match["body"])
        except DirectiveError as error:
            yield number, line, Malformed(source, number, indent, str(error))
            continue
        yield number, line, Directive(kind, argument, options, source, number, indent)


def find(markdown: str) -> list[Directive | Malformed]:
    return [f for _, _, f in scan(markdown) if isinstance(f, Directive | Malformed)]


def find_query_patterns(markdown: str) -> list[QueryPattern]:
    return [f for _, _, f in scan(markdown) if isinstance(f, QueryPattern)]


def expand(markdown: str, replace: Callable[[Found], str]) -> str:
    """Replace every directive line by `replace(directive)`, indented like it; add
    `replace(pattern)` after each query pattern's block, whose marker line is dropped."""
    out: list[tuple[int, str]] = []
    markers: set[int] = set()
    for number, line, found in scan(markdown):
        if found is None:
            out.append((number, line))
            continue
        if isinstance(found, QueryPattern):
            out.append((number, line))
            markers.add(found.marker_line)
        text = replace(found).rstrip("\n")
        # Blank lines around the block keep it from merging with the narrative.
        out.append((number, ""))
        out.extend((number, found.indent + piece if piece.strip() else "") for piece in text.split("\n"))
        out.append((number, ""))
    return "\n".join(line for number, line in out if number not in markers)
