"""Planner statistics in snapshots: an offline build plans new query patterns as the
database the snapshot was read from would, on the embedded PostgreSQL 18.

Run on every server: the snapshot side reads pg_stats and runs pg_dump against it
(PostgreSQL 15 when DBSCHEMA_TEST_DSN is set), the offline side always restores into
the embedded PostgreSQL 18.
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

import psycopg
import pytest
from clirun import run
from sites import build

from mkdocs_dbschema.catalog.connection import SessionSettings
from mkdocs_dbschema.catalog.embedded import EmbeddedServer
from mkdocs_dbschema.collect import plan_offline
from mkdocs_dbschema.snapshot import Snapshot

SCHEMA = """
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dbschema_app_user') THEN
        CREATE ROLE dbschema_app_user NOLOGIN;
    END IF;
END $$;
CREATE TYPE booking_channel AS ENUM ('direct', 'airbnb', 'motopress');
CREATE TABLE bookings (
    id bigint PRIMARY KEY,
    tenant_id integer NOT NULL,
    status text NOT NULL,
    channel booking_channel NOT NULL DEFAULT 'direct',
    guest_email text,
    created_at timestamptz NOT NULL,
    desk_email text DEFAULT 'frontdesk@hotel-secret.example'
);
CREATE INDEX bookings_tenant_created ON bookings (tenant_id, created_at);
ALTER TABLE bookings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON bookings FOR SELECT TO dbschema_app_user USING (tenant_id = 7);
INSERT INTO bookings
SELECT g, g % 400, CASE WHEN g % 20 = 0 THEN 'cancelled' ELSE 'confirmed' END,
       CASE WHEN g % 10 = 0 THEN 'airbnb' ELSE 'direct' END::booking_channel,
       'guest' || (g % 50) || '@mail.example', timestamptz '2026-01-01' + g * interval '1 minute'
FROM generate_series(1, 20000) AS g;
"""

# Not in the snapshot's recorded plans: planned offline.
PATTERN = "SELECT * FROM bookings WHERE tenant_id = 7 AND created_at > '2026-01-05'"


@pytest.fixture(scope="module")
def production(server, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    url = server.create_database(SCHEMA)
    folder = tmp_path_factory.mktemp("planner")
    out, with_values = folder / "schema.json", folder / "values.json"
    result = run("snapshot", "--dsn", url, "--schema", "public", "--planner-stats", "-o", out)
    assert result.exit_code == 0, result.output
    args = ["--schema", "public", "--planner-stats", "--planner-values", "-o", with_values]
    result = run("snapshot", "--dsn", url, *args)
    assert result.exit_code == 0, result.output
    yield url, out, with_values
    server.drop_database(url)


def _plan_summary(article: str) -> str:
    """The one-line plan summary the page shows under its pattern."""
    return html.unescape(article.split("Plan: ", 1)[1].split("<", 1)[0])


def _live_plan(url: str, query: str) -> list[str]:
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        return [row[0] for row in conn.execute(f"EXPLAIN {query}")]  # a constant of this test


def test_the_snapshot_carries_statistics_and_ddl_without_column_values_a_rule_masks(production) -> None:  # type: ignore[no-untyped-def]
    _, out, with_values = production
    planner = Snapshot.load(out).planner
    assert planner is not None
    tables = {r.name: r for r in planner.relations}
    assert tables["bookings"].reltuples == 20000
    assert tables["bookings"].relpages > 50
    assert tables["bookings_tenant_created"].access_method == "btree"
    columns = {c.column: c for c in planner.columns}
    # By default only the values the schema itself names (enum labels) are kept.
    assert columns["channel"].most_common_vals == "{direct,airbnb}"
    assert columns["status"].n_distinct == 2 and columns["status"].most_common_vals is None
    assert columns["created_at"].histogram_bounds is None
    assert "confirmed" not in out.read_text("utf-8")
    # --planner-values: the other columns' values too, but never what a rule masks.
    valued = Snapshot.load(with_values).planner
    assert valued is not None
    columns = {c.column: c for c in valued.columns}
    assert columns["status"].most_common_vals == "{confirmed,cancelled}"
    assert columns["created_at"].histogram_bounds is not None
    assert columns["guest_email"].n_distinct == 50
    assert columns["guest_email"].most_common_vals is None
    for path in (out, with_values):
        assert "mail.example" not in path.read_text("utf-8")
        assert "frontdesk@hotel-secret.example" not in path.read_text("utf-8")  # a DEFAULT in the DDL
    assert "CREATE TABLE public.bookings" in planner.schema_sql
    assert "\\restrict" not in planner.schema_sql  # pg_dump's per-run key: the file repeats
    assert planner.roles == ("dbschema_app_user",)


def test_a_second_snapshot_of_the_unchanged_database_is_byte_identical(production, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, out, _ = production
    again = tmp_path / "again.json"
    assert run("snapshot", "--dsn", url, "--schema", "public", "--planner-stats", "-o", again).exit_code == 0
    assert again.read_bytes() == out.read_bytes()


def test_offline_plans_match_the_source_database_and_need_the_statistics(production) -> None:  # type: ignore[no-untyped-def]
    url, _, with_values = production
    snapshot = Snapshot.load(with_values)
    assert snapshot.planner is not None
    server = EmbeddedServer()
    try:
        _, plans, problems = plan_offline(
            snapshot.planner, snapshot.catalog.search_path, [PATTERN], (), SessionSettings(), server
        )
        # What a server of another build adds (attribute options, say) may not load here;
        # nothing of the documented objects may be among it.
        assert not [p for p in problems if "bookings" in p or "policy" in p or "role" in p], problems
        offline = plans[PATTERN]
        assert offline.error is None, offline.error
        assert offline.indexes == ["bookings_tenant_created"]
        live = _live_plan(url, PATTERN)
        assert "bookings_tenant_created" in live[0] + "".join(live)
        live_rows = float(live[0].split("rows=")[1].split()[0])
        assert abs(offline.nodes[0].rows - live_rows) <= max(2.0, live_rows * 0.1)

        # The control: the same schema without the statistics plans a tiny table.
        bare = dataclasses.replace(snapshot.planner, relations=(), columns=())
        uri, plans, _ = plan_offline(
            bare, snapshot.catalog.search_path, [PATTERN], (), SessionSettings(), server
        )
        assert plans[PATTERN].sequential_scans == ["public.bookings"] or plans[PATTERN].nodes[0].rows < 5
        with psycopg.connect(uri) as conn:  # and the restored file is all-zero pages, no rows
            assert conn.execute("SELECT count(*) FROM bookings").fetchone() == (0,)
    finally:
        server.stop()


def test_an_offline_site_plans_a_new_pattern_with_the_index(production, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = production
    page = f"# Bookings\n\n<< table: bookings | samples: 0 >>\n\n```sql\n-- explain\n{PATTERN}\n```\n"
    offline = build(tmp_path / "site", {"index.md": page}, {"snapshot": str(out), "embedded": False})
    assert offline.returncode == 0, offline.log
    assert "planned 1 pattern(s) offline" in offline.log
    assert "index bookings_tenant_created" in _plan_summary(offline.article())
    assert "the snapshot holds no plan" not in offline.log


def test_embedded_sql_plans_with_a_snapshots_statistics(production, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The schema from migrations, the statistics from production: `embedded_stats`."""
    _, out, _ = production
    (tmp_path / "schema.sql").write_text(SCHEMA.split("INSERT INTO")[0], "utf-8")
    page = f"<< table: bookings | samples: 0 >>\n\n```sql\n-- explain\n{PATTERN}\n```\n"
    options = {"embedded_sql": [str(tmp_path / "schema.sql")]}
    bare = build(tmp_path / "bare", {"index.md": page}, options)
    assert bare.returncode == 0, bare.log
    assert "sequential scan on bookings" in _plan_summary(bare.article())
    restored = build(tmp_path / "restored", {"index.md": page}, {**options, "embedded_stats": str(out)})
    assert restored.returncode == 0, restored.log
    assert "index bookings_tenant_created" in _plan_summary(restored.article())
    assert "20,000" in restored.text()
    missing = build(tmp_path / "missing", {"index.md": page}, {**options, "embedded_stats": "nope.json"})
    assert missing.returncode != 0
    assert "embedded_stats: no file" in missing.log


def test_a_schema_that_partly_loads_plans_what_loaded_and_lists_the_rest() -> None:
    from mkdocs_dbschema.catalog.planner import PlannerStats, RelationStats

    schema_sql = (
        "CREATE TABLE public.notes (\n    id integer PRIMARY KEY,\n    body public.no_such_type\n);\n"
        "CREATE TABLE public.events (id integer PRIMARY KEY, at timestamptz);\n"
    )
    planner = PlannerStats(
        relations=(RelationStats("public", "events", "r", 100, 20000.0, 100, "heap"),), schema_sql=schema_sql
    )
    server = EmbeddedServer()
    try:
        _, plans, problems = plan_offline(
            planner, "public", ["SELECT * FROM events WHERE id = 1"], (), SessionSettings(), server
        )
    finally:
        server.stop()
    assert problems == ['type "public.no_such_type" does not exist']  # its LINE / ^ lines left out
    assert plans["SELECT * FROM events WHERE id = 1"].indexes == ["events_pkey"]  # 20,000 rows restored
