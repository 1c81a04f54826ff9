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

from ..catalog.model import Catalog, Index, Table
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
class AdvisorOptions:
    exposed_schemas: Sequence[str] = ("public",)
    trusted_roles: Sequence[str] = ("service_role",)
    activity: bool = True  # scan counts mean something: unused_index may speak
    disabled: frozenset[str] = frozenset()
    excluded: Sequence[str] = ()  # table name patterns


def _qualified(table: Table) -> str:
    return f"{quote_ident(table.schema)}.{quote_ident(table.name)}"


def _columns(columns: Iterable[str]) -> str:
    return ", ".join(quote_ident(c) for c in columns)


def _row_condition(table: Table) -> str:
    """A policy condition to start from: tenant isolation where the table has a tenant."""
    tenant = next((c for c in table.columns if c.name == "tenant_id"), None)
    if tenant is None:
        return "false /* the rows this role may reach */"
    return f"tenant_id = (SELECT current_setting('app.tenant_id', true)::{tenant.type})"


def _covers(index: Index, columns: Sequence[str]) -> bool:
    """The index starts with exactly these columns, in any order, and serves every row."""
    width = len(columns)
    usable = index.valid and not index.partial
    return usable and len(index.columns) >= width and set(index.columns[:width]) == set(columns)


def unindexed_foreign_keys(
    table: Table, catalog: Catalog, options: AdvisorOptions
) -> Iterator[tuple[str, str]]:
    for fk in table.foreign_keys:
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
    """The definition without the index name: equal for identical indexes."""
    return _INDEX_NAME.sub(r"\1ON ", index.definition, count=1)


def duplicate_indexes(table: Table, catalog: Catalog, options: AdvisorOptions) -> Iterator[tuple[str, str]]:
    seen: dict[str, Index] = {}
    for index in table.indexes:
        first = seen.setdefault(_shape(index), index)
        if first is not index:
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
            f"  USING ({_row_condition(table)});",
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
    if table.schema in options.exposed_schemas and table.kind in STORED_KINDS and not table.rls_enabled:
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
            condition = _row_condition(table)
            roles = ", ".join(policy.roles)
            yield (
                f"policy {policy.name} lets {roles} {policy.command} any row (condition true)",
                f"ALTER POLICY {quote_ident(policy.name)} ON {_qualified(table)}\n  "
                + " ".join(f"{clause} ({condition})" for clause in clauses)
                + ";",
            )


def mutable_search_path_functions(
    table: Table, catalog: Catalog, options: AdvisorOptions
) -> Iterator[tuple[str, str]]:
    triggers = [t for t in table.triggers if t.function_user_defined and not t.function_search_path_set]
    for function in sorted({t.function for t in triggers}):
        yield (
            f"trigger function {function} runs with the caller's search_path",
            f"ALTER FUNCTION {function} SET search_path = '';",
        )


def missing_comments(table: Table, catalog: Catalog, options: AdvisorOptions) -> Iterator[tuple[str, str]]:
    if not table.comment:
        yield f"{table.display} has no comment", f"COMMENT ON TABLE {_qualified(table)} IS '...';"
    bare = [c.name for c in table.columns if not c.comment]
    if bare:
        yield (
            f"{len(bare)} of {len(table.columns)} columns have no comment: {', '.join(bare)}",
            f"COMMENT ON COLUMN {_qualified(table)}.{quote_ident(bare[0])} IS '...';",
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
ADVISOR_NAMES = tuple(a.name for a in ADVISORS)
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
    return findings
