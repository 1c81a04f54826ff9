"""`mkdocs-dbschema snapshot` and offline builds from its file, on real databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import load, run, site
from conftest import Server
from sites import build

from mkdocs_dbschema.snapshot import VERSION, Snapshot, SnapshotError

pytestmark = pytest.mark.embedded_only

PAGE = """# Tables

<< table: bookings >>

<< table: tenants >>

<< table: "Guest Notes" >>

<< table: events >>

<< table: open_bookings >>

<< table: ops."odd.name" >>

## Order

<< migration-order >>

## Advisors

<< advisors >>

## All of public

<< summary: public >>

```sql
-- explain
SELECT * FROM bookings WHERE id = '[BOOKING_ID]'
```
"""


def test_schema_snapshot_is_versioned_pretty_and_repeats_byte_for_byte(
    sections_url: str, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        result = run(
            "snapshot",
            "--dsn",
            sections_url,
            "--schema",
            "public",
            "--schema",
            "ops",
            "--samples",
            "3",
            "-o",
            out,
        )
        assert result.exit_code == 0, result.output
    assert first.read_bytes() == second.read_bytes()
    text = first.read_text("utf-8")
    assert text.startswith("{\n  ")  # pretty-printed
    data = load(first)
    assert data["format"] == "mkdocs-dbschema snapshot" and data["version"] == VERSION
    assert data["request"] == {"names": [], "schemas": ["ops", "public"]}
    tables = data["catalog"]["tables"]
    assert {"public.bookings", "public.tenants", 'ops."odd.name"', "ops.tenants"} <= set(tables)
    assert "public.events_2026" not in tables or tables["public.events"]  # partitions under their root
    # Numbers that move with use are kept apart from the structure.
    assert "row_estimate" not in tables["public.bookings"]
    assert "row_estimate" in data["stats"]["tables"]["public.bookings"]
    assert all("scans" not in index for index in tables["public.bookings"]["indexes"])
    # Progress goes to stderr, never the password.
    assert "reading schema public, schema ops" in result.stderr
    assert "wrote" in result.stderr


def test_activity_counters_are_kept_apart_when_asked_for(sections_url: str, tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        result = run("snapshot", "--dsn", sections_url, "--samples", "2", "--activity-stats", "-o", out)
        assert result.exit_code == 0, result.output
    a, b = load(first), load(second)
    assert a["catalog"] == b["catalog"]  # structure: identical, whatever the counters did
    assert "seq_scan" in a["stats"]["tables"]["public.bookings"]


def test_sample_rows_are_written_redacted(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE TABLE accounts (id int PRIMARY KEY, email text, api_key text);"
        "INSERT INTO accounts VALUES (1, 'ana.perez@example.com', 'sk_live_51HqLyjWDarjtT1zdp7dcXYZ');"
    )
    out = tmp_path / "s.json"
    result = run("snapshot", "--dsn", url, "--samples", "5", "-o", out)
    assert result.exit_code == 0, result.output
    text = out.read_text("utf-8")
    assert "ana.perez@example.com" not in text and "sk_live_51HqLyjWDarjtT1zdp7dcXYZ" not in text
    assert load(out)["samples"]["public.accounts"]["rows"]


def test_unredacted_sample_rows_are_refused(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE TABLE accounts (id int PRIMARY KEY, email text); INSERT INTO accounts VALUES (1, 'a@b.example');"
    )
    config = site(tmp_path, {"index.md": "<< table: accounts >>\n"}, {"redaction": {"enabled": False}})
    out = tmp_path / "s.json"
    result = run("snapshot", "--dsn", url, "--site", config, "-o", out)
    assert result.exit_code == 1
    assert "refusing to write unredacted sample rows" in result.output
    assert not out.exists()
    # With no sample rows there is nothing to redact.
    config = site(
        tmp_path, {"index.md": "<< table: accounts | samples: 0 >>\n"}, {"redaction": {"enabled": False}}
    )
    assert run("snapshot", "--dsn", url, "--site", config, "-o", out).exit_code == 0


@pytest.mark.parametrize("how", ["site", "schema"])
def test_offline_build_gives_the_live_cards(sections_url: str, tmp_path: Path, how: str) -> None:
    live = build(tmp_path / "live", {"index.md": PAGE}, {"dsn": sections_url}, strict=False)
    assert live.returncode == 0, live.log
    snapshot = tmp_path / "schema.json"
    if how == "site":
        config = site(tmp_path / "writer", {"index.md": PAGE}, {})
        args = ["--site", config]
    else:
        args = ["--schema", "public", "--schema", "ops", "--samples", "5"]
    result = run("snapshot", "--dsn", sections_url, *args, "-o", snapshot)
    assert result.exit_code == 0, result.output
    offline = build(tmp_path / "offline", {"index.md": PAGE}, {"snapshot": str(snapshot), "embedded": False})
    assert offline.returncode == 0, offline.log
    assert "documenting snapshot" in offline.log
    if how == "schema":  # no pattern was planned for a schema snapshot: said where it shows
        assert "the snapshot holds no plan for this pattern" in offline.log
        cut = offline.article().index('<h2 id="all-of-public"')
        assert offline.article()[:cut] == live.article()[: live.article().index('<h2 id="all-of-public"')]
    else:
        assert offline.article() == live.article()
    assert "public.tenants" in offline.text() or "tenants" in offline.text()


def test_offline_names_resolve_through_the_recorded_search_path(sections_url: str, tmp_path: Path) -> None:
    snapshot = tmp_path / "schema.json"
    assert (
        run(
            "snapshot", "--dsn", sections_url, "--schema", "public", "--schema", "ops", "-o", snapshot
        ).exit_code
        == 0
    )
    loaded = Snapshot.load(snapshot)
    from mkdocs_dbschema.catalog.names import parse_table_name

    collection = loaded.collection(
        [parse_table_name(n) for n in ("tenants", "ops.tenants", "TENANTS", "nope")]
    )
    assert collection.catalog.resolved == {
        "tenants": "public.tenants",
        "ops.tenants": "ops.tenants",
        **{k: v for k, v in collection.catalog.resolved.items() if k not in ("tenants", "ops.tenants")},
    }
    assert collection.catalog.resolved["nope"] is None
    offline = build(tmp_path / "site", {"index.md": "<< table: nope >>\n"}, {"snapshot": str(snapshot)})
    assert offline.returncode == 0
    assert "no table or view named nope" in offline.log


def test_other_format_versions_are_refused_in_one_line(sections_url: str, tmp_path: Path) -> None:
    snapshot = tmp_path / "schema.json"
    assert run("snapshot", "--dsn", sections_url, "-o", snapshot).exit_code == 0
    data = load(snapshot)
    for version, hint in ((VERSION + 1, "upgrade mkdocs-dbschema"), (0, "write it again")):
        data["version"] = version
        snapshot.write_text(json.dumps(data), "utf-8")
        with pytest.raises(SnapshotError) as caught:
            Snapshot.load(snapshot)
        message = str(caught.value)
        assert (
            "\n" not in message and f"version {version}" in message and f"reads version {VERSION}" in message
        )
        assert hint in message
        result = build(
            tmp_path / f"site{version}", {"index.md": "<< table: bookings >>\n"}, {"snapshot": str(snapshot)}
        )
        assert result.returncode == 1 and "Traceback" not in result.log
        assert f"snapshot format version {version}" in result.log


def test_a_file_without_newer_fields_loads_with_their_defaults(sections_url: str, tmp_path: Path) -> None:
    snapshot = tmp_path / "schema.json"
    assert run("snapshot", "--dsn", sections_url, "-o", snapshot).exit_code == 0
    data = load(snapshot)
    for column in data["catalog"]["tables"]["public.bookings"]["columns"]:
        del column["readable"]  # as if written before the field existed
    data["catalog"]["tables"]["public.bookings"]["a_field_from_the_future"] = 1
    snapshot.write_text(json.dumps(data), "utf-8")
    loaded = Snapshot.load(snapshot)
    assert all(c.readable for c in loaded.catalog.tables["public.bookings"].columns)


def test_a_damaged_or_foreign_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    for text, expected in (("{", "is not JSON"), ("[]", "not a mkdocs-dbschema snapshot")):
        path.write_text(text, "utf-8")
        with pytest.raises(SnapshotError, match=expected):
            Snapshot.load(path)
    with pytest.raises(SnapshotError, match="cannot read snapshot"):
        Snapshot.load(tmp_path / "missing.json")


def test_models_source_creates_the_metadata_in_the_embedded_server(tmp_path: Path) -> None:
    (tmp_path / "shopmodels.py").write_text(
        "import sqlalchemy as sa\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n"
        "class Base(DeclarativeBase):\n    pass\n"
        "class Customer(Base):\n"
        "    __tablename__ = 'customers'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    email: Mapped[str] = mapped_column(sa.String(200), unique=True)\n"
        "class Order(Base):\n"
        "    __tablename__ = 'orders'\n"
        "    __table_args__ = {'schema': 'shop'}\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    customer_id: Mapped[int] = mapped_column(sa.ForeignKey('customers.id'))\n",
        "utf-8",
    )
    out = tmp_path / "models.json"
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = run(
            "snapshot",
            "--models",
            "shopmodels:Base.metadata",
            "--schema",
            "public",
            "--schema",
            "shop",
            "-o",
            out,
        )
        bad = run("snapshot", "--models", "shopmodels:Nothing", "-o", tmp_path / "bad.json")
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    tables = load(out)["catalog"]["tables"]
    assert set(tables) == {"public.customers", "shop.orders"}
    assert [fk["ref_table"] for fk in tables["shop.orders"]["foreign_keys"]] == ["public.customers"]
    assert bad.exit_code == 1 and "has no attribute Nothing" in bad.output


def test_usage_errors_exit_2_and_help_is_everywhere(tmp_path: Path) -> None:
    for command in ((), ("snapshot",), ("diff",), ("check",)):
        result = run(*command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output
    assert run("snapshot", "-o", tmp_path / "x.json").exit_code == 2  # no source
    assert run("snapshot").exit_code == 2  # no output
    assert (
        run("snapshot", "--dsn", "postgresql://a@b/c", "--sql", "x.sql", "-o", tmp_path / "x.json").exit_code
        == 2
    )


def test_credentials_are_never_printed(server: Server, tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = sa.make_url(server.url("postgres")).set(password="Sup3rSecretPw", port=1, host="127.0.0.1")
    dsn = url.render_as_string(hide_password=False)
    result = run("snapshot", "--dsn", dsn, "--connect-timeout", "2", "-o", tmp_path / "x.json")
    assert result.exit_code == 1
    assert "Sup3rSecretPw" not in result.output + result.stderr
    assert "cannot connect" in result.output


def test_sql_files_source_loads_the_embedded_server(tmp_path: Path) -> None:
    from conftest import SECTIONS

    out = tmp_path / "sql.json"
    result = run("snapshot", "--sql", str(SECTIONS), "--schema", "ops", "-o", out)
    assert result.exit_code == 0, result.output
    assert set(load(out)["catalog"]["tables"]) == {'ops."odd.name"', "ops.tenants"}
    assert "embedded PostgreSQL with" in result.stderr
