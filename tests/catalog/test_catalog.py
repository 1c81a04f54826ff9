"""The catalog reader on purpose-built tables: every card section, read live."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from conftest import read

from mkdocs_dbschema.catalog.connection import SessionSettings, create_engine, parse_url
from mkdocs_dbschema.catalog.model import Catalog
from mkdocs_dbschema.catalog.names import TableRef
from mkdocs_dbschema.catalog.reader import read_catalog
from mkdocs_dbschema.catalog.samples import read_samples
from mkdocs_dbschema.render.cards import CardRenderer, RenderOptions, TemplateProblem
from mkdocs_dbschema.render.markdown import size

ALL = (
    "tenants",
    "bookings",
    "payments",
    "locked",
    "open_door",
    "audit_log",
    "events",
    "events_2026",
    "open_bookings",
    "booking_counts",
    '"Guest Notes"',
    "reservación",
    'ops."odd.name"',
)


@pytest.fixture(scope="module")
def catalog(sections_url: str) -> Catalog:
    return read(sections_url, *ALL)


def test_resolves_every_kind_of_name(catalog: Catalog) -> None:
    assert catalog.resolved == {
        "tenants": "public.tenants",
        "bookings": "public.bookings",
        "payments": "public.payments",
        "locked": "public.locked",
        "open_door": "public.open_door",
        "audit_log": "public.audit_log",
        "events": "public.events",
        "events_2026": "public.events_2026",
        "open_bookings": "public.open_bookings",
        "booking_counts": "public.booking_counts",
        '"Guest Notes"': 'public."Guest Notes"',
        '"reservación"': 'public."reservación"',
        'ops."odd.name"': 'ops."odd.name"',
    }


def test_unqualified_names_follow_the_search_path(sections_url: str) -> None:
    default = read(sections_url, "tenants", "nope")
    assert default.resolved == {"tenants": "public.tenants", "nope": None}
    ops_first = read(sections_url, "tenants", "public.tenants", search_path="ops, public")
    assert ops_first.resolved == {"tenants": "ops.tenants", "public.tenants": "public.tenants"}
    assert ops_first.search_path == "ops, public"


def test_names_longer_than_63_bytes_find_the_table_postgresql_created(make_db) -> None:  # type: ignore[no-untyped-def]
    schema = "s" * 70
    # Cut to 63 bytes; the two accented names end with a two-byte é across byte 63 or on it.
    written = ["Booking_" + "x" * 70, "a" * 62 + "éé", "a" * 61 + "éé", f'{schema}."{"Q" * 70}"']
    url = make_db(f"CREATE SCHEMA {schema};" + "".join(f"CREATE TABLE {name} (id int);" for name in written))
    engine = sa.create_engine(parse_url(url))
    with engine.connect() as conn:
        created = conn.execute(
            sa.text(
                "SELECT format('%I.%I', nspname, relname) FROM pg_class JOIN pg_namespace n "
                "ON n.oid = relnamespace WHERE relkind = 'r' AND nspname IN ('public', :schema)"
            ),
            {"schema": "s" * 63},
        ).scalars()
        created = sorted(created)
    engine.dispose()
    assert len(created) == 4
    catalog = read(url, *written)
    assert sorted(key for key in catalog.resolved.values() if key) == created


def test_unknown_names_get_a_hint_that_resolves(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        'CREATE TABLE "MixedCase" (id int); CREATE TABLE items (id int);'
        'CREATE SCHEMA ops; CREATE TABLE ops.orders (id int); CREATE TABLE ops."Audit" (id int);'
        'CREATE SCHEMA "Sales"; CREATE TABLE "Sales".leads (id int); CREATE TABLE public."Leads" (id int);'
    )
    names = ("MixedCase", "orders", "public.orders", "ops.audit", "leads", "nope", "columns", "items")
    catalog = read(url, *names)
    assert catalog.hints == {
        "mixedcase": '"MixedCase"',  # the same name in another case, on the path
        "orders": "ops.orders",  # the same name in a schema off the path
        "public.orders": "ops.orders",
        "ops.audit": 'ops."Audit"',
        "leads": '"Leads"',  # another case where it was looked for wins over another schema
    }  # no hint for a name nowhere, nor for information_schema.columns, nor for a resolved name
    on_path = read(url, "orders", "Sales.leads", search_path='public, ops, "Sales"')
    assert on_path.resolved == {"orders": "ops.orders", "sales.leads": None}
    assert on_path.hints == {"sales.leads": '"Sales".leads'}
    # Every hint resolves when written in a directive.
    assert None not in read(url, *catalog.hints.values()).resolved.values()
    assert Catalog.from_json(catalog.to_json()) == catalog


def test_header_facts(catalog: Catalog, sections_url: str) -> None:
    tenants = catalog.tables["public.tenants"]
    assert tenants.comment == "One row per hotel.\nSecond line | with a pipe"
    assert tenants.kind == "table"
    assert tenants.row_estimate == 25
    engine = sa.create_engine(parse_url(sections_url))
    with engine.connect() as conn:
        total, table, indexes = conn.execute(
            sa.text(
                "SELECT pg_total_relation_size('tenants'), pg_relation_size('tenants'), "
                "pg_indexes_size('tenants')"
            )
        ).one()
    engine.dispose()
    assert (tenants.total_bytes, tenants.table_bytes, tenants.index_bytes) == (
        total,
        table,
        indexes,
    )
    assert [fk.table for fk in tenants.referenced_by] == ["public.bookings"]
    assert catalog.tables["public.bookings"].rls_enabled
    assert catalog.tables["public.events"].kind == "partitioned table"
    assert catalog.tables["public.events_2026"].kind == "partition"
    assert catalog.tables["public.open_bookings"].kind == "view"
    assert catalog.tables["public.booking_counts"].kind == "materialized view"


def test_row_count_is_unknown_until_analyzed(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 10);", analyze=False)
    assert read(url, "t").tables["public.t"].row_estimate is None


def test_columns_print_types_like_postgresql(catalog: Catalog) -> None:
    columns = {c.name: c for c in catalog.tables["public.bookings"].columns}
    assert list(columns) == [
        "id",
        "tenant_id",
        "parent_id",
        "status",
        "statuses",
        "phone",
        "amount",
        "tags",
        "nights",
        "stay",
        "external_ref",
    ]
    assert columns["amount"].type == "numeric(12,2)"
    assert columns["tags"].type == "text[]"
    assert columns["tags"].default == "'{}'::text[]"
    assert columns["status"].type == "booking_status"
    assert columns["status"].default == "'pending'::booking_status"
    assert columns["phone"].type == "e164_phone"
    assert columns["id"].identity == "ALWAYS" and not columns["id"].nullable
    assert columns["nights"].generated == "COALESCE(array_length(tags, 1), 0)"
    assert columns["nights"].generated_kind == "STORED" and columns["nights"].default is None
    assert columns["external_ref"].comment == "MotoPress booking id.\nKept as text."
    assert catalog.tables["public.bookings"].types == ("booking_status", "e164_phone")
    status, phone = catalog.types["booking_status"], catalog.types["e164_phone"]
    assert status.labels == ("pending", "confirmed", "cancelled")
    assert phone.kind == "domain" and phone.base_type == "text" and phone.not_null
    assert phone.checks == ("CHECK (VALUE ~ '^\\+[1-9][0-9]{7,14}$'::text)",)
    assert phone.comment == "A phone number in E.164 form"


def test_constraints_as_postgresql_prints_them(catalog: Catalog) -> None:
    bookings = catalog.tables["public.bookings"]
    kinds = {c.name: (c.kind, c.definition) for c in bookings.constraints}
    assert kinds == {
        "bookings_pkey": ("primary key", "PRIMARY KEY (id)"),
        "bookings_amount_check": ("check", "CHECK (amount >= 0::numeric)"),
        "bookings_external_ref_key": ("unique", "UNIQUE (tenant_id, external_ref)"),
        "bookings_no_overlap": ("exclusion", "EXCLUDE USING gist (stay WITH &&)"),
    }  # NOT NULL constraints (pg_constraint contype 'n' on PostgreSQL 18) are not checks
    assert bookings.primary_key is not None and bookings.primary_key.columns == ("id",)
    overlap = next(c for c in bookings.constraints if c.kind == "exclusion")
    assert overlap.comment == "No double booking"
    assert catalog.tables["public.audit_log"].primary_key is None


def test_foreign_keys_both_ways_with_every_clause(catalog: Catalog) -> None:
    payments = catalog.tables["public.payments"]
    (fk,) = payments.foreign_keys
    assert (fk.on_delete, fk.on_update, fk.match) == ("SET NULL", "CASCADE", "FULL")
    assert fk.deferrable and fk.deferred
    assert fk.definition == (
        "FOREIGN KEY (booking_id) REFERENCES bookings(id) MATCH FULL "
        "ON UPDATE CASCADE ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED"
    )
    bookings = catalog.tables["public.bookings"]
    incoming = {(f.table, f.columns, f.ref_columns) for f in bookings.referenced_by}
    assert incoming == {
        ("public.bookings", ("parent_id",), ("id",)),
        ("public.payments", ("booking_id",), ("id",)),
    }
    assert {f.ref_table for f in bookings.foreign_keys} == {"public.tenants", "public.bookings"}


def test_indexes(catalog: Catalog) -> None:
    indexes = {i.name: i for i in catalog.tables["public.bookings"].indexes}
    assert next(iter(indexes)) == "bookings_pkey"
    assert indexes["bookings_pkey"].primary and indexes["bookings_pkey"].constraint == "bookings_pkey"
    partial = indexes["bookings_status_idx"]
    assert partial.partial and not partial.expression and partial.comment == "Open bookings per status"
    assert partial.definition == (
        "CREATE INDEX bookings_status_idx ON public.bookings USING btree (status) "
        "WHERE (status <> 'cancelled'::booking_status)"
    )
    assert indexes["bookings_lower_ref_idx"].expression
    assert indexes["bookings_external_ref_key"].unique
    assert indexes["bookings_external_ref_key"].columns == ("tenant_id", "external_ref")
    assert indexes["bookings_no_overlap"].method == "gist"


def test_rls_and_policies(catalog: Catalog) -> None:
    bookings = catalog.tables["public.bookings"]
    assert bookings.rls_enabled and bookings.rls_forced
    policies = {p.name: p for p in bookings.policies}
    assert list(policies) == ["no deletes", "read_all", "tenant_isolation"]
    tenant = policies["tenant_isolation"]
    assert tenant.permissive and tenant.command == "ALL" and tenant.roles == ("dbschema_app",)
    assert tenant.using == tenant.check
    assert "current_setting('app.tenant_id'::text, true)" in (tenant.using or "")
    assert tenant.comment == "Each hotel sees its own bookings"
    no_deletes = policies["no deletes"]
    assert not no_deletes.permissive and no_deletes.command == "DELETE"
    assert no_deletes.roles == ('"Dbschema Auditor"', "dbschema_app")
    assert no_deletes.using == "false" and no_deletes.check is None
    assert policies["read_all"].roles == ("public",)
    assert catalog.tables["public.locked"].rls_enabled and not catalog.tables["public.locked"].policies
    door = catalog.tables["public.open_door"]
    assert not door.rls_enabled and door.policies[0].command == "INSERT"


def test_triggers(catalog: Catalog) -> None:
    triggers = {t.name: t for t in catalog.tables["public.bookings"].triggers}
    assert {n: t.enabled for n, t in triggers.items()} == {
        "bookings_always": "always",
        "bookings_check": "enabled",
        "bookings_off": "disabled",
        "bookings_replica": "replica",
        "bookings_touch": "enabled",
    }
    assert triggers["bookings_check"].is_constraint
    assert triggers["bookings_touch"].comment == "Keeps updated_at current"
    assert triggers["bookings_touch"].definition == (
        "CREATE TRIGGER bookings_touch BEFORE UPDATE ON bookings FOR EACH ROW EXECUTE FUNCTION touch()"
    )


def test_partitions_and_views(catalog: Catalog) -> None:
    events = catalog.tables["public.events"]
    assert events.partition_key == "RANGE (at)"
    assert [(p.name, p.bound) for p in events.partitions] == [
        ("events_2026", "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"),
        ("events_old", "DEFAULT"),
    ]
    assert events.row_estimate == 500
    assert events.total_bytes == sum(p.total_bytes for p in events.partitions)
    child = catalog.tables["public.events_2026"]
    assert (child.parent, child.partition_bound) == ("events", events.partitions[0].bound)
    view = catalog.tables["public.open_bookings"]
    assert view.comment == "Bookings waiting for confirmation"
    assert "status = 'pending'::booking_status" in (view.view_definition or "")  # PG 15 qualifies it
    assert [c.name for c in view.columns] == ["id", "tenant_id"]
    assert catalog.tables["public.booking_counts"].view_definition


def test_catalog_round_trips_through_json(catalog: Catalog) -> None:
    text = catalog.to_json()
    assert Catalog.from_json(text) == catalog
    assert Catalog.from_json(text).to_json() == text


def test_sizes_print_like_pg_size_pretty(sections_url: str) -> None:
    samples = [
        0,
        1,
        10239,
        10240,
        10751,
        10752,
        1048575,
        10485759,
        10485760,
        20971519,
        20971520,
        1073741824,
        5 * 10**12,
        9 * 10**15,
        2**62,
    ]
    engine = sa.create_engine(parse_url(sections_url))
    with engine.connect() as conn:
        expected = (
            conn.execute(
                sa.text("SELECT pg_size_pretty(n) FROM unnest(CAST(:n AS bigint[])) AS n"),
                {"n": samples},
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert [size(n) for n in samples] == expected


def _count_statements(url: str, tables: int) -> int:
    refs = [TableRef(None, f"t{i}") for i in range(tables)]
    engine = create_engine(parse_url(url), SessionSettings())
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with engine.connect() as conn:
        before = len(statements)  # the dialect's own start-up queries
        catalog = read_catalog(conn, refs)
    engine.dispose()
    assert len(catalog.tables) == tables
    return len(statements) - before


def test_statement_count_does_not_grow_with_tables(make_db) -> None:  # type: ignore[no-untyped-def]
    sql = "\n".join(
        f"CREATE TABLE t{i} (id int PRIMARY KEY, parent int REFERENCES t{max(i - 1, 0)}, "
        f"note text CHECK (note <> ''));\nCREATE INDEX ON t{i} (note);"
        for i in range(200)
    )
    url = make_db(sql + "\nINSERT INTO t0 SELECT g, NULL, 'n' FROM generate_series(1, 20) g;")
    # One per object kind: resolve, relations, columns, types, indexes, policies, triggers,
    # partitions, rules, sequences, functions, database (API schemas, extensions), graph
    # and constraints.
    assert _count_statements(url, 10) == _count_statements(url, 200) == 14
    # BEGIN, fourteen catalog queries, then SAVEPOINT, all sample rows, RELEASE.
    assert _round_trips(url, 10) == _round_trips(url, 200) == 18


def _round_trips(url: str, tables: int) -> int:
    """Server round trips of the catalog read plus every table's sample rows, counted by
    libpq's own protocol trace (every ReadyForQuery ends one)."""
    refs = [TableRef(None, f"t{i}") for i in range(tables)]
    engine = create_engine(parse_url(url), SessionSettings())
    with engine.connect() as conn, tempfile.TemporaryFile() as trace:
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        driver.pgconn.trace(trace.fileno())
        catalog = read_catalog(conn, refs)
        samples = read_samples(conn, [(table, 5) for table in catalog.tables.values()], catalog.role)
        driver.pgconn.untrace()
        trace.seek(0)
        trips = sum(1 for line in trace.read().decode().splitlines() if "\tReadyForQuery\t" in line)
    engine.dispose()
    assert len(samples["public.t0"].rows) == 5 and samples["public.t1"].note == "the table is empty"
    return trips


def test_session_is_read_only_and_bounded(sections_url: str) -> None:
    engine = create_engine(parse_url(sections_url), SessionSettings(statement_timeout=1234, lock_timeout=567))
    with engine.connect() as conn:
        settings = conn.execute(
            sa.text(
                "SELECT current_setting('transaction_read_only'), current_setting('statement_timeout'), "
                "current_setting('lock_timeout'), current_setting('application_name'), "
                "current_setting('jit')"
            )
        ).one()
        assert tuple(settings) == ("on", "1234ms", "567ms", "mkdocs-dbschema", "off")
        with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
            conn.execute(sa.text("CREATE TABLE nope (id int)"))
    engine.dispose()


def test_foreign_tables_have_cards(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE EXTENSION file_fdw; CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;"
        "CREATE FOREIGN TABLE rates_feed (room text, price numeric(12,2)) SERVER files "
        "OPTIONS (filename '/dev/null', format 'csv');"
        "COMMENT ON FOREIGN TABLE rates_feed IS 'Nightly rates file from the PMS';"
    )
    table = read(url, "rates_feed").tables["public.rates_feed"]
    assert (table.kind, table.comment) == ("foreign table", "Nightly rates file from the PMS")
    assert [(c.name, c.type) for c in table.columns] == [("room", "text"), ("price", "numeric(12,2)")]


def test_search_path_cannot_smuggle_session_options(sections_url: str) -> None:
    hostile = "public\t-c\tdefault_transaction_read_only=off"
    engine = create_engine(parse_url(sections_url), SessionSettings(search_path=hostile))
    # The whole string is one search_path value: the server rejects it, nothing else is set.
    with pytest.raises(sa.exc.OperationalError, match='invalid value for parameter "search_path"'):
        engine.connect()
    engine.dispose()
    spaced = create_engine(parse_url(sections_url), SessionSettings(search_path="ops, public"))
    with spaced.connect() as conn:
        assert conn.execute(sa.text("SHOW search_path")).scalar() == "ops, public"
    spaced.dispose()


def _renderer(folder: Path, templates: dict[str, str]) -> CardRenderer:
    folder.mkdir()
    for name, text in templates.items():
        (folder / name).write_text(text, "utf-8")
    return CardRenderer(RenderOptions(), [folder])


def test_a_broken_template_names_its_file_and_line(catalog: Catalog, tmp_path: Path) -> None:
    tenants = catalog.tables["public.tenants"]
    syntax = _renderer(
        tmp_path / "syntax", {"card.md.j2": "# {{ table.display }}\n\n{% if table.comment %}\n"}
    )
    message = f"template {tmp_path / 'syntax' / 'card.md.j2'}, line 3: Unexpected end of template."
    with pytest.raises(TemplateProblem, match="^" + re.escape(message)):
        syntax.check_templates()  # at once, before any page
    with pytest.raises(TemplateProblem, match="^" + re.escape(message)):
        syntax.table_card(tenants, catalog, None)
    runtime = _renderer(
        tmp_path / "runtime",
        {
            "card.md.j2": '{% import "parts.md.j2" as parts %}\n# {{ table.display }}\n{{ parts.rows(table) }}\n',
            "parts.md.j2": "{% macro rows(t) %}\n\n{{ t.row_count }}\n{% endmacro %}\n",
            "notice.md.j2": "{{ 1 // 0 }}\n",
        },
    )
    runtime.check_templates()  # they compile
    with pytest.raises(
        TemplateProblem, match=re.escape(f"{tmp_path / 'runtime' / 'parts.md.j2'}, line 3: ")
    ) as error:
        runtime.table_card(tenants, catalog, None)
    assert "has no attribute 'row_count'" in str(error.value)
    with pytest.raises(TemplateProblem, match=r"notice.md.j2, line 1: ZeroDivisionError: integer division"):
        runtime.notice("failure", "title", "message")
    missing = _renderer(tmp_path / "missing", {"card.md.j2": '\n{% include "header.md.j2" %}\n'})
    with pytest.raises(TemplateProblem, match=r"card.md.j2, line 2: template 'header.md.j2' not found"):
        missing.table_card(tenants, catalog, None)


def test_template_files_that_override_nothing_are_listed(catalog: Catalog, tmp_path: Path) -> None:
    renderer = _renderer(
        tmp_path / "t",
        {
            "cards.md.j2": "typo",
            "notice.md.j2": '{% include "box.md.j2" %}',
            "box.md.j2": "BOX {{ title }}",  # included: not a typo
            "unrelated.md.j2": "x",
            "migration-order.md.j2": "x",
            "README.md": "not a template",
        },
    )
    assert renderer.unknown_templates() == {
        "cards.md.j2": "card.md.j2",
        "migration-order.md.j2": "migration_order.md.j2",
        "unrelated.md.j2": None,
    }
    assert renderer.notice("failure", "T", "m") == "BOX T"
    card = renderer.table_card(catalog.tables["public.tenants"], catalog, None)
    assert "## tenants" in renderer.blocks.pasted(card)
    assert renderer.packaged_templates() == [
        "advisors.md.j2",
        "card.md.j2",
        "coverage.md.j2",
        "erd.md.j2",
        "extensions.md.j2",
        "macros.md.j2",
        "migration_order.md.j2",
        "notice.md.j2",
        "plan.md.j2",
        "summary.md.j2",
        "tables.md.j2",
    ]
