"""Pages expanded ahead in a forked worker (ahead.py): the same site whichever side
expands a page, and a build that never waits on a worker that failed."""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from sites import Build, build

from mkdocs_dbschema import ahead, plugin

pytestmark = [
    pytest.mark.skipif(not ahead.available(), reason="needs fork and a second core"),
    pytest.mark.embedded_only,  # the plugin's own logic, whatever the server
]


def _expanded(uri: str) -> ahead.Expanded:
    record = logging.LogRecord("mkdocs.test", logging.WARNING, uri, 1, "seen %s", (uri,), None)
    return ahead.Expanded(uri, f"expanded {uri} in {os.getpid()}", {}, {}, [record], [])


def test_each_page_is_expanded_once_by_one_side() -> None:
    pages = [f"p{i}.md" for i in range(40)]
    worker = ahead.Ahead(pages, _expanded, lambda: None)
    try:
        taken = {uri: worker.take(uri) for uri in pages}
    finally:
        worker.stop()
    by_worker = {uri: done for uri, done in taken.items() if done is not None}
    # The build takes pages from the first, the worker from the last: one run each.
    first_of_worker = min(pages.index(uri) for uri in by_worker) if by_worker else len(pages)
    assert set(by_worker) == set(pages[first_of_worker:])
    for uri, done in by_worker.items():
        assert done.source == uri and done.markdown is not None
        assert done.markdown != f"expanded {uri} in {os.getpid()}"  # another process
        assert done.records[0].getMessage() == f"seen {uri}" and done.records[0].args is None


def test_a_worker_that_dies_leaves_its_pages_to_the_build() -> None:
    def dies(uri: str) -> ahead.Expanded:
        os._exit(3)

    pages = [f"p{i}.md" for i in range(5)]
    worker = ahead.Ahead(pages, dies, lambda: None)
    worker.process.join(timeout=60)
    try:
        assert worker.process.exitcode == 3
        # It claimed a page before it died: the build is told to expand that one itself.
        assert [worker.take(uri) for uri in pages] == [None] * len(pages)
    finally:
        worker.stop()


def test_a_page_that_fails_in_the_worker_is_left_to_the_build() -> None:
    def fails(uri: str) -> ahead.Expanded:
        if uri == "p3.md":
            raise RuntimeError("template exploded")
        return _expanded(uri)

    pages = [f"p{i}.md" for i in range(5)]
    worker = ahead.Ahead(pages, fails, lambda: None)
    worker.process.join(timeout=60)  # every page expanded by the worker
    try:
        assert worker.take("p3.md") is None
        assert all(worker.take(uri) is not None for uri in pages if uri != "p3.md")
    finally:
        worker.stop()


# -- whole builds --------------------------------------------------------------------

PAGES = {
    "index.md": "# Home\n\nSee [the bookings card](a.md#public-bookings).\n",
    "a.md": "# A\n\n<< table: bookings >>\n\n<< table: nowhere >>\n",
    "b.md": '# B\n\n<< table: "Guest Notes" >>\n\n<< table: events >>\n',
    "c.md": "# C\n\n<< table: reservación >>\n\n<< table: bookings | copy: yes >>\n\n"
    "[No such anchor](a.md#nowhere), [no such page](e.md)\n",
    "d.md": "# D\n\n<< table: open_bookings >>\n\n<< tabel: typo >>\n",
}


@pytest.fixture
def ahead_always(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every build forks a worker, which claims every page before the build reads the
    first (no race decides who expands what); the pages the build took from it are listed."""
    monkeypatch.setattr(plugin, "AHEAD_MIN_CARDS", 0)
    start = ahead.Ahead.__init__

    def claimed_first(self: ahead.Ahead, *args: Any) -> None:
        start(self, *args)
        deadline = time.monotonic() + 60
        while self.claims[1] > 0 and self.process.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)

    monkeypatch.setattr(ahead.Ahead, "__init__", claimed_first)
    used: list[str] = []
    replay = plugin.DbSchemaPlugin._expanded_ahead

    def counted(self: plugin.DbSchemaPlugin, done: ahead.Expanded, page: Any) -> str | None:
        used.append(page.file.src_uri + (" converted" if done.converted is not None else ""))
        return replay(self, done, page)

    monkeypatch.setattr(plugin.DbSchemaPlugin, "_expanded_ahead", counted)
    return used


def _warnings(result: Build) -> list[str]:
    return [line for line in result.log.splitlines() if line.startswith("WARNING")]


def _pages(result: Build) -> dict[str, str]:
    # The embedded server's statistics carry the time of the last ANALYZE: not the site's doing.
    return {
        name: re.sub(r"last analyze:</strong> [^<]*", "", result.page(name))
        for name in ("index", "a", "b", "c", "d")
    }


def _build(root: Path, url: str, **options: Any) -> Build:
    # Links to a missing anchor warn (MkDocs checks them once every page is converted).
    return build(root, PAGES, {"dsn": url, **options}, extra_config={"validation": {"anchors": "warn"}})


def test_a_site_expanded_ahead_is_the_site_built_in_order(
    sections_url: str, tmp_path: Path, ahead_always: list[str]
) -> None:
    in_order = _build(tmp_path / "in-order", sections_url, parallel=False)
    assert in_order.returncode == 0, in_order.log and not ahead_always
    expanded_ahead = _build(tmp_path / "ahead", sections_url)
    assert expanded_ahead.returncode == 0, expanded_ahead.log
    # The worker expanded and converted every page with a card.
    assert sorted(ahead_always) == ["a.md converted", "b.md converted", "c.md converted", "d.md converted"]
    assert _pages(expanded_ahead) == _pages(in_order)
    # Warnings come from the page they are about, in page order, whichever side expanded it.
    warnings = _warnings(expanded_ahead)
    assert warnings == _warnings(in_order)
    assert any("d.md:5" in w and "tabel" in w for w in warnings), warnings
    assert any("a.md:5" in w and "nowhere" in w for w in warnings), warnings
    # What converting c.md found (in the worker): a missing page, and a missing anchor
    # MkDocs checks after the last page.
    assert any("c.md" in w and "e.md" in w for w in warnings), warnings
    assert any("c.md" in w and "a.md#nowhere" in w for w in warnings), warnings
    search = (tmp_path / "ahead/site/search/search_index.json").read_text("utf-8")
    assert search == (tmp_path / "in-order/site/search/search_index.json").read_text("utf-8")


def test_strict_fails_on_a_warning_the_worker_gave(
    sections_url: str, tmp_path: Path, ahead_always: list[str]
) -> None:
    # The only warning is d.md's.
    pages = {**PAGES, "a.md": "# A\n\n<< table: bookings >>\n", "c.md": "# C\n\n<< table: reservación >>\n"}
    result = build(tmp_path, pages, {"dsn": sections_url}, strict=True)
    assert "d.md converted" in ahead_always
    assert result.returncode == 1 and "Aborted with 1 warnings in strict mode" in result.log


def test_a_worker_that_dies_costs_the_build_nothing_but_time(
    sections_url: str, tmp_path: Path, ahead_always: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expand = plugin.DbSchemaPlugin._expand_ahead

    def dies_on_c(self: plugin.DbSchemaPlugin, uri: str, *args: Any) -> ahead.Expanded | None:
        if uri == "c.md":
            os._exit(1)  # killed mid-build: the OOM killer, say
        return expand(self, uri, *args)

    monkeypatch.setattr(plugin.DbSchemaPlugin, "_expand_ahead", dies_on_c)
    reference = _build(tmp_path / "in-order", sections_url, parallel=False)
    result = _build(tmp_path / "ahead", sections_url)
    assert result.returncode == 0, result.log
    assert not any(uri.startswith("c.md") for uri in ahead_always)
    assert _pages(result) == _pages(reference)
    assert _warnings(result) == _warnings(reference)


HOOK = """
from mkdocs.plugins import event_priority

@event_priority(50)  # before the plugin's own on_page_markdown
def on_page_markdown(markdown, page, **kwargs):
    if page.file.src_uri == "b.md":
        return markdown + "\\n\\nAdded by a hook: << table: events >>\\n"
    return markdown

def on_page_read_source(page, config):
    if page.file.src_uri == "d.md":  # a table no page named when the site was read
        return "# D\\n\\n<< table: payments >>\\n"
    return None
"""


def test_pages_another_plugin_changes_are_expanded_as_they_reach_the_plugin(
    sections_url: str, tmp_path: Path, ahead_always: list[str]
) -> None:
    (tmp_path / "hook.py").write_text(HOOK, "utf-8")
    result = build(tmp_path, PAGES, {"dsn": sections_url}, extra_config={"hooks": ["hook.py"]})
    assert result.returncode == 0, result.log
    # b.md: the worker expanded the Markdown as read, not as the hook left it.
    assert "b.md converted" not in ahead_always and "Added by a hook:" in result.text("b")
    assert result.text("b").count("public.events") >= 2
    # d.md: read through the hook, it names a table the site's read did not read: the
    # worker leaves it, and the build reads it.
    assert "d.md converted" not in ahead_always and "public.payments" in result.text("d")


def test_with_autorefs_the_worker_expands_and_the_build_converts(
    sections_url: str, tmp_path: Path, ahead_always: list[str]
) -> None:
    """autorefs learns anchors from the page the build is converting: a page converted in
    the worker would tell it nothing, so the worker only expands."""
    pages = {**PAGES, "index.md": "# Home\n\nSee [the bookings][public.bookings] and [events][].\n"}
    plugins = ["search", "autorefs", {"dbschema": {"dsn": sections_url}}]
    result = build(tmp_path, pages, extra_config={"plugins": plugins})
    assert result.returncode == 0, result.log
    assert sorted(ahead_always) == ["a.md", "b.md", "c.md", "d.md"]
    assert 'href="a/#public-bookings"' in result.page() and 'href="b/#public-events"' in result.page()
