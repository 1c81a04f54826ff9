"""A plan that row level security empties says why; installed extensions are listed."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from conftest import ensure_role
from sites import build


def test_a_plan_emptied_by_row_level_security_says_so(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        ensure_role("dbschema_planner", "LOGIN") + "CREATE TABLE notes (id int PRIMARY KEY, body text);"
        "ALTER TABLE notes ENABLE ROW LEVEL SECURITY;"  # no policy: the role sees nothing
        "GRANT SELECT ON notes TO dbschema_planner;"
        "CREATE TABLE open_notes (id int PRIMARY KEY); GRANT SELECT ON open_notes TO dbschema_planner;"
    )
    planner = sa.make_url(url).set(username="dbschema_planner").render_as_string(hide_password=False)
    page = (
        "```sql\n-- explain\nSELECT * FROM notes WHERE id = 1;\n```\n\n"
        "```sql\n-- explain\nSELECT * FROM open_notes WHERE id = 1;\n```\n"
    )
    result = build(tmp_path, {"index.md": page}, {"dsn": planner}, strict=True)
    assert result.returncode == 0, result.log
    text = result.text()
    assert text.count("The plan is empty: the query can return no row") == 1  # notes only
    assert "row level security" in text and "BYPASSRLS" in text


def test_installed_extensions_are_listed(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db("CREATE EXTENSION pg_trgm; CREATE TABLE t (id int PRIMARY KEY);")
    result = build(tmp_path, {"index.md": "<< table: t >>\n\n<< extensions >>\n"}, {"dsn": url}, strict=True)
    assert result.returncode == 0, result.log
    text = result.text()
    assert "pg_trgm" in text and "plpgsql" in text


def test_marker_and_bodies_options_that_are_not_understood_warn(sections_url: str, tmp_path: Path) -> None:
    page = (
        "```sql\n-- explain | function: public.touch\nSELECT 1;\n```\n\n"
        "<< table: bookings >>\n\n<< functions: public | bodies: maybe >>\n"
    )
    result = build(tmp_path, {"index.md": page}, {"dsn": sections_url})
    assert result.returncode == 0, result.log
    warnings = [x for x in result.log.splitlines() if "WARNING" in x]
    assert any(
        "index.md:1: `-- explain | function: public.touch`: the marker takes" in w for w in warnings
    ), warnings
    assert any("bodies must be yes or no, not 'maybe'" in w for w in warnings), warnings
    assert "Est. rows" in result.text()  # the pattern is still planned
