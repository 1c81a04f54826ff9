"""Finding directives: literal inside code, kept in containers, narrative untouched."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sites import build

from mkdocs_dbschema import directives
from mkdocs_dbschema.catalog.names import TableNameError, TableRef, parse_table_name
from mkdocs_dbschema.directives import Directive, Malformed


def kinds_and_args(markdown: str) -> list[tuple[str, str]]:
    return [(d.kind, d.argument) for d in directives.find(markdown) if isinstance(d, Directive)]


def test_directives_on_their_own_lines() -> None:
    page = "# T\n\n<< table: a >>\ntext << table: inline >> text\n<<table:b>>\n  << TABLE : c >>  \n"
    assert kinds_and_args(page) == [("table", "a"), ("table", "b"), ("table", "c")]
    assert [d.line for d in directives.find(page)] == [3, 4, 5, 6]  # 4: reported, not expanded


@pytest.mark.parametrize(
    "page",
    [
        "```\n<< table: hidden >>\n```\n<< table: shown >>\n",
        "~~~\n<< table: hidden >>\n~~~\n<< table: shown >>\n",
        "```sql\n<< table: hidden >>\n```\n<< table: shown >>\n",
        # A longer fence is closed only by one at least as long, of the same character.
        "````\n```\n<< table: hidden >>\n```\n````\n<< table: shown >>\n",
        "~~~~~~\n~~~\n```\n<< table: hidden >>\n~~~~~~~\n<< table: shown >>\n",
        "```\n~~~\n<< table: hidden >>\n```\n<< table: shown >>\n",
    ],
)
def test_fenced_code_stays_literal(page: str) -> None:
    assert kinds_and_args(page) == [("table", "shown")]


def test_unclosed_fence_hides_the_rest() -> None:
    assert kinds_and_args("```\n<< table: hidden >>\n") == []


def test_fence_of_tildes_inside_list_item() -> None:
    page = "- item\n\n    ~~~\n    << table: hidden >>\n    ~~~\n\n    << table: nested >>\n"
    assert kinds_and_args(page) == [("table", "nested")]


def test_indented_code_stays_literal() -> None:
    page = "Para\n\n    << table: code >>\n    << table: more_code >>\n\n<< table: real >>\n"
    assert kinds_and_args(page) == [("table", "real")]
    tab = "Para\n\n\t<< table: code >>\n"
    assert kinds_and_args(tab) == []


def test_directives_inside_admonitions_and_tabs_keep_their_indent() -> None:
    page = '!!! note\n\n    << table: in_note >>\n\n=== "Tab"\n\n    << table: in_tab >>\n\n        << table: code_in_tab >>\n'
    found = [d for d in directives.find(page) if isinstance(d, Directive)]
    assert [(d.argument, d.indent) for d in found] == [("in_note", "    "), ("in_tab", "    ")]
    expanded = directives.expand(page, lambda d: "## Card\n\nbody")
    assert "    ## Card\n\n    body" in expanded
    assert "        << table: code_in_tab >>" in expanded


def test_expand_keeps_the_narrative_byte_for_byte() -> None:
    page = "# Title\n\nBefore *text*.\n\n<< table: a >>\n\nAfter | text.\n```\n<< table: b >>\n```\n"
    expanded = directives.expand(page, lambda d: f"CARD {d.argument}")  # type: ignore[union-attr]
    assert expanded == (
        "# Title\n\nBefore *text*.\n\n\nCARD a\n\n\nAfter | text.\n```\n<< table: b >>\n```\n"
    )
    assert directives.expand("no directives\n", lambda d: "x") == "no directives\n"


def test_options_and_malformed_directives() -> None:
    (found,) = directives.find('<< table: ops."a|b" | samples: 0 | Note: x >>')
    assert isinstance(found, Directive)
    assert found.argument == 'ops."a|b"'
    assert found.options == {"samples": "0", "note": "x"}
    (bad,) = directives.find("<< table: x | samples >>")
    assert isinstance(bad, Malformed) and "samples" in bad.reason
    (empty,) = directives.find("<< >>")
    assert isinstance(empty, Malformed)
    (no_colon,) = directives.find("<< migration-order >>")
    assert isinstance(no_colon, Directive) and no_colon.kind == "migration-order"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("accommodations", TableRef(None, "accommodations")),
        ("Public.Accommodations", TableRef("public", "accommodations")),
        ('"Guest Notes"', TableRef(None, "Guest Notes")),
        ('ops."odd.name"', TableRef("ops", "odd.name")),
        ('"say ""hi"""', TableRef(None, 'say "hi"')),
        ("reservación", TableRef(None, "reservación")),
        ("RESERVACIÓN", TableRef(None, "reservaciÓn")),  # PostgreSQL folds ASCII only
        ("  spaced  ", TableRef(None, "spaced")),
        ("t$1", TableRef(None, "t$1")),
        # A quoted identifier may hold any character but NUL, controls included.
        ('"bell\x07name"', TableRef(None, "bell\x07name")),
        ('"tab\tand\nnewline"', TableRef(None, "tab\tand\nnewline")),
        ('"\x01"."\x7f"', TableRef("\x01", "\x7f")),
    ],
)
def test_table_names_parse_like_postgresql(text: str, expected: TableRef) -> None:
    assert parse_table_name(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no table name"),
        ("a.b.c", "too many dotted parts"),
        ('"unterminated', "unterminated"),
        ('""', "zero-length"),
        ("a b", "unexpected ' '"),
        ("1abc", "unexpected '1'"),
        ("a.", "expected a name"),
        ("a;drop table x", "unexpected ';'"),
        ('"bad\x00name"', "NUL character"),  # it reached PostgreSQL and failed the build
        ('ops."\x00"', "NUL character"),
        ("bad\x00name", "NUL character"),
    ],
)
def test_bad_table_names(text: str, message: str) -> None:
    with pytest.raises(TableNameError, match=message):
        parse_table_name(text)


def test_names_are_cut_to_63_bytes_at_a_character_boundary() -> None:
    assert parse_table_name("T" * 70) == TableRef(None, "t" * 63)
    assert parse_table_name(f'{"s" * 64}."{"n" * 64}"') == TableRef("s" * 63, "n" * 63)
    # é is two bytes in UTF-8: one that would end past byte 63 is dropped whole.
    assert parse_table_name("a" * 62 + "éé") == TableRef(None, "a" * 62)
    assert parse_table_name("a" * 61 + "éé") == TableRef(None, "a" * 61 + "é")


def test_names_print_back_quoted() -> None:
    assert str(TableRef("ops", "odd.name")) == 'ops."odd.name"'
    assert str(TableRef(None, 'say "hi"')) == '"say ""hi"""'
    assert str(TableRef(None, "plain_name")) == "plain_name"


def test_cards_start_where_their_container_content_starts() -> None:
    page = (
        "- Motopress:\n\n  << table: two_spaces >>\n\n"  # CommonMark-style continuation: not in the item
        "Paragraph line\n    << table: lazy >>\n\n"  # a lazy continuation line, not code
        "!!! note\n\n      << table: deeper >>\n"  # inside the admonition, 2 spaces extra
    )
    found = [d for d in directives.find(page) if isinstance(d, Directive)]
    assert [(d.argument, d.indent) for d in found] == [("two_spaces", ""), ("lazy", ""), ("deeper", "    ")]
    expanded = directives.expand(page, lambda d: "## Card")
    assert "\n## Card\n" in expanded and "\n    ## Card\n" in expanded and "\n  ## Card" not in expanded


def test_commented_out_directives_stay_comments() -> None:
    page = "<!--\n<< table: hidden >>\n-->\n<!-- << table: inline >> -->\n<< table: shown >>\n"
    assert kinds_and_args(page) == [("table", "shown")]


def malformed(markdown: str) -> list[tuple[int, str, str]]:
    return [(d.line, d.source, d.reason) for d in directives.find(markdown) if isinstance(d, Malformed)]


def test_two_directives_on_one_line_are_one_malformed_line() -> None:
    (bad,) = directives.find("<< table: city >> << table: country >>")
    assert isinstance(bad, Malformed) and "one directive per line" in bad.reason
    assert bad.source == "<< table: city >> << table: country >>"
    # `>> <<` inside a quoted identifier is part of the name.
    (quoted,) = directives.find('<< table: "a >> << b" >>')
    assert isinstance(quoted, Directive) and quoted.argument == '"a >> << b"'


def test_kind_with_options_and_no_argument() -> None:
    (advisors,) = directives.find("<< advisors | level: ERROR >>")
    assert isinstance(advisors, Directive)
    assert (advisors.kind, advisors.argument, advisors.options) == ("advisors", "", {"level": "ERROR"})
    (table,) = directives.find("<< table | samples: 2 >>")
    assert isinstance(table, Directive) and (table.argument, table.options) == ("", {"samples": "2"})
    (order,) = directives.find("<< migration-order >>")
    assert isinstance(order, Directive) and (order.kind, order.argument, order.options) == (
        "migration-order",
        "",
        {},
    )


def test_an_option_given_twice_is_malformed() -> None:
    assert malformed("<< table: x | samples: 1 | Samples: 3 >>") == [
        (1, "<< table: x | samples: 1 | Samples: 3 >>", "option 'samples' given twice")
    ]


def test_directives_inside_other_text_are_reported() -> None:
    page = (
        "Use << table: x >> here.\n"  # 1: in a sentence
        "\n"
        "| a | b |\n|---|---|\n| << Table : y | samples: 2 >> | 1 |\n"  # 5: in a table cell
        "\n"
        "- << table: z >>\n"  # 7: on a list marker's line
        "\n"
        "## About << migration-order >>\n"  # 9: in a heading
    )
    assert malformed(page) == [
        (1, "<< table: x >>", "a directive must stand on a line of its own"),
        (5, "<< Table : y | samples: 2 >>", "a directive must stand on a line of its own"),
        (
            7,
            "<< table: z >>",
            "a directive must stand on a line of its own (in a list item, "
            "put it on a line of its own, indented like the item's text)",
        ),
        (9, "<< migration-order >>", "a directive must stand on a line of its own"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "Write `<< table: name >>` on a line of its own.",
        "Or ``<< table: `odd` >>`` with backticks inside.",
        "A table cell: | `<< table: x \\| samples: 2 >>` |",
        "A comment <!-- << table: x >> --> in a sentence.",
        "std::cout << table << endl; // and >> later",
        "<< tablez: x >> is no known kind, nor is << foo: x >> in prose",
        "An escaped \\<< table: x >> is literal.",
        "<< table without a closing mark",
    ],
)
def test_text_that_only_looks_like_a_directive_stays_silent(line: str) -> None:
    assert directives.find(line) == []
    assert directives.find(f"```\n{line}\n```\n\n    {line}\n\n<!--\n{line}\n-->\n") == []


def test_an_unclosed_code_span_does_not_hide_a_directive() -> None:
    assert [m[1] for m in malformed("a ` b << table: x >>")] == ["<< table: x >>"]


def test_reports_of_inline_directives_go_after_their_block() -> None:
    page = "| a |\n|---|\n| << table: x >> |\n| 2 |\n\nText << table: y >>\nmore text\n## Next\n"
    expanded = directives.expand(page, lambda d: f"BOX {d.source}")
    assert expanded == (
        "| a |\n|---|\n| << table: x >> |\n| 2 |\n\nBOX << table: x >>\n\n"
        "\nText << table: y >>\nmore text\n\nBOX << table: y >>\n\n## Next\n"
    )
    in_item = directives.expand("- item << table: x >>\n  more\n", lambda d: "BOX")
    assert in_item == "- item << table: x >>\n  more\n\n    BOX\n\n"


def test_directives_in_block_quotes_expand_inside_the_quote() -> None:
    page = "> Intro\n> << table: a >>\n> after\n\n> > << table: b >>\n\n- item\n\n    > << table: c >>\n"
    found = [d for d in directives.find(page) if isinstance(d, Directive)]
    assert [(d.argument, d.indent, d.line) for d in found] == [
        ("a", "> ", 2),
        ("b", "> > ", 5),
        ("c", "    > ", 9),
    ]
    expanded = directives.expand(page, lambda d: "## Card\n\n| x |\n\n    code")
    assert expanded == (
        "> Intro\n>\n> ## Card\n>\n> | x |\n>\n>     code\n>\n> after\n\n"
        "> >\n> > ## Card\n> >\n> > | x |\n> >\n> >     code\n> >\n\n"
        "- item\n\n    >\n    > ## Card\n    >\n    > | x |\n    >\n    >     code\n    >\n"
    )


@pytest.mark.parametrize(
    "page",
    [
        "> ```\n> << table: hidden >>\n> ```\n> << table: shown >>\n",
        "> Para\n>\n>     << table: hidden >>\n\n<< table: shown >>\n",
        "> - item\n>\n>     ~~~\n>     << table: hidden >>\n>     ~~~\n>\n>     << table: shown >>\n",
        # A fence in a block quote ends with the quote.
        "> ```\n> << table: hidden >>\n\n<< table: shown >>\n",
        "```\n> << table: hidden >>\n```\n> << table: shown >>\n",
    ],
)
def test_code_in_block_quotes_stays_literal(page: str) -> None:
    assert kinds_and_args(page) == [("table", "shown")]


def test_query_pattern_in_a_block_quote_gets_its_plan_inside_the_quote() -> None:
    page = "> ```sql\n> -- explain\n> SELECT 1\n> ```\n"
    (pattern,) = directives.find_query_patterns(page)
    assert (pattern.sql, pattern.indent) == ("SELECT 1", "> ")
    assert directives.expand(page, lambda d: "PLAN") == "> ```sql\n> SELECT 1\n> ```\n>\n> PLAN\n>\n"


def test_a_built_page_reports_every_misplaced_or_doubtful_directive(
    sections_url: str, tmp_path: Path
) -> None:
    page = (
        "# P\n\n"
        "> Tenants, quoted:\n>\n> << table: tenants | samples: 0 >>\n>\n> The end of the quote.\n\n"  # 5
        "Shown as `<< table: tenants >>`, written as << table: tenants >> in a sentence.\n\n"  # 9
        "| Table |\n|-------|\n| << table: tenants >> |\n| next row |\n\n"  # 13
        "<< table: tenants >> << table: bookings >>\n\n"  # 16
        "<< advisors | level: ERROR >>\n\n"  # 18
        "<< table: tenants | samples: 1 | samples: 3 >>\n"  # 20
    )
    result = build(tmp_path, {"page.md": page}, {"dsn": sections_url})
    assert result.returncode == 0, result.log
    warnings = [line for line in result.log.splitlines() if "WARNING" in line]
    assert len(warnings) == 5, result.log
    for line, message in [
        (9, "page.md:9: << table: tenants >>: a directive must stand on a line of its own"),
        (13, "page.md:13: << table: tenants >>: a directive must stand on a line of its own"),
        (16, "one directive per line"),
        (18, "advisors takes no argument"),
        (20, "option 'samples' given twice"),
    ]:
        assert any(f"page.md:{line}: " in w and message in w for w in warnings), result.log
    article = result.article("page")
    quote = article[article.index("<blockquote>") : article.index("</blockquote>")]
    assert ">tenants</h2>" in quote and ">Schema" in quote and "The end of the quote." in quote
    # The misplaced directive's box comes after the table, which keeps its rows.
    table = article[article.index("<table>", article.index("</blockquote>")) :]
    assert table.index("next row") < table.index('class="admonition failure"')
    assert "Shown as <code>" in article and article.count('class="admonition failure"') == 5


def test_a_nul_in_a_name_and_long_lines_warn_where_they_are(
    make_db: Callable[..., str], tmp_path: Path
) -> None:
    url = make_db('CREATE TABLE "bell\x07name" (id int);')
    page = (
        "# P\n\n"
        '<< table: "bad\x00name" >>\n\n'  # 3
        '<< table: "bell\x07name" >>\n\n'  # 5: any character but NUL makes a name
        + "a << table: x >> " * 5_000  # 7: 85 KB; a box per directive made the build quadratic
        + "\n\n<< table: "
        + '"a|' * 24_000  # 9: 72 KB, echoed whole in the warning and the box
        + " >>\n"
    )
    result = build(tmp_path / "site", {"page.md": page}, {"dsn": url})
    assert result.returncode == 0, result.log
    warnings = [line for line in result.log.splitlines() if "WARNING" in line]
    assert len(warnings) == 3, result.log
    for warning, (line, reason) in zip(
        warnings,
        [
            (3, "NUL character in table name '\"bad\\x00name\"'"),
            (7, "a directive must stand on a line of its own; 4999 more on this line"),
            (9, f"longer than {directives.LONGEST} characters"),
        ],
        strict=True,
    ):
        assert f"page.md:{line}: " in warning and reason in warning and len(warning) < 500, warning
    assert '"bell name"' in result.text("page")  # its card, the control character shown as a space
    assert result.article("page").count('class="admonition failure"') == 3
    strict = build(tmp_path / "strict", {"page.md": page}, {"dsn": url}, strict=True)
    assert strict.returncode == 1 and "Aborted with 3 warnings" in strict.log, strict.log
    assert "Traceback" not in strict.log


def test_reports_are_one_a_line_and_quote_at_most_the_longest_directive() -> None:
    (inline,) = directives.find("a <<table: x>> " * 5_000)
    assert isinstance(inline, Malformed) and inline.source == "<<table: x>>"
    assert inline.reason.endswith("; 4999 more on this line")
    (long,) = directives.find("x << table: " + "y" * 10_000 + " >>")
    assert isinstance(long, Malformed) and long.inline and len(long.source) == directives.LONGEST
    (too_long,) = directives.find("<< table: " + '"a|' * 24_000 + " >>")
    assert isinstance(too_long, Malformed) and len(too_long.source) == directives.LONGEST
    assert too_long.reason == f"longer than {directives.LONGEST} characters, the most a directive can be"
    quotes = '"' + '""' * 63 + '"'  # the longest way to write a 63-byte name
    (fits,) = directives.find(f"<< table: {quotes}.{quotes} | samples: 1000 >>")
    assert isinstance(fits, Directive) and parse_table_name(fits.argument) == TableRef('"' * 63, '"' * 63)


def _in_every_context(line: str) -> str:
    return f"{line}\n\n<< table: {line} >>\n\n- item\n\n    {line}\n\n> {line}\n"


@pytest.mark.parametrize(
    "shape, n",
    [
        pytest.param(lambda n: "x <<table:" * n, 4_000, id="openings-never-closed"),
        pytest.param(lambda n: "<<" * n, 4_000, id="bare-openings"),
        pytest.param(lambda n: "<< table: " + "x " * n, 10_000, id="no-closing-mark"),
        pytest.param(lambda n: ">>" * n + " <<", 400, id="closings"),
        pytest.param(lambda n: "`" + " ``" * n + " <<table: x>>", 1_200, id="backtick-runs"),
        pytest.param(lambda n: "<!--" * n + " <<table: x>>", 25_000, id="comments-never-closed"),
        # 18 KB and 72 KB: lines whose builds took tens of seconds.
        pytest.param(lambda n: "a <<table: x>> " * n, 1_200, id="inline-directives"),
        pytest.param(lambda n: "<< table: x >> junk " * n, 900, id="directives-and-junk"),
        pytest.param(lambda n: "<< table: " + '"a|' * n + " >>", 6_000, id="quoted-pipes"),
        pytest.param(lambda n: "<< table | " + "a: b | " * n + ">>", 10_000, id="options"),
        # Nested block quotes: each marker used to copy the rest of the line.
        pytest.param(lambda n: "> " * n + "x" * 1_000 * n, 500, id="deep-quote"),
        pytest.param(
            lambda n: "> " * n + "```\n" + ("> " * n + "x" * 1_000 * n + "\n") * 3 + "> " * n + "```",
            100,
            id="fence-in-deep-quote",
        ),
    ],
)
def test_adversarial_lines_are_scanned_in_linear_time(shape: Callable[[int], str], n: int) -> None:
    # Growth, not a time limit, which a loaded machine fails: 4 times the input costs
    # about 4 times as much when linear, 16 when quadratic. CPU time of this thread,
    # so other processes do not count; sizes interleaved, best of 3.
    pages = [_in_every_context(shape(n)), _in_every_context(shape(4 * n))]
    best = [float("inf")] * 2
    for _ in range(3):
        for size, page in enumerate(pages):
            started = time.thread_time()
            directives.find(page)
            best[size] = min(best[size], time.thread_time() - started)
    assert best[1] / best[0] < 8, best
