"""`mkdocs-dbschema check`: every directive and the advisors, no site written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import load, run, site

pytestmark = pytest.mark.embedded_only

SCHEMA = """
CREATE TABLE tenants (id int PRIMARY KEY);
CREATE TABLE bookings (id int PRIMARY KEY, tenant_id int REFERENCES tenants);
CREATE TABLE loose (note text);
"""
GOOD = "# Tables\n\n<< table: bookings >>\n\n<< table: tenants >>\n"


def test_a_clean_site_passes_and_writes_nothing(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(SCHEMA)
    config = site(tmp_path, {"index.md": GOOD}, {"dsn": url, "advisors": {"exposed_schemas": []}})
    result = run("check", "--site", config)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "site").exists()
    # The unindexed foreign key is a finding below ERROR: listed, with a stable id.
    assert "unindexed_foreign_key:public.bookings:" in result.stdout


def test_a_broken_directive_or_pattern_fails(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(SCHEMA)
    page = GOOD + "\n<< table: nope >>\n\n```sql\n-- explain\nSELECT * FROM missing_table\n```\n"
    config = site(tmp_path, {"index.md": page}, {"dsn": url, "advisors": {"exposed_schemas": []}})
    result = run("check", "--site", config, "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["failed"] is True
    assert any("index.md:7" in p and "no table or view named nope" in p for p in report["problems"]), report
    assert any("query pattern does not plan" in p for p in report["problems"])


def test_findings_fail_at_the_level_asked_and_a_baseline_accepts_them(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(SCHEMA)
    config = site(
        tmp_path,
        {"index.md": GOOD + "\n<< table: loose >>\n"},
        {"dsn": url, "advisors": {"exposed_schemas": []}},
    )
    strict = run("check", "--site", config, "--fail-on", "INFO", "--format", "json")
    assert strict.exit_code == 1
    findings = json.loads(strict.stdout)["findings"]
    assert findings and all(f["fails"] for f in findings)
    ids = {f["id"] for f in findings}
    assert any(i.startswith("no_primary_key:public.loose:") for i in ids)

    baseline = tmp_path / "baseline.json"
    written = run("check", "--site", config, "--fail-on", "INFO", "--write-baseline", baseline)
    assert written.exit_code == 1  # writing a baseline accepts for next time
    assert set(load(baseline)["accepted"]) == ids
    accepted = run("check", "--site", config, "--fail-on", "INFO", "--baseline", baseline)
    assert accepted.exit_code == 0, accepted.output
    # Same ids on another run: they hash what was found, nothing that moves.
    again = run("check", "--site", config, "--fail-on", "INFO", "--format", "json")
    assert {f["id"] for f in json.loads(again.stdout)["findings"]} == ids
    assert run("check", "--site", config, "--fail-on", "never").exit_code == 0


def test_check_from_a_snapshot(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(SCHEMA)
    snapshot = tmp_path / "schema.json"
    assert run("snapshot", "--dsn", url, "-o", snapshot).exit_code == 0
    config = site(tmp_path, {"index.md": GOOD + "\n<< table: nope >>\n"}, {})
    result = run("check", "--site", config, "--snapshot", snapshot, env={"DBSCHEMA_DSN": url})
    assert result.exit_code == 1
    assert "no table or view named nope" in result.stdout
    assert run("check", "--site", config, "--snapshot", snapshot, "--dsn", url).exit_code == 2


def test_an_unreachable_database_fails_in_one_line(tmp_path: Path) -> None:
    config = site(tmp_path, {"index.md": GOOD}, {})
    result = run(
        "check",
        "--site",
        config,
        "--dsn",
        "postgresql://u:Hunter2Pw@127.0.0.1:1/db",
        "--connect-timeout",
        "2",
    )
    assert result.exit_code == 1
    assert "Hunter2Pw" not in result.output + result.stderr
    assert "cannot connect" in result.output


def test_check_against_migrations_in_the_embedded_server(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "001_tenants.sql").write_text("CREATE TABLE tenants (id int PRIMARY KEY);\n", "utf-8")
    (migrations / "002_bookings.sql").write_text(
        "CREATE TABLE bookings (id int PRIMARY KEY, tenant_id int REFERENCES tenants);\n", "utf-8"
    )
    config = site(tmp_path, {"index.md": GOOD}, {"advisors": {"exposed_schemas": []}})
    result = run("check", "--site", config, "--sql", "migrations/*.sql")
    assert result.exit_code == 0, result.output
    assert "unindexed_foreign_key:public.bookings:" in result.stdout
