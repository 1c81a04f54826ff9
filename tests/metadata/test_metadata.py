"""Writer metadata files: parsed with their lines, checked against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from mkdocs_dbschema.catalog.connection import SessionSettings, create_engine, parse_url
from mkdocs_dbschema.catalog.model import Catalog
from mkdocs_dbschema.catalog.names import parse_table_name
from mkdocs_dbschema.catalog.overview import read_overview
from mkdocs_dbschema.catalog.reader import read_catalog
from mkdocs_dbschema.metadata import apply, detected_key_fields, load, resolve, validate, virtual_graph

SCHEMA = """
CREATE TABLE tenants (tenant_id uuid PRIMARY KEY, name text);
CREATE TABLE listings (
    id int PRIMARY KEY,
    tenant_id uuid NOT NULL,
    airbnb_id text,
    sync_status text,
    last_synced_at timestamptz
);
CREATE INDEX listings_sync_idx ON listings (sync_status);
"""
METADATA = """\
tables:
  listings:
    purpose: Airbnb listings linked to units.
    group: Airbnb
    integration:
      api_endpoints: ["GET /calendar/ical/{listing}.ics"]
      sync_frequency: hourly
      sync_direction: two-way
      external_id_mapping: airbnb_id is the listing ID.
    key_fields:
      airbnb_id: Airbnb listing ID.
    migration_notes:
      do: [Preserve airbnb_id]
      dont: [Truncate without CASCADE]
    growth_rate: Slow
    indexing_strategy: by sync_status
    columns:
      sync_status: Outcome of the last sync.
    indexes:
      listings_sync_idx: Finds rows to retry.
    relations:
      - columns: [tenant_id]
        references: tenants
        ref_columns: [tenant_id]
        comment: enforced by the app, not the database
"""


@pytest.fixture
def catalog(make_db) -> Catalog:  # type: ignore[no-untyped-def]
    url = make_db(SCHEMA)
    engine = create_engine(parse_url(url), SessionSettings())
    try:
        with engine.connect() as conn:
            catalog = read_catalog(conn, [parse_table_name("listings")])
            overview = read_overview(conn)
    finally:
        engine.dispose()
    import dataclasses

    return dataclasses.replace(catalog, overview=overview)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_metadata_file_reads_every_field(tmp_path: Path, catalog: Catalog) -> None:
    metadata, problems = load([_write(tmp_path, "meta.yml", METADATA)], tmp_path)
    assert problems == []
    (listings,) = metadata.tables
    assert listings.purpose == "Airbnb listings linked to units." and listings.group == "Airbnb"
    assert listings.integration.api_endpoints == ("GET /calendar/ical/{listing}.ics",)
    assert listings.integration.sync_frequency == "hourly" and listings.growth_rate == "Slow"
    assert listings.migration.do == ("Preserve airbnb_id",) and listings.migration.dont == (
        "Truncate without CASCADE",
    )
    assert listings.indexes == {"listings_sync_idx": "Finds rows to retry."}
    assert validate(metadata, catalog) == []
    assert metadata.for_key("public.listings", catalog) is not None
    # A documented relation joins the dependency graph.
    assert virtual_graph(metadata, catalog) == {"public.listings": ("public.tenants",)}


def test_names_the_database_lacks_are_located(tmp_path: Path, catalog: Catalog) -> None:
    text = (
        METADATA.replace("sync_status: Outcome", "sync_state: Outcome").replace(
            "listings_sync_idx: Finds", "listings_gone_idx: Finds"
        )
        + "  nowhere:\n    purpose: x\n"
    )
    metadata, problems = load([_write(tmp_path, "meta.yml", text)], tmp_path)
    assert problems == []
    assert validate(metadata, catalog) == [
        "meta.yml:18: listings has no column 'sync_state'",
        "meta.yml:20: listings has no index 'listings_gone_idx'",
        "meta.yml:26: no table or view named nowhere in the documented schemas",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("tables:\n  listings:\n    purpose: [unclosed\n", "meta.yml:4: not valid YAML"),
        ("tables:\n  listings:\n    purpos: typo\n", "meta.yml:3: unknown field 'purpos' in table listings"),
        (
            "tables:\n  listings:\n    integration:\n      sync: hourly\n",
            "meta.yml:4: unknown field 'sync' in integration",
        ),
        (
            "tables:\n  listings:\n    relations:\n      - columns: [a]\n",
            "meta.yml:4: a relation needs columns and references",
        ),
        ("tables: [listings]\n", "meta.yml:1: tables must be a mapping"),
    ],
)
def test_malformed_files_are_located_problems(tmp_path: Path, text: str, problem: str) -> None:
    _, problems = load([_write(tmp_path, "meta.yml", text)], tmp_path)
    assert any(p.startswith(problem) for p in problems), problems


def test_a_tbls_file_reads_as_the_same_metadata(tmp_path: Path, catalog: Catalog) -> None:
    tbls = """\
dsn: postgres://ignored
comments:
  - table: listings
    tableComment: Listings from Airbnb.
    columnComments:
      airbnb_id: The listing ID.
    indexComments:
      listings_sync_idx: Retry lookups.
    labels: [airbnb, sync]
relations:
  - table: listings
    columns: [tenant_id]
    parentTable: tenants
    parentColumns: [tenant_id]
    def: app-enforced
"""
    metadata, problems = load([_write(tmp_path, ".tbls.yml", tbls)], tmp_path)
    assert problems == []
    merged = metadata.for_key("public.listings", catalog)
    assert merged is not None
    assert merged.purpose == "Listings from Airbnb." and merged.columns == {"airbnb_id": "The listing ID."}
    assert merged.labels == ("airbnb", "sync") and merged.indexes == {"listings_sync_idx": "Retry lookups."}
    assert [(r.columns, r.references, r.comment) for r in merged.relations] == [
        (("tenant_id",), "tenants", "app-enforced")
    ]
    assert validate(metadata, catalog) == []


def test_key_fields_are_detected_without_metadata() -> None:
    columns = ["id", "tenant_id", "airbnb_id", "name", "sync_status", "last_synced_at", "external_id", "uid"]
    found = {k.column: k for k in detected_key_fields(columns)}
    assert set(found) == {"tenant_id", "airbnb_id", "sync_status", "last_synced_at", "external_id", "uid"}
    assert all(k.generated for k in found.values())
    assert "preserve it exactly" in found["airbnb_id"].purpose
    # A field a writer described keeps the writer's words.
    (written, *_) = detected_key_fields(columns, [found["airbnb_id"].__class__("airbnb_id", "Listing ID.")])
    assert written.purpose == "Listing ID." and not written.generated


def test_unqualified_names_resolve_through_the_search_path(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE SCHEMA ops; CREATE SCHEMA archive; CREATE TABLE ops.jobs (id int); "
        "CREATE TABLE public.jobs (id int); CREATE TABLE ops.runs (id int); CREATE TABLE archive.runs (id int); "
        "CREATE TABLE archive.batches (id int);"
    )
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            overview = read_overview(conn, schemas=["ops", "archive"])
    finally:
        engine.dispose()
    catalog = Catalog(server_version="18", database="x", search_path="public", overview=overview)
    assert resolve("jobs", catalog) == "public.jobs"
    assert resolve("ops.jobs", catalog) == "ops.jobs"
    assert resolve("batches", catalog) == "archive.batches"  # off the path, but only one
    assert resolve("runs", catalog) is None  # off the path, in two schemas
    assert resolve("nope", catalog) is None
    metadata, _ = load([_write(tmp_path, "meta.yml", "tables:\n  runs:\n    purpose: Job runs.\n")], tmp_path)
    assert [p.split(": ", 1)[1] for p in validate(metadata, catalog)] == [
        "runs names a table in each of archive, ops: qualify it"
    ]


def test_applied_metadata_fills_the_cards_and_the_graph(tmp_path: Path, catalog: Catalog) -> None:
    metadata, _ = load([_write(tmp_path, "meta.yml", METADATA)], tmp_path)
    applied = apply(metadata, catalog)
    listings = applied.catalog.tables["public.listings"]
    assert listings.comment == "Airbnb listings linked to units."
    assert {c.name: c.comment for c in listings.columns}["sync_status"] == "Outcome of the last sync."
    assert {i.name: i.comment for i in listings.indexes}["listings_sync_idx"] == "Finds rows to retry."
    assert applied.catalog.graph["public.listings"] == ("public.tenants",)
    (documented,) = [fk for fk in applied.catalog.overview["public.listings"].foreign_keys if fk.documented]
    assert documented.ref_table == "public.tenants" and documented.columns == ("tenant_id",)
    assert applied.groups == {"public.listings": "Airbnb"}
    assert applied.tables["public.listings"].integration.sync_frequency == "hourly"
    # The database's own comments stay where no purpose is written.
    assert catalog.tables["public.listings"].comment is None
