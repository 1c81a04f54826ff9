"""One site, not islands: cards link each other across pages, whole-schema directives
list, sum up, draw and measure the schema, and every link lands on a card."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from sites import Build, build

pytestmark = pytest.mark.embedded_only

OVERVIEW = """# Overview

<< tables: * >>

<< summary: public >>

<< erd: bookings | depth: 1 >>

<< coverage: * >>

<< migration-order >>
"""
CARDS = """# Cards

<< table: tenants >>

<< table: bookings >>

<< table: open_bookings >>

<< table: events >>
"""


def _hrefs(page: str, name: str) -> list[str]:
    """Where the links showing `name` (as inline code) point."""
    return re.findall(rf'<a href="([^"]*)"><code>{re.escape(name)}</code></a>', html.unescape(page))


@pytest.fixture(scope="module")
def site(sections_url: str, tmp_path_factory: pytest.TempPathFactory) -> Build:
    pages = {"index.md": OVERVIEW, "cards.md": CARDS}
    result = build(tmp_path_factory.mktemp("site"), pages, {"dsn": sections_url}, strict=True)
    assert result.returncode == 0, result.log
    return result


def test_table_names_link_to_the_card_on_whichever_page_holds_it(site: Build) -> None:
    overview, cards = site.page(), site.page("cards")
    # Navigation, summary and migration order link to the other page's anchors...
    assert "cards/#public-tenants" in _hrefs(overview, "tenants")
    assert "cards/#public-bookings" in _hrefs(overview, "bookings")
    # ...and a table no page cards stays plain text, never a dead link.
    assert _hrefs(overview, "payments") == [] and "<code>payments</code>" in overview
    # Inside a card: the table it references, and the view that reads it, on the same page.
    assert "#public-tenants" in _hrefs(cards, "tenants")
    assert "#public-bookings" in _hrefs(cards, "bookings")  # open_bookings reads bookings
    assert 'id="public-tenants"' in cards and 'id="public-bookings"' in cards
    # A partitioned table names its partitions; they have no card here, so no link.
    assert "<code>events_2026</code>" in html.unescape(cards) and _hrefs(cards, "events_2026") == []


def test_every_link_the_plugin_writes_lands_on_an_anchor(site: Build) -> None:
    pages = {"": html.unescape(site.page()), "cards/": html.unescape(site.page("cards"))}
    ids = {path: set(re.findall(r'id="([^"]+)"', page_html)) for path, page_html in pages.items()}
    checked = 0
    for path, page_html in pages.items():
        for href in re.findall(r'<a href="([^":]*#public-[^"]+)"', page_html):
            target, _, fragment = href.partition("#")
            page = path if not target else re.sub(r"^\.\./", "", target) if path else target
            assert fragment in ids[page], (path, href)
            checked += 1
    assert checked >= 20  # listings, summary, diagram names, migration order, cards


def test_whole_schema_directives_render_from_the_database(site: Build) -> None:
    text = site.text()
    assert "Tables: 14" in text or re.search(r"Tables: \d+", text)
    assert "erDiagram" in text and "t_public_bookings" in text and "t_public_tenants" in text
    assert "Carded on no page:" in text and "payments" in text
    # The diagram of bookings' neighbourhood leaves out what is two hops away.
    diagram = text[text.index("erDiagram") : text.index("In this diagram")]
    assert "t_public_audit_log" not in diagram


def test_section_headings_name_their_table_for_search(site: Build) -> None:
    index = (site.site / "search" / "search_index.json").read_text()
    assert '"title":"Schema \\u00b7 tenants"' in index or '"title":"Schema · tenants"' in index
    # The table of contents keeps the short label.
    assert re.search(
        r'<a href="#schema-tenants" class="md-nav__link">\s*<span class="md-ellipsis">\s*Schema\s*<',
        site.page("cards"),
    )


def test_a_table_carded_twice_warns_naming_both_pages(sections_url: str, tmp_path: Path) -> None:
    pages = {
        "a.md": "<< table: tenants >>\n",
        "b.md": "x\n\n<< table: tenants >>\n",
        "c.md": "<< table: bookings >>\n",
    }
    twice = build(tmp_path / "twice", pages, {"dsn": sections_url}, strict=True)
    assert twice.returncode != 0
    (line,) = [x for x in twice.log.splitlines() if "carded on" in x]
    assert "b.md:3: tenants is carded on a.md:1 too" in line and "copy: yes" in line
    pages["b.md"] = "x\n\n<< table: tenants | copy: yes >>\n"
    copied = build(tmp_path / "copy", pages, {"dsn": sections_url}, strict=True)
    assert copied.returncode == 0, copied.log
    # Links go to the first card; the copy has no anchor of its own.
    assert "../a/#public-tenants" in _hrefs(copied.page("c"), "tenants")
    assert 'id="public-tenants"' not in copied.page("b")


def test_a_card_keeps_its_anchor_when_another_plugin_adds_lines_first(
    sections_url: str, tmp_path: Path
) -> None:
    hook = tmp_path / "banner.py"
    hook.write_text(
        "from mkdocs.plugins import event_priority\n\n"
        "@event_priority(100)\n"
        "def on_page_markdown(markdown, **kwargs):\n"
        "    return '!!! note\\n    Draft.\\n\\n' + markdown\n",
        "utf-8",
    )
    pages = {"a.md": "<< table: tenants >>\n", "c.md": "<< table: bookings >>\n"}
    built = build(tmp_path / "site", pages, {"dsn": sections_url}, extra_config={"hooks": [str(hook)]})
    assert built.returncode == 0, built.log
    assert "Draft." in built.page("a")
    assert 'id="public-tenants"' in built.page("a")
    assert "../a/#public-tenants" in _hrefs(built.page("c"), "tenants")


def test_writers_link_cards_from_prose_through_autorefs(sections_url: str, tmp_path: Path) -> None:
    pages = {"index.md": "See [tenants][] and [the bookings][public.bookings].\n", "cards.md": CARDS}
    plugins = ["search", "autorefs", {"dbschema": {"dsn": sections_url}}]
    result = build(tmp_path, pages, strict=True, extra_config={"plugins": plugins})
    assert result.returncode == 0, result.log
    assert (
        'href="cards/#public-tenants"' in result.page() and 'href="cards/#public-bookings"' in result.page()
    )


@pytest.mark.parametrize(
    ("directive", "message"),
    [
        ("<< tables: Nope >>", "no group, schema or table named 'Nope'"),
        ("<< erd: * | depth: 2 >>", "depth applies to one table"),
        ("<< summary: * | columns: all >>", "`summary` takes no options"),
        ("<< coverage: nothing_* >>", "'nothing_*' matches no table"),
    ],
)
def test_bad_arguments_are_located_warnings(
    sections_url: str, tmp_path: Path, directive: str, message: str
) -> None:
    result = build(tmp_path, {"index.md": f"# P\n\n{directive}\n"}, {"dsn": sections_url}, strict=True)
    assert result.returncode != 0 and "Traceback" not in result.log
    (line,) = [x for x in result.log.splitlines() if "WARNING" in x]
    assert f"index.md:3: {directive}: " in line and message in line
    assert "admonition failure" in result.page()


def test_functions_of_a_schema_and_its_bodies_on_request(sections_url: str, tmp_path: Path) -> None:
    page = "<< table: bookings >>\n\n<< functions: public >>\n\n<< functions: public | bodies: yes >>\n\n<< functions: nope >>\n"
    result = build(tmp_path, {"index.md": page}, {"dsn": sections_url})
    assert result.returncode == 0, result.log
    text = result.text()
    assert text.count("touch()") >= 2 and "plpgsql" in text
    assert text.count("RETURN NEW") == 1  # the body only where the directive asks for it
    (warning,) = [x for x in result.log.splitlines() if "WARNING" in x]
    assert "index.md:7: << functions: nope >>: no functions read for schema 'nope' (read: public)" in warning


@pytest.mark.parametrize("value", ["everything", ["public", 3]])
def test_exposed_schemas_is_auto_or_a_list(tmp_path: Path, value: object) -> None:
    result = build(tmp_path, {"index.md": "# x\n"}, {"advisors": {"exposed_schemas": value}})
    assert result.returncode != 0 and "expected auto or a list of schema names" in result.log
