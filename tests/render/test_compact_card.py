"""A card folds its long parts behind one-line titles, and loses no fact doing so."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from sites import EXTENSIONS, build

pytestmark = pytest.mark.embedded_only

METADATA = """\
tables:
  bookings:
    migration_notes:
      do: [Keep `external_ref` unchanged., Copy `status` with `stay`.]
      dont: [Truncate without CASCADE.]
      special_handling: [Re-test the PMS key.]
"""


def _site(tmp_path: Path, sections_url: str, extensions: list[object] | None = None):  # type: ignore[no-untyped-def]
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "meta.yml").write_text(METADATA)
    plugin = {"dsn": sections_url, "metadata": ["meta.yml"]}
    # Without pymdownx.details the plugin warns that cards fall back to plainer Markdown.
    page = {"index.md": "<< table: bookings >>\n"}
    result = build(tmp_path, page, plugin, strict=extensions is None, extensions=extensions)
    assert result.returncode == 0, result.log
    return result


def _read(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def test_long_parts_fold_and_their_titles_say_what_they_hold(sections_url: str, tmp_path: Path) -> None:
    site = _site(tmp_path, sections_url)
    article = site.article()
    titles = [_read(t) for t in re.findall(r"<summary>(.*?)</summary>", article, re.S)]
    assert "Sequences: bookings_id_seq" in titles
    assert any(t.startswith("Functions it uses: touch()") for t in titles), titles
    assert "Migration Notes: 2 DO, 1 DON'T, 1 special handling" in titles
    advisors = next(t for t in titles if t.startswith("Advisors: "))
    assert re.fullmatch(r"Advisors: \d+ findings? \((\d+ ERROR)?(, )?(\d+ WARN)?(, )?(\d+ INFO)?\)", advisors)
    # Each finding still opens on its own, inside the advisors' block.
    block = article.split(f"<summary>{advisors.split(' (')[0]}", 1)[1]
    assert re.search(r"<details class=\"(danger|warning|info)\">\s*<summary>(ERROR|WARN|INFO) · ", block)
    # The index table: numbers first, the words last; a constraint's index is not named twice.
    head = article.split("<strong>Indexes:</strong>")[1].split("</thead>")[0]
    headers = re.findall(r"<th>(\w+)</th>", head)
    assert headers == ["Index", "Size", "Flags"]  # and Scans after Size with activity_stats
    assert "btree, unique, backs constraint of the same name" in site.text()
    text = site.text()
    for fact in [
        "GENERATED ALWAYS AS IDENTITY",
        "9223372036854775807",  # the sequence's maximum, folded
        "✅ Keep external_ref unchanged.",
        "❌ Truncate without CASCADE.",
        "Special Handling: Re-test the PMS key.",
        "CREATE POLICY tenant_isolation",
        "CREATE TRIGGER bookings_touch",
    ]:
        assert fact in text, fact


def test_without_details_nothing_leaks_and_every_folded_part_keeps_its_title(
    sections_url: str, tmp_path: Path
) -> None:
    """The parts a card writes as HTML fold with the browser's own <details>, which needs no
    extension; the writers' migration notes (Markdown) stand open under a bold title."""
    plain = [e for e in EXTENSIONS if e != "pymdownx.details"]
    site = _site(tmp_path, sections_url, plain)
    article = site.article()
    assert "???" not in article
    bare = html.unescape(re.sub(r"<code>.*?</code>", "", article))
    for title in ["Sequences: ", "Functions it uses: ", "Advisors: "]:
        assert f"<summary>{title}" in bare, title
    assert "<strong>Migration Notes: 2 DO" in bare
    assert "9223372036854775807" in site.text() and "Truncate without CASCADE." in site.text()
