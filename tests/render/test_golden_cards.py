"""Golden cards: the built HTML of every card of the demo site and of pagila, compared
element by element with what the Markdown-rendered cards of commit 518dae5 looked like.

Cards are compared as a reader's browser sees them: the element tree with its classes
and text, whitespace collapsed, attributes that only number things on the page (code
block ids, the ids Material's tabs give) left out. `DBSCHEMA_UPDATE_GOLDEN=1` writes the
files anew (only for a change meant to alter how cards look).
"""

from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import Server
from sites import build, build_config

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DBSCHEMA_UPDATE_GOLDEN") == "1"
VOID = {"br", "hr", "img", "input", "meta", "link", "wbr"}
SIZE = re.compile(r"\b\d+(?:\u00a0| )(bytes|kB|MB|GB)\b")
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}

pytestmark = pytest.mark.embedded_only


class Canonical(HTMLParser):
    """One line per element or text run, indented by depth; attributes sorted."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.depth = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kept = sorted(
            (name, " ".join(sorted((value or "").split())) if name == "class" else value or "")
            for name, value in attrs
            # Ids other than headings' number elements on a page (code blocks, tabs).
            if name != "id" or tag in HEADINGS
        )
        shown = "".join(f' {name}="{value}"' for name, value in kept)
        self.lines.append("  " * self.depth + f"<{tag}{shown}>")
        if tag not in VOID:
            self.depth += 1
            self.pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID:
            self.depth -= 1
            self.pre -= tag == "pre"

    def handle_data(self, data: str) -> None:
        text = data if self.pre else " ".join(data.split())
        # A GIN index's size moves with its pending list: sizes are not part of the look.
        text = SIZE.sub(r"# \1", text)
        if text.strip():
            self.lines.append("  " * self.depth + repr(text))


def canonical(fragment: str) -> str:
    parser = Canonical()
    parser.feed(fragment)
    parser.close()
    # Adjacent text runs (split by entities or comments) read as one.
    merged: list[str] = []
    for line in parser.lines:
        if merged and line.lstrip().startswith("'") and merged[-1].lstrip().startswith("'"):
            indent = len(line) - len(line.lstrip())
            if indent == len(merged[-1]) - len(merged[-1].lstrip()):
                merged[-1] = merged[-1][:indent] + repr(eval(merged[-1].lstrip()) + eval(line.lstrip()))
                continue
        merged.append(line)
    return "\n".join(merged) + "\n"


def cards(page: str) -> list[str]:
    """Each card of a built page: from its `<div class="dbschema-card">` to its end."""
    found = []
    for match in re.finditer(r'<div class="dbschema-card">', page):
        depth, position = 0, match.start()
        for tag in re.finditer(r"<(/?)div\b[^>]*>", page[position:]):
            depth += -1 if tag[1] else 1
            if depth == 0:
                found.append(page[position : position + tag.end()])
                break
    return found


def compare(name: str, pages: dict[str, str]) -> None:
    folder = GOLDEN / name
    if UPDATE:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for page, html in sorted(pages.items()):
        for number, card in enumerate(cards(html)):
            path = folder / f"{page}.{number:02d}.txt"
            got = canonical(card)
            if UPDATE:
                path.write_text(got, "utf-8")
                continue
            assert path.exists(), f"no golden card {path.name}"
            assert got == path.read_text("utf-8"), f"{name}/{path.name} differs"
    expected = sorted(p.name for p in folder.glob("*.txt"))
    written = sorted(f"{page}.{n:02d}.txt" for page, html in pages.items() for n in range(len(cards(html))))
    assert written == expected


def test_demo_cards_look_as_before(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    config = (ROOT / "mkdocs.yml").read_text("utf-8")
    # Activity counters move with every use of the server: not part of a card's look.
    config = config.replace("activity_stats: true", "activity_stats: false")
    assert "activity_stats: false" in config
    (tmp_path / "mkdocs.yml").write_text(config, "utf-8")
    result = build_config(tmp_path / "mkdocs.yml", strict=True)
    assert result.returncode == 0, result.log
    pages = {
        path.parent.relative_to(result.site).as_posix().replace("/", "-") or "index": path.read_text("utf-8")
        for path in result.site.rglob("index.html")
        if "dbschema-card" in path.read_text("utf-8")
    }
    assert sum(len(cards(html)) for html in pages.values()) >= 22
    compare("demo", pages)


def test_pagila_cards_look_as_before(server: Server, pagila_url: str, tmp_path: Path) -> None:
    names = ["payment", "film", "customer", "actor_info", "rental_by_category", "staff", "payment_p2022_01"]
    page = "\n\n".join(f"<< table: {name} >>" for name in names) + "\n"
    result = build(
        tmp_path,
        {"index.md": page},
        # Advisors see the cluster's roles, which other tests add: the demo's cards show them.
        {"dsn": pagila_url, "activity_stats": False, "stylesheet": True, "hide": ["advisors"]},
        strict=True,
        extensions=yaml.safe_load(
            "[admonition, attr_list, md_in_html, tables, toc, pymdownx.details, "
            "pymdownx.superfences, pymdownx.highlight]"
        ),
    )
    assert result.returncode == 0, result.log
    assert len(cards(result.page())) == len(names)
    compare("pagila", {"index": result.page()})
