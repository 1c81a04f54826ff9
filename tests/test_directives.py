"""Finding directives: literal inside code, kept in containers, narrative untouched."""

from __future__ import annotations

import pytest

from mkdocs_dbschema import directives
from mkdocs_dbschema.catalog.names import TableNameError, TableRef, parse_table_name
from mkdocs_dbschema.directives import Directive, Malformed


def kinds_and_args(markdown: str) -> list[tuple[str, str]]:
    return [(d.kind, d.argument) for d in directives.find(markdown) if isinstance(d, Directive)]


def test_directives_on_their_own_lines() -> None:
    page = "# T\n\n<< table: a >>\ntext << table: inline >> text\n<<table:b>>\n  << TABLE : c >>  \n"
    assert kinds_and_args(page) == [("table", "a"), ("table", "b"), ("table", "c")]
    assert [d.line for d in directives.find(page)] == [3, 5, 6]


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
    ],
)
def test_bad_table_names(text: str, message: str) -> None:
    with pytest.raises(TableNameError, match=message):
        parse_table_name(text)


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
