"""HTML the cards write themselves, kept out of Python-Markdown.

Converting a card's tables and SQL as Markdown cost most of a large site's build
(inline patterns over every cell, a Pygments formatter per code block) and then
Material's search parsed the result again. A card's template writes that HTML
directly: `HtmlBlocks.store` keeps it and leaves a token line in the Markdown, which
converts to a paragraph of its own (wherever the card sits: a list, a block quote, a
tab, a `markdown` div), and `HtmlBlocksExtension` puts the HTML in that paragraph's
place once the page is HTML. Headings and writers' Markdown stay Markdown: the table of
contents, anchors and links work as for any page.

Tokens carry a random nonce, so no page text can forge one, and a digest of their HTML,
so a page's Markdown changes whenever a card's HTML does (the serve page cache keys on it).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import xml.etree.ElementTree as etree

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString
from markupsafe import Markup
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name

from .highlight import Highlighter
from .markdown import text as markdown_text

# Around each block in the converted page, so that the search index can be given its
# text without its markup (see plugin: on_page_context) and the markup put back after.
OPEN, CLOSE = "<!--dbschema-->", "<!--/dbschema-->"
TAG = re.compile(r"<[^>]*+>")  # possessive: a tag never backtracks (40 % faster)


class HtmlBlocks:
    def __init__(self) -> None:
        self.prefix = f"dbschema-html-{secrets.token_hex(8)}-"
        self.placed = re.compile(rf"(?:<p>)?({self.prefix}[0-9a-f]+)(?:</p>)?")
        self.adjacent = re.compile(rf"{self.prefix}[0-9a-f]+(?:\s*\n\s*{self.prefix}[0-9a-f]+)+")
        self.token = re.compile(rf"{self.prefix}[0-9a-f]+")
        self.heading_token = re.compile(rf"{self.prefix}h-[0-9a-f]+")
        any_token = rf"{self.prefix}(?:h-)?[0-9a-f]+"
        self.run = re.compile(rf"{any_token}(?:[ \t]*\n(?:[ \t]*\n)+[ \t]*{any_token})+")
        self.joined = re.compile(rf"({any_token})\n([ \t]*)(?={any_token})")
        self.html: dict[str, str] = {}
        # Headings a card writes: (level, text, id, table-of-contents label) by token.
        self.headings: dict[str, tuple[int, str, str | None, str | None]] = {}

    def store(self, html: str, text_for_search: bool = True) -> Markup:
        """The token line for `html`. Marked blocks reach search as their text alone (see
        plugin: on_page_context); unmarked HTML (a card's wrapper) reaches it as it is."""
        html = str(html).strip()  # plain text: Markup would escape the markers added to it
        if not html:
            return Markup("")
        token = self.prefix + hashlib.blake2b(html.encode(), digest_size=12).hexdigest()
        self.html[token] = OPEN + html + CLOSE if text_for_search else html
        return Markup(f"\n\n{token}\n\n")

    def heading(self, level: int, text: str, anchor: str | None = None, label: str | None = None) -> Markup:
        """The token line of a heading that Python-Markdown's toc extension gives its id (unless
        `anchor`), permalink and table-of-contents entry (`label`, else its text), as it does
        any heading, without parsing its text: that is the text, whatever characters it holds."""
        spec = (level, str(text), anchor, label)
        token = f"{self.prefix}h-{hashlib.blake2b(repr(spec).encode(), digest_size=12).hexdigest()}"
        self.headings[token] = spec
        return Markup(f"\n\n{token}\n\n")

    def merged(self, markdown: str) -> str:
        """Block token lines with nothing but blank lines between them as one block: the
        same HTML, one paragraph less each for Python-Markdown to parse. Then token lines
        of any kind so separated as lines of one paragraph, which becomes their elements
        (see _Elements): a card is a paragraph or two for Python-Markdown's block parser."""

        def merge(run: re.Match[str]) -> str:
            html = "".join(self.html[token] for token in self.token.findall(run[0]))
            return self.store(html, text_for_search=False).strip()  # each part keeps its markers

        merged = self.adjacent.sub(merge, markdown)
        return self.run.sub(lambda run: _BLANK_LINES.sub(r"\n\1", run[0]), merged)

    def pasted(self, markdown: str) -> str:
        """The Markdown with each token's HTML and heading in its place, as a writer could
        paste it (headings in Markdown with attr_list's syntax)."""

        def heading(found: re.Match[str]) -> str:
            if (spec := self.headings.get(found[0])) is None:
                return found[0]
            level, text, anchor, label = spec
            attributes = [f"#{anchor}"] if anchor else []
            attributes += [f'data-toc-label="{label}"'] if label else []
            shown = "#" * level + " " + markdown_text(text)
            return shown + (" { " + " ".join(attributes) + " }" if attributes else "")

        markdown = self.joined.sub(r"\1\n\n\2", markdown)  # a paragraph of tokens: one each
        markdown = self.heading_token.sub(heading, markdown)
        return self.placed.sub(lambda found: unmarked(self.html.get(found[1], found[0])), markdown)

    def clear(self) -> None:
        self.html.clear()
        self.headings.clear()

    def taken(self) -> tuple[dict[str, str], dict[str, tuple[int, str, str | None, str | None]]]:
        """The blocks and headings stored so far, which are no longer kept here."""
        html, headings = self.html, self.headings
        self.html, self.headings = {}, {}
        return html, headings

    def add(self, html: dict[str, str], headings: dict[str, tuple[int, str, str | None, str | None]]) -> None:
        """Blocks and headings another process stored (ahead.py): its tokens carry this one's
        prefix, forked with it."""
        self.html.update(html)
        self.headings.update(headings)


_BLANK_LINES = re.compile(r"[ \t]*\n(?:[ \t]*\n)+([ \t]*)")


class _Elements(Treeprocessor):
    """Before inline patterns run: a token paragraph becomes an element per token (a
    paragraph of several tokens, see HtmlBlocks.merged, several in its place). A heading
    token becomes its heading; a block token a paragraph whose text is atomic, so that no
    inline pattern scans it."""

    def __init__(self, md: Markdown, blocks: HtmlBlocks) -> None:
        super().__init__(md)
        self.blocks = blocks

    def run(self, root: etree.Element) -> None:
        prefix, html, headings = self.blocks.prefix, self.blocks.html, self.blocks.headings
        several: list[tuple[etree.Element, list[str]]] = []
        for element in root.iter("p"):
            if not (element.text or "").lstrip().startswith(prefix) or len(element):
                continue
            tokens = element.text.split()  # type: ignore[union-attr]
            if len(tokens) > 1 and all(token in html or token in headings for token in tokens):
                several.append((element, tokens))
            else:  # one token (and anything else on its lines: _Insert puts the HTML in place)
                self._become(element, element.text.strip())  # type: ignore[union-attr]
        if not several:
            return
        parents = {child: parent for parent in root.iter() for child in parent}
        for element, tokens in several:
            parent = parents[element]
            at = list(parent).index(element)
            elements = [self._become(etree.Element("p"), token) for token in tokens]
            elements[-1].tail = element.tail
            parent[at : at + 1] = elements

    def _become(self, element: etree.Element, token: str) -> etree.Element:
        if (heading := self.blocks.headings.get(token)) is not None:
            level, text, anchor, label = heading
            element.tag = f"h{level}"
            element.text = AtomicString(text)
            if anchor:
                element.set("id", anchor)
            if label:
                element.set("data-toc-label", label)
        else:
            element.text = AtomicString(token)
        return element


class _Insert(Postprocessor):
    def __init__(self, md: Markdown, blocks: HtmlBlocks) -> None:
        super().__init__(md)
        self.blocks = blocks

    def run(self, text: str) -> str:
        if self.blocks.prefix not in text:
            return text
        html = self.blocks.html
        return self.blocks.placed.sub(lambda found: html.get(found[1], found[0]), text)


class HtmlBlocksExtension(Extension):
    def __init__(self, blocks: HtmlBlocks) -> None:
        super().__init__()
        self.blocks = blocks

    def extendMarkdown(self, md: Markdown) -> None:
        # Before inline patterns (20), attr_list (8) and toc (5).
        md.treeprocessors.register(_Elements(md, self.blocks), "dbschema_elements", 25)
        md.postprocessors.register(_Insert(md, self.blocks), "dbschema_html", 10)


def _marked(html: str) -> tuple[list[str], list[str]]:
    """The HTML outside the marked blocks (len(blocks) + 1 pieces), and the blocks."""
    outside: list[str] = []
    blocks: list[str] = []
    first, *rest = html.split(OPEN)
    outside.append(first)
    for piece in rest:  # str.split and partition: no regular expression over a whole page
        block, _, after = piece.partition(CLOSE)
        blocks.append(block)
        outside.append(after)
    return outside, blocks


def unmarked(html: str) -> str:
    return html.replace(OPEN, "").replace(CLOSE, "")


def _joined(outside: list[str], blocks: list[str]) -> str:
    parts = [outside[0]]
    for block, after in zip(blocks, outside[1:], strict=True):
        parts += [block, after]
    return "".join(parts)


def for_search(html: str) -> tuple[str, list[str]]:
    """The page with each marked block as Material's search indexes it, its words, without
    the markup that costs the search parser a call per tag (it keeps `<code>` and list tags
    for its previews); and the blocks, to put back with `with_blocks` once search has read it."""
    outside, blocks = _marked(html)
    return _joined(outside, [OPEN + TAG.sub("", block) + CLOSE for block in blocks]), blocks


def without_blocks(html: str) -> tuple[str, list[str]]:
    """The page with each marked block empty (markers kept), and the blocks, to put back
    with `with_blocks`."""
    outside, blocks = _marked(html)
    return _joined(outside, [OPEN + CLOSE] * len(blocks)), blocks


def with_blocks(html: str, blocks: list[str]) -> str:
    """The page with the blocks `for_search` took out back in place, markers dropped."""
    outside, light = _marked(html)
    if len(light) != len(blocks):  # another plugin changed the page meanwhile: keep its text
        return unmarked(html)
    return _joined(outside, blocks)


# One lexer and one formatter for every block: pymdownx.highlight builds a formatter per
# block, and Pygments' formatter computes its whole style sheet when it is made.
_SQL = Highlighter(get_lexer_by_name("sql", stripnl=False, ensurenl=True), HtmlFormatter(nowrap=True))


def sql_html(source: str) -> Markup:
    """A highlighted SQL block, marked up as pymdownx.highlight marks up Pygments' output."""
    code = _SQL.html(source)
    return Markup(f'<div class="highlight"><pre><span></span><code>{code}</code></pre></div>')
