"""Secrets written into the schema itself never reach a page: only the unambiguous
ones are masked, and every ordinary literal stays as PostgreSQL prints it."""

from __future__ import annotations

from pathlib import Path

from sites import build

SECRETS = {
    "view URL password": "Pw0rd-in-view",
    "check JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLWhlcmU",
    "comment AWS key": "AKIAIOSFODNN7EXAMPLE",
    "enum GitHub token": "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB",
    "policy Stripe key": "sk_live_51HxYz0123456789abcdefABCDEF",
    "index Slack token": "xoxb-1234567890-abcdefghijklmnop",
    "trigger bearer": "Bearer abcdefghijklmnopqrstuvwx0123456789",
    "partition card number": "4018185296307417",
    "column comment PEM": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
}
SCHEMA = f"""
CREATE TYPE tier AS ENUM ('free', '{SECRETS["enum GitHub token"]}');
CREATE TABLE accounts (
    id int PRIMARY KEY,
    plan tier DEFAULT 'free',
    api text CHECK (api <> '{SECRETS["check JWT"]}'),
    state text DEFAULT 'active' CHECK (state IN ('active', 'closed')),
    note text
);
COMMENT ON TABLE accounts IS 'Keys rotate; the old one was {SECRETS["comment AWS key"]} (revoked).';
COMMENT ON COLUMN accounts.note IS '-----BEGIN PRIVATE KEY-----
{SECRETS["column comment PEM"]}
-----END PRIVATE KEY-----';
CREATE INDEX accounts_live ON accounts (note) WHERE note <> '{SECRETS["index Slack token"]}';
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON accounts USING (api IS DISTINCT FROM '{SECRETS["policy Stripe key"]}');
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER hook BEFORE UPDATE ON accounts FOR EACH ROW
    WHEN (NEW.note IS DISTINCT FROM 'Authorization: {SECRETS["trigger bearer"]}') EXECUTE FUNCTION touch();
CREATE VIEW linked AS SELECT id, 'postgresql://admin:{SECRETS["view URL password"]}@db/app' AS dsn FROM accounts;
CREATE TABLE cards (n text) PARTITION BY LIST (n);
CREATE TABLE cards_one PARTITION OF cards FOR VALUES IN ('{SECRETS["partition card number"]}');
"""
PAGE = "<< table: accounts >>\n\n<< table: linked >>\n\n<< table: cards >>\n\n<< table: cards_one >>\n"


def test_unambiguous_secrets_in_schema_text_are_masked(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(SCHEMA)
    result = build(tmp_path, {"index.md": PAGE}, {"dsn": url, "samples": 0}, strict=True)
    assert result.returncode == 0, result.log
    published = result.page() + (result.site / "search/search_index.json").read_text()
    for where, secret in SECRETS.items():
        assert secret not in published, where
    text = result.text()
    # What is no secret stays exactly as PostgreSQL prints it.
    for literal in (
        "'free'::tier",
        "'active'::text",
        "ARRAY['active'::text, 'closed'::text]",
        "postgresql://admin:",
    ):
        assert literal in text, literal
    assert "(revoked)" in text and "Keys rotate; the old one was" in text


def test_with_redaction_off_schema_text_is_published_as_written(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(SCHEMA)
    result = build(tmp_path, {"index.md": PAGE}, {"dsn": url, "samples": 0, "redaction": {"enabled": False}})
    assert SECRETS["view URL password"] in result.text()  # the masking above is what hides it
