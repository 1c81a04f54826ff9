"""Whole `mkdocs build` runs on throwaway sites, asserting on the HTML and the log."""

from __future__ import annotations

import gc
import html
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import Server, ensure_role
from sites import build, build_config

from mkdocs_dbschema.document import anchor

PAGE = """# Bookings

Narrative *before* the card.

<< table: bookings >>

Narrative after the card.

```markdown
<< table: bookings >>
```

    << table: in_indented_code >>

!!! note "Nested"

    << table: ops."odd.name" >>

<< table: "Guest Notes" >>

<< table: reservación >>

<< table: events >>

<< table: open_bookings >>
"""


@pytest.fixture(scope="module")
def site(sections_url: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    result = build(tmp_path_factory.mktemp("site"), {"index.md": PAGE}, {"dsn": sections_url}, strict=True)
    assert result.returncode == 0, result.log
    return result


def test_cards_replace_directives_and_keep_narrative(site) -> None:  # type: ignore[no-untyped-def]
    text = site.text()
    assert "Narrative before the card." in text and "Narrative after the card." in text
    assert "<em>before</em>" in site.article()
    for key in ("public.bookings", 'public."Guest Notes"', 'public."reservación"', "public.events"):
        heading = f'id="{anchor(key)}"'
        assert heading in site.article()
    assert 'ops."odd.name"' in text
    assert "<< table: bookings >>" in text  # the fenced one stays literal
    assert "<< table: in_indented_code >>" in text
    nested = site.article().split('class="admonition note"')[1]
    odd = anchor('ops."odd.name"')
    assert f'<h2 id="{odd}">ops."odd.name"</h2>' in html.unescape(nested)


def test_card_sections(site) -> None:  # type: ignore[no-untyped-def]
    text = site.text()
    bookings = text.split("Guest Notes")[0]
    for expected in [
        "Row Count: 0",
        "Foreign Keys: IN: 2 · OUT: 2",
        "numeric(12,2)",
        "Total in COP | pesos",
        "GENERATED ALWAYS AS IDENTITY",
        "GENERATED ALWAYS AS (COALESCE(array_length(tags, 1), 0)) STORED",
        "'pending'::booking_status",
        "CONSTRAINT bookings_pkey PRIMARY KEY (id)",
        "CONSTRAINT bookings_no_overlap EXCLUDE USING gist (stay WITH &&)",
        "ON DELETE CASCADE · ON UPDATE NO ACTION · MATCH SIMPLE · NOT DEFERRABLE",
        "payments.booking_id → bookings.id",
        # Long definitions laid out at their clauses, as the plan's TEMPLATE writes them.
        "CREATE INDEX bookings_status_idx ON public.bookings\n  USING btree (status)\n"
        "  WHERE (status <> 'cancelled'::booking_status);",
        "Purpose: Open bookings per status",
        "btree, partial",
        "btree, expression",
        "RLS Enabled: ✅ Yes, forced",
        "CREATE POLICY tenant_isolation\n  ON bookings\n  AS PERMISSIVE\n  FOR ALL\n  TO dbschema_app",
        'CREATE POLICY "no deletes"\n  ON bookings\n  AS RESTRICTIVE\n  FOR DELETE\n'
        '  TO "Dbschema Auditor", dbschema_app\n  USING (false);',
        "Each hotel sees its own bookings",
        "CREATE TRIGGER bookings_touch\n  BEFORE UPDATE ON bookings\n  FOR EACH ROW\n  EXECUTE FUNCTION touch();",
        "bookings_off\ndisabled",
        "bookings_replica\nreplica",
        "bookings_always\nalways",
        "constraint trigger",
        "Keeps updated_at current",
        "CREATE TYPE booking_status AS ENUM (",
        "CREATE DOMAIN e164_phone AS text\n  NOT NULL\n  CHECK (VALUE ~ '^\\+[1-9][0-9]{7,14}$'::text);",
        "Dependency Level: 1 (references itself)",
    ]:
        assert expected in bookings, expected
    events = text.split("Partitions (key")[1]
    assert events.startswith(" RANGE (at)")
    assert "events_2026FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')" in events.replace("\n", "")
    view = text.split("open_bookings", 1)[1]
    assert "Kind: view" in view and "CREATE VIEW open_bookings AS" in view


def test_rls_warnings_are_visible(sections_url: str, tmp_path: Path) -> None:
    result = build(
        tmp_path,
        {"index.md": "<< table: locked >>\n\n<< table: open_door >>\n"},
        {"dsn": sections_url},
    )
    assert result.returncode == 0, result.log
    article = result.article()
    assert article.count('class="admonition warning"') == 2
    assert "RLS enabled but no policy" in article
    assert "Policies exist but RLS is disabled" in article


@pytest.mark.embedded_only  # the plugin's own logic
def test_bad_directives_warn_with_location_and_fail_strict(sections_url: str, tmp_path: Path) -> None:
    page = "# P\n\n<< table: nope >>\n\n<< tabel: x >>\n\n<< table: >>\n\n<< table: a.b.c >>\n\n<< table: tenants >>\n"
    lenient = build(tmp_path / "lenient", {"page.md": page}, {"dsn": sections_url})
    assert lenient.returncode == 0, lenient.log
    for line, message in [
        (3, "no table or view named nope (search_path: public)"),
        (5, "unknown directive 'tabel'"),
        (7, "needs a table name"),
        (9, "too many dotted parts"),
    ]:
        assert f"page.md:{line}: " in lenient.log and message in lenient.log
    article = lenient.article("page")
    assert article.count('class="admonition failure"') == 4
    assert 'id="public-tenants"' in article  # the rest of the page still builds
    strict = build(tmp_path / "strict", {"page.md": page}, {"dsn": sections_url}, strict=True)
    assert strict.returncode != 0
    assert "Aborted with 4 warnings in strict mode" in strict.log


def test_a_page_of_only_bad_directives_warns_without_a_database(tmp_path: Path) -> None:
    page = '# P\n\n<< tabel: x >>\n\n<< table: >>\n\n<< table: "unterminated >>\n'
    # Nothing listens on port 9: a connection attempt would stop the build.
    result = build(tmp_path, {"page.md": page}, {"dsn": "postgresql://u@127.0.0.1:9/db"}, strict=True)
    assert "cannot connect" not in result.log
    for line, message in [(3, "unknown directive 'tabel'"), (5, "needs a table name"), (7, "unterminated")]:
        assert f"page.md:{line}: " in result.log and message in result.log
    assert result.returncode != 0 and "Aborted with 3 warnings in strict mode" in result.log


@pytest.mark.parametrize(
    "options",
    [
        # The defaults: sample rows but no live counters, which every read moves.
        {},
        # With live counters, a build that reads no rows leaves the statistics as they were.
        {"samples": 0, "activity_stats": True},
    ],
)
def test_output_is_byte_identical_for_an_unchanged_database(
    sections_url: str, tmp_path: Path, options: dict[str, object]
) -> None:
    first = build(tmp_path / "a", {"index.md": PAGE}, {"dsn": sections_url, **options})
    time.sleep(1.5)  # let any statistics of the first build reach the server
    second = build(tmp_path / "b", {"index.md": PAGE}, {"dsn": sections_url, **options})
    assert first.returncode == second.returncode == 0
    assert first.page() == second.page()
    assert (first.site / "search/search_index.json").read_bytes() == (
        second.site / "search/search_index.json"
    ).read_bytes()


def test_activity_statistics_move_with_use(sections_url: str, tmp_path: Path) -> None:
    options = {"dsn": sections_url, "activity_stats": True}
    first = build(tmp_path / "a", {"index.md": "<< table: tenants >>\n"}, options)
    time.sleep(1.5)
    second = build(tmp_path / "b", {"index.md": "<< table: tenants >>\n"}, options)
    assert first.text() != second.text()  # the first build's sample read is a scan
    assert "Read Frequency: Low" in second.text()
    assert re.search(r"Cache Hits: (\d+\.\d%|no reads yet) of table blocks", second.text())


@pytest.mark.embedded_only  # the plugin's own logic
def test_dsn_from_environment_and_env_tag(sections_url: str, tmp_path: Path) -> None:
    page = {"index.md": "<< table: tenants >>\n"}
    from_env = build(tmp_path / "env", page, env={"DBSCHEMA_DSN": sections_url})
    assert from_env.returncode == 0 and 'id="public-tenants"' in from_env.article()
    (tmp_path / "tag").mkdir()
    tagged = build(tmp_path / "tag", page, {"dsn": "PLACEHOLDER"}, env={"MY_DSN": sections_url})
    config = (tmp_path / "tag" / "mkdocs.yml").read_text().replace("PLACEHOLDER", "!ENV [MY_DSN]")
    (tmp_path / "tag" / "mkdocs.yml").write_text(config)
    rebuilt = build_config(tmp_path / "tag" / "mkdocs.yml", env={"MY_DSN": sections_url})
    assert rebuilt.returncode == 0, rebuilt.log
    assert 'id="public-tenants"' in (tmp_path / "tag" / "site" / "index.html").read_text()
    assert tagged.returncode != 0  # the literal PLACEHOLDER is no URL


@pytest.mark.embedded_only  # the plugin's own logic
def test_a_build_process_leaves_without_a_last_collection(sections_url: str, tmp_path: Path) -> None:
    # The check is registered first, so it runs after the plugin's exit handler.
    script = f"""
import atexit, gc, sys
from pathlib import Path
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count()))
sys.path.insert(0, {str(Path(__file__).parent.parent)!r})
from sites import build
result = build(Path({str(tmp_path)!r}), {{"index.md": "<< table: tenants >>"}}, {{"dsn": {sections_url!r}}})
assert result.returncode == 0, result.log
print("frozen after the build:", gc.get_freeze_count())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    after_build, at_exit = (int(line.rsplit(" ", 1)[1]) for line in done.stdout.splitlines())
    assert after_build == 0  # a build ends unfrozen: a process that builds again frees what it left
    assert at_exit > 10_000  # the modules, configuration and pages left: skipped by the last collection


@pytest.mark.embedded_only  # the plugin's own logic
def test_postgresql_psycopg_urls_work(sections_url: str, tmp_path: Path) -> None:
    url = sections_url.replace("postgresql://", "postgresql+psycopg://", 1)
    result = build(tmp_path, {"index.md": "<< table: tenants >>\n"}, {"dsn": url}, strict=True)
    assert result.returncode == 0, result.log


def test_unreachable_database_stops_with_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    dsn = f"postgresql://writer:hunter2-secret@127.0.0.1:{port}/muva"
    result = build(tmp_path, {"index.md": "<< table: tenants >>\n"}, {"dsn": dsn})
    assert result.returncode != 0
    assert "hunter2-secret" not in result.log and "Traceback" not in result.log
    (line,) = [x for x in result.log.splitlines() if "cannot connect" in x]
    assert f"host 127.0.0.1, port {port}, database muva" in line
    assert "refused" in line.lower()
    assert gc.isenabled()  # off for the read only, failed or not (plugin._without_collection)


def test_silent_server_times_out(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    try:
        result = build(
            tmp_path,
            {"index.md": "<< table: tenants >>\n"},
            {"dsn": f"postgresql://u:pw-xyz@127.0.0.1:{port}/db", "connect_timeout": 2},
        )
    finally:
        for conn in accepted:
            conn.close()
        listener.close()
    # Ended by libpq's connect_timeout, not by luck: its own words are in the line.
    assert result.returncode != 0 and "timeout expired" in result.log
    assert "pw-xyz" not in result.log
    assert "Traceback" not in result.log


def test_wrong_password_names_the_reason_not_the_password(server: Server, tmp_path: Path) -> None:
    if server.name != "embedded":
        pytest.skip("needs a server whose pg_hba.conf the test may change")
    server.psql(server.admin_url, "-c", ensure_role("dbschema_pw", "LOGIN PASSWORD 'right-pw'"))
    hba = Path(server.psql(server.admin_url, "-Atc", "SHOW hba_file").strip())
    rules = hba.read_text()
    if "dbschema_pw" not in rules:
        hba.write_text("local all dbschema_pw scram-sha-256\n" + rules)
        server.psql(server.admin_url, "-c", "SELECT pg_reload_conf()")
    url = sa.make_url(server.admin_url).set(username="dbschema_pw", password="Wr0ng-Pa55")
    result = build(
        tmp_path,
        {"index.md": "<< table: x >>\n"},
        {"dsn": url.render_as_string(hide_password=False)},
    )
    assert result.returncode != 0
    assert "Wr0ng-Pa55" not in result.log and "Traceback" not in result.log
    assert 'password authentication failed for user "dbschema_pw"' in result.log


@pytest.mark.embedded_only  # the plugin's own logic
def test_templates_can_be_overridden(sections_url: str, tmp_path: Path) -> None:
    (tmp_path / "overrides").mkdir(parents=True)
    (tmp_path / "overrides" / "card.md.j2").write_text(
        "{{ heading(0) }} Custom {{ table.display }}\n\nColumns: {{ table.columns | length }}\n"
    )
    result = build(
        tmp_path,
        {"index.md": "<< table: tenants >>\n"},
        {"dsn": sections_url, "templates": "overrides"},
    )
    assert result.returncode == 0, result.log
    assert "Custom tenants" in result.text() and "Columns: 2" in result.text()


@pytest.mark.embedded_only  # the plugin's own logic
def test_without_admonitions_cards_fall_back_to_plain_markdown(sections_url: str, tmp_path: Path) -> None:
    result = build(
        tmp_path,
        {"index.md": "<< table: locked >>\n\n<< table: film >>\n"},
        {"dsn": sections_url},
        extensions=["tables", "toc"],
    )
    assert result.returncode == 0, result.log
    assert "!!!" not in result.article() and "???" not in result.article()
    assert "<blockquote>" in result.article()


def test_pagila(pagila_url: str, tmp_path: Path) -> None:
    page = "<< table: payment >>\n\n<< table: film >>\n\n<< table: actor_info >>\n\n<< table: rental_by_category >>\n"
    result = build(tmp_path, {"index.md": page}, {"dsn": pagila_url}, strict=True)
    assert result.returncode == 0, result.log
    text = result.text()
    assert "Kind: partitioned table" in text and "Partitions (key RANGE (payment_date))" in text
    assert text.count("payment_p2022_0") >= 7
    assert "Dependency Level: 6" in text  # payment → rental → inventory → store → address → city → country
    assert "CREATE TRIGGER film_fulltext_trigger\n  BEFORE INSERT OR UPDATE ON film" in text
    assert "CREATE DOMAIN year AS integer" in text and "'NC-17'" in text
    assert "CREATE VIEW actor_info AS" in text
    assert "Kind: materialized view (not populated: run REFRESH MATERIALIZED VIEW)" in text
    assert "the materialized view has not been populated yet" in text


def test_embedded_default_loads_sql_files_in_order(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir(parents=True)
    (tmp_path / "migrations" / "001_base.sql").write_text("CREATE TABLE hotels (id int PRIMARY KEY);\n")
    (tmp_path / "migrations" / "002_rooms.sql").write_text(
        "CREATE TABLE rooms (id int PRIMARY KEY, hotel_id int REFERENCES hotels);\n"
        "COMMENT ON TABLE rooms IS 'Rooms from the second migration';\n"
    )
    result = build(
        tmp_path,
        {"index.md": "<< table: rooms >>\n"},
        {"embedded_sql": ["migrations/*.sql"]},
        strict=True,
    )
    assert result.returncode == 0, result.log
    assert "Rooms from the second migration" in result.text()
    assert "Dependency Level: 1" in result.text()
    assert "documenting embedded postgresql://postgres@/dbschema?host=" in result.log


def test_embedded_sql_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "sql").mkdir(parents=True)
    (tmp_path / "sql" / "broken.sql").write_text(
        "CREATE TABLE ok (id int);\n\nCREATE TABLE bad (id nosuchtype);\n"
    )
    result = build(tmp_path, {"index.md": "<< table: ok >>\n"}, {"embedded_sql": ["sql/broken.sql"]})
    assert result.returncode != 0 and "Traceback" not in result.log
    assert 'broken.sql:3: ERROR: type "nosuchtype" does not exist' in result.log
    missing = build(tmp_path / "m", {"index.md": "<< table: ok >>\n"}, {"embedded_sql": ["nope/*.sql"]})
    assert missing.returncode != 0 and "no SQL file matches 'nope/*.sql'" in missing.log


def test_pages_without_directives_never_connect(tmp_path: Path) -> None:
    result = build(
        tmp_path,
        {"index.md": "# Plain\n"},
        {"dsn": "postgresql://u:p@127.0.0.1:1/none"},
        strict=True,
    )
    assert result.returncode == 0, result.log


@pytest.mark.parametrize(
    "dsn, message, secret",
    [
        ("postgresql://app:Summer@2024!x@127.0.0.1/db", "percent-encode an @ in the password", "Summer@2024"),
        ("postgresql://u:s3cr3t-pw@h:abc/db", "dsn is not a PostgreSQL URL", "s3cr3t-pw"),
        ("postgresql://u:AUD/sl7@127.0.0.1:54x2/db", "dsn is not a PostgreSQL URL", "sl7"),
        ("mysql://u:my-s3cret@h/db", "dsn must start with postgresql://", "my-s3cret"),
    ],
)
def test_malformed_dsns_get_one_clear_line(tmp_path: Path, dsn: str, message: str, secret: str) -> None:
    result = build(tmp_path, {"index.md": "<< table: t >>\n"}, {"dsn": dsn})
    assert result.returncode != 0 and message in result.log
    assert "Traceback" not in result.log and secret not in result.log


@pytest.mark.embedded_only  # the plugin's own logic
def test_passwords_in_query_parameters_are_masked(sections_url: str, tmp_path: Path) -> None:
    separator = "&" if "?" in sections_url else "?"
    result = build(
        tmp_path,
        {"index.md": "<< table: tenants >>\n"},
        {"dsn": f"{sections_url}{separator}password=qp-s3cret"},
    )
    assert result.returncode == 0, result.log
    assert "qp-s3cret" not in result.log and "password=%2A%2A%2A" in result.log


@pytest.mark.embedded_only  # the plugin's own logic
def test_cards_render_whatever_the_directive_indent(sections_url: str, tmp_path: Path) -> None:
    page = "- Tenants:\n\n  << table: tenants >>\n\nA paragraph\n    << table: bookings >>\n"
    result = build(tmp_path, {"index.md": page}, {"dsn": sections_url, "samples": 0}, strict=True)
    assert result.returncode == 0, result.log
    article = result.article()
    assert (
        '<h2 id="public-tenants">' in article
        and '<h2 id="public-bookings">' in article
        and '<h3 id="schema-tenants">' in article
    )
    assert "<p>## " not in article and "<code>## " not in article


def test_cards_show_the_sections_each_kind_of_relation_has(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE TABLE rooms (id int PRIMARY KEY, name text);"
        "CREATE VIEW room_names AS SELECT id, name FROM rooms;"
        "CREATE FUNCTION write_room() RETURNS trigger LANGUAGE plpgsql SET search_path = '' AS"
        " $$ BEGIN INSERT INTO public.rooms VALUES (NEW.id, NEW.name); RETURN NEW; END $$;"
        "CREATE TRIGGER room_names_insert INSTEAD OF INSERT ON room_names FOR EACH ROW EXECUTE FUNCTION write_room();"
        "CREATE MATERIALIZED VIEW room_count AS SELECT count(*) AS n FROM rooms;"
        "CREATE UNIQUE INDEX room_count_n ON room_count (n);"
        "CREATE EXTENSION file_fdw; CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;"
        "CREATE FOREIGN TABLE rates_feed (room text) SERVER files OPTIONS (filename '/dev/null', format 'csv');"
    )
    pages = {f"{name}.md": f"<< table: {name} >>\n" for name in ("room_names", "room_count", "rates_feed")}
    result = build(tmp_path, pages, {"dsn": url, "samples": 0}, strict=True)
    assert result.returncode == 0, result.log
    view, matview, foreign = (result.text(name) for name in ("room_names", "room_count", "rates_feed"))
    assert "CREATE TRIGGER room_names_insert\n  INSTEAD OF INSERT ON room_names" in view
    assert "room_count_n" in matview and "Triggers:" not in matview
    assert "Triggers:" in foreign and "Indexes:" not in foreign
    for card in (view, matview, foreign):
        assert "No primary key" not in card and "RLS Enabled" not in card and "Foreign Keys\n" not in card


@pytest.mark.parametrize(
    "options, message",
    [
        ({"connect_timeout": 0}, "connect_timeout"),  # libpq: 0 waits forever
        ({"statement_timeout": 0}, "statement_timeout"),
        ({"samples": -1}, "samples"),
        ({"heading_level": True}, "heading_level"),
        ({"groups": {"Motopress": "motopress_*"}}, "groups"),  # a string, not a list of patterns
    ],
)
def test_bad_options_stop_the_build_naming_the_option(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    result = build(tmp_path, {"index.md": "# x\n"}, {"dsn": "postgresql://u@127.0.0.1:9/db", **options})
    assert result.returncode != 0 and message in result.log and "Traceback" not in result.log


def test_every_host_of_a_multi_host_dsn_is_named(tmp_path: Path) -> None:
    dsn = "postgresql://u:hostpw@/db?host=127.0.0.1:9&host=127.0.0.2:9"
    result = build(tmp_path, {"index.md": "<< table: t >>\n"}, {"dsn": dsn})
    assert result.returncode != 0 and "Traceback" not in result.log and "hostpw" not in result.log
    assert "(host 127.0.0.1:9, 127.0.0.2:9, database db)" in result.log


def test_unknown_names_get_a_hint(sections_url: str, tmp_path: Path) -> None:
    page = '<< table: Guest_Notes >>\n\n<< table: "guest notes" >>\n\n<< table: "odd.name" >>\n'
    result = build(tmp_path, {"index.md": page}, {"dsn": sections_url, "samples": 0})
    assert result.returncode == 0, result.log
    assert (
        'no table or view named "guest notes" (search_path: public); did you mean "Guest Notes"?'
        in result.log
    )
    assert 'did you mean ops."odd.name"?' in result.log


@pytest.mark.embedded_only  # the plugin's own logic
def test_template_mistakes_stop_the_build_with_file_and_line(tmp_path: Path, sections_url: str) -> None:
    templates = tmp_path / "overrides"
    templates.mkdir()
    (templates / "card.md.j2").write_text(
        "## {{ table.name }}\n{% for c in table.columns %}\n"
    )  # unclosed for
    (templates / "crad.md.j2").write_text("typo\n")
    result = build(
        tmp_path / "site",
        {"index.md": "<< table: tenants >>\n"},
        {"dsn": sections_url, "templates": str(templates)},
    )
    assert result.returncode != 0 and "Traceback" not in result.log
    assert re.search(r"dbschema: template .*card\.md\.j2, line \d+: ", result.log)
    assert (
        "templates: crad.md.j2 overrides no packaged template" in result.log
        and "did you mean card.md.j2?" in result.log
    )


def test_a_table_locked_by_a_migration_is_named(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db("CREATE TABLE busy (id int PRIMARY KEY, v int CHECK (v > 0)); CREATE TABLE calm (id int);")
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    migration = engine.connect()
    try:
        migration.exec_driver_sql("SET application_name = 'schema-migration'")
        migration.exec_driver_sql("BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
        page = {"index.md": "<< table: busy >>\n\n<< table: calm >>\n"}
        result = build(tmp_path, page, {"dsn": url, "lock_timeout": 500})
    finally:
        migration.close()
        engine.dispose()
    # PostgreSQL prints some DDL only under a lock: one clear line, within the lock timeout.
    assert result.returncode != 0 and "Traceback" not in result.log
    assert "canceling statement due to lock timeout; locked by another session: busy (pid " in result.log
    assert "schema-migration); build again when it has finished" in result.log


@pytest.mark.embedded_only  # the plugin's own logic
def test_a_template_that_is_not_text_stops_the_build_cleanly(tmp_path: Path, sections_url: str) -> None:
    templates = tmp_path / "overrides"
    templates.mkdir()
    (templates / "card.md.j2").write_bytes(b"## \xff\xfe {{ table.name }}\n")
    result = build(
        tmp_path / "site",
        {"index.md": "<< table: tenants >>\n"},
        {"dsn": sections_url, "templates": str(templates)},
    )
    assert result.returncode != 0 and "Traceback" not in result.log
    assert "dbschema: template card.md.j2: not UTF-8 text" in result.log
