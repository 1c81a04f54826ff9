"""A cheap fingerprint of everything the cards show, in one statement.

`mkdocs serve` rebuilds the site on every save. When the pages ask for what they
asked before and the fingerprint is the one the last read was taken with, the
last read still holds: the rebuild runs this statement instead of the catalog,
sample and plan reads. It changes with DDL, comments, grants, policies, triggers,
rules, statistics (row estimates, pages) and writes to user tables; see
`sql/fingerprint.sql` for what it covers and why.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from .connection import DatabaseError, mask_secrets


@cache
def fingerprint_query() -> sa.TextClause:
    return sa.text(resources.files(__package__).joinpath("sql/fingerprint.sql").read_text("utf-8"))


def read_fingerprint(conn: sa.Connection) -> str:
    """The schema fingerprint of the database `conn` is connected to."""
    try:
        value = conn.execute(fingerprint_query()).scalar_one()
    except DBAPIError as error:
        reason = " ".join(str(error.orig).split())
        raise DatabaseError(f"reading the schema fingerprint failed: {mask_secrets(reason)}") from None
    return str(value)
