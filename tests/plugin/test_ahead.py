"""Pages expanded ahead in a forked worker (ahead.py): the same site whichever side
expands a page, and a build that never waits on a worker that failed."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sites import Build, build

from mkdocs_dbschema import ahead, plugin
from mkdocs_dbschema.document import anchor

pytestmark = [
    pytest.mark.skipif(not ahead.available(), reason="needs fork and a second core"),
    pytest.mark.embedded_only,  # the plugin's own logic, whatever the server
]


def _expanded(uri: str) -> ahead.Expanded:
    record = logging.LogRecord("mkdocs.test", logging.WARNING, uri, 1, "seen %s", (uri,), None)
    return ahead.Expanded(uri, f"expanded {uri} in {os.getpid()}", {}, {}, [record], [])


def _first_claim(worker: ahead.Ahead) -> None:
    """Wait until the worker has taken its first page, which is always the farthest in
    reach (the last of up to LOOKAHEAD + 1 pages): tests then know who does that one."""
    deadline = time.monotonic() + 60
    while ahead.WORKER not in worker.claims[:-1] and worker.process.is_alive():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_each_page_is_expanded_once_by_one_side() -> None:
    pages = [f"p{i}.md" for i in range(40)]
    worker = ahead.Ahead(pages, _expanded, lambda: None)
    taken = {}
    try:
        _first_claim(worker)  # started, however loaded the machine
        for uri in pages:
            taken[uri] = worker.take(uri)
            if taken[uri] is None:
                time.sleep(0.02)  # the build expanding its page
        claims = list(worker.claims[:-1])
    finally:
        worker.stop()
    by_worker = {uri for uri, done in taken.items() if done is not None}
    assert claims == [ahead.WORKER if uri in by_worker else ahead.BUILD for uri in pages]
    # They shared the work (the worker as fast as the build here).
    assert 5 <= len(by_worker) <= 35, sorted(by_worker)
    for uri in by_worker:
        done = taken[uri]
        assert done is not None and done.source == uri and done.markdown is not None
        assert done.markdown != f"expanded {uri} in {os.getpid()}"  # another process
        assert done.records[0].getMessage() == f"seen {uri}"  # log records travel too


def test_the_worker_stays_a_few_pages_ahead_of_the_build() -> None:
    """What the worker has done waits in memory until the build reaches it: a build that
    stays on its first page holds the worker LOOKAHEAD pages away at most."""
    pages = [f"p{i}.md" for i in range(40)]
    worker = ahead.Ahead(pages, _expanded, lambda: None)
    try:
        _first_claim(worker)  # it has started, however loaded the machine
        assert worker.take("p0.md") is None
        time.sleep(0.5)  # time to run further ahead, were it allowed to
        claims = list(worker.claims[:-1])
        ahead_of_build = [i for i, who in enumerate(claims) if who == ahead.WORKER]
        assert ahead_of_build and max(ahead_of_build) <= 1 + ahead.LOOKAHEAD
        assert all(worker.take(uri) is not None or claims[i] != ahead.WORKER for i, uri in enumerate(pages))
    finally:
        worker.stop()


def test_a_worker_with_every_page_in_reach_works_back_from_the_last() -> None:
    """The search-entry worker (lookahead: every page) takes the last page first and works
    back towards the build, never taking the build's next page, and ends when they meet."""
    pages = [f"p{i}.md" for i in range(10)]
    worker = ahead.Ahead(pages, _expanded, lambda: None, lookahead=len(pages))
    try:
        worker.process.join(timeout=60)  # nothing left in reach: it ends by itself
        assert worker.process.exitcode == 0
        assert list(worker.claims[:-1]) == [ahead.FREE] + [ahead.WORKER] * 9
        assert worker.take("p0.md") is None  # the build's
        assert all(worker.take(uri) is not None for uri in pages[1:])
    finally:
        worker.stop()


def test_a_worker_that_dies_leaves_its_pages_to_the_build() -> None:
    def dies(uri: str) -> ahead.Expanded:
        os._exit(3)

    pages = [f"p{i}.md" for i in range(5)]
    worker = ahead.Ahead(pages, dies, lambda: None)
    worker.process.join(timeout=60)
    try:
        assert worker.process.exitcode == 3 and worker.claims[4] == ahead.WORKER
        # It took a page before it died: the build is told to expand that one itself.
        assert [worker.take(uri) for uri in pages] == [None] * len(pages)
    finally:
        worker.stop()


def test_a_page_that_fails_in_the_worker_is_left_to_the_build() -> None:
    def fails(uri: str) -> ahead.Expanded:
        if uri == "p4.md":
            raise RuntimeError("template exploded")
        return _expanded(uri)

    pages = [f"p{i}.md" for i in range(5)]
    worker = ahead.Ahead(pages, fails, lambda: None)
    try:
        _first_claim(worker)
        for i in range(4):  # the build's, or the worker's if it took them meanwhile
            worker.take(f"p{i}.md")
        assert worker.claims[4] == ahead.WORKER and worker.take("p4.md") is None
    finally:
        worker.stop()


# -- whole builds --------------------------------------------------------------------

PAGES = {
    "index.md": "# Home\n\nSee [the bookings card](a.md#public-bookings).\n",
    "a.md": "# A\n\n<< table: bookings >>\n\n<< table: nowhere >>\n",
    "b.md": "# B\n\n<< table: open_bookings >>\n",
    "c.md": "# C\n\n<< table: reservación >>\n\n<< table: bookings | copy: yes >>\n",
    "d.md": '# D\n\n<< table: "Guest Notes" >>\n\n<< table: events >>\n\n<< tabel: typo >>\n\n'
    "[No such anchor](a.md#nowhere), [no such page](e.md)\n",
}


@pytest.fixture
def ahead_always(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every build forks a worker, which has taken its first page (d.md: the last of the
    four pages with a directive) before the build reads any; the pages the build took from
    it are listed. Which side takes the others is a race: tests assert on d.md."""
    monkeypatch.setattr(plugin, "AHEAD_MIN_CARDS", 0)
    start = ahead.Ahead.__init__

    def claimed_first(self: ahead.Ahead[Any], *args: Any, **kwargs: Any) -> None:
        start(self, *args, **kwargs)
        _first_claim(self)

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
    assert "d.md converted" in ahead_always  # expanded and converted by the worker
    assert _pages(expanded_ahead) == _pages(in_order)
    # Warnings come from the page they are about, in page order, whichever side expanded it.
    warnings = _warnings(expanded_ahead)
    assert warnings == _warnings(in_order)
    assert any("d.md:7" in w and "tabel" in w for w in warnings), warnings
    assert any("a.md:5" in w and "nowhere" in w for w in warnings), warnings
    # What converting d.md found (in the worker): a missing page, and a missing anchor
    # MkDocs checks after the last page.
    assert any("d.md" in w and "e.md" in w for w in warnings), warnings
    assert any("d.md" in w and "a.md#nowhere" in w for w in warnings), warnings
    search = (tmp_path / "ahead/site/search/search_index.json").read_text("utf-8")
    assert search == (tmp_path / "in-order/site/search/search_index.json").read_text("utf-8")


def test_strict_fails_on_a_warning_the_worker_gave(
    sections_url: str, tmp_path: Path, ahead_always: list[str]
) -> None:
    # The only warning is d.md's, which the worker expands.
    pages = {**PAGES, "a.md": "# A\n\n<< table: bookings >>\n", "d.md": "# D\n\n<< tabel: typo >>\n"}
    result = build(tmp_path, pages, {"dsn": sections_url}, strict=True)
    assert "d.md converted" in ahead_always
    assert result.returncode == 1 and "Aborted with 1 warnings in strict mode" in result.log


def test_a_worker_that_dies_costs_the_build_nothing_but_time(
    sections_url: str, tmp_path: Path, ahead_always: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expand = plugin.DbSchemaPlugin._expand_ahead

    def dies_on_d(self: plugin.DbSchemaPlugin, uri: str, *args: Any) -> ahead.Expanded | None:
        if uri == "d.md":
            os._exit(1)  # killed mid-build: the OOM killer, say
        return expand(self, uri, *args)

    monkeypatch.setattr(plugin.DbSchemaPlugin, "_expand_ahead", dies_on_d)
    reference = _build(tmp_path / "in-order", sections_url, parallel=False)
    result = _build(tmp_path / "ahead", sections_url)
    assert result.returncode == 0, result.log
    assert not any(uri.startswith("d.md") for uri in ahead_always)
    assert _pages(result) == _pages(reference)
    assert _warnings(result) == _warnings(reference)


CHANGED_AFTER_READING = """
from mkdocs.plugins import event_priority

@event_priority(50)  # before the plugin's own on_page_markdown
def on_page_markdown(markdown, page, **kwargs):
    if page.file.src_uri == "d.md":
        return markdown + "\\n\\nAdded by a hook.\\n\\n<< table: bookings >>\\n"
    return markdown
"""

READ_THROUGH_A_HOOK = """
def on_page_read_source(page, config):
    if page.file.src_uri == "d.md":  # a table no page named when the site was read
        return "# D\\n\\n<< table: payments >>\\n"
    return None
"""


def _build_with_hook(root: Path, url: str, hook: str) -> Build:
    (root / "hook.py").write_text(hook, "utf-8")
    result = build(root, PAGES, {"dsn": url}, extra_config={"hooks": ["hook.py"]})
    assert result.returncode == 0, result.log
    return result


def test_a_page_another_plugin_changed_after_reading_is_expanded_as_it_reaches_the_plugin(
    sections_url: str, tmp_path: Path, ahead_always: list[str]
) -> None:
    result = _build_with_hook(tmp_path, sections_url, CHANGED_AFTER_READING)
    # The worker expanded d.md as read, not as the hook left it: the build expands it again.
    assert not any(uri.startswith("d.md") for uri in ahead_always)
    assert "Added by a hook." in result.text("d") and "public.bookings" in result.text("d")


CHANGED_AFTER_EXPANDING = """
from mkdocs.plugins import event_priority

@event_priority(-50)  # after the plugin expanded the page
def on_page_markdown(markdown, page, **kwargs):
    if page.file.src_uri == "d.md":
        return markdown + "\\n\\nAppended after expanding.\\n"
    return markdown
"""


def test_a_page_another_plugin_changed_after_expanding_is_converted_by_the_build(
    sections_url: str, tmp_path: Path, ahead_always: list[str]
) -> None:
    result = _build_with_hook(tmp_path, sections_url, CHANGED_AFTER_EXPANDING)
    # The worker's expansion is used; its conversion is not, and the build converts the
    # page with the cards' HTML the worker sent along.
    assert "d.md converted" in ahead_always
    page = result.article("d")
    guest_notes = anchor('public."Guest Notes"')
    assert "Appended after expanding." in page and f'id="{guest_notes}"' in page
    assert "dbschema-html-" not in page and "Note Text" in result.text("d")


def test_a_page_naming_a_table_the_site_did_not_read_is_left_to_the_build(
    sections_url: str, tmp_path: Path, ahead_always: list[str]
) -> None:
    result = _build_with_hook(tmp_path, sections_url, READ_THROUGH_A_HOOK)
    # Read through the hook, d.md names a table the site's read did not read: the worker,
    # which never reads, leaves it, and the build reads it.
    assert not any(uri.startswith("d.md") for uri in ahead_always)
    assert "public.payments" in result.text("d")


def test_with_autorefs_the_worker_expands_and_the_build_converts(
    sections_url: str, tmp_path: Path, ahead_always: list[str]
) -> None:
    """autorefs learns anchors from the page the build is converting: a page converted in
    the worker would tell it nothing, so the worker only expands."""
    pages = {**PAGES, "index.md": "# Home\n\nSee [the bookings][public.bookings] and [events][].\n"}
    plugins = ["search", "autorefs", {"dbschema": {"dsn": sections_url}}]
    result = build(tmp_path, pages, extra_config={"plugins": plugins})
    assert result.returncode == 0, result.log
    assert "d.md" in ahead_always and not any(uri.endswith("converted") for uri in ahead_always)
    assert 'href="a/#public-bookings"' in result.page() and 'href="d/#public-events"' in result.page()


@pytest.fixture
def indexed_ahead(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pages whose search entries the build took from the worker."""
    used: list[str] = []
    take = plugin.DbSchemaPlugin._entries_ahead

    def counted(self: plugin.DbSchemaPlugin, page: Any) -> Any:
        entries = take(self, page)
        if entries is not None:
            used.append(page.file.src_uri)
        return entries

    monkeypatch.setattr(plugin.DbSchemaPlugin, "_entries_ahead", counted)
    return used


def _search_index(result: Build) -> str:
    return (result.site / "search" / "search_index.json").read_text("utf-8")


def test_search_entries_made_ahead_are_those_search_makes(
    sections_url: str, tmp_path: Path, ahead_always: list[str], indexed_ahead: list[str]
) -> None:
    in_order = _build(tmp_path / "in-order", sections_url, parallel=False)
    assert in_order.returncode == 0, in_order.log and not indexed_ahead
    result = _build(tmp_path / "ahead", sections_url)
    assert result.returncode == 0, result.log
    # The worker's first page is the farthest in reach: d.md, whose entries the build takes.
    assert "d.md" in indexed_ahead
    assert _search_index(result) == _search_index(in_order)
    assert _pages(result) == _pages(in_order)
    assert '"location":"d/#public-events"' in _search_index(result)


def _changing_d_in_page_context(priority: int, text: str) -> str:
    """A hook adding `text` to d.md's HTML in on_page_context, at `priority`."""
    return f"""
from mkdocs.plugins import event_priority

@event_priority({priority})
def on_page_context(context, page, **kwargs):
    if page.file.src_uri == "d.md":
        page.content += "<p>{text}</p>"
    return context
"""


# Before the plugin and search read the page.
CHANGED_BEFORE_SEARCH = _changing_d_in_page_context(60, "Changed before search read it.")


def test_a_page_changed_before_search_reads_it_is_indexed_as_changed(
    sections_url: str, tmp_path: Path, ahead_always: list[str], indexed_ahead: list[str]
) -> None:
    result = _build_with_hook(tmp_path, sections_url, CHANGED_BEFORE_SEARCH)
    assert indexed_ahead and "d.md" not in indexed_ahead  # made from the page as it was
    assert "Changed before search read it." in _search_index(result)
    assert "Changed before search read it." in result.text("d")


# After the plugin hands the page over, before search reads it.
CHANGED_BETWEEN = _changing_d_in_page_context(10, "Changed between.")


def test_with_a_plugin_between_the_plugin_and_search_search_reads_every_page(
    sections_url: str, tmp_path: Path, ahead_always: list[str], indexed_ahead: list[str]
) -> None:
    result = _build_with_hook(tmp_path, sections_url, CHANGED_BETWEEN)
    assert not indexed_ahead  # what search would read is known only once that plugin ran
    assert "Changed between." in _search_index(result)


def test_a_page_whose_indexing_logs_is_indexed_by_the_build(
    sections_url: str,
    tmp_path: Path,
    ahead_always: list[str],
    indexed_ahead: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What search logs while indexing a page counts in the build (--strict): a page whose
    indexing logged in the worker is indexed again by the build."""
    from material.plugins.search.plugin import SearchIndex

    add = SearchIndex.add_entry_from_context

    def noisy(self: SearchIndex, page: Any) -> None:
        if page.file.src_uri == "d.md":
            logging.getLogger("mkdocs.plugins.search").warning("indexing %s", page.file.src_uri)
        add(self, page)

    monkeypatch.setattr(SearchIndex, "add_entry_from_context", noisy)
    pages = {**PAGES, "a.md": "# A\n\n<< table: bookings >>\n", "d.md": "# D\n\n<< table: events >>\n"}
    result = build(tmp_path, pages, {"dsn": sections_url}, strict=True)
    assert "d.md" not in indexed_ahead
    assert result.log.count("indexing d.md") == 1, result.log
    assert result.returncode == 1 and "Aborted with 1 warnings in strict mode" in result.log


def test_a_worker_whose_build_was_killed_ends() -> None:
    """A build killed outright (SIGKILL: no clean-up of its own) leaves no worker waiting
    for it forever."""
    script = (
        "import time\n"
        "from mkdocs_dbschema import ahead\n"
        "worker = ahead.Ahead([f'p{i}.md' for i in range(40)], lambda uri: None, lambda: None)\n"
        "print(worker.process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    build = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert build.stdout is not None
    worker_pid = int(build.stdout.readline())
    build.kill()
    build.wait()
    deadline = time.monotonic() + 30
    while Path(f"/proc/{worker_pid}").exists() and "Z" not in _state(worker_pid):
        assert time.monotonic() < deadline, "the worker outlived its build"
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_a_worker_whose_build_is_gone_ends_without_a_traceback() -> None:
    """The build stops reading (it ended, or was killed): the worker's sender finds the
    pipe closed and ends quietly."""
    script = (
        "import os, time\n"
        "from mkdocs_dbschema import ahead\n"
        "worker = ahead.Ahead([f'p{i}.md' for i in range(3)], lambda uri: None, lambda: None)\n"
        "worker.reader.close()  # the build's end, closed before the worker sends anything\n"
        "worker.take('p0.md')\n"
        "worker.process.join(30)\n"
        "print(worker.process.exitcode)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "0", done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def test_work_forked_beside_the_build_comes_back_or_comes_back_as_none() -> None:
    assert ahead.Forked(os.getpid).result(60) not in (None, os.getpid())
    assert ahead.Forked(lambda: os.nice(0), nice=5).result(60) == min(19, os.nice(0) + 5)
    assert ahead.Forked(lambda: 1 // 0).result(60) is None  # failed: the build does the work itself
    assert ahead.Forked(lambda: lambda: 1).result(60) is None  # does not pickle
    late = ahead.Forked(lambda: time.sleep(600))
    assert late.result(0.5) is None  # too late: ended, and the build goes on
    assert not late.process.is_alive()
