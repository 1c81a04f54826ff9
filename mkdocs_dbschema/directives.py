"""Find `<< kind: argument | option: value >>` lines in Markdown, outside code.

A directive stands on a line of its own. Lines inside fenced code (``` or ~~~
of any length) and indented code blocks are never directives, so a page can
show the syntax literally. Directives nested in list items, admonitions, tabs
or block quotes keep their place, and so does the card that replaces them.

Directive-looking text of a known kind that does not stand on a line of its own
(in a sentence, a table cell, a list marker's line) is reported as malformed,
once a line, unless it is inside an inline code span, which is how pages show
the syntax.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

KINDS = (
    "table",
    "tables",
    "summary",
    "erd",
    "coverage",
    "functions",
    "extensions",
    "migration-order",
    "advisors",
)

_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)<<(?P<body>.*)>>[ \t]*$")
_KIND = re.compile(r"\s*(?P<kind>[A-Za-z][\w-]*)\s*(?:(?P<sep>[:|])(?P<rest>.*))?$", re.S)
_FENCE_OPEN = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_CONTAINER = re.compile(r"^[ \t]*(?:[-*+][ \t]|\d{1,9}[.)][ \t]|!!!|\?\?\?\+?|===\+?[ \t]|/// )")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+$")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t]|$)")
_QUOTE = re.compile(r"[ \t]*>[ ]?")  # one block quote marker, as Python-Markdown strips it
_LEAD = re.compile(r"\s*")
# The start of a directive of a known kind written inside other text (not preceded by
# a backslash); `>>` ends it, or `:` or `|` and then the next `>>`.
# Longest first: `tables` must not stop at `table`.
_INLINE = re.compile(
    r"(?<!\\)<<[ \t]*(?:" + "|".join(sorted(KINDS, key=len, reverse=True)) + r")[ \t]*", re.IGNORECASE
)
_BACKTICKS = re.compile(r"(?<!\\)`+")
# Two 63-byte names of escaped quotes and `| samples: 1000` fit. Messages quote no
# more: Markdown and the search index slow down more than linearly on long notices.
LONGEST = 300


class DirectiveError(ValueError):
    """A directive that cannot be understood; the message says why."""


@dataclass(frozen=True)
class Directive:
    kind: str
    argument: str
    options: dict[str, str] = field(default_factory=dict)
    source: str = ""  # the directive as written, for messages
    line: int = 0  # 1-based
    indent: str = ""  # put before every line of the card: spaces, and `> ` in a block quote

    def __hash__(self) -> int:
        return hash((self.kind, self.argument, self.source, self.line))


@dataclass(frozen=True)
class Malformed:
    source: str
    line: int
    indent: str
    reason: str
    # Written inside other text: the line stays as written, and what replaces the
    # directive goes after the paragraph, table or list that holds it.
    inline: bool = False


EXPLAIN_MARKER = "-- explain"


@dataclass(frozen=True)
class QueryPattern:
    """A fenced SQL block whose first line is `-- explain`: planned at every build."""

    sql: str  # the query, marker line removed
    line: int  # line of the opening fence
    marker_line: int
    indent: str
    # `-- explain | functions: app.tenant, auth.*`: what planning may run on this page.
    functions: tuple[str, ...] = ()
    problem: str | None = None  # a marker option that is not understood

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
    visible = _unquoted(body)
    if ">>" in visible and "<<" in visible[visible.index(">>") :]:
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


def _blank_code_spans(line: str) -> str:
    """`line` with inline code spans and inline HTML comments blanked out.

    A run of backticks opens a span that the next run of the same length closes;
    a run that nothing closes is literal text, as in CommonMark.
    """
    line = _blank_comments(line)
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(line)]
    # Runs by length, each list in line order: the closing run is found by bisection,
    # so a line of many unmatched runs costs no more than a few passes.
    by_length: dict[int, list[int]] = {}
    for start, end in runs:
        by_length.setdefault(end - start, []).append(start)
    out, pos = [], 0
    for start, end in runs:
        if start < pos:
            continue
        starts = by_length[end - start]
        later = bisect.bisect_right(starts, start)
        if later == len(starts):  # nothing closes it: literal text
            continue
        close = starts[later] + (end - start)
        out.append(line[pos:start] + " " * (close - start))
        pos = close
    return "".join(out) + line[pos:]


def _blank_comments(line: str) -> str:
    """`line` with every closed `<!-- ... -->` blanked out."""
    out, pos = [], 0
    while (start := line.find("<!--", pos)) >= 0 and (end := line.find("-->", start + 4)) >= 0:
        out.append(line[pos:start] + " " * (end + 3 - start))
        pos = end + 3
    return "".join(out) + line[pos:]


def _shorten(source: str) -> str:
    return source if len(source) <= LONGEST else source[: LONGEST - 1] + "…"


def _inline_spans(visible: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every directive of a known kind inside `visible`.

    str.find, not a regex repeat, looks for the closing `>>`: the repeat kept a
    backtracking frame per character.
    """
    pos = 0
    while (opening := _INLINE.search(visible, pos)) is not None:
        close = pos = opening.end()
        if visible.startswith((":", "|"), pos):
            close = visible.find(">>", pos)
            if close < 0:  # nothing closes this one, nor any later one
                return
        if visible.startswith(">>", close):
            yield opening.start(), close + 2
            pos = close + 2


def _inline_directive(text: str, number: int, indent: str) -> Malformed | None:
    """The first directive written inside `text`; one report a line, however many it holds."""
    if "<<" not in text:
        return None
    visible = _blank_code_spans(text)
    spans = _inline_spans(visible)
    start, end = next(spans, (-1, -1))
    if start < 0:
        return None
    reason = "a directive must stand on a line of its own"
    if _LIST_ITEM.match(visible[: visible.find("<<")]):
        reason += " (in a list item, put it on a line of its own, indented like the item's text)"
    if more := sum(1 for _ in spans):
        reason += f"; {more} more on this line"
    return Malformed(_shorten(text[start:end]), number, indent, reason, inline=True)


Found = Directive | Malformed | QueryPattern


def _query_pattern(opening: int, indent: str, info: str, body: list[str], prefix: str) -> QueryPattern | None:
    if not info.strip().lower().startswith("sql"):
        return None
    for offset, text in enumerate(body):
        if not text.strip():
            continue
        marker, _, option = text.strip().partition("|")
        if marker.strip().lower() != EXPLAIN_MARKER:
            return None
        name, colon, listed = option.partition(":")
        named = listed.split(",") if name.strip().lower() == "functions" and colon else []
        functions = tuple(f.strip() for f in named if f.strip())
        problem = None
        if option.strip() and not functions:
            problem = f"`{text.strip()}`: the marker takes `| functions: schema.name, ...` and nothing else"
        query = "\n".join(
            line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in body[offset + 1 :]
        )
        return QueryPattern(
            query.strip("\n"), opening, opening + 1 + offset, prefix + indent, functions, problem
        )
    return None


@dataclass
class _Context:
    """What the scanner knows at one block quote depth (0: outside any quote)."""

    containers: list[int] = field(default_factory=list)  # content indents of open list items etc.
    previous_blank: bool = True
    in_indented_code: bool = False


def _strip_quotes(line: str, depth: int) -> str | None:
    """`line` without its first `depth` quote markers; None if it has fewer."""
    pos = 0  # an offset, not slices: a copy per marker is quadratic in the depth
    for _ in range(depth):
        marker = _QUOTE.match(line, pos)
        if marker is None:
            return None
        pos = marker.end()
    return line[pos:]


def scan(markdown: str) -> Iterator[tuple[int, str | None, Found | None]]:
    """Yield (line number, line, what it holds) for every line of the page.

    A query pattern is reported on the line of its closing fence. A directive
    written inside other text is reported, with line None, after the block that
    holds it (before the next blank line, heading, fence, comment or directive).
    """
    fence: str | None = None
    fence_start = fence_depth = 0
    fence_indent = fence_info = fence_prefix = ""
    fence_body: list[str] = []
    contexts = [_Context()]
    in_comment = False
    pending: list[Malformed] = []
    pending_depth = 0
    for number, line in enumerate(markdown.split("\n"), start=1):
        if in_comment:  # a commented-out directive stays commented out
            in_comment = "-->" not in line
            yield number, line, None
            continue
        if fence is not None:
            content = _strip_quotes(line, fence_depth)
            if content is None:  # the block quote ended, and the fence inside it with it
                fence = None
            else:
                stripped = content.strip()
                if stripped.startswith(fence) and stripped == fence[0] * len(stripped):
                    fence = None
                    pattern = _query_pattern(fence_start, fence_indent, fence_info, fence_body, fence_prefix)
                    yield number, line, pattern
                else:
                    fence_body.append(content)
                    yield number, line, None
                continue
        # Peel block quote markers off from the outside in; each depth has its own
        # containers, and indented code at any depth keeps the rest of the line literal.
        # An offset, not slices: a copy per marker is quadratic in the depth.
        depth, pos, end, prefixes, code = 0, 0, len(line.rstrip()), [], False
        width = base = 0
        while pos < end:  # the rest of the line is not blank
            ctx = contexts[depth]
            lead = _LEAD.match(line, pos)
            assert lead is not None  # \s* matches anywhere
            width = _indent_width(lead.group())
            while ctx.containers and width < ctx.containers[-1]:
                ctx.containers.pop()
            base = ctx.containers[-1] if ctx.containers else 0
            if width >= base + 4 and (ctx.previous_blank or ctx.in_indented_code):
                code = True
                break
            marker = _QUOTE.match(line, pos)
            if marker is None:
                break
            ctx.previous_blank = ctx.in_indented_code = False
            prefixes.append(" " * base + "> ")
            pos = marker.end()
            depth += 1
            if len(contexts) == depth:
                contexts.append(_Context())
        del contexts[depth + 1 :]
        ctx, text, prefix = contexts[depth], line[pos:], "".join(prefixes)
        blank = not text.strip()
        starts_block = (
            blank
            or code
            or depth < pending_depth
            or _FENCE_OPEN.match(text) is not None
            or text.lstrip().startswith("<!--")
            or _HEADING.match(text) is not None
            or _DIRECTIVE.match(text) is not None
        )
        if pending and starts_block:
            for malformed in pending:
                yield malformed.line, None, malformed
            pending = []
        if blank:
            ctx.previous_blank = True
            yield number, line, None
            continue
        ctx.previous_blank = False
        if code:
            ctx.in_indented_code = True
            yield number, line, None
            continue
        ctx.in_indented_code = False
        opening = _FENCE_OPEN.match(text)
        if opening and not (opening["fence"][0] == "`" and "`" in opening["info"]):
            fence, fence_start, fence_info, fence_body = opening["fence"], number, opening["info"], []
            fence_indent, fence_depth, fence_prefix = text[: len(text) - len(text.lstrip())], depth, prefix
            yield number, line, None
            continue
        if text.lstrip().startswith("<!--"):
            in_comment = "-->" not in text.lstrip()[4:]
            yield number, line, None
            continue
        if _CONTAINER.match(text):
            ctx.containers.append(width + 4)
            base = width + 4
        # The card goes where its container's content starts: Markdown wants headings and
        # admonitions there, and 1-3 extra spaces (or a lazy paragraph line) would break them.
        indent = prefix + " " * base
        match = _DIRECTIVE.match(text)
        if not match:
            inline = _inline_directive(text, number, indent)
            if inline:
                pending.append(inline)
                pending_depth = depth
            yield number, line, None
            continue
        source = text.strip()
        if len(source) > LONGEST:
            reason = f"longer than {LONGEST} characters, the most a directive can be"
            yield number, line, Malformed(_shorten(source), number, indent, reason)
            continue
        try:
            kind, argument, options = parse_directive(match["body"])
        except DirectiveError as error:
            yield number, line, Malformed(source, number, indent, str(error))
            continue
        yield number, line, Directive(kind, argument, options, source, number, indent)
    for malformed in pending:
        yield malformed.line, None, malformed


def find(markdown: str) -> list[Directive | Malformed]:
    return [f for _, _, f in scan(markdown) if isinstance(f, Directive | Malformed)]


def find_query_patterns(markdown: str) -> list[QueryPattern]:
    return [f for _, _, f in scan(markdown) if isinstance(f, QueryPattern)]


def expand(markdown: str, replace: Callable[[Found], str]) -> str:
    """Replace every directive line by `replace(directive)`, indented like it; add
    `replace(pattern)` after each query pattern's block, whose marker line is dropped,
    and `replace(malformed)` after the block of a directive written inside other text."""
    out: list[tuple[int, str]] = []
    markers: set[int] = set()
    for number, line, found in scan(markdown):
        if found is None:
            assert line is not None
            out.append((number, line))
            continue
        if isinstance(found, QueryPattern):
            assert line is not None
            out.append((number, line))
            markers.add(found.marker_line)
        text = replace(found).rstrip("\n")
        # Blank lines around the block keep it from merging with the narrative; in a
        # block quote they are bare `>` lines, so the quote goes on.
        blank = found.indent.rstrip()
        out.append((0, blank))
        out.extend((0, found.indent + piece if piece.strip() else blank) for piece in text.split("\n"))
        out.append((0, blank))
    return "\n".join(line for number, line in out if number not in markers)
