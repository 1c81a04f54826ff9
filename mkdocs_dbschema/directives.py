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
_KIND = re.compile(r"\s*(?P<kind>[A-Za-z][\w-]*)\s*(?::(?P<rest>.*))?$", re.S)
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


def parse_directive(body: str) -> tuple[str, str, dict[str, str]]:
    """`kind: argument | key: value | ...` → (kind, argument, options)."""
    match = _KIND.match(body)
    if not match:
        raise DirectiveError("expected `<< kind: argument >>`")
    kind = match["kind"].lower()
    pieces = _split_unquoted(match["rest"] or "", "|")
    argument = pieces[0].strip()
    options: dict[str, str] = {}
    for piece in pieces[1:]:
        key, colon, value = piece.partition(":")
        if not colon or not key.strip():
            raise DirectiveError(f"option {piece.strip()!r} is not `name: value`")
        options[key.strip().lower()] = value.strip()
    return kind, argument, options


def _indent_width(indent: str) -> int:
    return len(indent.expandtabs(4))


def scan(markdown: str) -> Iterator[tuple[int, str, Directive | Malformed | None]]:
    """Yield (line number, line, directive or None) for every line of the page."""
    fence: str | None = None
    containers: list[int] = []  # content indents of open list items / admonitions / tabs
    previous_blank = True
    in_indented_code = False
    for number, line in enumerate(markdown.split("\n"), start=1):
        if fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence) and stripped == fence[0] * len(stripped):
                fence = None
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
            fence = opening["fence"]
            yield number, line, None
            continue
        if _CONTAINER.match(line):
            containers.append(width + 4)
        match = _DIRECTIVE.match(line)
        if not match:
            yield number, line, None
            continue
        source = line.strip()
        try:
            kind, argument, options = parse_directive(match["body"])
        except DirectiveError as error:
            yield number, line, Malformed(source, number, match["indent"], str(error))
            continue
        yield number, line, Directive(kind, argument, options, source, number, match["indent"])


def find(markdown: str) -> list[Directive | Malformed]:
    return [found for _, _, found in scan(markdown) if found is not None]


def expand(markdown: str, replace: Callable[[Directive | Malformed], str]) -> str:
    """Replace every directive line by `replace(directive)`, indented like the directive."""
    out: list[str] = []
    for _, line, found in scan(markdown):
        if found is None:
            out.append(line)
            continue
        text = replace(found).rstrip("\n")
        # Blank lines around the block keep it from merging with the narrative.
        out.append("")
        out.extend(found.indent + piece if piece.strip() else "" for piece in text.split("\n"))
        out.append("")
    return "\n".join(out)
