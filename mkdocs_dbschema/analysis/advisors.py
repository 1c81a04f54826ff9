"""Database advisors: the plain-PostgreSQL counterparts of Supabase's splinter lints.

Each advisor looks at the catalog model only (no queries) and reports findings
with a level, what is wrong, why it matters and the SQL that fixes it.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from ..catalog.model import Catalog, Extension, Function, Index, Table
from ..catalog.names import quote_ident

STORED_KINDS = ("table", "partitioned table", "partition")
COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")
_CALL = re.compile(r"\b(current_setting|auth\.\w+)\(")
_SELECT = re.compile(r"\s*SELECT\b", re.I)  # a subquery, not a column named selected_org
_FROM = re.compile(r"FROM\b(?![$])", re.I)
# The index name in pg_get_indexdef's text, however the server version quoted it.
_INDEX_NAME = re.compile(r'^(CREATE (?:UNIQUE )?INDEX )(?:"(?:[^"]|"")*"|\S+) ON ')


def _skip_quoted(expression: str, position: int) -> int:
    """The position after the '...' literal or "..." identifier starting here."""
    quote, end = expression[position], position + 1
    while end < len(expression):
        if expression[end] == quote:
            if expression[end + 1 : end + 2] != quote:  # a doubled quote is an escaped one
                return end + 1
            end += 1
        end += 1
    return end


def _per_row_spans(expression: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of every current_setting() / auth.*() call that PostgreSQL
    evaluates for every row.

    A call runs once per statement (as an initPlan) only inside a `(SELECT ...)` with
    no FROM, such as `(SELECT auth.uid())`; one in a correlated subquery's WHERE,
    `EXISTS (SELECT 1 FROM members m WHERE m.user_id = auth.uid())`, runs per row.
    """
    calls: list[tuple[int, str]] = []
    ends: dict[int, int] = {}  # opening parenthesis → its closing one
    once: list[tuple[int, int]] = []  # spans of FROM-less subqueries
    stack: list[tuple[int, bool, bool]] = []  # per open parenthesis: start, SELECT?, has FROM?
    position = 0
    while position < len(expression):
        char = expression[position]
        if char in "'\"":
            position = _skip_quoted(expression, position)
            continue
        previous = expression[position - 1] if position else " "
        word_start = not (previous.isalnum() or previous in "_.$")
        match = _CALL.match(expression, position) if word_start else None
        if match:
            calls.append((position, match.group(1)))
        elif word_start and stack and _FROM.match(expression, position):
            start, is_select, _ = stack[-1]
            stack[-1] = (start, is_select, True)
        if char == "(":
            stack.append((position, bool(_SELECT.match(expression, position + 1)), False))
        elif char == ")" and stack:
            start, is_select, has_from = stack.pop()
            ends[start] = position
            if is_select and not has_from:
                once.append((start, position))
        position += 1
    return [
        (at, ends.get(at + len(name), len(expression) - 1) + 1, name)
        for at, name in calls
        if not any(start < at < end for start, end in once)
    ]


def per_row_calls(expression: str) -> list[str]:
    return [name for _, _, name in _per_row_spans(expression)]


def wrap_per_row_calls(expression: str) -> str:
    """The expression with each per-row call wrapped in `(SELECT ...)`."""
    spans = _per_row_spans(expression)
    # A call nested in another (auth.has_role(auth.uid())) goes with its outer call.
    outermost = [(s, e) for s, e, _ in spans if not any(o < s and e <= oe for o, oe, _ in spans)]
    for start, end in reversed(outermost):
        expression = f"{expression[:start]}(SELECT {expression[start:end]}){expression[end:]}"
    return expression


@dataclass(frozen=True)
class Finding:
    advisor: str
    level: str  # ERROR / WARN / INFO
    table: str  # catalog key
    table_display: str
    what: str
    why: str
    remediation: str  # SQL


@dataclass(frozen=True)
class Advisor:
    name: str
    level: str
    why: str
    check: Callable[[Table, Catalog, AdvisorOptions], Iterator[tuple[str, str]]]  # (what, fix)


@dataclass(frozen=True)
class CatalogAdvisor:
    """An advisor about the database rather than one table: (key, display, what, fix)."""

    name: str
    level: str
    why: str
    check: Callable[[Catalog, AdvisorOptions], Iterator[tuple[str, str, str, str]]]


AUTO = "auto"  # exposed_schemas: the schemas the API roles that exist may use


@dataclass(frozen=True)
class AdvisorOptions:
    # Schemas reachable through an API; "auto": those the anon / authenticated roles
    # may use (Catalog.api_schemas), none where no such role exists.
    exposed_schemas: Sequence[str] | str = AUTO
    trusted_roles: Sequence[str] = ("service_role",)
    activity: bool = True  # scan counts mean something: unused_index may speak
    disabled: frozenset[str] = frozenset()
    excluded: Sequence[str] = ()  # table name patterns


def exposed(options: AdvisorOptions, catalog: Catalog) -> tuple[str, ...]:
    """The exposed schemas: as configured, or detected from the API roles' privileges."""
    if isinstance(options.exposed_schemas, str):
        return tuple(catalog.api_schemas) if options.exposed_schemas == AUTO else (options.exposed_schemas,)
    return tuple(options.exposed_schemas)


def _qualified(table: Table) -> str:
    return f"{quote_ident(table.schema)}.{quote_ident(table.name)}"


def _columns(columns: Iterable[str]) -> str:
    return ", ".join(quote_ident(c) for c in columns)


# Columns that name the tenant (or owner) of a row, most specific first.
TENANT_COLUMNS = (
    "tenant_id",
    "account_id",
    "organization_id",
    "org_id",
    "workspace_id",
    "team_id",
    "company_id",
    "hotel_id",
)
OWNER_COLUMNS = ("user_id", "owner_id", "created_by")
TENANT_TABLES = ("tenants", "accounts", "organizations", "orgs", "workspaces", "teams", "companies", "hotels")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def tenant_column(table: Table) -> str | None:
    """The column naming a row's tenant: by name, else a foreign key to a tenant table."""
    names = [c.name for c in table.columns]
    named = next((n for n in TENANT_COLUMNS if n in names), None)
    if named:
        return named
    for fk in table.foreign_keys:
        if len(fk.columns) == 1 and fk.ref_table.rsplit(".", 1)[-1].strip('"') in TENANT_TABLES:
            return fk.columns[0]
    return next((n for n in OWNER_COLUMNS if n in names), None)


def _words(expression: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(expression)}


def _row_condition(table: Table, catalog: Catalog) -> str:
    """A policy condition to start from, in the database's own terms: the condition an
    existing policy applies to the same tenant column on another documented table, else
    the owner compared with auth.uid() where that function exists; never a made-up claim."""
    column = tenant_column(table)
    if column is not None:
        for other in sorted(catalog.tables.values(), key=lambda t: t.key):
            if other.key == table.key:
                continue
            own = {c.name.lower() for c in other.columns}
            for policy in other.policies:
                for expression in (policy.using, policy.check):
                    if not expression or _always_true(expression) or expression.strip() == "false":
                        continue
                    words = _words(expression)
                    # Reusable only if the tenant column is the one column of its table it reads.
                    if column in words and (words & own) == {column} and other.key not in expression:
                        return expression
        claims = {f.name for f in catalog.functions.values()} | {
            fn for t in catalog.tables.values() for p in t.policies for fn in _calls(p)
        }
        if column in OWNER_COLUMNS and "auth.uid()" in claims:
            return f"{quote_ident(column)} = (SELECT auth.uid())"
    return "false /* the rows this role may reach */"


def _calls(policy: object) -> set[str]:
    text = " ".join(e for e in (getattr(policy, "using", None), getattr(policy, "check", None)) if e)
    return {f"{name}()" for name in re.findall(r"\b(auth\.\w+)\(\)", text)}


def _covers(index: Index, columns: Sequence[str]) -> bool:
    """The index starts with exactly these columns, in any order, and serves every row."""
    width = len(columns)
    usable = index.valid and not index.partial
    return usable and len(index.columns) >= width and set(index.columns[:width]) == set(columns)


def unindexed_foreign_keys(
    table: Table, catalog: Catalog, options: AdvisorOptions
) -> Iterator[tuple[str, str]]:
    for fk in table.foreign_keys:
        if fk.declared_on:  # a key of the partitions: each partition's card speaks for its index
            continue
        if any(_covers(index, fk.columns) for index in table.indexes):
            continue
        yield (
            f"foreign key {fk.name} ({_columns(fk.columns)}) has no index starting with its columns",
            f"CREATE INDEX ON {_qualified(table)} ({_columns(fk.columns)});",
        )


def no_primary_key(table: Table, catalog: Catalog, options: AdvisorOptions) -> Iterator[tuple[str, str]]:
    if table.kind not in STORED_KINDS or table.primary_key is not None:
        return
    # A unique key over NOT NULL columns already identifies rows: promote it.
    candidate = next(iter(table.unique_keys), None)
    if candidate:
        fix = f"ALTER TABLE {_qualified(table)} ADD PRIMARY KEY ({_columns(candidate)});"
    else:
        taken = {c.name for c in table.columns}
        column = next(
            name
            for name in ("id", "row_id", "pk_id", *(f"id_{n}" for n in range(1, 1000)))
            if name not in taken
        )
        fix = (
            f"ALTER TABLE {_qualified(table)}\n"
            f"  ADD COLUMN {column} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;"
        )
    yield f"{table.display} has no primary key", fix


def _drop_index(table: Table, index: Index) -> str:
    name = f"{quote_ident(table.schema)}.{quote_ident(index.name)}"
    if index.constraint is not None:
        return f"ALTER TABLE {_qualified(table)} DROP CONSTRAINT {quote_ident(index.constraint)};"
    # CONCURRENTLY cannot drop the index of a partitioned table.
    return f"DROP INDEX {name};" if index.partitioned else f"DROP INDEX CONCURRENTLY {name};"


def unused_indexes(table: Table, catalog: Catalog, options: AdvisorOptions) -> Iterator[tuple[str, str]]:
    if not options.activity:
        return
    since = (
        f"since statistics were reset ({catalog.stats_since})"
        if catalog.stats_since
        else ("since statistics began")
    )
    shapes = Counter(_shape(index) for index in table.indexes)
    for index in table.indexes:
        if index.scans or index.unique or index.constraint is not None or not index.valid or index.attached:
            continue
        # Deletes and key updates in the referenced table use it without counting as scans.
        if any(_covers(index, fk.columns) for fk in table.foreign_keys):
            continue
        # An index with an identical twin is duplicate_index's finding: drop one, not both.
        if shapes[_shape(index)] > 1:
            continue
        yield f"index {index.name} has not been scanned {since}", _drop_index(table, index)


def _shape(index: Index) -> str:
    """What the index is made of, its name and uniqueness aside: equal for indexes that
    find the same rows the same way (columns, operator classes, collations, order,
    expressions, predicate, method), however they were written or named."""
    if index.structure:
        return index.structure
    return _INDEX_NAME.sub(r"\1ON ", index.definition, count=1).replace("CREATE UNIQUE INDEX", "CREATE INDEX")


def duplicate_indexes(table: Table, catalog: Catalog, options: AdvisorOptions) -> Iterator[tuple[str, str]]:
    seen: dict[str, Index] = {}
    for index in table.indexes:
        if not index.valid:  # invalid_index's finding
            continue
        first = seen.setdefault(_shape(index), index)
        if first is index:
            continue
        # A unique index does more than a plain twin: only the plain one is redundant.
        if first.unique != index.unique:
            extra_one = first if index.unique else index
            if not extra_one.attached and extra_one.constraint is None:
                kept = index if extra_one is first else first
                yield (
                    f"index {extra_one.name} duplicates the unique index {kept.name}",
                    _drop_index(table, extra_one),
                )
            seen[_shape(index)] = index if index.unique else first
            continue
        # Drop the one nothing else needs: a constraint's index goes with the constraint,
        # a partition's copy of its parent's index only with the parent's.
        droppable = [i for i in (index, first) if not i.attached]
        if droppable:
            extra = next((i for i in droppable if i.constraint is None), droppable[0])
            yield f"indexes {first.name} and {index.name} are identical", _drop_index(table, extra)


def rls_enabled_no_policy(
    table: Table, catalog: Catalog, options: AdvisorOptions
) -> Iterator[tuple[str, str]]:
    if table.rls_enabled and not table.policies:
        yield (
            f"row level security is enabled on {table.display} but no policy exists",
            f"CREATE POLICY tenant_isolation ON {_qualified(table)} FOR ALL TO public\n"
            f"  USING ({_row_condition(table, catalog)});",
        )


def policy_exists_rls_disabled(
    table: Table, catalog: Catalog, options: AdvisorOptions
) -> Iterator[tuple[str, str]]:
    if table.policies and not table.rls_enabled:
        names = ", ".join(p.name for p in table.policies)
        yield (
            f"{table.display} has policies ({names}) but row level security is disabled",
            f"ALTER TABLE {_qualified(table)} ENABLE ROW LEVEL SECURITY;",
        )


def rls_disabled_in_exposed_schema(
    table: Table, catalog: Catalog, options: AdvisorOptions
) -> Iterator[tuple[str, str]]:
    if table.schema in exposed(options, catalog) and table.kind in STORED_KINDS and not table.rls_enabled:
        yield (
            f"{table.display} is in the exposed schema {table.schema} without row level security",
            f"ALTER TABLE {_qualified(table)} ENABLE ROW LEVEL SECURITY;",
        )


def multiple_permissive_policies(
    table: Table, catalog: Catalog, options: AdvisorOptions
) -> Iterator[tuple[str, str]]:
    applying: dict[tuple[str, str], list[str]] = defaultdict(list)
    roles = sorted({r for p in table.policies for r in p.roles if r != "public"}) or ["public"]
    for policy in table.policies:
        if not policy.permissive:
            continue
        commands = COMMANDS if policy.command == "ALL" else (policy.command,)
        targets = roles if "public" in policy.roles else policy.roles
        for role in targets:
            for command in commands:
                applying[(role, command)].append(policy.name)
    everyone = {p.name for p in table.policies if "public" in p.roles}
    for (role, command), names in sorted(applying.items()):
        if len(names) > 1:
            through = sorted(everyone & set(names)) if role != "public" else []
            verb = "applies" if len(through) == 1 else "apply"
            note = f"; {', '.join(through)} {verb} to every role (TO public)" if through else ""
            yield (
                f"role {role} has {len(names)} permissive {command} policies ({', '.join(names)}){note}",
                f"-- merge them into one policy whose USING ORs the conditions, then:\n"
                f"DROP POLICY {quote_ident(names[-1])} ON {_qualified(table)};",
            )


def per_row_policy_calls(
    table: Table, catalog: Catalog, options: AdvisorOptions
) -> Iterator[tuple[str, str]]:
    for policy in table.policies:
        for clause, expression in (("USING", policy.using), ("WITH CHECK", policy.check)):
            calls = per_row_calls(expression or "")
            if calls:
                assert expression is not None
                yield (
                    f"policy {policy.name} calls {calls[0]}() per row in {clause}",
                    f"ALTER POLICY {quote_ident(policy.name)} ON {_qualified(table)}\n"
                    f"  {clause} ({wrap_per_row_calls(expression)});",
                )


def _always_true(expression: str | None) -> bool:
    return expression is not None and re.sub(r"[\s()]", "", expression).lower() in ("true", "1=1")


def always_true_write_policies(
    table: Table, catalog: Catalog, options: AdvisorOptions
) -> Iterator[tuple[str, str]]:
    if not table.rls_enabled:  # unenforced policies are policy_exists_rls_disabled's finding
        return
    trusted = {quote_ident(role) for role in options.trusted_roles}
    for policy in table.policies:
        # A restrictive policy only narrows what permissive ones grant: true narrows nothing.
        # SELECT ... USING (true) is the usual way to publish rows.
        if policy.command == "SELECT" or not policy.permissive or set(policy.roles) <= trusted:
            continue
        clauses = [
            clause
            for clause, expression in (("USING", policy.using), ("WITH CHECK", policy.check))
            if _always_true(expression)
        ]
        if clauses:
            condition = _row_condition(table, catalog)
            roles = ", ".join(policy.roles)
            yield (
                f"policy {policy.name} lets {roles} {policy.command} any row (condition true)",
                f"ALTER POLICY {quote_ident(policy.name)} ON {_qualified(table)}\n  "
                + " ".join(f"{clause} ({condition})" for clause in clauses)
                + ";",
            )


def _mutable(function: Function) -> bool:
    return (
        function.user_defined and function.search_path is None and function.kind in ("function", "procedure")
    )


def pin_search_path(function: Function) -> str:
    """ALTER ... SET search_path to the schemas where the body's unqualified names resolve
    today, then pg_temp (searched last, so no temporary object can stand in for them);
    the empty path only when the body names nothing outside pg_catalog unqualified."""
    schemas = ", ".join(quote_ident(s) for s in function.body_schemas)
    path = f"{schemas}, pg_temp" if schemas else "''"
    return f"ALTER {function.kind.upper()} {function.name} SET search_path = {path};"


def mutable_search_path_functions(
    table: Table, catalog: Catalog, options: AdvisorOptions
) -> Iterator[tuple[str, str]]:
    """The functions this table runs (triggers, defaults, checks, policies) of the documented
    schemas, and its trigger functions wherever they live."""
    for key in table.functions:
        function = catalog.functions.get(key)
        if function is None or not _mutable(function):
            continue
        uses = function.uses(table.key)
        if function.documented or "trigger" in uses:
            yield (
                f"{' and '.join(uses)} function {function.name} runs with the caller's search_path",
                pin_search_path(function),
            )


def functions_search_path(catalog: Catalog, options: AdvisorOptions) -> Iterator[tuple[str, str, str, str]]:
    """Every other function of the documented schemas (none of the documented tables uses it)."""
    for key, function in sorted(catalog.functions.items()):
        if not _mutable(function) or not function.documented:
            continue
        if any(use.split(" ", 1)[1] in catalog.tables for use in function.used_by):
            continue  # reported on the card of each table that uses it
        yield (
            key,
            f"{function.kind} {function.name}",
            f"{function.kind} {function.name} runs with the caller's search_path",
            pin_search_path(function),
        )


def missing_comments(table: Table, catalog: Catalog, options: AdvisorOptions) -> Iterator[tuple[str, str]]:
    noun = "TABLE" if table.kind in STORED_KINDS else table.kind.upper()
    if not table.comment:
        yield f"{table.display} has no comment", f"COMMENT ON {noun} {_qualified(table)} IS '...';"
    bare = [c.name for c in table.columns if not c.comment]
    if bare:
        yield (
            f"{len(bare)} of {len(table.columns)} columns have no comment: {', '.join(bare)}",
            "\n".join(f"COMMENT ON COLUMN {_qualified(table)}.{quote_ident(c)} IS '...';" for c in bare),
        )


def _security_invoker(table: Table) -> bool:
    return (table.option("security_invoker") or "false").lower() in ("true", "on", "1", "yes")


def security_definer_views(
    table: Table, catalog: Catalog, options: AdvisorOptions
) -> Iterator[tuple[str, str]]:
    if table.kind == "view" and table.schema in exposed(options, catalog) and not _security_invoker(table):
        yield (
            f"view {table.display} runs with its owner's privileges ({table.owner or 'the owner'}), "
            "bypassing the caller's row level security",
            f"ALTER VIEW {_qualified(table)} SET (security_invoker = on);",
        )


def auth_users_exposed(table: Table, catalog: Catalog, options: AdvisorOptions) -> Iterator[tuple[str, str]]:
    if table.kind not in ("view", "materialized view") or "auth.users" not in table.reads:
        return
    if table.schema not in exposed(options, catalog) or _security_invoker(table):
        return
    if table.kind == "view":
        fix = f"ALTER VIEW {_qualified(table)} SET (security_invoker = on);"
    else:
        roles = ["PUBLIC", *(g.split(":", 1)[0] for g in table.grants if not g.startswith("PUBLIC:"))]
        fix = f"REVOKE SELECT ON {_qualified(table)} FROM {', '.join(roles)};"  # noqa: S608 (shown, not run)
    yield f"{table.display} in the exposed schema {table.schema} reads auth.users", fix


_USER_METADATA = re.compile(r"user_metadata")


def rls_references_user_metadata(
    table: Table, catalog: Catalog, options: AdvisorOptions
) -> Iterator[tuple[str, str]]:
    for policy in table.policies:
        for clause, expression in (("USING", policy.using), ("WITH CHECK", policy.check)):
            if expression and _USER_METADATA.search(expression):
                yield (
                    f"policy {policy.name} trusts user_metadata in {clause}, which users edit themselves",
                    f"ALTER POLICY {quote_ident(policy.name)} ON {_qualified(table)}\n"
                    f"  {clause} ({_USER_METADATA.sub('app_metadata', expression)});",
                )


SENSITIVE = re.compile(
    r"passw|secret|(^|_)(ssn|cvv|cvc|pin)$|social_?security|passport|tax_?id|national_?id|api_?key"
    r"|access_?token|refresh_?token|private_?key|(credit|debit)_?card|card_?number|(^|_)iban$",
    re.I,
)


def sensitive_columns_exposed(
    table: Table, catalog: Catalog, options: AdvisorOptions
) -> Iterator[tuple[str, str]]:
    if table.kind not in STORED_KINDS or table.rls_enabled or table.schema not in exposed(options, catalog):
        return
    sensitive = [c.name for c in table.columns if SENSITIVE.search(c.name)]
    if sensitive:
        yield (
            f"{table.display} is reachable through the API without row level security and holds "
            f"{', '.join(sensitive)}",
            f"ALTER TABLE {_qualified(table)} ENABLE ROW LEVEL SECURITY;",
        )


def invalid_indexes(table: Table, catalog: Catalog, options: AdvisorOptions) -> Iterator[tuple[str, str]]:
    for index in table.indexes:
        if index.valid or index.partitioned:
            continue
        yield (
            f"index {index.name} is invalid (a failed CREATE INDEX CONCURRENTLY): queries never use it, "
            "yet every write updates it",
            f"REINDEX INDEX CONCURRENTLY {quote_ident(table.schema)}.{quote_ident(index.name)};",
        )


BLOAT_SHARE, BLOAT_ROWS = 0.2, 1000  # dead rows: a fifth of the table and at least this many


def table_bloat(table: Table, catalog: Catalog, options: AdvisorOptions) -> Iterator[tuple[str, str]]:
    if not options.activity or table.dead_tuples is None or table.live_tuples is None:
        return
    dead, live = table.dead_tuples, table.live_tuples
    if dead >= BLOAT_ROWS and dead > BLOAT_SHARE * (dead + live):
        share = 100 * dead / (dead + live)
        yield (
            f"{dead:,} dead rows ({share:.0f}% of the table) wait for VACUUM",
            f"VACUUM (ANALYZE) {_qualified(table)};",
        )


def extensions_in_public(catalog: Catalog, options: AdvisorOptions) -> Iterator[tuple[str, str, str, str]]:
    for extension in catalog.extensions:
        if extension.schema == "public" and extension.relocatable:
            yield (
                f"extension {extension.name}",
                f"extension {extension.name}",
                f"extension {extension.name} {extension.version} is installed in public",
                _move_extension(extension),
            )


def _move_extension(extension: Extension) -> str:
    return (
        "CREATE SCHEMA IF NOT EXISTS extensions;\n"
        f"ALTER EXTENSION {quote_ident(extension.name)} SET SCHEMA extensions;\n"
        "-- then add extensions to the search_path of the roles that call it unqualified"
    )


ADVISORS = (
    Advisor(
        "policy_exists_rls_disabled",
        "ERROR",
        "Policies that are not enforced give a false sense of security.",
        policy_exists_rls_disabled,
    ),
    Advisor(
        "rls_disabled_in_exposed_schema",
        "ERROR",
        "Tables in an exposed schema are reachable through the API; without RLS every row is.",
        rls_disabled_in_exposed_schema,
    ),
    Advisor(
        "security_definer_view",
        "ERROR",
        "A view runs with its owner's privileges unless security_invoker is on: API roles read "
        "through it what row level security hides from them.",
        security_definer_views,
    ),
    Advisor(
        "auth_users_exposed",
        "ERROR",
        "A view of auth.users in an exposed schema publishes users' emails and metadata.",
        auth_users_exposed,
    ),
    Advisor(
        "rls_references_user_metadata",
        "ERROR",
        "Users edit their own user_metadata: a policy that trusts it lets them choose their rights.",
        rls_references_user_metadata,
    ),
    Advisor(
        "sensitive_columns_exposed",
        "ERROR",
        "Secrets in a table the API reaches without row level security are readable by anyone.",
        sensitive_columns_exposed,
    ),
    Advisor(
        "invalid_index",
        "WARN",
        "An invalid index is maintained on every write and never used by a query.",
        invalid_indexes,
    ),
    Advisor(
        "table_bloat",
        "WARN",
        "Dead rows take space and slow scans until VACUUM reclaims them.",
        table_bloat,
    ),
    Advisor(
        "duplicate_index",
        "WARN",
        "Identical indexes cost writes and space and give the planner nothing.",
        duplicate_indexes,
    ),
    Advisor(
        "multiple_permissive_policies",
        "WARN",
        "Every permissive policy is evaluated for every row; one merged policy is cheaper.",
        multiple_permissive_policies,
    ),
    Advisor(
        "auth_rls_initplan",
        "WARN",
        "current_setting() or auth.*() outside a (SELECT ...) is re-evaluated for every row.",
        per_row_policy_calls,
    ),
    Advisor(
        "rls_policy_always_true",
        "WARN",
        "A write policy whose condition is true lets the role change any tenant's rows.",
        always_true_write_policies,
    ),
    Advisor(
        "function_search_path_mutable",
        "WARN",
        "A function without a fixed search_path resolves names through the caller's path.",
        mutable_search_path_functions,
    ),
    Advisor(
        "unindexed_foreign_key",
        "INFO",
        "Joins on the key and deletes of referenced rows scan the whole table.",
        unindexed_foreign_keys,
    ),
    Advisor(
        "no_primary_key",
        "INFO",
        "Rows cannot be addressed reliably; replication and sync tools need a key.",
        no_primary_key,
    ),
    Advisor("unused_index", "INFO", "An index nobody scans still slows every write.", unused_indexes),
    Advisor(
        "rls_enabled_no_policy",
        "INFO",
        "Every row is hidden from roles that do not bypass RLS.",
        rls_enabled_no_policy,
    ),
    Advisor(
        "missing_comment",
        "INFO",
        "Comments are the purpose lines of this documentation.",
        missing_comments,
    ),
)
CATALOG_ADVISORS = (
    CatalogAdvisor(
        "function_search_path_mutable",
        "WARN",
        "A function without a fixed search_path resolves names through the caller's path.",
        functions_search_path,
    ),
    CatalogAdvisor(
        "extension_in_public",
        "WARN",
        "Objects of an extension in public are reachable by every role that uses public.",
        extensions_in_public,
    ),
)
ADVISOR_NAMES = tuple(dict.fromkeys([*(a.name for a in ADVISORS), *(a.name for a in CATALOG_ADVISORS)]))
LEVEL_ORDER = {"ERROR": 0, "WARN": 1, "INFO": 2}


def advise(catalog: Catalog, options: AdvisorOptions) -> dict[str, list[Finding]]:
    """Findings per documented table, most severe first."""
    findings: dict[str, list[Finding]] = {}
    for key, table in sorted(catalog.tables.items()):
        if any(fnmatch.fnmatchcase(table.name, p) or fnmatch.fnmatchcase(key, p) for p in options.excluded):
            continue
        found = [
            Finding(advisor.name, advisor.level, key, table.display, what, advisor.why, fix)
            for advisor in ADVISORS
            if advisor.name not in options.disabled
            for what, fix in advisor.check(table, catalog, options)
        ]
        findings[key] = sorted(found, key=lambda f: LEVEL_ORDER[f.level])
    for catalog_advisor in CATALOG_ADVISORS:
        if catalog_advisor.name in options.disabled:
            continue
        for key, display, what, fix in catalog_advisor.check(catalog, options):
            if any(fnmatch.fnmatchcase(key, p) or fnmatch.fnmatchcase(display, p) for p in options.excluded):
                continue
            finding = Finding(
                catalog_advisor.name, catalog_advisor.level, key, display, what, catalog_advisor.why, fix
            )
            findings.setdefault(key, []).append(finding)
    return findings
