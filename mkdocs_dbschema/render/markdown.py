"""Turning database text into Markdown that can only ever read as text.

Names, comments and values come from the database and may hold HTML,
Markdown, Jinja or directive syntax. Every ASCII punctuation character becomes
a numeric character reference, so neither Markdown nor any extension sees
syntax in it, while the browser, the search index and TOC slugs see the
original characters.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable

from markupsafe import Markup

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 and C1 controls
_ESCAPES = {ord(c): f"&#{ord(c)};" for c in string.punctuation}
_ESCAPES[ord("\n")] = "<br>"


def text(value: object) -> Markup:
    """Inline text: safe in a paragraph, a list item, a heading or a table cell."""
    if isinstance(value, Markup):
        return value
    return _escaped(str(value))


@functools.lru_cache(maxsize=16384)  # names, types and labels repeat on every card
def _escaped(value: str) -> Markup:
    return Markup(_cleaned(value).translate(_ESCAPES))


def _cleaned(value: str) -> str:
    """Newlines as `\n`, other control characters as spaces."""
    return _CONTROL.sub(" ", value.replace("\r\n", "\n").replace("\r", "\n"))


def inline_code(value: object) -> Markup:
    return Markup(f"<code>{text(value)}</code>")  # text() is escaped: one Markup, not three


def code_text(value: object, separator: str = "\n\n") -> str:
    """The text of a code block of one text or several (joined by `separator`)."""
    if isinstance(value, Markup):
        raise TypeError("code blocks take raw text, not escaped Markup")
    if not isinstance(value, str) and isinstance(value, Iterable):
        value = separator.join(str(v) for v in value)
    return _cleaned(str(value))


def code_block(value: object, language: str = "sql", separator: str = "\n\n", fenced: bool = True) -> Markup:
    """A code block of one text or several (joined by `separator`).

    Fenced (for pymdownx.superfences, which also finds fences nested in lists and
    admonitions), the content stays literal because the fence is longer than any
    run of backticks inside. Without superfences an indented block is used: core
    Markdown keeps it literal at any nesting depth.
    """
    content = code_text(value, separator)
    if not fenced:
        return Markup("\n".join("    " + line for line in content.split("\n")))
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * max(3, longest + 1)
    return Markup(f"{fence}{language}\n{content}\n{fence}")


def size(num_bytes: int) -> str:
    """Bytes exactly as pg_size_pretty prints them: 8191 bytes, 16 kB, 1234 MB."""
    if num_bytes < 10 * 1024:
        return f"{num_bytes} bytes"
    half_units = num_bytes >> 9  # pg_size_pretty counts in half units, then rounds
    for unit in ("kB", "MB", "GB", "TB"):
        if half_units < 20 * 1024 - 1:
            return f"{(half_units + 1) // 2} {unit}"
        half_units >>= 10
    return f"{(half_units + 1) // 2} PB"


def count(value: float | None) -> str:
    return "not analyzed" if value is None else f"{round(value):,}"
