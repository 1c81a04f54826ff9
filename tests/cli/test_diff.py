"""`mkdocs-dbschema diff`: URLs and snapshots compared, on real databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import run
from conftest import Server

pytestmark = pytest.mark.embedded_only

BEFORE = """
CREATE TABLE tenants (id int PRIMARY KEY, slug text NOT NULL);
CREATE TABLE bookings (
    id int PRIMARY KEY,
    tenant_id int REFERENCES tenants ON DELETE CASCADE,
    note text,
    status text CHECK (status IN ('a', 'b'))
);
CREATE INDEX bookings_status_idx ON bookings (status);
ALTER TABLE bookings ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON bookings USING (tenant_id = 1);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER bookings_touch BEFORE UPDATE ON bookings FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TABLE legacy (id int);
"""

AFTER = """
CREATE TABLE tenants (id int PRIMARY KEY, slug text NOT NULL);
CREATE TABLE bookings (
    id int PRIMARY KEY,
    tenant_id int REFERENCES tenants ON DELETE RESTRICT,
    status text CHECK (status IN ('a', 'b', 'c')),
    amount numeric
);
CREATE INDEX bookings_status_idx ON bookings (status, id);
ALTER TABLE bookings ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON bookings USING (tenant_id = 2);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TABLE payments (id int PRIMARY KEY);
"""


def test_differences_are_listed_and_exit_1(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before, after = make_db(BEFORE), make_db(AFTER)
    result = run("diff", before, after)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    for expected in (
        "+ table public.payments",
        "- table public.legacy",
        "- column public.bookings.note",
        "+ column public.bookings.amount",
        "~ index public.bookings.bookings_status_idx",
        "~ foreign key public.bookings.bookings_tenant_id_fkey",
        "~ constraint public.bookings.bookings_status_check",
        "~ policy public.bookings.own",
        "- trigger public.bookings.bookings_touch",
    ):
        assert expected in lines, result.stdout
    assert "    on_delete: CASCADE -> RESTRICT" in lines
    assert "public.tenants" not in result.stdout  # unchanged
    # The database names differ; that is no schema change.
    assert not any(line.startswith("~ table public.tenants") for line in lines)

    as_json = run("diff", before, after, "--format", "json")
    assert as_json.exit_code == 1
    changes = json.loads(as_json.stdout)["changes"]
    index = next(c for c in changes if c["kind"] == "index")
    assert index["change"] == "changed" and index["table"] == "public.bookings"
    assert index["fields"]["definition"]["after"].endswith("(status, id)")


def test_no_differences_exit_0(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = make_db(BEFORE), make_db(BEFORE)
    result = run("diff", a, b)
    assert result.exit_code == 0, result.output
    assert result.stdout == "no differences\n"


def test_a_snapshot_against_a_url_reads_what_the_snapshot_holds(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before, after = make_db(BEFORE + "CREATE SCHEMA other; CREATE TABLE other.t (id int);"), make_db(AFTER)
    snapshot = tmp_path / "before.json"
    assert (
        run("snapshot", "--dsn", before, "--schema", "public", "--schema", "other", "-o", snapshot).exit_code
        == 0
    )
    result = run("diff", snapshot, after)
    assert result.exit_code == 1
    assert "- table other.t" in result.stdout.splitlines()  # `other` was read on the URL side too
    assert "+ table public.payments" in result.stdout.splitlines()
    backwards = run("diff", after, snapshot)
    assert "+ table other.t" in backwards.stdout.splitlines()
    same = run("diff", snapshot, snapshot)
    assert same.exit_code == 0


def test_statistics_are_ignored_unless_asked_for(make_db, server: Server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(BEFORE)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert run("snapshot", "--dsn", url, "-o", first).exit_code == 0
    server.psql(
        url, "-c", "INSERT INTO tenants SELECT g, 'x' || g FROM generate_series(1, 5000) g; ANALYZE tenants"
    )
    assert run("snapshot", "--dsn", url, "-o", second).exit_code == 0
    assert run("diff", first, second).exit_code == 0
    with_stats = run("diff", first, second, "--stats")
    assert with_stats.exit_code == 1
    assert "~ table public.tenants" in with_stats.stdout.splitlines()
    assert "row_estimate" in with_stats.stdout


def test_a_missing_snapshot_is_one_line(tmp_path: Path) -> None:
    result = run("diff", tmp_path / "nope.json", tmp_path / "nope2.json")
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot read snapshot") and result.output.count("\n") == 1
