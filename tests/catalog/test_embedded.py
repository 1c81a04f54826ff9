"""The embedded default's life cycle: reloads start clean, and nothing outlives the process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import yaml

from mkdocs_dbschema.catalog.embedded import EmbeddedServer, sql_folders


def test_a_changed_file_reloads_on_a_fresh_server(tmp_path: Path) -> None:
    # Roles are cluster-wide: a reload into the same server would fail on CREATE ROLE.
    migration = tmp_path / "001.sql"
    migration.write_text("CREATE ROLE anon NOLOGIN; CREATE TABLE t (id int);")
    embedded = EmbeddedServer()
    try:
        first, loaded = embedded.database_url([migration])
        assert loaded
        assert embedded.database_url([migration]) == (first, False)  # unchanged: no reload
        migration.write_text("CREATE ROLE anon NOLOGIN; CREATE TABLE t (id int, note text);")
        os.utime(migration, ns=(time.time_ns(), time.time_ns() + 1_000_000))
        second, loaded = embedded.database_url([migration])
        assert loaded
        with psycopg.connect(second) as conn:
            columns = conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0"
            )
            assert [row[0] for row in columns] == ["id", "note"]
    finally:
        embedded.stop()


def test_serve_watches_the_folders_globs_read(tmp_path: Path) -> None:
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    (tmp_path / "seed.sql").write_text("")
    folders = sql_folders(["supabase/migrations/*.sql", "seed.sql", "missing/*.sql"], tmp_path)
    assert folders == [tmp_path / "supabase" / "migrations", tmp_path]


def _processes(*needles: str) -> dict[int, str]:
    """Running processes whose command line holds every needle: pid → command line."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if proc.name.isdigit() and all(needle in command for needle in needles):
            found[int(proc.name)] = command
    return found


def test_sigterm_stops_the_embedded_server() -> None:
    """CI cancelling a job sends SIGTERM: the server and its folder go with the build."""
    # A short folder: PostgreSQL's socket path must stay under 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="dbs-sigterm-", dir="/tmp"))
    temp = root / "tmp"
    temp.mkdir()
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text("<< table: t >>\n")
    (root / "slow.sql").write_text("CREATE TABLE t (id int);\nSELECT pg_sleep(60);\n")
    config = {"site_name": "t", "plugins": [{"dbschema": {"embedded_sql": ["slow.sql"]}}]}
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config))
    environment = {k: v for k, v in os.environ.items() if k != "DBSCHEMA_DSN"}
    build = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "build", "-f", str(root / "mkdocs.yml")],
        env={**environment, "TMPDIR": str(temp)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not _processes("psql", str(root / "slow.sql")):  # the server runs, the load sleeps
            assert time.monotonic() < deadline and build.poll() is None, "the load never started"
            time.sleep(0.2)
        assert _processes("postgres -D", str(temp))
        build.send_signal(signal.SIGTERM)
        build.wait(timeout=60)
        deadline = time.monotonic() + 20
        while _processes("postgres -D", str(temp)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _processes("postgres -D", str(temp)) == {}
        assert list(temp.glob("mkdocs-dbschema-*")) == []  # (platformdirs leaves its runtime-UID folder)
    finally:
        build.kill()
        for pid in _processes("postgres -D", str(temp)):  # what a failure left behind
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


def test_embedded_false_stops_a_build_without_a_dsn(tmp_path: Path) -> None:
    # `dsn: !ENV [PROD_DSN]` with the secret missing in CI: fail, never document the demo.
    from sites import build

    result = build(tmp_path, {"index.md": "<< table: accommodations >>\n"}, {"embedded": False})
    assert result.returncode != 0 and "Traceback" not in result.log
    assert "no dsn and no DBSCHEMA_DSN, and embedded: false forbids the embedded server" in result.log
    assert not (tmp_path / "site" / "index.html").exists()


def test_unused_index_needs_real_activity_statistics(tmp_path: Path) -> None:
    """On a freshly loaded embedded server no index was ever scanned: no unused_index there."""
    from sites import build

    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE t (id int PRIMARY KEY, v int); CREATE INDEX t_v ON t (v);"
    )
    page = {"index.md": "<< table: t >>\n"}
    result = build(tmp_path, page, {"embedded_sql": ["schema.sql"], "activity_stats": True, "samples": 0})
    assert result.returncode == 0, result.log
    assert "unused_index" not in result.text() and "t_v" in result.text()
