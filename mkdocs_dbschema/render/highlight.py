"""Pygments' highlighting of the cards' SQL: Pygments' own rules and classes, the same
HTML, a third of the time.

A 1,000-table site's cards hold 8,500 SQL blocks, 400,000 tokens, and highlighting them
was half of rendering the cards: Pygments' RegexLexer tries a state's rules one after
another at every position and hands each token through three generators to its
formatter. Here each state's rules are one regular expression, whose alternatives Python
tries in the same order (the first that matches wins, as in Pygments), scanned in C with
finditer; tokens of one CSS class in a row are written as one span, which is what the
formatter writes for them (a span never crosses a line's end).

Only a RegexLexer whose rules are a token type and a state change (no callbacks, no
`bygroups`, no back-references) with an HtmlFormatter that only writes spans (`nowrap`,
classes, nothing per token) takes this way; anything else goes to Pygments as it is.
Tests compare both on every block of the fixtures and on random text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pygments import format as pygments_format
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer, RegexLexer
from pygments.token import Error, Text, Whitespace, _TokenType

_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")

# A rule, once read: the span its tokens get ('' for none) and its state change.
_Rule = tuple[str, Any]


class _State:
    def __init__(self, pattern: re.Pattern[str], rules: dict[int, _Rule]) -> None:
        self.finditer = pattern.finditer
        self.rules = rules  # by the group number of each alternative


class Highlighter:
    """`html(source)` is `highlight(source, lexer, formatter)`."""

    def __init__(self, lexer: Lexer, formatter: HtmlFormatter) -> None:  # type: ignore[type-arg]
        self.lexer, self.formatter = lexer, formatter
        self.newline: str = formatter.lineseparator
        options = formatter.options
        spans_only = (
            formatter.nowrap
            and not formatter.noclasses
            and not formatter.encoding  # bytes out
            and not formatter.hl_lines
            and not options.get("debug_token_types")
            and not options.get("tagsfile")
        )
        plain_input = not (lexer.filters or lexer.stripall or lexer.tabsize)  # str in: the encoding is moot
        # Lexer.get_tokens' own preparation of the text (newlines, byte order mark, final newline).
        self.prepared: Callable[[str], str] | None = getattr(lexer, "_preprocess_lexer_input", None)
        self.states = self._states() if spans_only and plain_input and self.prepared else None
        # Each character as the formatter escapes it (Pygments' versions differ on quotes).
        self.escapes = {ord(c): written for c in "&<>\"'" if (written := self._written(Text, c)) != c}
        self.whitespace, self.error = self._span(Whitespace), self._span(Error)
        self.special = frozenset("\n" + "".join(map(chr, self.escapes)))

    def _written(self, ttype: Any, text: str) -> str:
        """One token as the formatter writes it, without its line's end."""
        return str(pygments_format([(ttype, text)], self.formatter)).removesuffix(self.newline)

    def _span(self, ttype: Any) -> str:
        written = self._written(ttype, "x")
        return written[: written.index(">") + 1] if written.startswith("<") else ""

    def _states(self) -> dict[str, _State] | None:
        """Each state's rules as one expression, or None when a rule is more than a token
        type and a state change."""
        kind = type(self.lexer)
        own_driver = (
            kind.get_tokens is Lexer.get_tokens
            and kind.get_tokens_unprocessed is RegexLexer.get_tokens_unprocessed
        )
        tokens: dict[str, list[tuple[Any, Any, Any]]] | None = getattr(kind, "_tokens", None)
        flags = getattr(kind, "flags", 0)
        if not own_driver or not tokens or "root" not in tokens:
            return None
        states: dict[str, _State] = {}
        for name, rules in tokens.items():
            parts: list[str] = []
            by_group: dict[int, _Rule] = {}
            group = 1
            for match, action, new_state in rules:
                pattern = getattr(match, "__self__", None)
                if (
                    not isinstance(pattern, re.Pattern)
                    or pattern.flags != re.compile("", flags).flags
                    or not isinstance(action, _TokenType)
                    or _BACKREFERENCE.search(pattern.pattern)
                    or (isinstance(new_state, str) and new_state != "#push")
                ):
                    return None
                parts.append(f"({pattern.pattern})")
                by_group[group] = (self._span(action), new_state)
                group += 1 + pattern.groups
            try:
                states[name] = _State(re.compile("|".join(parts), flags), by_group)
            except re.error:  # a pattern's own inline flags, say
                return None
        return states

    def html(self, source: str) -> str:
        if self.states is None or self.prepared is None:
            return str(highlight(source, self.lexer, self.formatter))
        return self._html(self.prepared(source), self.states)

    def _html(self, text: str, states: dict[str, _State]) -> str:
        """RegexLexer.get_tokens_unprocessed, and HtmlFormatter._format_lines over its tokens:
        one span for consecutive tokens of a class, closed at each line's end."""
        out: list[str] = []
        opened = ""  # the span open at the end of `out`, its closing tag not written yet
        special = self.special

        def switch(span: str) -> None:
            """Close the open span, open `span` ('' for none)."""
            nonlocal opened
            if opened:
                out.append("</span>")
            if span:
                out.append(span)
            opened = span

        def add(span: str, value: str) -> None:
            for number, piece in enumerate(value.translate(self.escapes).split("\n")):
                if number:
                    switch("")  # a span never crosses a line's end
                    out.append(self.newline)
                if piece:
                    if span != opened:
                        switch(span)
                    out.append(piece)

        stack = ["root"]
        pos, end = 0, len(text)
        while pos < end:
            state = states[stack[-1]]
            stuck = True  # at a position no rule matches
            for found in state.finditer(text, pos):
                if found.start() != pos:
                    break
                span, new_state = state.rules[found.lastindex]  # type: ignore[index]
                value = found[0]
                if special.isdisjoint(value):  # most tokens: one line, nothing to escape
                    if span != opened:
                        switch(span)
                    out.append(value)
                else:
                    add(span, value)
                pos = found.end()
                if new_state is not None:
                    _change(stack, new_state)
                    stuck = False
                    break  # on in the new state
            else:
                stuck = pos < end
            if stuck:  # no rule matches: at a line's end back to the root state, else an error
                if text[pos] == "\n":
                    stack = ["root"]
                    add(self.whitespace, "\n")
                else:
                    add(self.error, text[pos])
                pos += 1
        switch("")
        return "".join(out)


def _change(stack: list[str], new_state: Any) -> None:
    """RegexLexer's state change."""
    if isinstance(new_state, tuple):
        for name in new_state:
            if name == "#pop":
                if len(stack) > 1:
                    stack.pop()
            else:
                stack.append(stack[-1] if name == "#push" else name)
    elif isinstance(new_state, int):  # pops, keeping the root
        del stack[1 if abs(new_state) >= len(stack) else new_state :]
    else:  # "#push"
        stack.append(stack[-1])
