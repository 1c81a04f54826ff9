"""Sample rows on a real PostgreSQL: planted secrets never reach the site, restricted
roles get a full card and a plain note, hostile content stays text."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import Server, ensure_role
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
    # Found by the audit: each of these leaked once.
    "phone_paren": "555-2671",
    "phone_dashed": "555-2672",
    "phone_00": "7946 0959",
    "phone_national": "12 34 56 78",
    "query_email": "AUDqmail",
    "query_phone": "5557654321",
    "json_key_email": "AUDkeyemail",
    "json_key_phone": "5551234567",
    "header_api_key": "AUDxapikey1",
    "env_password": "AUDpgpw1",
    "json_x_api_key": "AUDjson1",
    "json_hub_signature": "AUDjson2",
    "json_pass": "AUDjson3",
    "json_passphrase": "AUDjson4",
    "json_key": "AUDjson5",
    "json_sig": "AUDjson6",
    "json_signature": "AUDjson7",
    "json_pin": "AUDjson8",
    "json_otp": "AUDjson9",
    "column_pass": "AUDcol1",
    "column_passphrase": "AUDcol2",
    "column_api_key": "AUDcol3",
    "column_signature": "AUDcol4",
    "column_pin": "AUDcol5",
    "column_otp": "AUDcol6",
    "column_two_step_pin": "AUDcol7",
    "column_private": "AUDcol8",
    "base64_secret": "bPxRfiCYAUDAWSKEY",
    "pem_body": "AUDpembody",
    "quoted_password": "AUDsecondword",
    "unicode_email": "AUDjosé",
    "short_path_token": "AUDshort9",
    "verified_name": "Casa Secreta AUDverified",
    "reservation_code": "HMAUD00042",
}


def literal(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


# One finding a row, each short enough to be shown whole (values are cut at 80 characters).
AUDIT_ROWS = [
    (f"call (415) {PLANTED['phone_paren']} or 415-{PLANTED['phone_dashed']}", None),
    (
        f"or 0044 20 {PLANTED['phone_00']} or 06 {PLANTED['phone_national']}",
        f'{{"{PLANTED["json_key_email"]}@example.com": {{"x": 1}}, "+1{PLANTED["json_key_phone"]}": true}}',
    ),
    (
        f"https://api.example.com/cb?page=1&email={PLANTED['query_email']}@example.com&phone=%2B1{PLANTED['query_phone']}",
        f'{{"X-Api-Key": "{PLANTED["json_x_api_key"]}", "X-Hub-Signature-256": "sha256={PLANTED["json_hub_signature"]}"}}',
    ),
    (
        f"X-Api-Key: {PLANTED['header_api_key']} PGPASSWORD={PLANTED['env_password']}",
        f'{{"pass": "{PLANTED["json_pass"]}", "passphrase": "{PLANTED["json_passphrase"]}"}}',
    ),
    (
        f"aws wJalrXUtnFEMI/K7MDENG/{PLANTED['base64_secret']}",
        f'{{"key": "{PLANTED["json_key"]}", "sig": "{PLANTED["json_sig"]}"}}',
    ),
    (
        f"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA{PLANTED['pem_body']}\nq8Zr+T0x/9kLmN2pQ7sV==\n"
        "-----END RSA PRIVATE KEY-----",
        f'{{"signature": "{PLANTED["json_signature"]}", "pin": "{PLANTED["json_pin"]}"}}',
    ),
    (
        f"password: 'AUDquoted {PLANTED['quoted_password']}'; mail {PLANTED['unicode_email']}@exämple.com",
        f'{{"otp": "{PLANTED["json_otp"]}", "otp_type": "COPY_CODE", "passenger": "Ana"}}',
    ),
    (f"https://x.example/reset/{PLANTED['short_path_token']}", None),
    (f"https://www.airbnb.com/hosting/reservations/details/{PLANTED['reservation_code']}", None),
    ("on 2026-11-30 at 14:02:01, tenant 0f8fad5b-d9cb-469f-a165-70867728950e", None),
    ("host 10.0.0.1, v2.10.1, total 1 234 567,89, sizes 10 20 30 40 50", None),
]
AUDIT_VALUES = ",\n".join(
    f"({i}, {literal(notes)}, {literal(payload)})" for i, (notes, payload) in enumerate(AUDIT_ROWS, 2)
)

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

CREATE TABLE vault_audit (
    id int PRIMARY KEY,
    pass text, passphrase text, "api-key" text, signature text, pin text, otp text,
    two_step_pin text, private text, verified_name text, is_private boolean,
    notes text, payload jsonb
);
INSERT INTO vault_audit VALUES (
    1, '{PLANTED["column_pass"]}', '{PLANTED["column_passphrase"]}', '{PLANTED["column_api_key"]}',
    '{PLANTED["column_signature"]}', '{PLANTED["column_pin"]}', '{PLANTED["column_otp"]}',
    '{PLANTED["column_two_step_pin"]}', '{PLANTED["column_private"]}', '{PLANTED["verified_name"]}', true
);
INSERT INTO vault_audit (id, notes, payload) VALUES
{AUDIT_VALUES};
"""


@pytest.fixture(scope="module")
def secrets_site(server: Server, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    url = server.create_database(SECRETS_SQL)
    result = build(
        tmp_path_factory.mktemp("secrets"),
        {"index.md": "# Vault\n\n<< table: vault_audit | samples: 20 >>\n\n<< table: vault >>\n"},
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
    for name, secret in PLANTED.items():
        assert secret not in secrets_site.log, f"{name} leaked into the build log"


def test_audit_findings_are_masked_visibly_and_the_rest_stays_readable(secrets_site) -> None:  # type: ignore[no-untyped-def]
    audit = secrets_site.text().split("Sample Data", 1)[1].split("Purpose:", 1)[0]
    for shown in [
        "call (•••) •••-•••• or •••-•••-••••",
        "or •••• •• •••• •••• or •• •• •• •• ••",
        "https://api.example.com/cb?page=1&email=•••@•••.com&phone=%2B•••••••••••",
        '{"+•••••••••••": true, "•••@•••.com": {"x": 1}}',  # jsonb key order
        "X-Api-Key: [REDACTED] PGPASSWORD=[REDACTED]",
        "aws [REDACTED]",
        "-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END RSA PRIVATE KEY-----",
        "password: '[REDACTED]'; mail •••@•••.com",
        '"otp_type": "COPY_CODE", "passenger": "Ana"',
        "https://x.example/reset/[REDACTED]",
        "https://www.airbnb.com/hosting/reservations/details/[REDACTED]",
        "🔒 Business A",
        # left alone: dates, times, uuids, addresses, versions, prices, numbers, booleans
        "on 2026-11-30 at 14:02:01, tenant 0f8fad5b-d9cb-469f-a165-70867728950e",
        "host 10.0.0.1, v2.10.1, total 1 234 567,89, sizes 10 20 30 40 50",
        "true",
    ]:
        assert shown in audit, shown
    listed = audit.split("Redacted:", 1)[1]
    for column, rule in [
        ("pass", "column secret"),
        ("passphrase", "column secret"),
        ("api-key", "column token"),
        ("signature", "column secret"),
        ("pin", "column secret"),
        ("otp", "column secret"),
        ("two_step_pin", "column secret"),
        ("private", "column secret"),
        ("verified_name", "column name"),
        ("notes", "phone number"),
        ("notes", "private key block"),
        ("notes", "url with secrets"),
        ("payload", "email address in a JSON key"),
        ("payload", "JSON key bare key"),
    ]:
        assert f"{column} ({rule})" in listed, (column, rule)
    assert "is_private (" not in listed


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
        "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 12) i;"
    )
    try:
        page = "<< table: t >>\n\n<< table: t | samples: 2 >>\n\n<< table: t | samples: 0 >>\n\n<< table: t | samples: lots >>\n"
        result = build(tmp_path, {"index.md": page}, {"dsn": url, "samples": 3})
        text = result.text()
        cards = text.split("Purpose:")[1:]
        assert "LIMIT 3" in cards[0] and "v3" in cards[0] and "v4" not in cards[0]
        assert "v10" not in cards[0]  # in the order of the key's type, not of its text
        assert "LIMIT 2" in cards[1] and "v2" in cards[1] and "v3" not in cards[1]
        assert "Sample Data" not in cards[2]
        assert "index.md:7: << table: t | samples: lots >>: samples must be a whole number" in result.log
    finally:
        server.drop_database(url)


@pytest.mark.embedded_only  # the plugin's own logic
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


PERMISSIONS_SQL = (
    ensure_role("dbschema_reader", "LOGIN")
    + """
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
)


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
        assert "-- no rows read from no_select: the role may read none of its columns" in no_select
        assert "SELECT  FROM" not in no_select and "ORDER BY  LIMIT" not in no_select
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
        "CREATE TABLE e (id int PRIMARY KEY); CREATE TABLE s (n int, t text); CREATE TABLE nothing ();"
        "INSERT INTO s VALUES (2, 'b'), (1, 'z'), (1, 'a');"
        "CREATE VIEW v AS SELECT n, t FROM s;"
    )
    try:
        result = build(
            tmp_path,
            {"index.md": "<< table: nothing >>\n\n<< table: e >>\n\n<< table: s >>\n\n<< table: v >>\n"},
            {"dsn": url},
            strict=True,
        )
        assert result.returncode == 0, result.log
        nothing, empty, small, view = result.text().split("Purpose:")[1:]
        assert "-- no rows read from nothing: the table has no columns" in nothing
        assert "SELECT  FROM" not in nothing
        assert "the table is empty" in empty
        assert "ORDER BY 1, 2 LIMIT 5" in small
        cells = small.split("LIMIT 5;")[1].split()
        assert cells[2:8] == ["1", "a", "1", "z", "2", "b"]  # after the header n, t: ordered by every column
        # A view is never sorted: that would compute all of it (a join, an aggregate) for five rows.
        assert "SELECT * FROM v LIMIT 5;" in view and "the first rows as the view returns them" in view
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


RAISING_SQL = """
CREATE TABLE guests (id int PRIMARY KEY, email text, phone text);
INSERT INTO guests VALUES (1, 'AUDraise@example.com', '415-555-2679');
CREATE FUNCTION check_guest(g guests) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'bad row for guest % with phone %', g.email, g.phone;
END $$;
CREATE VIEW checked_guests AS SELECT id FROM guests WHERE check_guest(guests);
"""


@pytest.fixture(scope="module")
def raising_site(server: Server, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    url = server.create_database(RAISING_SQL)
    try:
        yield build(
            tmp_path_factory.mktemp("raising"), {"index.md": "<< table: checked_guests >>\n"}, {"dsn": url}
        )
    finally:
        server.drop_database(url)


def test_read_errors_raised_with_data_are_redacted_on_the_card(raising_site) -> None:  # type: ignore[no-untyped-def]
    assert raising_site.returncode == 0 and "Traceback" not in raising_site.log
    text = raising_site.text()
    assert "rows could not be read: bad row for guest •••@•••.com with phone •••-•••-••••" in text
    assert "AUDraise" not in text and "555-2679" not in text


def test_read_errors_raised_with_data_are_redacted_in_the_log(raising_site) -> None:  # type: ignore[no-untyped-def]
    assert "sample rows of checked_guests: rows could not be read" in raising_site.log
    assert "AUDraise" not in raising_site.log and "555-2679" not in raising_site.log


def test_big_tables_without_a_key_are_never_sorted_whole(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE TABLE big_log (at int, note text);"
        "INSERT INTO big_log SELECT g, 'n' || g FROM generate_series(1, 20000) g;"
        "CREATE TABLE keyed (code text NOT NULL UNIQUE, n int);"
        "INSERT INTO keyed SELECT 'c' || g, g FROM generate_series(1, 20000) g;"
    )
    page = {"index.md": "<< table: big_log | samples: 3 >>\n\n<< table: keyed | samples: 3 >>\n"}
    first = build(tmp_path / "a", page, {"dsn": url}, strict=True)
    second = build(tmp_path / "b", page, {"dsn": url}, strict=True)
    assert first.returncode == 0, first.log
    big, keyed = first.text().split("Purpose:")[1:]
    assert "storage order" in big and "SELECT * FROM big_log LIMIT 3;" in big
    assert "1n1" in big.replace("\n", "")  # the first rows as stored
    assert "SELECT * FROM keyed ORDER BY code LIMIT 3;" in keyed  # a unique NOT NULL key orders
    assert first.page() == second.page()


def test_a_tiny_table_never_analysed_is_sorted_not_called_too_big(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE TABLE fresh (n int, t text); INSERT INTO fresh VALUES (2, 'b'), (1, 'a');", analyze=False
    )
    result = build(tmp_path, {"index.md": "<< table: fresh >>\n"}, {"dsn": url}, strict=True)
    assert result.returncode == 0, result.log
    text = result.text()
    assert "SELECT * FROM fresh ORDER BY 1, 2 LIMIT 5;" in text
    assert "too many" not in text and "too big" not in text


def test_secrets_in_column_defaults_are_redacted(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE TABLE webhooks (id bigserial PRIMARY KEY, state text DEFAULT 'pending',"
        " created_at timestamptz DEFAULT now(), uid uuid DEFAULT gen_random_uuid(),"
        " signing_key text DEFAULT 'whsec_5Wq8Z2kLr0PzXv9NtY3aBc',"
        " callback text DEFAULT 'https://hooks.example/cb?token=tk_9f8e7d6c5b4a39281706')"
    )
    result = build(tmp_path, {"index.md": "<< table: webhooks | samples: 0 >>\n"}, {"dsn": url}, strict=True)
    assert result.returncode == 0, result.log
    text = result.text()
    assert "5Wq8Z2kLr0PzXv9NtY3aBc" not in text and "tk_9f8e7d6c5b4a39281706" not in text
    assert "whsec_[REDACTED]" in text and "https://hooks.example/cb?token=•••" in text
    # Ordinary defaults stay exactly as PostgreSQL prints them.
    for default in ("nextval('webhooks_id_seq'::regclass)", "'pending'::text", "now()", "gen_random_uuid()"):
        assert default in text


def test_sample_reads_give_their_locks_back_in_chunks(make_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Thousands of tables read at once would fill the server's shared lock table: each
    chunk of reads is rolled back once read, which returns its locks, and all chunks go
    in one statement."""
    import psycopg

    sent: list[object] = []
    execute = psycopg.Connection.execute

    def counting(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(query)
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", counting)
    from mkdocs_dbschema.catalog.connection import SessionSettings, create_engine, parse_url
    from mkdocs_dbschema.catalog.names import parse_table_name
    from mkdocs_dbschema.catalog.reader import read_catalog
    from mkdocs_dbschema.catalog.samples import _lock_cost, read_samples

    sql = "".join(
        f"CREATE TABLE s{i} (id int PRIMARY KEY, note text); CREATE INDEX ON s{i} (note);"
        f"INSERT INTO s{i} VALUES ({i}, 'row {i}');"
        for i in range(30)
    )
    url = make_db(sql)
    engine = create_engine(parse_url(url), SessionSettings())
    try:
        with engine.connect() as conn:
            catalog = read_catalog(conn, [parse_table_name(f"s{i}") for i in range(30)])
            tables = [catalog.tables[f"public.s{i}"] for i in range(30)]
            held = "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE l.pid = pg_backend_pid() AND c.relname ~ '^s[0-9]+'"
            budget = 3 * _lock_cost(tables[0])  # three tables a chunk: ten chunks
            expected = [((str(i), f"row {i}"),) for i in range(30)]
            sent.clear()
            samples = read_samples(conn, [(t, 5) for t in tables], catalog.role, lock_budget=budget)
            assert [samples[t.key].rows for t in tables] == expected
            assert conn.exec_driver_sql(held).scalar() == 0  # every chunk gave its locks back
            assert len(sent) == 2  # the reads handed over, then one statement for ten chunks
            # Where notices would reach the server's log, no row goes out as a notice:
            # each table is read alone instead.
            conn.exec_driver_sql("SET log_min_messages = notice")
            sent.clear()
            samples = read_samples(conn, [(t, 5) for t in tables], catalog.role, lock_budget=budget)
            assert [samples[t.key].rows for t in tables] == expected
            assert len(sent) > 30 and conn.exec_driver_sql(held).scalar() == 0
    finally:
        engine.dispose()


def test_parts_of_the_sample_read_keep_order_and_share_the_work(make_db) -> None:  # type: ignore[no-untyped-def]
    """Two sessions share the sample read in parts of about equal lock cost (the work
    each gives the server): every table in exactly one part, in order."""
    from mkdocs_dbschema.catalog.connection import SessionSettings, create_engine, parse_url
    from mkdocs_dbschema.catalog.names import parse_table_name
    from mkdocs_dbschema.catalog.reader import read_catalog
    from mkdocs_dbschema.catalog.samples import _lock_cost, parts

    # Tables of 0 to 4 extra indexes: unequal costs.
    sql = "".join(
        f"CREATE TABLE p{i:02d} (id int PRIMARY KEY, {', '.join(f'c{k} int' for k in range(5))});"
        + "".join(f"CREATE INDEX ON p{i:02d} (c{k});" for k in range(i % 5))
        for i in range(23)
    )
    engine = create_engine(parse_url(make_db(sql)), SessionSettings())
    try:
        with engine.connect() as conn:
            catalog = read_catalog(conn, [parse_table_name(f"p{i:02d}") for i in range(23)])
    finally:
        engine.dispose()
    wanted = [(catalog.tables[f"public.p{i:02d}"], 5) for i in range(23)]
    costs = [_lock_cost(table) for table, _ in wanted]
    assert len(set(costs)) == 5
    for count in (1, 2, 4, 30):
        found = parts(wanted, count)
        assert [item for part in found for item in part] == wanted
        assert all(found) and (len(found) == count if count < len(wanted) else len(found) <= count)
        part_costs = [sum(_lock_cost(table) for table, _ in part) for part in found]
        assert max(part_costs) - min(part_costs) <= 2 * max(costs)
    assert parts([], 4) == []


def test_slow_views_share_one_budget_and_system_relations_need_asking(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE TABLE fast (id int PRIMARY KEY); INSERT INTO fast VALUES (1);"
        + "".join(f"CREATE VIEW slow{i} AS SELECT {i} AS n FROM pg_sleep(30);" for i in range(3))
    )
    page = "<< table: fast >>\n\n" + "".join(f"<< table: slow{i} >>\n\n" for i in range(3))
    page += "<< table: pg_stat_activity >>\n\n<< table: pg_am | samples: 2 >>\n"
    result = build(tmp_path, {"index.md": page}, {"dsn": url, "statement_timeout": 1000})
    assert result.returncode == 0, result.log
    # One statement_timeout for all of them: the first slow views spend it (one on each
    # session reading a part that holds one), the others find it gone.
    timed_out = ": rows could not be read: canceling statement due to statement timeout"
    gone = ": not read: slower relations used the whole sample-read budget (1 s, the statement_timeout)"
    notes = [
        next((n for n in (timed_out, gone) if f"sample rows of slow{i}{n}" in result.log), None)
        for i in range(3)
    ]
    assert None not in notes and timed_out in notes and gone in notes
    text = result.text()
    assert "SELECT * FROM fast ORDER BY id LIMIT 5;" in text  # the table's rows came in the batch
    cards = text.split("Purpose:")
    activity, access_methods = cards[-2], cards[-1]
    assert "Sample Data" not in activity  # other sessions' queries: only when a directive asks
    assert "Sample Data: 2 rows" in access_methods and "heap" in access_methods


def test_sample_statements_quote_every_identifier_in_each_shape(make_db) -> None:  # type: ignore[no-untyped-def]
    """One statement template per shape of table (its columns, its key columns), filled
    with the table's identifiers by psycopg: odd names stay quoted in every shape."""
    from mkdocs_dbschema.catalog.connection import SessionSettings, create_engine, parse_url
    from mkdocs_dbschema.catalog.names import parse_table_name
    from mkdocs_dbschema.catalog.reader import read_catalog
    from mkdocs_dbschema.catalog.samples import _rows_query, sample_order

    url = make_db(
        'CREATE SCHEMA "odd ""s""";'
        'CREATE TABLE "odd ""s"""."Guest Notes" ("Key" int, "a""b" text, ñ text, PRIMARY KEY (ñ, "Key"));'
    )
    engine = create_engine(parse_url(url), SessionSettings())
    try:
        with engine.connect() as conn:
            catalog = read_catalog(conn, [parse_table_name('"odd ""s"""."Guest Notes"')])
            (table,) = catalog.tables.values()
            driver = conn.connection.driver_connection
            relation = '"odd ""s"""."Guest Notes"'
            values = '"Key"::text AS "v0", "a""b"::text AS "v1", "ñ"::text AS "v2"'
            shapes = {
                sample_order(table): (
                    f'SELECT json_agg(to_json(ARRAY["v0", "v1", "v2"]) ORDER BY "k0", "k1") FROM '
                    f'(SELECT {values}, {relation}."ñ" AS "k0", {relation}."Key" AS "k1" '
                    f'FROM {relation} ORDER BY "k0", "k1" LIMIT 5) AS sample'
                ),
                (): (
                    f'SELECT json_agg(to_json(ARRAY["v0", "v1", "v2"]) ORDER BY "v0", "v1", "v2") FROM '
                    f'(SELECT {values} FROM {relation} ORDER BY "v0", "v1", "v2" LIMIT 5) AS sample'
                ),
                None: (
                    f'SELECT json_agg(to_json(ARRAY["v0", "v1", "v2"])) FROM '
                    f"(SELECT {values} FROM {relation} LIMIT 5) AS sample"
                ),
            }
            assert sample_order(table) == ("ñ", "Key")
            for order, expected in shapes.items():
                statement = _rows_query(table, 5, order).as_string(driver)
                assert statement == expected
                assert conn.exec_driver_sql(statement).scalar() is None  # valid SQL: no rows yet
    finally:
        engine.dispose()


def test_views_alone_are_read_without_an_empty_batch(make_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A part of the sample read with views only (each read alone) sends no batch."""
    import psycopg

    from mkdocs_dbschema.catalog.connection import SessionSettings, create_engine, parse_url
    from mkdocs_dbschema.catalog.names import parse_table_name
    from mkdocs_dbschema.catalog.reader import read_catalog
    from mkdocs_dbschema.catalog.samples import read_samples

    sent: list[object] = []
    execute = psycopg.Connection.execute

    def counting(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(query)
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", counting)
    engine = create_engine(parse_url(make_db("CREATE VIEW v AS SELECT 1 AS n;")), SessionSettings())
    try:
        with engine.connect() as conn:
            catalog = read_catalog(conn, [parse_table_name("v")])
            sent.clear()
            samples = read_samples(conn, [(catalog.tables["public.v"], 5)], catalog.role)
    finally:
        engine.dispose()
    assert samples["public.v"].rows == (("1",),)
    assert len(sent) == 2  # the view's timeout, then its rows: no batch around nothing
