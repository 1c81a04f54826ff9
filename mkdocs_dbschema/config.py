"""The plugin's options, typed and validated by MkDocs (documented in docs/configuration.md)."""

from __future__ import annotations

from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c


class Whole(c.Type[int]):
    """A whole number within bounds: a zero timeout would mean "wait forever"."""

    def __init__(self, low: int, high: int | None = None, default: int | None = None) -> None:
        super().__init__(int, default=default)
        self.low, self.high = low, high

    def run_validation(self, value: Any) -> int:
        number = super().run_validation(value)
        if isinstance(number, bool) or number < self.low or (self.high is not None and number > self.high):
            upto = f" to {self.high}" if self.high is not None else " or more"
            raise base.ValidationError(f"expected a whole number from {self.low}{upto}, got {value!r}")
        return number


class AutoOrList(base.BaseConfigOption[Any]):
    """`auto`, or a list of names."""

    def __init__(self) -> None:
        super().__init__()
        self.default = "auto"

    def run_validation(self, value: Any) -> Any:
        if value == "auto":
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise base.ValidationError(f"expected auto or a list of schema names, got {value!r}")


class RedactionConfig(base.Config):
    # Turning this off publishes sample values as stored; every build then warns.
    enabled = c.Type(bool, default=True)
    # Extra rules, name → regular expression: on column names / JSON keys, and on values.
    column_rules = c.DictOfItems(c.Type(str), default={})
    value_rules = c.DictOfItems(c.Type(str), default={})
    # Built-in rules to drop, by name.
    disable = c.ListOfItems(c.Type(str), default=[])


class AdvisorsConfig(base.Config):
    # Schemas reachable through an API (PostgREST/Supabase): tables there need RLS.
    # `auto`: the schemas the API roles that exist (anon, authenticated) may use.
    exposed_schemas = AutoOrList()
    # Server-side roles trusted with every row (Supabase's service_role): their
    # always-true policies are by design.
    trusted_roles = c.ListOfItems(c.Type(str), default=["service_role"])
    # Advisors to switch off, by name, and tables (fnmatch patterns) to leave out.
    disable = c.ListOfItems(c.Type(str), default=[])
    exclude = c.ListOfItems(c.Type(str), default=[])


class DbSchemaConfig(base.Config):
    # PostgreSQL URL (postgresql:// or postgresql+psycopg://). Unset: $DBSCHEMA_DSN,
    # and without that an embedded server loaded from `embedded_sql`.
    dsn = c.Optional(c.Type(str))
    # SQL files or globs for the embedded server, applied in order. Empty: the demo schema.
    embedded_sql = c.ListOfItems(c.Type(str), default=[])
    # Planner statistics restored after `embedded_sql` loads (PostgreSQL 18), so patterns
    # plan as on production: a snapshot written with --planner-stats. Unset with no
    # embedded_sql: the demo's own.
    embedded_stats = c.Optional(c.Type(str))
    # false: never start the embedded server; a build without a DSN stops instead of
    # documenting the demo (for CI, where a missing secret must not go unnoticed).
    embedded = c.Type(bool, default=True)
    # A snapshot file (`mkdocs-dbschema snapshot`), relative to mkdocs.yml: with no DSN the
    # site builds from it, with no database at all.
    snapshot = c.Optional(c.Type(str))
    # search_path for resolving unqualified names; unset: the role's default.
    search_path = c.Optional(c.Type(str))
    # Seconds; libpq waits at least 2 (it reads 1 as 2), so 2 is the least accepted.
    connect_timeout = Whole(2, 600, default=5)
    statement_timeout = Whole(1, default=30_000)  # milliseconds
    lock_timeout = Whole(1, default=3_000)  # milliseconds
    # A folder of templates that override the packaged ones (card.md.j2, notice.md.j2, ...).
    templates = c.Optional(c.Dir(exists=True))
    # Markdown heading level of a card's title.
    heading_level = Whole(1, 5, default=2)
    # Group name → table name patterns (fnmatch), shown in the card header.
    groups = c.DictOfItems(c.ListOfItems(c.Type(str)), default={})
    group_label = c.Type(str, default="Group")
    # Sample rows per card (0: none); `<< table: x | samples: N >>` overrides it per card.
    samples = Whole(0, 1000, default=5)
    # Longer sample values are cut, with a visible marker.
    max_value_length = Whole(8, default=80)
    redaction = c.SubConfig(RedactionConfig)
    # Activity statistics (scans, writes, vacuum times) change as the database is used,
    # sample reads included, so they are opt-in: off, pages stay byte-identical.
    activity_stats = c.Type(bool, default=False)
    advisors = c.SubConfig(AdvisorsConfig)
    # Add the cards' stylesheet (no identifier broken mid-word, wide tables scrolling in
    # their own box); cards are wrapped in a <div> for it when md_in_html is enabled.
    stylesheet = c.Type(bool, default=True)
    # The sections every card shows (empty: all) and those it leaves out; a directive's
    # `sections:` and `hide:` options override them for one card.
    sections = c.ListOfItems(c.Type(str), default=[])
    hide = c.ListOfItems(c.Type(str), default=[])
    # Writer metadata: YAML files or globs (a `.tbls.yml` is read in tbls' format), relative
    # to mkdocs.yml; see docs/plugin/metadata.md.
    metadata = c.ListOfItems(c.Type(str), default=[])
    # Show the source of the functions a card lists (redacted for unambiguous secrets).
    function_bodies = c.Type(bool, default=False)
    # Functions (globs over schema.name) that planning a query pattern may run. Planning
    # evaluates STABLE and IMMUTABLE functions on constants; any other function that is
    # not built in keeps its pattern unplanned, with a warning, unless listed here.
    plan_functions = c.ListOfItems(c.Type(str), default=[])
    # `mkdocs build` of a large site: a second process expands pages ahead of the build,
    # on a second core (see docs/plugin/how-it-works.md#pages-expanded-ahead).
    parallel = c.Type(bool, default=True)
