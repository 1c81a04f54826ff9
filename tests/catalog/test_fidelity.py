"""Every object a schema holds, exactly: partitions, views, rules, foreign tables,
sequences, extensions, privileges and functions, read live and shown on the card."""

from __future__ import annotations

import html
import re

import pytest
from conftest import ensure_role, read

from mkdocs_dbschema.analysis.advisors import AdvisorOptions, advise
from mkdocs_dbschema.analysis.dependencies import dependency_levels
from mkdocs_dbschema.catalog.model import Catalog
from mkdocs_dbschema.render.cards import CardRenderer, RenderOptions
from mkdocs_dbschema.render.markdown import inline_code
from mkdocs_dbschema.render.sql import incoming_sql, view_sql

PARTITIONS = """
CREATE TABLE parted (id int, k int, PRIMARY KEY (id, k)) PARTITION BY LIST (k);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES IN (2) PARTITION BY RANGE (id);
CREATE TABLE parted_2a PARTITION OF parted_2 FOR VALUES FROM (0) TO (100);
CREATE TABLE parted_2b PARTITION OF parted_2 FOR VALUES FROM (100) TO (200);
CREATE TABLE parted_other PARTITION OF parted DEFAULT;
INSERT INTO parted SELECT i, 1 + i % 2 FROM generate_series(1, 150) AS i;
CREATE INDEX parted_id_idx ON parted (id);
-- One key into the partitioned table: PostgreSQL adds a copy per referenced partition.
CREATE TABLE referrer (id int PRIMARY KEY, pid int, pk int,
    FOREIGN KEY (pid, pk) REFERENCES parted ON UPDATE CASCADE ON DELETE SET NULL);
-- A partitioned referrer: its partitions get copies too.
CREATE TABLE preferrer (id int PRIMARY KEY, pid int, pk int) PARTITION BY RANGE (id);
CREATE TABLE preferrer_1 PARTITION OF preferrer FOR VALUES FROM (0) TO (10);
ALTER TABLE preferrer ADD FOREIGN KEY (pid, pk) REFERENCES parted;
"""


@pytest.fixture(scope="module")
def parted(server) -> Catalog:  # type: ignore[no-untyped-def]
    url = server.create_database(PARTITIONS)
    try:
        return read(
            url, "parted", "parted_1", "parted_2", "parted_2a", "referrer", "preferrer", "preferrer_1"
        )
    finally:
        server.drop_database(url)


def ic(text: str) -> str:
    return str(inline_code(text))


def _card(catalog: Catalog, key: str, **kwargs: object) -> str:
    levels = dependency_levels(catalog.graph)
    renderer = CardRenderer(RenderOptions())
    card = renderer.table_card(
        catalog.tables[key],
        catalog,
        levels.get(key),
        **kwargs,  # type: ignore[arg-type]
    )
    return renderer.blocks.pasted(card)


def _text(card: str) -> str:
    """A card's text as a reader sees it (highlighted SQL as its source)."""
    return html.unescape(re.sub(r"<[^>]+>", "", card))


def test_a_key_into_a_partitioned_table_is_one_key(parted: Catalog) -> None:
    referrer = parted.tables["public.referrer"]
    assert [(f.name, f.ref_table) for f in referrer.foreign_keys] == [
        ("referrer_pid_pk_fkey", "public.parted")
    ]
    assert "IN: 0 · OUT: 1" in _card(parted, "public.referrer")
    preferrer = parted.tables["public.preferrer"]
    assert [f.ref_table for f in preferrer.foreign_keys] == ["public.parted"]
    (copy,) = parted.tables["public.preferrer_1"].foreign_keys
    assert copy.inherited and copy.ref_table == "public.parted"
    # The partitioned table is referenced once by each table.
    assert [(f.table, f.inherited) for f in parted.tables["public.parted"].referenced_by] == [
        ("public.preferrer", False),
        ("public.referrer", False),
    ]


def test_referenced_partitions_list_the_keys_reaching_them(parted: Catalog) -> None:
    for key in ("public.parted_1", "public.parted_2", "public.parted_2a"):
        incoming = parted.tables[key].referenced_by
        assert [(f.name, f.table, f.ref_table) for f in incoming] == [
            ("preferrer_pid_pk_fkey", "public.preferrer", key),
            ("referrer_pid_pk_fkey", "public.referrer", key),
        ]
        assert all(f.inherited for f in incoming)
    line = incoming_sql(parted.tables["public.parted_1"].referenced_by[1])
    assert "(referrer_pid_pk_fkey, ON DELETE SET NULL, ON UPDATE CASCADE)" in line
    assert "through the partitioned table it references" in line


def test_sub_partitions_form_a_tree_and_partitions_have_levels(parted: Catalog) -> None:
    parts = parted.tables["public.parted"].partitions
    assert [(p.name, p.depth) for p in parts] == [
        ("parted_1", 1),
        ("parted_2", 1),
        ("parted_2a", 2),
        ("parted_2b", 2),
        ("parted_other", 1),
    ]
    assert parts[1].partition_key == "RANGE (id)" and parts[1].row_estimate == 75
    card = _card(parted, "public.parted")
    assert f"└ {ic('parted_2a')}</td>" in card and f"(by {ic('RANGE (id)')})" in card
    levels = dependency_levels(parted.graph)
    assert levels["public.parted"].level == 0
    assert levels["public.parted_1"].level == 1 and levels["public.parted_2a"].level == 2
    assert "Dependency Level:</strong> 2" in _card(parted, "public.parted_2a")
    assert parted.tables["public.parted_2a"].root == "public.parted"


def test_a_partitioned_index_size_sums_its_partitions(parted: Catalog) -> None:
    (index,) = [i for i in parted.tables["public.parted"].indexes if i.name == "parted_id_idx"]
    assert index.partitioned and index.size_bytes >= 4 * 8192  # four leaf indexes, one page or more each


def test_keys_declared_on_partitions_belong_to_the_partitioned_table(pagila_url: str) -> None:
    catalog = read(pagila_url, "payment", "customer", "payment_p2022_01")
    payment = catalog.tables["public.payment"]
    assert sorted(f.ref_table for f in payment.foreign_keys) == [
        "public.customer",
        "public.rental",
        "public.staff",
    ]
    # pagila declares them on six of its seven partitions.
    assert all(len(f.declared_on) == 6 for f in payment.foreign_keys)
    assert "IN: 0 · OUT: 3" in _card(catalog, "public.payment")
    # The partitions' keys reach customer as one key of payment, naming the partitions.
    from_payment = [f for f in catalog.tables["public.customer"].referenced_by if "payment" in f.table]
    assert [(f.table, len(f.declared_on)) for f in from_payment] == [("public.payment", 6)]
    assert "declared on its partitions payment_p2022_01" in incoming_sql(from_payment[0])
    # A partition's own card keeps its own keys.
    assert len(catalog.tables["public.payment_p2022_01"].foreign_keys) == 3
    # No unindexed_foreign_key finding for keys that live on the partitions.
    advised = advise(catalog, AdvisorOptions(exposed_schemas=()))["public.payment"]
    assert "unindexed_foreign_key" not in {f.advisor for f in advised}


OBJECTS = """
CREATE EXTENSION file_fdw;
CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE rates_feed (room text, price numeric) SERVER files
    OPTIONS (filename '/dev/null', format 'csv');
CREATE TABLE codes (id serial PRIMARY KEY, code text COLLATE "C" NOT NULL, label text,
    seq bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 5 CYCLE));
CREATE VIEW invoker_codes WITH (security_invoker = true, security_barrier = true) AS
    SELECT id, code FROM codes WHERE id > 0 WITH LOCAL CHECK OPTION;
CREATE VIEW plain_codes AS SELECT id FROM codes;
CREATE TABLE codes_log (id int, note text);
CREATE RULE log_codes AS ON INSERT TO codes DO ALSO INSERT INTO codes_log VALUES (NEW.id, NEW.code);
COMMENT ON RULE log_codes ON codes IS 'Audit trail';
CREATE TABLE nothing ();
CREATE FUNCTION label_of(id int) RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'c' || id $$;
CREATE FUNCTION check_code(c text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE
    SET search_path = '' AS $$ BEGIN RETURN c <> ''; END $$;
COMMENT ON FUNCTION check_code(text) IS 'Codes are never empty';
CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN INSERT INTO codes_log VALUES (NEW.id, 'stamped'); RETURN NEW; END $$;
CREATE PROCEDURE unused_proc() LANGUAGE sql AS $$ SELECT 1 $$;
ALTER TABLE codes ALTER COLUMN label SET DEFAULT label_of(0);
ALTER TABLE codes ADD CONSTRAINT codes_code_check CHECK (check_code(code));
CREATE TRIGGER codes_stamp AFTER INSERT ON codes FOR EACH ROW EXECUTE FUNCTION stamp();
"""


@pytest.fixture(scope="module")
def objects(server) -> tuple[Catalog, str]:  # type: ignore[no-untyped-def]
    url = server.create_database(
        ensure_role("dbschema_grantee") + OBJECTS + "GRANT SELECT ON codes TO dbschema_grantee;"
        "GRANT UPDATE (label) ON codes TO dbschema_grantee;"
    )
    try:
        names = ("codes", "invoker_codes", "plain_codes", "rates_feed", "nothing", "codes_log")
        return read(url, *names), url
    finally:
        server.drop_database(url)


def test_collation_view_options_and_views_without_keys(objects: tuple[Catalog, str]) -> None:
    catalog, _ = objects
    code = next(c for c in catalog.tables["public.codes"].columns if c.name == "code")
    assert code.collation == '"C"'
    assert ic('text COLLATE "C"') in _card(catalog, "public.codes")
    view = catalog.tables["public.invoker_codes"]
    assert view.option("security_invoker") == "true" and view.option("check_option") == "local"
    statement = view_sql(view)
    assert statement.startswith(
        "CREATE VIEW invoker_codes WITH (security_invoker=true, security_barrier=true) AS"
    )
    assert statement.endswith("\n  WITH LOCAL CHECK OPTION;")
    card = _card(catalog, "public.plain_codes")
    assert "no comment on this view" in card and "no comment on this table" not in card
    assert "Foreign Keys" not in card and "IN: " not in card


def test_foreign_table_server_and_options(objects: tuple[Catalog, str]) -> None:
    catalog, _ = objects
    feed = catalog.tables["public.rates_feed"]
    assert feed.foreign_server == "files (file_fdw)"
    assert feed.foreign_options == ("filename '/dev/null'", "format 'csv'")
    card = _card(catalog, "public.rates_feed")
    assert f"<strong>Server:</strong> {ic('files (file_fdw)')}" in card and ic("filename '/dev/null'") in card
    assert "no comment on this foreign table" in card


def test_rules_and_a_table_without_columns(objects: tuple[Catalog, str]) -> None:
    catalog, _ = objects
    (rule,) = catalog.tables["public.codes"].rules
    assert (rule.name, rule.event, rule.instead, rule.comment) == (
        "log_codes",
        "INSERT",
        False,
        "Audit trail",
    )
    assert rule.definition.startswith("CREATE RULE log_codes AS\n    ON INSERT TO codes DO")
    card = _card(catalog, "public.codes")
    assert "-- Purpose: Audit trail\nCREATE RULE log_codes" in _text(card)
    assert catalog.tables["public.plain_codes"].rules == ()  # a view's _RETURN rule is its definition
    empty = _card(catalog, "public.nothing")
    assert "No columns." in empty and "| Column |" not in empty


def test_sequences_never_show_their_current_value(objects: tuple[Catalog, str]) -> None:
    catalog, _ = objects
    sequences = {s.column: s for s in catalog.tables["public.codes"].sequences}
    assert sequences["id"].name == "codes_id_seq" and sequences["id"].ownership == "owned"
    assert (sequences["id"].type, sequences["id"].start, sequences["id"].increment) == ("integer", 1, 1)
    seq = sequences["seq"]
    assert (seq.ownership, seq.type, seq.start, seq.increment, seq.cycle) == (
        "identity",
        "bigint",
        100,
        5,
        True,
    )
    assert seq.max_value == 2**63 - 1
    assert "last_value" not in catalog.to_json()
    row = f"<td>{ic('codes_seq_seq')} (identity)</td>\n<td>{ic('seq')}</td>\n<td>{ic('bigint')}</td>\n<td>100</td>\n<td>5</td>"
    assert row in _card(catalog, "public.codes")


def test_privileges_per_role(objects: tuple[Catalog, str]) -> None:
    catalog, _ = objects
    codes = catalog.tables["public.codes"]
    assert codes.grants == ("dbschema_grantee: SELECT",)
    label = next(c for c in codes.columns if c.name == "label")
    assert label.grants == ("dbschema_grantee: UPDATE",)
    card = _card(catalog, "public.codes")
    assert "<li>dbschema&#95;grantee&#58; SELECT" in card
    assert f"column {ic('label')}: dbschema&#95;grantee&#58; UPDATE" in card


def test_functions_the_table_uses(objects: tuple[Catalog, str]) -> None:
    catalog, _ = objects
    codes = catalog.tables["public.codes"]
    assert codes.functions == ("public.check_code(c text)", "public.label_of(id integer)", "public.stamp()")
    check = catalog.functions["public.check_code(c text)"]
    assert (check.language, check.volatility, check.search_path, check.comment) == (
        "plpgsql",
        "IMMUTABLE",
        "''",
        "Codes are never empty",
    )
    assert check.uses("public.codes") == ["check"]
    stamp = catalog.functions["public.stamp()"]
    assert stamp.security_definer and stamp.search_path is None and stamp.body_schemas == ("public",)
    assert catalog.functions["public.label_of(id integer)"].uses("public.codes") == ["default"]
    proc = catalog.functions["public.unused_proc()"]
    assert proc.kind == "procedure" and proc.used_by == ()
    card = _card(catalog, "public.codes")
    assert (
        f"<td>{ic('stamp()')}</td>\n<td>trigger</td>\n<td>plpgsql</td>\n<td>VOLATILE</td>\n"
        "<td>SECURITY DEFINER</td>\n<td>the caller&#39;s</td>"
    ) in card
    assert f"<td>{ic('check_code(text)')}: Codes are never empty</td>\n<td>check</td>" in card


def test_extensions_and_the_new_model_round_trip(objects: tuple[Catalog, str]) -> None:
    catalog, _ = objects
    versions = {e.name: (e.schema, e.version) for e in catalog.extensions}
    assert versions["file_fdw"][0] == "public" and versions["plpgsql"][0] == "pg_catalog"
    assert Catalog.from_json(catalog.to_json()) == catalog


def test_cards_are_byte_identical_across_reads(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(PARTITIONS + OBJECTS)
    names = ("codes", "parted", "parted_2", "referrer", "invoker_codes", "rates_feed")
    first, second = read(url, *names), read(url, *names)
    assert first == second
    for key in first.tables:
        assert _card(first, key) == _card(second, key)


def test_unanalyzed_row_counts_say_how_to_fix_them(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db("CREATE TABLE fresh (id int PRIMARY KEY);", analyze=False)
    card = _card(read(url, "fresh"), "public.fresh")
    assert f"not analyzed (run {ic('ANALYZE fresh;')} for an estimate)" in card


def test_typos_get_a_did_you_mean(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE TABLE whatsapp_messages (id int); CREATE TABLE bookings (id int);"
        "CREATE SCHEMA ops; CREATE TABLE ops.invoices (id int);"
    )
    catalog = read(url, "whatsapp_mesages", "bookigns", "ops.invoics", "zzz_nothing_alike")
    assert catalog.hints == {
        "whatsapp_mesages": "whatsapp_messages",
        "bookigns": "bookings",
        "ops.invoics": "ops.invoices",
    }
    assert None not in read(url, *catalog.hints.values()).resolved.values()


def test_the_card_obeys_the_advisors(objects: tuple[Catalog, str]) -> None:
    catalog, _ = objects
    table = catalog.tables["public.codes_log"]  # no primary key
    everything = advise(catalog, AdvisorOptions(exposed_schemas=()))["public.codes_log"]
    assert "No primary key" in _card(catalog, table.key, findings=everything)
    quiet = [f for f in everything if f.advisor != "no_primary_key"]
    card = _card(catalog, table.key, findings=quiet)
    assert "No primary key" not in card and "Primary Key" in card


def test_function_bodies_only_on_request_and_redacted(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE TABLE jobs (id int PRIMARY KEY);"
        "CREATE FUNCTION ping() RETURNS trigger LANGUAGE plpgsql SET search_path = '' SET statement_timeout = '5s'"
        " AS $$ BEGIN PERFORM 'postgresql://app:s3cretpass@db.example.com/x'; RETURN NEW; END $$;"
        "CREATE TRIGGER jobs_ping AFTER INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION ping();"
    )
    catalog = read(url, "jobs")
    plain = _card(catalog, "public.jobs")
    assert "s3cretpass" not in plain and "BEGIN PERFORM" not in plain
    table = catalog.tables["public.jobs"]
    renderer = CardRenderer(RenderOptions(function_bodies=True))
    card = _text(renderer.blocks.pasted(renderer.table_card(table, catalog, None)))
    lines = [line.strip() for line in card.splitlines()]
    start = lines.index("FUNCTION ping()")
    assert lines[start : start + 6] == [
        "FUNCTION ping()",
        "RETURNS trigger",
        "LANGUAGE plpgsql VOLATILE",
        "SET search_path = ''",
        "SET statement_timeout = '5s'",
        "AS $$",
    ]
    assert "postgresql://app:***@db.example.com/x" in card and "s3cretpass" not in card


def test_a_listing_of_a_schemas_functions(objects: tuple[Catalog, str]) -> None:
    catalog, _ = objects
    listing = CardRenderer(RenderOptions()).functions(catalog, "public")
    assert listing.count("\n| <code>") == 4  # check_code, label_of, stamp, unused_proc
    assert "| procedure | sql | VOLATILE | invoker |" in listing
    assert "trigger of <code>public.codes</code>" in listing.replace("&#46;", ".").replace("&#95;", "_")
    assert CardRenderer(RenderOptions()).functions(catalog, "nowhere") == "No functions.\n"
