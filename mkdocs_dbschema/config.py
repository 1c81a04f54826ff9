"""The plugin's options, typed and validated by MkDocs (documented in docs/configuration.md)."""

from __future__ import annotations

from mkdocs.config import base
from mkdocs.config import config_options as c


class RedactionConfig(base.Config):
    # Turning this off publishes sample values as stored; every build then warns.
    enabled = c.Type(bool, default=True)
    # Extra rules, name → regular expression: on column names / JSON keys, and on values.
    column_rules = c.Type(dict, default={})
    value_rules = c.Type(dict, default={})
    # Built-in rules to drop, by name.
    disable = c.ListOfItems(c.Type(str), default=[])


class AdvisorsConfig(base.Config):
    # Schemas reachable through an API (PostgREST/Supabase): tables there need RLS.
    exposed_schemas = c.ListOfItems(c.Type(str), default=["public"])
    # Advisors to switch off, by name, and tables (fnmatch patterns) to leave out.
    disable = c.ListOfItems(c.Type(str), default=[])
    exclude = c.ListOfItems(c.Type(str), default=[])


class DbSchemaConfig(base.Config):
    # PostgreSQL URL (postgresql:// or postgresql+psycopg://). Unset: $DBSCHEMA_DSN,
    # and without that an embedded server loaded from `embedded_sql`.
    dsn = c.Optional(c.Type(str))
    # SQL files or globs for the embedded server, applied in order. Empty: the demo schema.
    embedded_sql = c.ListOfItems(c.Type(str), default=[])
    # search_path for resolving unqualified names; unset: the role's default.
    search_path = c.Optional(c.Type(str))
    connect_timeout = c.Type(int, default=5)  # seconds
    statement_timeout = c.Type(int, default=30_000)  # milliseconds
    lock_timeout = c.Type(int, default=3_000)  # milliseconds
    # A folder of templates that override the packaged ones (card.md.j2, notice.md.j2, ...).
    templates = c.Optional(c.Dir(exists=True))
    # Markdown heading level of a card's title.
    heading_level = c.Type(int, default=2)
    # Group name → table name patterns (fnmatch), shown in the card header.
    groups = c.Type(dict, default={})
    group_label = c.Type(str, default="Group")
    # Sample rows per card (0: none); `<< table: x | samples: N >>` overrides it per card.
    samples = c.Type(int, default=5)
    # Longer sample values are cut, with a visible marker.
    max_value_length = c.Type(int, default=80)
    redaction = c.SubConfig(RedactionConfig)
    # Activity statistics (scans, writes, vacuum times) change as the database is used,
    # sample reads included; false keeps pages byte-identical while it is in use.
    activity_stats = c.Type(bool, default=True)
    advisors = c.SubConfig(AdvisorsConfig)
