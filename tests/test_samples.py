"""Sample rows on a real PostgreSQL: planted secrets never reach the site, restricted
roles get a full card and a plain note, hostile content stays text."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import Server
from sites import build

# Every string here must be absent from every file of the built site.
PLANTED = {
    "api_key": "FAKEapikey-9d8c7b6a5f4e3d2c1b0a",
    "access_token": "EAAGm0PBZCFAKEdemoTOKENxYz0123456789abcdef",
    "app_secret": "00deadbeef00deadbeef00deadbeef00",
    "password_hash": "$2b$12$FAKEhashFAKEhashFAKEhashFAKEhash",
    "phone": "+573005550177",
    "email": "juan.perez.fake@gmail.com",
    "account_name": "Hotel Caribe Secreto SAS",
    "external_id": "MOTO_58213",
    "wamid": "wamid.HBgMNTczMDA1NTUwMTc3FQIAEhggRkFLRQ",
    "ics_feed_url_token": "3f9a77c0ffee1234deadbeef5678abcd",
    "webhook_secret": "whsec_FAKEdemoWebhookSecret123456",
    "stripe": "sk_live_51FAKEdemoKey0123456789abcdef",
    "woo_key": "ck_0123456789abcdef0123456789abcdef01234567",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlLWRlbW8ifQ.ZmFrZS1zaWduYXR1cmUtZGVtbw",
    "bearer": "FAKEbearerTokenValue0987654321",
    "url_password": "hunter2-in-url",
    "nested_client_secret": "nested-client-secret-FAKE-42",
    "nested_verify": "verify-token-FAKE-77",
    "array_email": "reservas.fake@hotelcaribe.co",
    "long_token": "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LmNbVcXz",
}

SECRETS_SQL = f"""
CREATE TABLE vault (
    id int PRIMARY KEY,
    tenant_id uuid NOT NULL DEFAULT '0f8fad5b-d9cb-469f-a165-70867728950e',
    api_key text, access_token text, app_secret text, password_hash text,
    guest_phone text, contact_email text, business_account_name text,
    external_id text, wamid text, ics_feed_url text, sync_error text,
    config jsonb, notify text[], stay daterange, blob bytea, notes text
);
INSERT INTO vault VALUES (
    1, DEFAULT, '{PLANTED["api_key"]}', '{PLANTED["access_token"]}', '{PLANTED["app_secret"]}',
    '{PLANTED["password_hash"]}', '{PLANTED["phone"]}', '{PLANTED["email"]}', '{PLANTED["account_name"]}',
    '{PLANTED["external_id"]}', '{PLANTED["wamid"]}',
    'https://www.airbnb.com/calendar/ical/1234.ics?s={PLANTED["ics_feed_url_token"]}',
    'POST https://admin:{PLANTED["url_password"]}@pms.example.com/hook failed: Authorization: Bearer {PLANTED["bearer"]}; jwt {PLANTED["jwt"]}',
    '{{"auth": {{"api_key": "{PLANTED["api_key"]}", "client_secret": "{PLANTED["nested_client_secret"]}"}},
      "webhooks": [{{"secret": "{PLANTED["webhook_secret"]}", "verify_token": "{PLANTED["nested_verify"]}"}}],
      "stripe": "{PLANTED["stripe"]}", "woo": "{PLANTED["woo_key"]}", "retries": 3}}',
    ARRAY['{PLANTED["array_email"]}', 'plain'],
    '[2026-11-01,2026-11-05)', '\\x00ff10', 'token {PLANTED["long_token"]} in prose'
);
INSERT INTO vault (id, notes) SELECT i, repeat('long value ', 20) FROM generate_series(2, 9) AS i;
"""


@pytest.fixture(scope="module")
def secrets_site(server: Server, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    url = server.create_database(SECRETS_SQL)
    result = build(
        tmp_path_factory.mktemp("secrets"),
        {"index.md": "# Vault\n\n<< table: vault >>\n"},
        {"dsn": sa.make_url(url).set(password="pw-in-dsn-31337").render_as_string(hide_password=False)},
        strict=True,
    )
    yield result
    server.drop_database(url)


def test_no_planted_secret_reaches_any_file(secrets_site) -> None:  # type: ignore[no-untyped-def]
    assert secrets_site.returncode == 0, secrets_site.log
    files = [
        p
        for p in secrets_site.site.rglob("*")
        if p.is_file() and p.suffix in (".html", ".json", ".xml", ".txt")
    ]
    assert any(p.name == "search_index.json" for p in files) and any(p.name == "sitemap.xml" for p in files)
    for path in files:
        raw = path.read_text("utf-8", errors="replace")
        readable = html.unescape(html.unescape(raw))
        if path.suffix == ".json":
            readable += json.dumps(json.loads(raw), ensure_ascii=False)
        for name, secret in PLANTED.items():
            assert secret not in raw and secret not in readable, f"{name} leaked into {path}"
    for text in (secrets_site.log, *(p.read_text(errors="replace") for p in files)):
        assert "pw-in-dsn-31337" not in text


def test_redactions_are_visible_and_listed(secrets_site) -> None:  # type: ignore[no-untyped-def]
    text = secrets_site.text()
    sample = text.split("Sample Data", 1)[1]
    assert "🔒 [REDACTED]" in sample
    assert "🔒 MOTO_xxxxx" in sample and "🔒 wamid.xxxx" in sample
    assert "🔒 Account A" in sample
    assert "https://www.airbnb.com/calendar/ical/1234.ics?s=•••" in sample
    assert "0f8fad5b-d9cb-469f-a165-70867728950e" in sample  # internal uuids are kept
    listed = sample.split("Redacted:", 1)[1]
    for column, rule in [
        ("api_key", "column token"),
        ("guest_phone", "column phone"),
        ("sync_error", "http auth"),
        ("config", "JSON key secret"),
        ("notify", "email address"),
    ]:
        assert f"{column} ({rule}" in listed or f"{column} ({rule})" in listed, (column, rule)


def test_values_render_readably_and_long_ones_are_cut(secrets_site) -> None:  # type: ignore[no-untyped-def]
    sample = secrets_site.text().split("Sample Data", 1)[1]
    assert "[2026-11-01,2026-11-05)" in sample and "\\x00ff10" in sample
    assert '{"woo": "ck_[REDACTED]", "auth": "[REDACTED]"' in sample  # jsonb key order
    assert "… (+140 chars)" in sample  # 220 characters shown as 80
    assert sample.count("long value") >= 5
    assert "NULL" in sample
    rows = [line for line in secrets_site.article().split("<tbody>")[-1].split("<tr>") if "<td>" in line]
    assert len(rows) == 5  # the default, in primary-key order
    assert "ORDER BY id LIMIT 5" in sample


def test_sample_count_option_and_directive_override(server: Server, tmp_path: Path) -> None:
    url = server.create_database(
        "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 9) i;"
    )
    try:
        page = "<< table: t >>\n\n<< table: t | samples: 2 >>\n\n<< table: t | samples: 0 >>\n\n<< table: t | samples: lots >>\n"
        result = build(tmp_path, {"index.md": page}, {"dsn": url, "samples": 3})
        text = result.text()
        cards = text.split("Purpose:")[1:]
        assert "LIMIT 3" in cards[0] and "v3" in cards[0] and "v4" not in cards[0]
        assert "LIMIT 2" in cards[1] and "v2" in cards[1] and "v3" not in cards[1]
        assert "Sample Data" not in cards[2]
        assert "index.md:7: << table: t | samples: lots >>: samples must be a whole number" in result.log
    finally:
        server.drop_database(url)


def test_redaction_off_warns_on_every_build(server: Server, tmp_path: Path) -> None:
    url = server.create_database(
        "CREATE TABLE t (id int PRIMARY KEY, api_key text); INSERT INTO t VALUES (1, 'k-123');"
    )
    try:
        config = {"dsn": url, "redaction": {"enabled": False}}
        result = build(tmp_path, {"index.md": "<< table: t >>\n"}, config)
        assert result.returncode == 0
        assert "redaction is off" in result.log and "k-123" in result.text()
        assert "NOT redacted" in result.text()
        assert build(tmp_path, {"index.md": "<< table: t >>\n"}, config, strict=True).returncode != 0
        custom = {
            "dsn": url,
            "redaction": {"disable": ["token"], "column_rules": {"mine": "^api_"}},
        }
        assert "🔒 [REDACTED]" in build(tmp_path / "c", {"index.md": "<< table: t >>\n"}, custom).text()
        bad = build(
            tmp_path / "b",
            {"index.md": "<< table: t >>\n"},
            {"dsn": url, "redaction": {"disable": ["nope"]}},
        )
        assert bad.returncode != 0 and "unknown redaction rule(s) nope" in bad.log
    finally:
        server.drop_database(url)


PERMISSIONS_SQL = """
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dbschema_reader') THEN
        CREATE ROLE dbschema_reader LOGIN;
    END IF;
END $$;
CREATE TABLE no_select (id int PRIMARY KEY, secret text);
COMMENT ON TABLE no_select IS 'Nobody but the owner reads this';
CREATE TABLE some_columns (id int PRIMARY KEY, visible text, api_key text);
CREATE TABLE rls_hidden (id int PRIMARY KEY, tenant text);
ALTER TABLE rls_hidden ENABLE ROW LEVEL SECURITY;
CREATE POLICY owner_only ON rls_hidden TO postgres USING (true);
INSERT INTO no_select VALUES (1, 's');
INSERT INTO some_columns VALUES (1, 'shown', 'k-1');
INSERT INTO rls_hidden SELECT i, 't' FROM generate_series(1, 40) i;
GRANT SELECT (id, visible) ON some_columns TO dbschema_reader;
GRANT SELECT ON rls_hidden TO dbschema_reader;
"""


def test_restricted_role_gets_full_cards_and_plain_notes(server: Server, tmp_path: Path) -> None:
    url = server.create_database(PERMISSIONS_SQL)
    try:
        reader = sa.make_url(url).set(username="dbschema_reader").render_as_string(hide_password=False)
        page = "<< table: no_select >>\n\n<< table: some_columns >>\n\n<< table: rls_hidden >>\n"
        result = build(tmp_path, {"index.md": page}, {"dsn": reader})
        assert result.returncode == 0, result.log
        assert "Traceback" not in result.log
        text = result.text()
        no_select, some_columns, rls_hidden = text.split("Purpose:")[1:]
        assert "Nobody but the owner reads this" in no_select and "PRIMARY KEY (id)" in no_select
        assert "role dbschema_reader has no SELECT privilege on this table" in no_select
        assert "shown" in some_columns and "k-1" not in some_columns
        assert "Not readable by the documenting role: api_key" in some_columns
        assert (
            "row level security hides every row from role dbschema_reader (it holds about 40 rows)"
            in rls_hidden
        )
        assert "sample rows of no_select: role dbschema_reader has no SELECT privilege" in result.log
        assert "sample rows of rls_hidden: row level security hides every row" in result.log
        assert build(tmp_path / "strict", {"index.md": page}, {"dsn": reader}, strict=True).returncode != 0
    finally:
        server.drop_database(url)


def test_samples_of_views_and_empty_tables(server: Server, tmp_path: Path) -> None:
    url = server.create_database(
        "CREATE TABLE e (id int PRIMARY KEY); CREATE TABLE s (n int, t text);"
        "INSERT INTO s VALUES (2, 'b'), (1, 'z'), (1, 'a');"
        "CREATE VIEW v AS SELECT n, t FROM s;"
    )
    try:
        result = build(
            tmp_path, {"index.md": "<< table: e >>\n\n<< table: v >>\n"}, {"dsn": url}, strict=True
        )
        assert result.returncode == 0, result.log
        empty, view = result.text().split("Purpose:")[1:]
        assert "the table is empty" in empty
        assert "ORDER BY 1, 2 LIMIT 5" in view
        rows = result.article().split("<tbody>")[-1]
        assert rows.index(">a<") < rows.index(">z<") < rows.index(">b<")  # ordered by every column
    finally:
        server.drop_database(url)


def test_read_errors_never_quote_the_data(server: Server, tmp_path: Path) -> None:
    url = server.create_database(
        "CREATE TABLE guests (id int PRIMARY KEY, meta jsonb);"
        """INSERT INTO guests VALUES (1, '{"phone": "+34 612 345 678 / kerry.fisher@gmail.com"}');"""
        "CREATE VIEW guest_phones AS SELECT id, (meta->>'phone')::bigint AS phone FROM guests;"
    )
    try:
        result = build(
            tmp_path,
            {
                "index.md": "<< table: guest_phones >>\n\n<< table: guests | samples: ² >>\n\n<< table: guests >>\n"
            },
            {"dsn": url},
        )
    finally:
        server.drop_database(url)
    assert result.returncode == 0 and "Traceback" not in result.log
    assert 'rows could not be read: invalid input syntax for type bigint: "…"' in result.log
    for text in (result.log, result.text()):
        assert "612 345 678" not in text and "kerry.fisher" not in text
    assert "samples must be a whole number from 0 to 1000, not '²'" in result.log
