"""Hostile names, comments and values render as literal text: never markup, never expanded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import markdown
import psycopg
import pytest
from conftest import Server
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql
from sites import EXTENSION_NAMES, build

from mkdocs_dbschema.analysis.dependencies import Level
from mkdocs_dbschema.analysis.redaction import Cell, Redactor, Sample, redact_sample
from mkdocs_dbschema.catalog.connection import SessionSettings, create_engine, parse_url
from mkdocs_dbschema.catalog.model import (
    Catalog,
    Column,
    Constraint,
    ForeignKey,
    Index,
    Policy,
    Table,
    Trigger,
)
from mkdocs_dbschema.catalog.names import TableRef
from mkdocs_dbschema.catalog.reader import read_catalog
from mkdocs_dbschema.catalog.samples import read_samples
from mkdocs_dbschema.render.blocks import HtmlBlocksExtension
from mkdocs_dbschema.render.cards import CardRenderer, RenderOptions

# Tags a card may produce; anything else in the HTML came from data.
ALLOWED = {
    "h2",
    "h3",
    "h4",
    "p",
    "ul",
    "li",
    "strong",
    "em",
    "code",
    "pre",
    "span",
    "div",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "br",
    "details",
    "summary",
    "blockquote",
    "a",
    "article",
    "h1",
}


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(fragment: str) -> Tags:
    parser = Tags()
    parser.feed(fragment)
    return parser


HOSTILE_SQL = r"""
CREATE TABLE "<script>alert(1)</script>" (
    id int PRIMARY KEY,
    "| *x* _y_ [z](http://e)" text,
    "{{ 7*7 }}" int,
    "`tick``s`" text
);
COMMENT ON TABLE "<script>alert(1)</script>" IS '<img src=x onerror=alert(1)> {% if x %}{{ y }}{% endif %}
<< table: other >>
# not a heading | ` `` ```';
COMMENT ON COLUMN "<script>alert(1)</script>"."{{ 7*7 }}" IS '[click](javascript:alert(3)) **bold** <b>b</b>';
CREATE INDEX "``evil``" ON "<script>alert(1)</script>" ("{{ 7*7 }}");
COMMENT ON INDEX "``evil``" IS '```
<script>alert(4)</script>';
ALTER TABLE "<script>alert(1)</script>" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "<b>pol</b>" ON "<script>alert(1)</script>" USING ("{{ 7*7 }}" > 0);
COMMENT ON POLICY "<b>pol</b>" ON "<script>alert(1)</script>" IS '<iframe src=x>';
CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER "{% raw %}trig" BEFORE UPDATE ON "<script>alert(1)</script>" FOR EACH ROW EXECUTE FUNCTION noop();
CREATE TABLE other (id int);
INSERT INTO "<script>alert(1)</script>" VALUES
    (1, '<script>alert(2)</script> | ** __ [x](javascript:alert(1)) :smile: {: .x }', 49, E'line1\nline2 `code`'),
    (2, '<< table: other >>', 0, '&amp; &lt;b&gt;');
"""


def test_hostile_database_text_is_literal(server: Server, tmp_path: Path) -> None:
    url = server.create_database(HOSTILE_SQL)
    try:
        page = '# Hostile\n\n<< table: "<script>alert(1)</script>" >>\n'
        result = build(tmp_path, {"index.md": page}, {"dsn": url}, strict=True)
    finally:
        server.drop_database(url)
    assert result.returncode == 0, result.log
    article = parse(result.article())
    assert {tag for tag, _ in article.tags} <= ALLOWED, {tag for tag, _ in article.tags} - ALLOWED
    for _, attrs in article.tags:
        assert not any("javascript" in (value or "") for _, value in attrs)
    text = "".join(article.text)
    for literal in [
        "<script>alert(1)</script>",
        "| *x* _y_ [z](http://e)",
        "{{ 7*7 }}",
        "`tick``s`",
        "<img src=x onerror=alert(1)> {% if x %}{{ y }}{% endif %}",
        "<< table: other >>",
        "# not a heading | ` `` ```",
        "[click](javascript:alert(3)) **bold** <b>b</b>",
        "``evil``",
        "<script>alert(4)</script>",
        '"<b>pol</b>"',
        "<iframe src=x>",
        "{% raw %}trig",
        "<script>alert(2)</script> | ** __ [x](javascript:alert(1)) :smile: {: .x }",
        "&amp; &lt;b&gt;",
    ]:
        assert literal in text, literal
    assert result.text().count("Row Count:") == 1  # `<< table: other >>` in data was not expanded
    # Nor anywhere else in the page: the table of contents, the title, the navigation.
    assert "<script>alert(" not in result.page() and "<b>pol" not in result.page()


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
specials = st.text(alphabet="<>&\"'`|*_[](){}#!-+.:~^=\\/ \n\t%$@;abc", min_size=1, max_size=40)
texts = st.one_of(names, specials)


def _table(text: str) -> tuple[Table, Catalog, Sample]:
    fk = ForeignKey(
        name=text,
        table="public.t",
        table_display=text,
        columns=(text,),
        ref_table="public.t",
        ref_table_display=text,
        ref_columns=(text,),
        definition=f"FOREIGN KEY {text}",
        on_delete="CASCADE",
        on_update="NO ACTION",
        match="SIMPLE",
        deferrable=False,
        deferred=False,
        comment=text,
    )
    table = Table(
        key="public.t",
        schema="public",
        name=text,
        display=text,
        kind="table",
        comment=text,
        row_estimate=1.0,
        total_bytes=8192,
        table_bytes=8192,
        index_bytes=0,
        rls_enabled=True,
        rls_forced=False,
        columns=(Column(name=text, type=text, nullable=True, default=text, comment=text),),
        constraints=(
            Constraint(
                name=text,
                kind="primary key",
                definition=f"PRIMARY KEY ({text})",
                columns=(text,),
                comment=text,
            ),
            Constraint(name=text, kind="check", definition=f"CHECK ({text})", columns=(text,), comment=text),
        ),
        foreign_keys=(fk,),
        referenced_by=(fk,),
        indexes=(
            Index(
                name=text,
                definition=f"CREATE INDEX {text}",
                method="btree",
                unique=False,
                primary=False,
                partial=False,
                expression=False,
                valid=True,
                size_bytes=0,
                columns=(text,),
                constraint=None,
                comment=text,
            ),
        ),
        policies=(
            Policy(
                name=text, permissive=True, command="ALL", roles=(text,), using=text, check=text, comment=text
            ),
        ),
        triggers=(
            Trigger(
                name=text, definition=f"CREATE TRIGGER {text}", enabled="enabled", function=text, comment=text
            ),
        ),
    )
    sample = Sample(
        columns=(text,),
        hidden=(text,),
        rows=((Cell(text=text, rules=("column token",)),),),
        note=None,
        order=(text,),
        limit=1,
    )
    catalog = Catalog(server_version="18", database="db", search_path="public", tables={"public.t": table})
    return table, catalog, sample


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_any_text_renders_as_text(text: str) -> None:
    table, catalog, sample = _table(text)
    renderer = CardRenderer(RenderOptions(groups={text: ["*"]}, group_label=text))
    card = renderer.table_card(table, catalog, Level(level=1, cycle=("public.t", text)), sample)
    rendered = markdown.Markdown(extensions=[*EXTENSION_NAMES, HtmlBlocksExtension(renderer.blocks)]).convert(
        card
    )
    parsed = parse(rendered)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED
    seen = "".join("".join(parsed.text).split())
    # The renderer turns C0/C1 control characters into spaces; whitespace is free to reflow.
    expected = "".join(re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", " ", text).split())
    if expected:
        assert seen.count(expected) >= 10  # name, comment, column, index, policy, trigger, sample, ...


def test_without_superfences_code_stays_literal_in_lists(server: Server, tmp_path: Path) -> None:
    url = server.create_database(
        "CREATE TABLE xss (id int PRIMARY KEY, v int); CREATE INDEX xss_b ON xss (v);"
        "COMMENT ON INDEX xss_b IS '<img src=x onerror=alert(1)>';"
    )
    try:
        page = "- Bookings:\n\n    << table: xss >>\n"
        result = build(tmp_path, {"index.md": page}, {"dsn": url}, extensions=[])
    finally:
        server.drop_database(url)
    assert result.returncode == 0, result.log
    assert "<img" not in result.article()
    assert "-- Purpose: <img src=x onerror=alert(1)>" in result.text()


@pytest.fixture(scope="module")
def scratch_url(server: Server) -> Iterator[str]:
    url = server.create_database(
        "CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
    )
    yield url
    server.drop_database(url)


# PostgreSQL keeps identifiers to 63 bytes and text without NUL: 15 characters fit in any encoding.
db_texts = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=15
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(db_texts)
def test_any_text_from_a_real_database_renders_as_text(scratch_url: str, text: str) -> None:
    """The same property through PostgreSQL: the text as a table, column, index, policy
    and trigger name, as comments and as a value, read back and rendered as a card."""
    table, column = sql.Identifier("public", text), sql.Identifier(text)
    statements = [
        sql.SQL("CREATE TABLE {} ({} text PRIMARY KEY)").format(table, column),
        sql.SQL("COMMENT ON TABLE {} IS {}").format(table, sql.Literal(text)),
        sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(table, column, sql.Literal(text)),
        sql.SQL("CREATE INDEX {} ON {} (lower({}))").format(sql.Identifier(text + "_ix"), table, column),
        sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(table),
        sql.SQL("CREATE POLICY {} ON {} USING ({} IS NOT NULL)").format(column, table, column),
        sql.SQL("CREATE TRIGGER {} BEFORE UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION noop()").format(
            column, table
        ),
        sql.SQL("INSERT INTO {} VALUES ({})").format(table, sql.Literal(text)),
    ]
    engine = create_engine(parse_url(scratch_url), SessionSettings())
    try:
        with engine.connect() as conn:
            driver = conn.connection.driver_connection
            assert isinstance(driver, psycopg.Connection)
            driver.execute("SET LOCAL transaction_read_only = off")
            for statement in statements:
                driver.execute(statement)
            catalog = read_catalog(conn, [TableRef("public", text)])
            (key,) = catalog.tables
            raw = read_samples(conn, [(catalog.tables[key], 5)], catalog.role)[key]
            conn.rollback()  # nothing stays behind for the next example
    finally:
        engine.dispose()
    assert raw.rows == ((text,),)
    sample = redact_sample(raw, catalog.tables[key], 5, Redactor(), 80)
    renderer = CardRenderer(RenderOptions())
    card = renderer.table_card(catalog.tables[key], catalog, None, sample)
    parsed = parse(
        markdown.Markdown(extensions=[*EXTENSION_NAMES, HtmlBlocksExtension(renderer.blocks)]).convert(card)
    )
    assert {tag for tag, _ in parsed.tags} <= ALLOWED
    seen = "".join("".join(parsed.text).split())
    expected = "".join(re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", " ", text).split())
    if expected:
        # Heading, comment, column name and its description, policy, trigger, index...:
        # printed by PostgreSQL quoted or not, the bare text shows up again and again.
        assert seen.count(expected) >= 5
