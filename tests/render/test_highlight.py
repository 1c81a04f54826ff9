"""The cards' SQL highlighting (highlight.py) writes what Pygments writes, byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, get_lexer_by_name

from mkdocs_dbschema.render.highlight import Highlighter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SQL = get_lexer_by_name("sql", stripnl=False, ensurenl=True)
FORMATTER = HtmlFormatter(nowrap=True)
FAST = Highlighter(SQL, FORMATTER)


def _statements() -> list[str]:
    """Every statement of the real-world schemas the tests load, and each file whole."""
    texts = [p.read_text("utf-8") for p in sorted(FIXTURES.glob("basejump/*.sql"))]
    pagila = (FIXTURES / "pagila" / "pagila-data.sql").read_text("utf-8")
    texts.append(pagila[:200_000])  # COPY data, functions, comments, quoting of every kind
    return texts + [s for text in texts for s in re.split(r"(?<=;)\n", text) if s.strip()]


def test_every_statement_of_the_fixtures_comes_out_as_pygments_writes_it() -> None:
    assert FAST.states is not None  # the SQL lexer takes the quick way
    statements = _statements()
    assert len(statements) > 200
    for source in statements:
        assert FAST.html(source) == highlight(source, SQL, FORMATTER), source[:200]


SQLISH = st.lists(
    st.sampled_from(
        [
            *"ab_$ \t\n\r;:()[],.+*/<>=~!@#%^&|`?-'\"\\0é\u2028\ufeff",
            "--",
            "/*",
            "*/",
            "SELECT",
            "int",
            "''",
            "$$",
        ]
    ),
    max_size=60,
).map("".join)


@settings(max_examples=3000, deadline=None)
@given(SQLISH)
def test_any_text_comes_out_as_pygments_writes_it(source: str) -> None:
    # Unterminated comments and strings, stray characters, odd line ends, a byte order mark.
    assert FAST.html(source) == highlight(source, SQL, FORMATTER)


@pytest.mark.parametrize(
    "lexer, formatter",
    [
        (PythonLexer(), FORMATTER),  # callbacks and bygroups in its rules
        (SQL, HtmlFormatter(nowrap=True, noclasses=True)),  # styles per token
        (get_lexer_by_name("sql", stripall=True), FORMATTER),
        (SQL, HtmlFormatter(nowrap=True, hl_lines=[1])),
    ],
    ids=["lexer", "formatter", "lexer options", "highlighted lines"],
)
def test_what_the_quick_way_does_not_cover_goes_to_pygments(lexer: object, formatter: HtmlFormatter) -> None:  # type: ignore[type-arg]
    fallback = Highlighter(lexer, formatter)  # type: ignore[arg-type]
    assert fallback.states is None
    source = "def f(x):\n    return '''%s''' % x  -- SELECT 1\n"
    assert fallback.html(source) == highlight(source, lexer, formatter)  # type: ignore[arg-type]


class _QuotesEscaped(HtmlFormatter):  # type: ignore[type-arg]
    """Pygments before 2.20 escaped quotes too, `'` as `&#39;`."""

    def _translate_parts(self, value: str) -> list[str]:
        table = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;", ord("'"): "&#39;"}
        return value.translate(table).split("\n")


def test_characters_are_escaped_as_the_formatter_escapes_them() -> None:
    formatter = _QuotesEscaped(nowrap=True)
    fast = Highlighter(SQL, formatter)
    assert fast.states is not None
    for source in [*_statements()[:100], "SELECT 'it''s', \"Guest Notes\" FROM t WHERE a < b && c > d;"]:
        assert fast.html(source) == highlight(source, SQL, formatter), source[:200]
