"""Run the catalog's named queries (sql/*.sql) and fail with one line naming the query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from .connection import DatabaseError, mask_secrets

LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a lock_timeout


@cache
def query(name: str) -> sa.TextClause:
    return sa.text(resources.files(__package__).joinpath(f"sql/{name}.sql").read_text("utf-8"))


def rows(conn: sa.Connection, name: str, **params: Any) -> list[Mapping[str, Any]]:
    try:
        result = conn.execute(query(name), params)
        keys = list(result.keys())  # zipped with each row: half the time of row._mapping
        return [dict(zip(keys, row, strict=True)) for row in result]
    except DBAPIError as error:
        reason = " ".join(str(error.orig).split())
        if getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE and "oids" in params:
            reason += _lock_holders(conn, params["oids"])
        raise DatabaseError(f"reading the catalog failed ({name}.sql): {mask_secrets(reason)}") from None


def _lock_holders(conn: sa.Connection, oids: Sequence[int]) -> str:
    """Who keeps the catalog read waiting: a migration, usually. Best effort."""
    try:
        conn.rollback()
        holders = conn.execute(query("locks"), {"oids": list(oids)}).all()
    except DBAPIError:
        return ""
    if not holders:
        return ""
    named = ", ".join(f"{row.relation} (pid {row.pid}, {row.application})" for row in holders)
    return f"; locked by another session: {named}; build again when it has finished"
