"""Advisors that never break an app: fixes in the database's own terms, applied to a
real database, and the splinter lints beyond the first twelve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import FIXTURES, SQL, ensure_role, read
from sites import build

from mkdocs_dbschema.analysis.advisors import AdvisorOptions, Finding, advise
from mkdocs_dbschema.catalog.connection import parse_url
from mkdocs_dbschema.catalog.embedded import demo_schema

PUBLIC = AdvisorOptions(exposed_schemas=("public",))
NONE = AdvisorOptions(exposed_schemas=())


def _all(findings: dict[str, list[Finding]], advisor: str) -> list[Finding]:
    return [f for fs in findings.values() for f in fs if f.advisor == advisor]


def _run(url: str, *statements: str) -> None:
    """Run statements in one transaction that is rolled back: the database stays as it was."""
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.connect() as conn, conn.begin():
            for statement in statements:
                conn.exec_driver_sql(statement)
            conn.rollback()
    finally:
        engine.dispose()


PATHS = """
CREATE SCHEMA app;
CREATE TABLE conversations (id int PRIMARY KEY, last_at int);
CREATE TABLE app.messages (id int PRIMARY KEY, conversation_id int, at int);
-- Names conversations unqualified: an empty search_path would break every insert.
CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations SET last_at = NEW.at WHERE id = NEW.conversation_id;  -- messages too
    RETURN NULL;
END $$;
CREATE TRIGGER messages_bump AFTER INSERT ON app.messages FOR EACH ROW EXECUTE FUNCTION bump();
-- Every name qualified: the empty path is right.
CREATE FUNCTION qualified() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM public.conversations $$;
CREATE PROCEDURE tidy() LANGUAGE plpgsql AS $$ BEGIN DELETE FROM conversations WHERE last_at IS NULL; END $$;
CREATE FUNCTION pinned() RETURNS int LANGUAGE sql SET search_path = public AS $$ SELECT 1 $$;
INSERT INTO conversations VALUES (1, 0);
"""


def test_search_path_is_pinned_to_the_schemas_the_body_uses(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(PATHS)
    findings = advise(read(url, "app.messages"), NONE)
    fixes = {f.table: f.remediation for f in _all(findings, "function_search_path_mutable")}
    # On the card of the table whose trigger runs it, and once for every other function.
    assert fixes == {
        "app.messages": "ALTER FUNCTION bump() SET search_path = public, pg_temp;",
        "public.qualified()": "ALTER FUNCTION qualified() SET search_path = '';",
        "public.tidy()": "ALTER PROCEDURE tidy() SET search_path = public, pg_temp;",
    }
    (on_card,) = [f for f in findings["app.messages"] if f.advisor == "function_search_path_mutable"]
    assert on_card.what == "trigger function bump() runs with the caller's search_path"
    insert = "INSERT INTO app.messages VALUES (1, 1, 5)"
    # The fix keeps the insert working, even for a caller whose path lacks public ...
    _run(url, fixes["app.messages"], "SET LOCAL search_path = app", insert)
    # ... where the empty path proposed before broke it.
    with pytest.raises(sa.exc.ProgrammingError, match='relation "conversations" does not exist'):
        _run(url, "ALTER FUNCTION bump() SET search_path = ''", insert)
    _run(url, fixes["public.qualified()"], "SELECT qualified()")
    _run(url, fixes["public.tidy()"], "CALL tidy()")


def test_the_demo_fix_keeps_whatsapp_inserts_working(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(files=(demo_schema(),))
    findings = advise(read(url, "whatsapp_messages"), AdvisorOptions())
    (fix,) = [
        f.remediation
        for f in findings["public.whatsapp_messages"]
        if f.advisor == "function_search_path_mutable"
    ]
    assert fix == "ALTER FUNCTION bump_conversation_last_message() SET search_path = public, pg_temp;"
    _run(
        url,
        fix,
        "INSERT INTO public.whatsapp_messages SELECT (jsonb_populate_record(m, jsonb_build_object("
        "'id', gen_random_uuid(), 'wamid', 'wamid.dbschema-test'))).* "
        "FROM public.whatsapp_messages AS m WHERE m.conversation_id IS NOT NULL LIMIT 1",
    )


def test_every_function_of_basejump_is_checked(make_db) -> None:  # type: ignore[no-untyped-def]
    files = (SQL / "supabase_shim.sql", *sorted((FIXTURES / "basejump").glob("*.sql")))
    url = make_db(files=files)
    tables = (
        "config",
        "accounts",
        "account_user",
        "invitations",
        "billing_customers",
        "billing_subscriptions",
    )
    catalog = read(url, *(f"basejump.{t}" for t in tables))
    found = _all(advise(catalog, AdvisorOptions()), "function_search_path_mutable")
    functions = {re.match(r"ALTER \w+ (.+) SET search_path", f.remediation).group(1) for f in found}  # type: ignore[union-attr]
    assert len(functions) == 22  # not only the six trigger functions
    assert "basejump.generate_token(integer)" in functions and "get_accounts()" in functions
    # Every fix applies, and the functions still find what they name.
    fixes = sorted({f.remediation for f in found})
    _run(url, *fixes, "SELECT basejump.generate_token(8)")
    # Basejump grants its schema to authenticated: detected as exposed, with RLS everywhere.
    assert catalog.api_schemas == ("basejump", "public")
    assert not _all(advise(catalog, AdvisorOptions()), "rls_disabled_in_exposed_schema")


TENANTS = """
CREATE SCHEMA auth;
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT NULL::uuid $$;
CREATE FUNCTION has_role_on_account(account uuid) RETURNS boolean LANGUAGE sql STABLE
    SET search_path = '' AS $$ SELECT true $$;
CREATE TABLE accounts (id uuid PRIMARY KEY);
CREATE TABLE projects (id int PRIMARY KEY, account_id uuid REFERENCES accounts, name text);
ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
CREATE POLICY members ON projects FOR ALL TO public USING (has_role_on_account(account_id));
CREATE TABLE notes (id int PRIMARY KEY, account_id uuid REFERENCES accounts);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE TABLE drafts (id int PRIMARY KEY, user_id uuid);
ALTER TABLE drafts ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON drafts FOR SELECT TO public USING (user_id = (SELECT auth.uid()));
CREATE TABLE sketches (id int PRIMARY KEY, user_id uuid);
ALTER TABLE sketches ENABLE ROW LEVEL SECURITY;
CREATE TABLE docs (id int PRIMARY KEY, owner_id uuid);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE TABLE tenant_things (id int PRIMARY KEY, tenant_id uuid);
ALTER TABLE tenant_things ENABLE ROW LEVEL SECURITY;
CREATE POLICY anyone ON tenant_things FOR INSERT TO public WITH CHECK (true);
"""


def test_policy_fixes_use_the_databases_own_tenant_terms(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(TENANTS)
    catalog = read(url, "projects", "notes", "drafts", "sketches", "docs", "tenant_things")
    findings = advise(catalog, NONE)
    (notes,) = [f for f in findings["public.notes"] if f.advisor == "rls_enabled_no_policy"]
    assert "USING (has_role_on_account(account_id))" in notes.remediation  # projects' own condition
    (sketches,) = [f for f in findings["public.sketches"] if f.advisor == "rls_enabled_no_policy"]
    assert "USING ((user_id = ( SELECT auth.uid() AS uid)))" in sketches.remediation  # drafts' own
    (docs,) = [f for f in findings["public.docs"] if f.advisor == "rls_enabled_no_policy"]
    assert "USING (owner_id = (SELECT auth.uid()))" in docs.remediation  # the claim function it has
    (things,) = [f for f in findings["public.tenant_things"] if f.advisor == "rls_policy_always_true"]
    # No policy here says how tenants are told apart: no made-up setting, a placeholder that denies.
    assert "app.tenant_id" not in things.remediation and "WITH CHECK (false" in things.remediation
    _run(url, notes.remediation, sketches.remediation, docs.remediation, things.remediation)


def test_missing_comments_get_a_statement_per_column(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db("CREATE TABLE bare (id int PRIMARY KEY, a text, b text); COMMENT ON COLUMN bare.a IS 'x';")
    (columns,) = [
        f
        for f in advise(read(url, "bare"), NONE)["public.bare"]
        if f.advisor == "missing_comment" and "columns" in f.what
    ]
    assert columns.remediation == (
        "COMMENT ON COLUMN public.bare.id IS '...';\nCOMMENT ON COLUMN public.bare.b IS '...';"
    )


def test_exposed_schemas_are_those_the_api_roles_may_use(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        ensure_role("anon") + ensure_role("authenticated") + "REVOKE USAGE ON SCHEMA public FROM PUBLIC;"
        "CREATE SCHEMA api; GRANT USAGE ON SCHEMA api TO anon;"
        "CREATE TABLE api.open (id int PRIMARY KEY); CREATE TABLE public.inner_only (id int PRIMARY KEY);"
    )
    catalog = read(url, "api.open", "inner_only")
    assert catalog.api_schemas == ("api",)
    findings = advise(catalog, AdvisorOptions())  # exposed_schemas: "auto"
    assert [f.advisor for f in findings["api.open"]].count("rls_disabled_in_exposed_schema") == 1
    assert "rls_disabled_in_exposed_schema" not in {f.advisor for f in findings["public.inner_only"]}
    assert not any(f.level == "ERROR" for f in findings["public.inner_only"])


def test_duplicate_indexes_by_structure_not_by_name(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE TABLE d (id int PRIMARY KEY, v int CONSTRAINT d_v_key UNIQUE, w text);"
        "CREATE INDEX d_v_plain ON d (v);"
        "CREATE INDEX d_w1 ON d (w); CREATE INDEX d_w2 ON d USING btree (w ASC NULLS LAST);"
        "CREATE INDEX d_w_pattern ON d (w text_pattern_ops); CREATE INDEX d_w_desc ON d (w DESC);"
        'CREATE INDEX d_w_c ON d (w COLLATE "C");'
    )
    found = {
        f.what: f.remediation
        for f in advise(read(url, "d"), NONE)["public.d"]
        if f.advisor == "duplicate_index"
    }
    assert found == {
        "index d_v_plain duplicates the unique index d_v_key": "DROP INDEX CONCURRENTLY public.d_v_plain;",
        "indexes d_w1 and d_w2 are identical": "DROP INDEX CONCURRENTLY public.d_w2;",
    }


def test_views_secrets_and_metadata_advisors_stay_quiet_when_done_right(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY, email text);"
        "CREATE VIEW safe_users WITH (security_invoker = on) AS SELECT id FROM auth.users;"
        "CREATE TABLE vault (id int PRIMARY KEY, api_key text); ALTER TABLE vault ENABLE ROW LEVEL SECURITY;"
        "CREATE POLICY meta ON vault FOR SELECT USING ((SELECT current_setting('request.jwt.claims', true)::jsonb"
        " -> 'app_metadata' ->> 'role') = 'admin');"
    )
    findings = advise(read(url, "safe_users", "vault"), PUBLIC)
    quiet = {
        "security_definer_view",
        "auth_users_exposed",
        "sensitive_columns_exposed",
        "rls_references_user_metadata",
    }
    assert not {f.advisor for fs in findings.values() for f in fs} & quiet
    # Out of the exposed schemas, a definer view of auth.users is not the API's business.
    url2 = make_db(
        "CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY); CREATE VIEW v AS SELECT id FROM auth.users;"
    )
    assert not _all(advise(read(url2, "v"), NONE), "auth_users_exposed")
    exposed = advise(read(url2, "v"), PUBLIC)["public.v"]
    assert {"auth_users_exposed", "security_definer_view"} <= {f.advisor for f in exposed}


def test_the_card_obeys_disabled_advisors(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE TABLE loose (x int); CREATE TABLE walled (id int PRIMARY KEY);"
        "ALTER TABLE walled ENABLE ROW LEVEL SECURITY;"
    )
    page = {"index.md": "<< table: loose >>\n\n<< table: walled >>\n"}
    loud = build(tmp_path / "loud", page, {"dsn": url, "samples": 0})
    assert loud.returncode == 0, loud.log
    assert "No primary key" in loud.text() and "RLS enabled but no policy" in loud.text()
    quiet = build(
        tmp_path / "quiet",
        page,
        {"dsn": url, "samples": 0, "advisors": {"disable": ["no_primary_key", "rls_enabled_no_policy"]}},
    )
    assert quiet.returncode == 0, quiet.log
    assert "No primary key" not in quiet.text() and "RLS enabled but no policy" not in quiet.text()
