"""read_overview on a real database: every relation of the documented schemas, in one statement."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from mkdocs_dbschema.catalog.connection import SessionSettings, create_engine, parse_url
from mkdocs_dbschema.catalog.model import Catalog, ColumnSummary, ForeignKeySummary
from mkdocs_dbschema.catalog.overview import read_overview

SCHEMA = """
CREATE SCHEMA ops;
CREATE TABLE tenants (tenant_id int PRIMARY KEY, slug text NOT NULL UNIQUE);
COMMENT ON TABLE tenants IS 'One row per hotel. More text.';
COMMENT ON COLUMN tenants.slug IS 'URL name';
CREATE TABLE rooms (
    tenant_id int NOT NULL REFERENCES tenants,
    room_no int NOT NULL,
    label text,
    PRIMARY KEY (tenant_id, room_no)
);
CREATE TABLE bookings (
    id bigint PRIMARY KEY,
    tenant_id int NOT NULL,
    room_no int,
    made_at timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, room_no) REFERENCES rooms (tenant_id, room_no)
);
CREATE UNIQUE INDEX bookings_made_at_key ON bookings (made_at, tenant_id);
CREATE UNIQUE INDEX bookings_partial ON bookings (room_no) WHERE room_no > 0;
CREATE TABLE events (id int, tenant_id int REFERENCES tenants, at date NOT NULL, PRIMARY KEY (id, at))
    PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
INSERT INTO tenants SELECT g, 't' || g FROM generate_series(1, 3) g;
INSERT INTO events SELECT g, 1, DATE '2026-03-01' + g FROM generate_series(1, 400) g;
CREATE TABLE "Odd Name" ("Weird Col" int, event_id int, event_at date,
    FOREIGN KEY (event_id, event_at) REFERENCES events (id, at));
CREATE TABLE "reservación" (id int PRIMARY KEY, "habitación" int REFERENCES tenants);
CREATE VIEW open_bookings AS SELECT id, tenant_id FROM bookings;
CREATE MATERIALIZED VIEW booking_counts AS SELECT tenant_id, count(*) FROM bookings GROUP BY 1;
CREATE TABLE archived_bookings (note text) INHERITS (bookings);
CREATE TABLE ops.jobs (id int PRIMARY KEY, tenant_id int REFERENCES public.tenants);
-- A partitioned table referencing a partitioned table: every partition gets clones.
CREATE TABLE event_notes (event_id int NOT NULL, event_at date NOT NULL, note text,
    FOREIGN KEY (event_id, event_at) REFERENCES events (id, at)) PARTITION BY LIST (note);
CREATE TABLE event_notes_a PARTITION OF event_notes FOR VALUES IN ('a');
CREATE TABLE event_notes_b PARTITION OF event_notes FOR VALUES IN ('b');
"""


@contextmanager
def connection(url: str) -> Iterator[sa.Connection]:
    engine = create_engine(parse_url(url), SessionSettings())
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def oid_of(conn: sa.Connection, name: str) -> int:
    return int(conn.execute(sa.text("SELECT CAST(CAST(:n AS regclass) AS oid)"), {"n": name}).scalar_one())


def test_reads_every_relation_of_the_documented_schemas(make_db: Callable[..., str]) -> None:
    url = make_db(SCHEMA)
    with connection(url) as conn:
        overview = read_overview(conn, [oid_of(conn, "tenants")])
        on_path = read_overview(conn)
        with_ops = read_overview(conn, [oid_of(conn, "tenants")], ["ops"])
    # Partitions folded into their root; pg_toast never; ops only when asked for.
    assert list(overview) == [
        'public."Odd Name"',
        'public."reservación"',
        "public.archived_bookings",
        "public.booking_counts",
        "public.bookings",
        "public.event_notes",
        "public.events",
        "public.open_bookings",
        "public.rooms",
        "public.tenants",
    ]
    assert on_path == overview  # no tables given: the schemas on the search_path
    assert set(with_ops) == {*overview, "ops.jobs"}
    assert with_ops["ops.jobs"].display == "ops.jobs"

    tenants = overview["public.tenants"]
    assert (tenants.kind, tenants.comment, tenants.row_estimate) == (
        "table",
        "One row per hotel. More text.",
        3,
    )
    assert tenants.total_bytes > 0
    assert tenants.columns == (
        ColumnSummary(name="tenant_id", type="integer", nullable=False, primary_key=True),
        ColumnSummary(name="slug", type="text", nullable=False, comment="URL name", unique=True),
    )
    assert tenants.unique_keys == (("tenant_id",), ("slug",))

    events = overview["public.events"]
    assert events.kind == "partitioned table"
    assert events.row_estimate == 400  # summed over its partitions
    assert events.total_bytes >= 2 * 8192
    assert events.unique_keys == (("id", "at"),)
    assert [fk.ref_table for fk in events.foreign_keys] == ["public.tenants"]  # not once per partition
    notes = overview["public.event_notes"]
    assert notes.foreign_keys == (
        ForeignKeySummary(
            name="event_notes_event_id_event_at_fkey",
            columns=("event_id", "event_at"),
            ref_table="public.events",
            ref_schema="public",
            ref_name="events",
            ref_columns=("id", "at"),
        ),
    )

    bookings = overview["public.bookings"]
    # The partial unique index identifies nothing in general; the plain one does.
    assert bookings.unique_keys == (("id",), ("made_at", "tenant_id"))
    assert [(c.name, c.primary_key, c.unique) for c in bookings.columns] == [
        ("id", True, False),
        ("tenant_id", False, True),
        ("room_no", False, False),
        ("made_at", False, True),
    ]
    (multi,) = bookings.foreign_keys
    assert (multi.columns, multi.ref_table, multi.ref_columns) == (
        ("tenant_id", "room_no"),
        "public.rooms",
        ("tenant_id", "room_no"),
    )
    assert bookings.columns[3].type == "timestamp with time zone"

    odd = overview['public."Odd Name"']
    assert (odd.schema, odd.name, odd.display) == ("public", "Odd Name", '"Odd Name"')
    assert odd.columns[0].name == "Weird Col"
    assert odd.foreign_keys[0].ref_table == "public.events"
    accented = overview['public."reservación"']
    assert accented.foreign_keys[0].columns == ("habitación",)

    view = overview["public.open_bookings"]
    assert (view.kind, view.row_estimate, view.total_bytes) == ("view", None, 0)
    assert [c.name for c in view.columns] == ["id", "tenant_id"]
    assert overview["public.booking_counts"].kind == "materialized view"
    child = overview["public.archived_bookings"]
    assert child.parent == "public.bookings" and child.kind == "table"
    assert overview["public.bookings"].parent is None


def test_unanalyzed_tables_have_no_estimate(make_db: Callable[..., str]) -> None:
    url = make_db(
        "CREATE TABLE fresh (id int); CREATE TABLE parts (id int) PARTITION BY RANGE (id);"
        "CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (0) TO (10);",
        analyze=False,
    )
    with connection(url) as conn:
        overview = read_overview(conn)
    assert overview["public.fresh"].row_estimate is None
    assert overview["public.parts"].row_estimate is None


def test_catalog_with_an_overview_round_trips_through_json(make_db: Callable[..., str]) -> None:
    url = make_db(SCHEMA)
    with connection(url) as conn:
        catalog = Catalog(
            server_version="18", database="x", search_path="public", overview=read_overview(conn)
        )
    assert Catalog.from_json(catalog.to_json()) == catalog


def many_tables(count: int) -> str:
    statements = ["CREATE TABLE t0 (id int PRIMARY KEY, note text);"]
    for i in range(1, count):
        statements.append(
            f"CREATE TABLE t{i} (id int PRIMARY KEY, parent_id int REFERENCES t{i - 1}, "
            f"a int, b int, UNIQUE (a, b)); COMMENT ON TABLE t{i} IS 'Table {i}.';"
        )
    return "\n".join(statements)


def statements_run(url: str) -> tuple[int, int]:
    """Statements read_overview sends, and the tables it returns."""
    engine = create_engine(parse_url(url), SessionSettings())
    sent: list[str] = []
    try:
        with engine.connect() as conn:
            sa.event.listen(conn, "before_cursor_execute", lambda *args: sent.append(args[2]))
            overview = read_overview(conn)
    finally:
        engine.dispose()
    return len(sent), len(overview)


def test_one_statement_however_many_tables(make_db: Callable[..., str]) -> None:
    assert statements_run(make_db(many_tables(10))) == (1, 10)
    assert statements_run(make_db(many_tables(40))) == (1, 40)
