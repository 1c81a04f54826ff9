"""`mkdocs serve` rebuilds: one plugin instance, started once as serve, builds the site
again and again (as serve's builder does: the configuration loaded anew each time).
An unchanged database costs one fingerprint statement; what changed shows."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from conftest import Server
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig

from mkdocs_dbschema.catalog.fingerprint import fingerprint_query

FINGERPRINT = fingerprint_query().text
SERVE_URL = "http://127.0.0.1:8000/"

SCHEMA = """
CREATE TABLE bookings (id int PRIMARY KEY, note text);
COMMENT ON TABLE bookings IS 'Reservations, first comment';
INSERT INTO bookings VALUES (1, 'first-row');
"""

PAGE = "# Bookings\n\n{narrative}\n\n<< table: bookings >>\n"


class Site:
    """A site on disk and a plugin started once, rebuilt like `mkdocs serve` rebuilds."""

    def __init__(self, root: Path, plugin: dict[str, Any], command: str) -> None:
        self.root = root
        (root / "docs").mkdir(parents=True, exist_ok=True)
        self.page("Narrative, first version.")
        config = {
            "site_name": "serve",
            "theme": {"name": "material"},
            "plugins": [{"dbschema": plugin}],
            "markdown_extensions": ["attr_list", "tables", "admonition"],
        }
        (root / "mkdocs.yml").write_text(yaml.safe_dump(config), "utf-8")
        self.config = self.load()
        self.config.plugins.on_startup(command=command, dirty=False)  # type: ignore[arg-type]

    def load(self) -> MkDocsConfig:
        return load_config(config_file=str(self.root / "mkdocs.yml"), site_dir=str(self.root / "site"))

    def page(self, narrative: str) -> None:
        (self.root / "docs" / "index.md").write_text(PAGE.format(narrative=narrative), "utf-8")

    def build(self) -> tuple[str, list[str]]:
        """One rebuild: the page as a reader sees it, and every statement sent."""
        sent: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            sent.append(statement)

        sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
        try:
            mkdocs_build(self.load(), serve_url=SERVE_URL)
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
        text = (self.root / "site" / "index.html").read_text("utf-8")
        article = text[text.index("<article") : text.index("</article>")]
        return html.unescape(re.sub(r"<[^>]+>", "", article)), sent

    def close(self) -> None:
        self.config.plugins.on_shutdown()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Site]]:
    monkeypatch.delenv("DBSCHEMA_DSN", raising=False)
    opened: list[Site] = []

    def open_site(plugin: dict[str, Any], command: str = "serve") -> Site:
        opened.append(Site(tmp_path / f"site{len(opened)}", plugin, command))
        return opened[-1]

    yield open_site
    for each in opened:
        each.close()


def only_fingerprint(first: list[str], again: list[str]) -> bool:
    """`again` ran the fingerprint and nothing else: whatever precedes it is the driver's
    own start-up on a new connection, the same as in the first build."""
    if again.count(FINGERPRINT) != 1:
        return False
    at = again.index(FINGERPRINT)
    return again[at:] == [FINGERPRINT] and again[:at] == first[: first.index(FINGERPRINT)]


@contextmanager
def flushed(server: Server, url: str) -> Iterator[list[str]]:
    """SQL run in one session whose activity counters reach the shared statistics before
    it returns (PostgreSQL 15 and later flush a session's counters when it goes idle)."""
    script: list[str] = []
    yield script
    force = (
        "DO $$ BEGIN IF current_setting('server_version_num')::int >= 150000 "
        "THEN PERFORM pg_stat_force_next_flush(); END IF; END $$;"
    )
    server.run_script(url, "\n".join([*script, force]))


@pytest.mark.embedded_only  # serve's own logic; the fingerprint is tested on every server
def test_unchanged_database_runs_only_the_fingerprint(make_db: Callable[..., str], site: Any) -> None:
    serving = site({"dsn": make_db(SCHEMA)})
    text, first = serving.build()
    assert "Reservations, first comment" in text and "first-row" in text
    assert FINGERPRINT in first and len(first) > first.index(FINGERPRINT) + 5  # a whole read
    serving.page("Narrative, edited.")
    text, again = serving.build()
    assert "Narrative, edited." in text and "Narrative, first version." not in text
    assert "Reservations, first comment" in text and "first-row" in text
    assert only_fingerprint(first, again), again
    _, third = serving.build()
    assert only_fingerprint(first, third), third


def test_ddl_comments_and_data_show_on_the_next_rebuild(
    server: Server, make_db: Callable[..., str], site: Any
) -> None:
    url = make_db(SCHEMA)
    serving = site({"dsn": url})
    text, first = serving.build()
    assert "guest_name" not in text
    server.run_script(url, "ALTER TABLE bookings ADD COLUMN guest_name text;")
    text, sent = serving.build()
    assert "guest_name" in text and not only_fingerprint(first, sent)
    server.run_script(url, "COMMENT ON TABLE bookings IS 'Reservations, second comment';")
    text, sent = serving.build()
    assert "Reservations, second comment" in text and "first comment" not in text
    server.run_script(url, "COMMENT ON COLUMN bookings.note IS 'Free text from the guest';")
    text, sent = serving.build()
    assert "Free text from the guest" in text
    # A data change refreshes the sample rows (and the row counts and sizes).
    with flushed(server, url) as script:
        script.append("INSERT INTO bookings VALUES (2, 'second-row', 'Ada');")
    text, sent = serving.build()
    assert "second-row" in text and not only_fingerprint(first, sent)
    _, sent = serving.build()
    assert only_fingerprint(first, sent), sent  # the build's own sample reads write nothing


def test_a_grant_or_a_policy_changes_the_fingerprint(server: Server, make_db: Callable[..., str]) -> None:
    url = make_db(SCHEMA)

    def fingerprint() -> str:
        engine = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg"))
        try:
            with engine.connect() as conn:
                return str(conn.execute(fingerprint_query()).scalar_one())
        finally:
            engine.dispose()

    before = fingerprint()
    assert fingerprint() == before
    for change in [
        "GRANT SELECT ON bookings TO PUBLIC;",
        "CREATE POLICY mine ON bookings USING (true);",
        "CREATE INDEX bookings_note ON bookings (note);",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;",
        "CREATE TRIGGER touch BEFORE UPDATE ON bookings FOR EACH ROW EXECUTE FUNCTION touch();",
        "CREATE VIEW recent AS SELECT * FROM bookings;",
        "ALTER TABLE bookings ALTER COLUMN note SET DEFAULT 'none';",
        "ANALYZE bookings;",
        "DROP VIEW recent;",
    ]:
        server.run_script(url, change)
        after = fingerprint()
        assert after != before, change
        before = after


@pytest.mark.embedded_only  # serve's own logic; the fingerprint is tested on every server
def test_a_metadata_edit_shows_without_a_catalog_read(
    make_db: Callable[..., str], site: Any, tmp_path: Path
) -> None:
    serving = site({"dsn": make_db(SCHEMA), "metadata": ["meta.yml"]})
    meta = serving.root / "meta.yml"
    meta.write_text("tables:\n  bookings:\n    purpose: Purpose, as first written.\n", "utf-8")
    text, first = serving.build()
    assert "Purpose, as first written." in text
    meta.write_text("tables:\n  bookings:\n    purpose: Purpose, edited.\n", "utf-8")
    text, again = serving.build()
    assert "Purpose, edited." in text and "as first written" not in text
    assert only_fingerprint(first, again), again  # the raw read is kept; metadata re-applies
    meta.write_text("tables: {}\n", "utf-8")
    text, _ = serving.build()
    assert "Purpose, edited." not in text and "Reservations, first comment" in text  # raw, not baked in


@pytest.mark.embedded_only  # serve's own logic; the fingerprint is tested on every server
def test_more_cards_read_again(make_db: Callable[..., str], site: Any) -> None:
    serving = site({"dsn": make_db(SCHEMA + "CREATE TABLE guests (id int PRIMARY KEY);")})
    _, first = serving.build()
    (serving.root / "docs" / "guests.md").write_text("# Guests\n\n<< table: guests >>\n", "utf-8")
    _, sent = serving.build()
    assert not only_fingerprint(first, sent)
    _, sent = serving.build()
    assert only_fingerprint(first, sent)


@pytest.mark.embedded_only  # serve's own logic; the fingerprint is tested on every server
def test_build_mode_keeps_nothing_between_builds(make_db: Callable[..., str], site: Any) -> None:
    building = site({"dsn": make_db(SCHEMA)}, command="build")
    _, first = building.build()
    _, again = building.build()
    assert FINGERPRINT not in first and FINGERPRINT not in again
    assert len(again) == len(first) > 5  # the whole read, each time


def test_a_changed_sql_file_reloads_and_rereads(site: Any) -> None:
    serving = site({"embedded_sql": ["schema.sql"]})
    schema = serving.root / "schema.sql"
    schema.write_text(SCHEMA, "utf-8")
    text, first = serving.build()
    assert "Reservations, first comment" in text
    # Same statements, same order: a fresh server may hand out the same OIDs and
    # transaction IDs, so the reload itself drops the kept read.
    schema.write_text(SCHEMA.replace("first comment", "other comment"), "utf-8")
    os.utime(schema, ns=(1, 1))  # a different signature whatever the clock's resolution
    text, sent = serving.build()
    assert "Reservations, other comment" in text and not only_fingerprint(first, sent)


def _pages(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text("utf-8") for p in sorted(root.rglob("*.html"))}


@pytest.fixture
def converted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The Markdown of every page Python-Markdown converts from now on."""
    import markdown

    sources: list[str] = []
    convert = markdown.Markdown.convert

    def counting(self: markdown.Markdown, source: str) -> str:
        if source.strip():
            sources.append(source)
        return convert(self, source)

    monkeypatch.setattr(markdown.Markdown, "convert", counting)
    return sources


@pytest.mark.embedded_only  # serve's own logic; the fingerprint is tested on every server
def test_a_rebuild_converts_only_the_pages_whose_markdown_changed(
    make_db: Callable[..., str], site: Any, converted: list[str]
) -> None:
    url = make_db(SCHEMA)
    serving = site({"dsn": url})
    other = (
        "# Other\n\nSee [the bookings card](index.md#public-bookings).\n\n<< table: bookings | copy: yes >>\n"
    )
    (serving.root / "docs" / "other.md").write_text(other, "utf-8")
    serving.build()
    first = _pages(serving.root / "site")
    assert len(converted) == 2

    converted.clear()
    serving.build()
    assert converted == []  # nothing changed: nothing converted, the same pages
    assert _pages(serving.root / "site") == first

    serving.page("Narrative, edited.")
    serving.build()
    assert len(converted) == 1 and "Narrative, edited." in converted[0]
    edited = _pages(serving.root / "site")
    assert edited["other/index.html"] == first["other/index.html"]
    assert "Narrative, edited." in edited["index.html"]

    # What the reused pages give is what a fresh build gives.
    fresh = site({"dsn": url}, command="build")
    (fresh.root / "docs" / "other.md").write_text(other, "utf-8")
    fresh.page("Narrative, edited.")
    fresh.build()
    assert _pages(fresh.root / "site") == edited


def test_serve_watches_what_a_rebuild_reads_besides_the_pages(tmp_path: Path) -> None:
    from mkdocs_dbschema.catalog.model import Catalog
    from mkdocs_dbschema.snapshot import Snapshot

    root = tmp_path / "site"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "index.md").write_text("<< table: bookings >>\n", "utf-8")
    (root / "meta").mkdir()
    (root / "meta" / "tables.yml").write_text("tables:\n  bookings:\n    purpose: Stays.\n", "utf-8")
    Snapshot(Catalog(server_version="18", database="x", search_path="public")).write(root / "schema.json")
    (root / "stats.json").write_text("{}", "utf-8")
    plugin = {"metadata": ["meta/*.yml"], "embedded_sql": ["db/*.sql"], "embedded_stats": "stats.json"}
    (root / "db").mkdir()
    (root / "db" / "001.sql").write_text(SCHEMA, "utf-8")
    config = {"site_name": "w", "plugins": [{"dbschema": plugin}]}
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config), "utf-8")

    class Recorder:
        def __init__(self) -> None:
            self.watched: list[str] = []

        def watch(self, path: str) -> None:
            self.watched.append(path)

    def watched(options: dict[str, Any]) -> set[str]:
        (root / "mkdocs.yml").write_text(
            yaml.safe_dump({**config, "plugins": [{"dbschema": options}]}), "utf-8"
        )
        loaded = load_config(config_file=str(root / "mkdocs.yml"))
        dbschema = loaded.plugins["dbschema"]
        dbschema.on_config(loaded)
        recorder = Recorder()
        dbschema.on_serve(recorder, config=loaded, builder=None)
        return {str(Path(p).relative_to(root)) for p in recorder.watched}

    assert {"meta", "meta/tables.yml", "db", "stats.json"} <= watched(plugin)
    assert "schema.json" in watched({"snapshot": "schema.json", "embedded": False})


@pytest.mark.embedded_only  # serve's own logic; the fingerprint is tested on every server
def test_reused_pages_still_tell_autorefs_their_anchors(
    make_db: Callable[..., str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, converted: list[str]
) -> None:
    """autorefs learns headings while a page converts; a page served from the last
    conversion tells it again, so references to it keep resolving."""
    monkeypatch.delenv("DBSCHEMA_DSN", raising=False)
    root = tmp_path / "site"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "flow.md").write_text("# Flow\n\n## Guest check-in\n\nSteps.\n", "utf-8")
    (root / "docs" / "index.md").write_text("See [guest check-in][].\n\n<< table: bookings >>\n", "utf-8")
    config = {
        "site_name": "refs",
        "theme": {"name": "material"},
        "plugins": ["autorefs", {"dbschema": {"dsn": make_db(SCHEMA)}}],
        "markdown_extensions": ["attr_list", "tables", "admonition", "toc"],
    }
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config), "utf-8")

    def load() -> MkDocsConfig:
        return load_config(config_file=str(root / "mkdocs.yml"), site_dir=str(root / "out"))

    first = load()
    first.plugins.on_startup(command="serve", dirty=False)
    try:
        for edit in ("", "Edited.\n"):
            if edit:
                (root / "docs" / "index.md").write_text(
                    f"{edit}See [guest check-in][].\n\n<< table: bookings >>\n", "utf-8"
                )
            converted.clear()
            mkdocs_build(load(), serve_url=SERVE_URL)
            page = (root / "out" / "index.html").read_text("utf-8")
            assert 'href="flow/#guest-check-in"' in page, edit
        assert len(converted) == 1  # only the edited page was converted the second time
    finally:
        first.plugins.on_shutdown()
