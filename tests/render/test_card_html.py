"""The HTML a card writes itself: it reaches the page as written, search indexes the same
text it would have found in it, links point at built pages, and no page text can forge it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import markdown
import pytest
from sites import EXTENSION_NAMES, build

from mkdocs_dbschema.render.blocks import HtmlBlocks, HtmlBlocksExtension

pytestmark = pytest.mark.embedded_only

CAPTURE = """\
import json
import re
from pathlib import Path

from material.plugins.search.plugin import SearchIndex
from mkdocs.plugins import event_priority


@event_priority(-100)  # after search and after the plugin put the cards' HTML and table of contents back
def on_page_context(context, page, config, nav):
    # What Material's search makes of the page as it is, its table of contents included.
    index = SearchIndex()
    index.add_entry_from_context(page)
    captured = {"content": page.content, "url": page.url, "entries": index.entries, "toc": len(page.toc)}
    Path(config.config_file_path).with_name("content.json").write_text(json.dumps(captured))
    return context
"""


def test_search_indexes_the_same_text_as_from_the_whole_html(sections_url: str, tmp_path: Path) -> None:
    (tmp_path / "capture.py").write_text(CAPTURE)
    page = "# Bookings\n\n<< table: bookings >>\n\n<< table: payments >>\n"
    result = build(
        tmp_path, {"index.md": page}, {"dsn": sections_url}, extra_config={"hooks": ["capture.py"]}
    )
    assert result.returncode == 0, result.log
    captured = json.loads((tmp_path / "content.json").read_text())
    assert "<!--dbschema-->" not in captured["content"] and "<table>" in captured["content"]
    assert captured["toc"] > 0  # given back after search
    # What Material's search makes of the page's whole HTML and its table of contents, as it
    # would without the plugin's help.
    entries = captured["entries"]
    built = json.loads((result.site / "search" / "search_index.json").read_text())["docs"]
    assert len(entries) > 6

    # The same words in the same places: search splits on whitespace; the card's tables and
    # SQL come without the tags the search previews keep (`<code>`, lists).
    def words(text: str) -> list[str]:
        return re.sub(r"<[^>]+>", "", text).split()

    assert [(e["location"], e["title"], words(e["text"])) for e in built] == [
        (e["location"], e["title"], words(e["text"])) for e in entries
    ]
    assert any("CREATE TRIGGER bookings_touch" in e["text"] for e in built)


def test_blocks_land_wherever_the_card_sits_and_cannot_be_forged() -> None:
    blocks = HtmlBlocks()
    token = blocks.store("<table><tr><td>x</td></tr></table>").strip()
    forged = blocks.prefix.replace(blocks.prefix[-17:-1], "0" * 16) + "0" * 24
    md = markdown.Markdown(extensions=[*EXTENSION_NAMES, HtmlBlocksExtension(blocks)])
    for text in (
        f"# Title\n\n{token}\n",
        f"- item\n\n    {token}\n",
        f"> quoted\n>\n> {token}\n",
        f'<div class="c" markdown="1">\n\n{token}\n\n</div>\n',
    ):
        converted = md.reset().convert(text)
        assert "<td>x</td>" in converted and "<p><!--" not in converted, text
    assert forged in md.reset().convert(f"{forged}\n") and "<td>" not in md.convert(f"{forged}\n")


def test_a_cards_tokens_as_one_paragraph_convert_as_they_did_one_paragraph_each() -> None:
    """HtmlBlocks.merged hands Python-Markdown a card's token lines as one paragraph: the
    same HTML, headings and table of contents wherever the card sits."""
    blocks = HtmlBlocks()
    card = "".join(
        [
            blocks.heading(2, "bookings", "public-bookings"),
            blocks.store("<ul><li>Purpose</li></ul>"),
            blocks.heading(3, "Schema · bookings", label="Schema"),
            blocks.store("<table><tr><td>x</td></tr></table>"),
            blocks.heading(3, "Keys · bookings", label="Keys"),
        ]
    )
    merged = blocks.merged(card)
    assert merged.strip().count("\n") == 4 and "\n\n" not in merged.strip()  # five lines, one paragraph
    md = markdown.Markdown(extensions=[*EXTENSION_NAMES, HtmlBlocksExtension(blocks)])

    def indented(text: str, by: str) -> str:
        return "\n".join(by + line if line.strip() else line for line in text.split("\n"))

    for context in (
        "{}",
        "- item\n\n{}",
        "> quoted\n>\n{}",
        '<div markdown="1">\n\n{}\n\n</div>',
        "!!! note\n\n{}",
    ):
        by = "    " if context.startswith(("-", "!")) else "> " if context.startswith(">") else ""
        converted = [
            md.reset().convert(context.format(indented(text, by)) + "\n\ntext after\n")
            for text in (card, merged)
        ]
        tocs = [
            md.reset().convert(context.format(indented(text, by))) and md.toc_tokens
            for text in (card, merged)
        ]
        assert converted[0] == converted[1], context
        assert tocs[0] == tocs[1] and [t["id"] for t in tocs[0]] == ["public-bookings"], context
        assert (
            converted[1].index('id="public-bookings"')
            < converted[1].index("Purpose")
            < converted[1].index("schema-bookings")
            < converted[1].index("<td>x</td>")
            < converted[1].index("keys-bookings")
            < converted[1].index("text after")
        )
    # A paragraph of a token and other words stays one paragraph, words kept.
    odd = md.reset().convert(
        blocks.store("<table><tr><td>y</td></tr></table>").strip() + "\nwords after it\n"
    )
    assert "<td>y</td>" in odd and "words after it" in odd and odd.count("<p>") <= 1
    pasted = blocks.pasted(merged)
    assert "## bookings { #public-bookings }\n\n<ul>" in pasted and "</ul>\n\n### Schema" in pasted


def test_links_in_a_cards_html_point_at_the_built_page(sections_url: str, tmp_path: Path) -> None:
    pages = {"index.md": "<< table: bookings >>\n", "pay.md": "<< table: payments >>\n"}
    result = build(tmp_path, pages, {"dsn": sections_url})
    assert result.returncode == 0, result.log
    assert '<a href="pay/#public-payments"><code>payments</code></a>' in result.page()
    assert '<a href="../#public-bookings"><code>bookings</code></a>' in result.page("pay")


def test_a_card_in_a_list_or_a_quote_keeps_its_html_and_its_stylesheet_scope(
    sections_url: str, tmp_path: Path
) -> None:
    page = "1. In a list:\n\n    << table: bookings >>\n\n> Quoted:\n>\n> << table: payments >>\n"
    result = build(tmp_path, {"index.md": page}, {"dsn": sections_url}, strict=True)
    assert result.returncode == 0, result.log
    article = result.article()
    assert article.count('<div class="dbschema-card">') == 2 and "dbschema-html-" not in article
    assert re.search(r"<li>.*?<div class=\"dbschema-card\">.*?<table>", article, re.S)
    assert re.search(r"<blockquote>.*?<div class=\"dbschema-card\">.*?<table>", article, re.S)


def test_mkdocs_own_search_indexes_every_heading_of_a_card(sections_url: str, tmp_path: Path) -> None:
    """MkDocs' own search (another theme than Material) indexes a heading only when it
    finds it in the table of contents: it gets the page's table as it is."""
    page = "# Bookings\n\n<< table: bookings >>\n"
    result = build(
        tmp_path, {"index.md": page}, {"dsn": sections_url}, extra_config={"theme": {"name": "mkdocs"}}
    )
    assert result.returncode == 0, result.log
    docs = json.loads((result.site / "search" / "search_index.json").read_text())["docs"]
    locations = {d["location"] for d in docs}
    assert {"#public-bookings", "#schema-bookings"} <= locations, sorted(locations)
    assert any("CREATE TRIGGER bookings_touch" in d["text"] for d in docs)
