"""Basejump (a real Supabase multi-tenant starter) documented from its migrations."""

from __future__ import annotations

from pathlib import Path

from conftest import FIXTURES, SQL
from sites import build

SHIM = SQL / "supabase_shim.sql"
TABLES = ["config", "accounts", "account_user", "invitations", "billing_customers", "billing_subscriptions"]


def test_basejump_migrations_document_with_no_database(tmp_path: Path) -> None:
    page = (
        "# Basejump\n\n"
        + "\n\n".join(f"<< table: basejump.{t} >>" for t in TABLES)
        + "\n\n# Advisors\n\n<< advisors >>\n"
    )
    result = build(
        tmp_path,
        {"index.md": page},
        {"embedded_sql": [str(SHIM), str(FIXTURES / "basejump" / "*.sql")], "samples": 0},
        strict=True,
    )
    assert result.returncode == 0, result.log
    text = result.text()
    assert text.count("CREATE POLICY") == 13  # every policy basejump defines
    # PostgreSQL cut this 68-character name to 63 bytes when basejump created it.
    assert 'CREATE POLICY "Account users can be deleted by owners except primary account o"\n' in text
    assert (
        "ON basejump.account_user" in text
        and "basejump.has_role_on_account(account_id, 'owner'::basejump.account_role)" in text
    )
    assert "CREATE TYPE basejump.account_role AS ENUM" in text
    assert "REFERENCES auth.users(id)" in text
    assert "WARN · auth_rls_initplan: policy" in text  # basejump calls auth.uid() per row
    assert "INFO · unindexed_foreign_key" in text
