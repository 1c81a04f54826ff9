"""Dependency levels, advisors, query patterns and activity statistics on a real PostgreSQL."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import FIXTURES, SQL, Server, ensure_role, read
from sites import build

from mkdocs_dbschema.analysis.advisors import ADVISOR_NAMES, AdvisorOptions, advise
from mkdocs_dbschema.analysis.dependencies import Level, dependency_levels
from mkdocs_dbschema.catalog.connection import SessionSettings, create_engine, parse_url
from mkdocs_dbschema.catalog.embedded import demo_schema
from mkdocs_dbschema.catalog.plans import parametrize, plan_query
from mkdocs_dbschema.render.cards import frequency, hit_ratio

ADVISORS_SQL = SQL / "advisors.sql"


def test_levels_of_chains_cycles_and_self_references() -> None:
    graph = {
        "root": (),
        "a": ("root",),
        "b": ("a", "b"),  # self reference does not raise the level
        "x": ("y", "a"),  # x ↔ y, a two-table cycle above a
        "y": ("x",),
        "p": ("q",),  # p → q → r → p, a longer loop
        "q": ("r",),
        "r": ("p", "root"),
        "top": ("x", "p"),
    }
    levels = dependency_levels(graph)
    assert levels["root"] == Level(level=0)
    assert levels["a"] == Level(level=1)
    assert levels["b"] == Level(level=2, self_reference=True)
    assert levels["x"] == levels["y"] == Level(level=2, cycle=("x", "y"))
    assert levels["p"].level == levels["q"].level == levels["r"].level == 1
    assert levels["p"].cycle == ("p", "q", "r")
    assert levels["top"] == Level(level=3)


def test_levels_handle_deep_graphs_without_recursion() -> None:
    graph = {f"t{i}": (f"t{i - 1}",) if i else () for i in range(5000)}
    assert dependency_levels(graph)["t4999"].level == 4999


def test_deferrable_cycle_in_a_real_database(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE TABLE hotels (id int PRIMARY KEY, main_unit int);"
        "CREATE TABLE units (id int PRIMARY KEY, hotel_id int REFERENCES hotels DEFERRABLE INITIALLY DEFERRED,"
        " parent_unit int REFERENCES units);"
        "ALTER TABLE hotels ADD FOREIGN KEY (main_unit) REFERENCES units DEFERRABLE INITIALLY DEFERRED;"
        "CREATE TABLE bookings (id int PRIMARY KEY, unit_id int REFERENCES units);"
    )
    catalog = read(url, "bookings")
    levels = dependency_levels(catalog.graph)
    assert levels["public.hotels"] == Level(level=0, cycle=("public.hotels", "public.units"))
    assert levels["public.units"] == Level(
        level=0, cycle=("public.hotels", "public.units"), self_reference=True
    )
    assert levels["public.bookings"] == Level(level=1)
    page = "<< table: units >>\n\n## Order\n\n<< migration-order >>\n"
    result = build(tmp_path, {"index.md": page}, {"dsn": url}, strict=True)
    assert result.returncode == 0, result.log
    text = result.text()
    assert "Dependency Level: 0 (cycle with public.hotels) (references itself)" in text
    assert "0hotels, units" in text.replace("\n", "") and "1bookings" in text.replace("\n", "")
    assert "Cycle: hotels ↔ units" in text and "SET CONSTRAINTS ALL DEFERRED" in text
    assert "Self-referencing tables" in text and "defer the constraint: units" in text


# The exposed schema of the advisor tests, whatever roles the server has.
OPTIONS = AdvisorOptions(exposed_schemas=("public",))


def _break_an_index(url: str) -> None:
    """An invalid index, as a failed CREATE INDEX CONCURRENTLY leaves it; then the row
    that made it fail is mended, so that rebuilding it succeeds."""
    engine = sa.create_engine(parse_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            with pytest.raises(sa.exc.DataError, match="division by zero"):
                conn.exec_driver_sql("CREATE INDEX CONCURRENTLY broken_idx_v ON broken_idx ((1 / v))")
            conn.exec_driver_sql("UPDATE broken_idx SET v = 1")
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def advisors_url(server: Server) -> Iterator[str]:
    url = server.create_database(files=(ADVISORS_SQL,))
    _break_an_index(url)
    time.sleep(1)  # let the script's index scans reach the statistics
    yield url
    server.drop_database(url)


FIRES_ON = {
    "unindexed_foreign_key": "fk_unindexed",
    "no_primary_key": "no_pk",
    "unused_index": "unused_idx",
    "duplicate_index": "dup_idx",
    "rls_enabled_no_policy": "rls_no_policy",
    "policy_exists_rls_disabled": "policy_no_rls",
    "rls_disabled_in_exposed_schema": "public_no_rls",
    "multiple_permissive_policies": "multi_permissive",
    "auth_rls_initplan": "per_row",
    "rls_policy_always_true": "always_true",
    "function_search_path_mutable": "mutable_fn",
    "missing_comment": "no_comments",
    "security_definer_view": "definer_view",
    "auth_users_exposed": "user_emails",
    "rls_references_user_metadata": "meta_policy",
    "sensitive_columns_exposed": "open_secrets",
    "invalid_index": "broken_idx",
    "table_bloat": "bloated",
}
# Advisors about the database rather than a table: the key of their finding.
CATALOG_WIDE = {"extension_in_public": "extension citext"}


def test_every_advisor_is_tested() -> None:
    assert set(FIRES_ON) | set(CATALOG_WIDE) == set(ADVISOR_NAMES)


@pytest.mark.parametrize("advisor", sorted(CATALOG_WIDE))
def test_catalog_wide_advisors_fire_on_their_object(advisors_url: str, advisor: str) -> None:
    findings = advise(read(advisors_url, "clean", "parent"), OPTIONS)
    positive = [f for f in findings[CATALOG_WIDE[advisor]] if f.advisor == advisor]
    assert positive and all(f.what and f.why and f.remediation for f in positive)
    assert findings["public.clean"] == [] and findings["public.parent"] == []


@pytest.mark.parametrize("advisor", sorted(FIRES_ON))
def test_advisor_fires_on_its_table_and_not_on_clean_ones(advisors_url: str, advisor: str) -> None:
    catalog = read(advisors_url, "clean", "parent", FIRES_ON[advisor])
    findings = advise(catalog, OPTIONS)
    positive = [f for f in findings[f"public.{FIRES_ON[advisor]}"] if f.advisor == advisor]
    assert positive, f"{advisor} did not fire on {FIRES_ON[advisor]}"
    assert all(f.what and f.why and f.remediation and f.level in ("ERROR", "WARN", "INFO") for f in positive)
    assert findings["public.clean"] == [] and findings["public.parent"] == []


def test_advisor_details(advisors_url: str) -> None:
    catalog = read(advisors_url, *FIRES_ON.values())
    by_name = {f.advisor: f for fs in advise(catalog, OPTIONS).values() for f in fs}
    assert by_name["unindexed_foreign_key"].remediation == "CREATE INDEX ON public.fk_unindexed (parent_id);"
    assert by_name["duplicate_index"].what == "indexes dup_idx_a and dup_idx_b are identical"
    # Both twins are unscanned, yet only duplicate_index speaks: drop one, not both.
    dup = advise(catalog, OPTIONS)["public.dup_idx"]
    assert "unused_index" not in {f.advisor for f in dup}
    assert (
        by_name["auth_rls_initplan"].what == "policy per_row_tenant calls current_setting() per row in USING"
    )
    assert "has not been scanned since" in by_name["unused_index"].what
    assert (
        by_name["function_search_path_mutable"].remediation
        == "ALTER FUNCTION mutable_path() SET search_path = '';"
    )
    assert by_name["policy_exists_rls_disabled"].level == "ERROR"
    assert (
        "role dbschema_app has 2 permissive SELECT policies (a, b)"
        in by_name["multiple_permissive_policies"].what
    )


def test_advisor_options(advisors_url: str) -> None:
    catalog = read(advisors_url, "no_pk", "no_comments")
    quiet = advise(
        catalog,
        AdvisorOptions(
            exposed_schemas=("public",), disabled=frozenset({"no_primary_key"}), excluded=("no_comm*",)
        ),
    )
    assert "public.no_comments" not in quiet
    assert {f.advisor for f in quiet["public.no_pk"]} == {"rls_disabled_in_exposed_schema", "missing_comment"}
    hidden = advise(catalog, AdvisorOptions(exposed_schemas=()))
    assert "rls_disabled_in_exposed_schema" not in {f.advisor for f in hidden["public.no_pk"]}


def test_advisors_page_and_card_section(advisors_url: str, tmp_path: Path) -> None:
    page = "<< table: dup_idx >>\n\n<< table: clean >>\n\n# All\n\n<< advisors >>\n"
    result = build(
        tmp_path, {"index.md": page}, {"dsn": advisors_url, "advisors": {"disable": ["missing_comment"]}}
    )
    assert result.returncode == 0, result.log
    text = result.text()
    card, clean, page_part = text.split("Purpose:")[1], text.split("Purpose:")[2], text.split("All", 1)[1]
    assert "WARN · duplicate_index: indexes dup_idx_a and dup_idx_b are identical" in card
    assert "DROP INDEX CONCURRENTLY public.dup_idx_b;" in card
    assert "Advisors: no findings." in clean
    assert "duplicate_index" in page_part and "missing_comment" not in text
    # The page: a summary, then one section per advisor listing its tables and fixes.
    article = result.article()
    assert '<h2 id="summary">' in article and '<h2 id="warn-duplicate_index">' in article
    assert "dup_idx: indexes dup_idx_a and dup_idx_b are identical" in page_part
    assert page_part.count("DROP INDEX CONCURRENTLY public.dup_idx_b;") == 1
    bad = build(
        tmp_path / "bad", {"index.md": page}, {"dsn": advisors_url, "advisors": {"disable": ["nope"]}}
    )
    assert bad.returncode != 0 and "unknown advisor(s) nope" in bad.log


def test_activity_statistics_and_scans_per_index(advisors_url: str) -> None:
    clean = read(advisors_url, "clean").tables["public.clean"]
    scans = {i.name: i.scans for i in clean.indexes}
    assert scans["clean_parent_idx"] >= 2
    assert clean.inserts == 1000 and clean.live_tuples == 1000
    assert clean.last_analyze is not None and clean.last_analyze.endswith("UTC")
    # The script inserted and then read the table: its blocks passed through shared buffers.
    assert clean.heap_hits is not None and clean.heap_hits + (clean.heap_reads or 0) > 0
    assert clean.index_hits is not None and clean.index_hits > 0
    assert (hit_ratio(None, None), hit_ratio(0, 0), hit_ratio(3, 1), hit_ratio(999, 1)) == (
        "no reads yet",
        "no reads yet",
        "75.0%",
        "99.9%",
    )
    assert (frequency(0), frequency(99), frequency(100), frequency(9_999), frequency(10_000)) == (
        "Low",
        "Low",
        "Medium",
        "Medium",
        "High",
    )


def _plan_patterns_from(markdown: str) -> list[str]:
    """Every statement of every ```sql block that starts with a `-- Pattern` comment."""
    queries = []
    for block in re.findall(r"```sql\n(.*?)```", markdown, re.S):
        for statement in block.split(";"):
            if re.search(r"^\s*-- Pattern", statement, re.M) and "SELECT" in statement:
                queries.append(statement.strip())
    return queries


def test_every_query_pattern_of_the_plan_plans_on_the_demo_schema(server: Server) -> None:
    plan_text = (FIXTURES / "integration-tables-plan.md").read_text()
    patterns = _plan_patterns_from(plan_text)
    assert len(patterns) == 9  # three per platform in the plan's TASK 5.3
    url = server.create_database(files=(demo_schema(),))
    engine = create_engine(parse_url(url), SessionSettings())
    try:
        with engine.connect() as conn:
            plans = [plan_query(conn, query, n) for n, query in enumerate(patterns)]
    finally:
        engine.dispose()
        server.drop_database(url)
    for query, plan in zip(patterns, plans, strict=True):
        assert plan.error is None, (query, plan.error)
        assert plan.nodes and plan.nodes[0].cost > 0


def test_placeholders_become_parameters() -> None:
    text, names = parametrize(
        "SELECT 1 WHERE a = '[TENANT_ID]' AND b = '[ID]' AND c = '[TENANT_ID]' AND d = '[x'"
    )
    assert text == "SELECT 1 WHERE a = $1 AND b = $2 AND c = $1 AND d = '[x'"
    assert names == ("TENANT_ID", "ID")


PATTERN_PAGE = """# Patterns

```sql
-- explain
-- Pattern 1: lookups by id use the primary key
SELECT * FROM clean WHERE id = '[ID]';
```

```sql
-- not a pattern: no marker
SELECT broken FROM nowhere;
```

```sql
-- explain
SELECT dropped_column FROM clean WHERE tenant_id = '[TENANT_ID]';
```

```sql
-- explain
SELECT 1; DROP TABLE clean;
```
"""


def test_query_patterns_are_planned_and_broken_ones_fail_strict(advisors_url: str, tmp_path: Path) -> None:
    lenient = build(tmp_path / "a", {"index.md": PATTERN_PAGE}, {"dsn": advisors_url})
    assert lenient.returncode == 0, lenient.log
    text = lenient.text()
    assert "-- explain" not in text  # the marker line is dropped from the shown block
    assert "-- Pattern 1: lookups by id use the primary key" in text
    assert "Plan: index clean_pkey · ~1 row · cost" in text and "Index Scan" in text
    assert "index: (id = $1)" in text  # the condition the index answers
    assert 'index.md:14: query pattern does not plan: column "dropped_column" does not exist\n' in lenient.log
    assert (
        "index.md:19: query pattern does not plan: cannot insert multiple commands into a prepared statement"
        in lenient.log
    )
    assert lenient.article().count("admonition failure") == 2
    assert "SELECT broken FROM nowhere" in text and text.count("Plan: ") == 1
    strict = build(tmp_path / "b", {"index.md": PATTERN_PAGE}, {"dsn": advisors_url}, strict=True)
    assert strict.returncode != 0
    assert read(advisors_url, "clean").tables["public.clean"].row_estimate == 1000  # nothing was executed


def test_utility_statements_and_empty_blocks_are_reported_not_crashed(
    advisors_url: str, tmp_path: Path
) -> None:
    page = "```sql\n-- explain\n```\n\n```sql\n-- explain\nSET work_mem = '1GB'\n```\n\n```sql\n-- explain\nVACUUM clean\n```\n"
    result = build(tmp_path, {"index.md": page}, {"dsn": advisors_url})
    assert result.returncode == 0 and "Traceback" not in result.log
    assert "index.md:1: query pattern does not plan: the block holds no query" in result.log
    assert "index.md:5: query pattern does not plan: not a plannable query" in result.log
    assert "index.md:10: query pattern does not plan:" in result.log


def test_partitioned_indexes_count_their_partitions_scans(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE TABLE ev (id int, tenant int, at date NOT NULL) PARTITION BY RANGE (at);"
        "CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');"
        "CREATE INDEX ev_tenant ON ev (tenant);"
        "INSERT INTO ev SELECT i, i, '2026-03-01' FROM generate_series(1, 100) i;"
        "ANALYZE ev; SET enable_seqscan = off; SELECT count(*) FROM ev WHERE tenant = 3;"
        "CREATE TABLE dup (a int, CONSTRAINT dup_a_key UNIQUE (a)); CREATE UNIQUE INDEX a_idx ON dup (a);"
    )
    time.sleep(1)
    catalog = read(url, "ev", "dup")
    (index,) = [i for i in catalog.tables["public.ev"].indexes if i.name == "ev_tenant"]
    assert index.partitioned and index.scans >= 1
    findings = advise(catalog, OPTIONS)
    assert "unused_index" not in {f.advisor for f in findings["public.ev"]}
    (duplicate,) = [f for f in findings["public.dup"] if f.advisor == "duplicate_index"]
    assert duplicate.remediation == "DROP INDEX CONCURRENTLY public.a_idx;"  # not the constraint's index


def test_levels_follow_references_into_other_schemas(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE SCHEMA auth; CREATE TABLE auth.b (id int PRIMARY KEY);"
        "CREATE TABLE auth.a (id int PRIMARY KEY, b int REFERENCES auth.b);"
        "CREATE TABLE docs (id int PRIMARY KEY, a int REFERENCES auth.a);"
    )
    levels = dependency_levels(read(url, "docs").graph)
    assert (levels["auth.b"].level, levels["auth.a"].level, levels["public.docs"].level) == (0, 1, 2)


EDGE_CASES = (
    ensure_role("dbschema_edge_reader")
    + ensure_role("dbschema_edge_worker")
    + """
CREATE SCHEMA auth;
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
CREATE TABLE p (a int PRIMARY KEY);
-- Keywords as names: remediation must quote them as PostgreSQL does.
CREATE TABLE kw (id int PRIMARY KEY, "order" int REFERENCES p, v int);
CREATE INDEX "select" ON kw (v);
CREATE INDEX kw_v2 ON kw (v);
CREATE TABLE members (team int, user_id uuid);
CREATE TABLE teamdocs (id int PRIMARY KEY, team int);
ALTER TABLE teamdocs ENABLE ROW LEVEL SECURITY;
CREATE POLICY correlated ON teamdocs FOR SELECT TO dbschema_edge_reader USING (EXISTS (
    SELECT 1 FROM members m WHERE m.team = teamdocs.team AND m.user_id = auth.uid()));
CREATE POLICY wrapped ON teamdocs FOR SELECT TO dbschema_edge_reader USING (EXISTS (
    SELECT 1 FROM members m WHERE m.team = teamdocs.team AND m.user_id = (SELECT auth.uid())));
CREATE POLICY narrows ON teamdocs AS RESTRICTIVE FOR UPDATE TO dbschema_edge_reader USING (true);
CREATE POLICY anyone_inserts ON teamdocs FOR INSERT TO dbschema_edge_reader WITH CHECK (true);
CREATE POLICY anyone_deletes ON teamdocs FOR DELETE TO dbschema_edge_reader USING (1 = 1);
-- The trusted server role may reach every row by design.
CREATE POLICY worker_all ON teamdocs FOR ALL TO dbschema_edge_worker USING (true) WITH CHECK (true);
-- A built-in trigger function is not the user's to fix.
CREATE TRIGGER quiet BEFORE UPDATE ON teamdocs FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
-- A unique NOT NULL id: promote it instead of adding a second id column.
CREATE TABLE nopk (id int NOT NULL UNIQUE, note text);
-- The only index covering a foreign key is never "unused".
CREATE TABLE child (id int PRIMARY KEY, a int REFERENCES p);
CREATE INDEX child_a ON child (a);
"""
)


def test_advisor_edge_cases(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(EDGE_CASES)
    findings = advise(
        read(url, "kw", "teamdocs", "nopk", "child"), AdvisorOptions(trusted_roles=("dbschema_edge_worker",))
    )
    by_table = {key: {(f.advisor, f.what): f for f in fs} for key, fs in findings.items()}
    kw = {advisor: f for (advisor, _), f in by_table["public.kw"].items()}
    assert kw["duplicate_index"].what == "indexes kw_v2 and select are identical"
    assert kw["unindexed_foreign_key"].remediation == 'CREATE INDEX ON public.kw ("order");'
    teamdocs = by_table["public.teamdocs"]
    initplan = [f for (advisor, _), f in teamdocs.items() if advisor == "auth_rls_initplan"]
    assert [f.what for f in initplan] == ["policy correlated calls auth.uid() per row in USING"]
    assert "m.user_id = (SELECT auth.uid())" in initplan[0].remediation
    always = [f for (advisor, _), f in teamdocs.items() if advisor == "rls_policy_always_true"]
    assert [f.what for f in always] == [
        "policy anyone_deletes lets dbschema_edge_reader DELETE any row (condition true)",
        "policy anyone_inserts lets dbschema_edge_reader INSERT any row (condition true)",
    ]
    assert "USING (false" in always[0].remediation and "WITH CHECK" not in always[0].remediation
    assert "WITH CHECK (false" in always[1].remediation and "USING" not in always[1].remediation
    untrusted = advise(read(url, "teamdocs"), AdvisorOptions(trusted_roles=()))["public.teamdocs"]
    assert "policy worker_all lets dbschema_edge_worker ALL any row (condition true)" in {
        f.what for f in untrusted
    }
    assert "function_search_path_mutable" not in {advisor for advisor, _ in teamdocs}
    nopk = {advisor: f for (advisor, _), f in by_table["public.nopk"].items()}
    assert nopk["no_primary_key"].remediation == "ALTER TABLE public.nopk ADD PRIMARY KEY (id);"
    assert "unused_index" not in {advisor for advisor, _ in by_table["public.child"]}


def test_every_remediation_runs(make_db, advisors_url: str) -> None:  # type: ignore[no-untyped-def]
    """Remediation is SQL to run, not a sketch: each statement succeeds on the real table."""
    edge_url = make_db(EDGE_CASES)
    cases = [
        (advisors_url, read(advisors_url, *FIRES_ON.values())),
        (edge_url, read(edge_url, "kw", "teamdocs", "nopk")),
    ]
    checked = set()
    for url, catalog in cases:
        engine = sa.create_engine(parse_url(url))
        try:
            for finding in [f for fs in advise(catalog, OPTIONS).values() for f in fs]:
                # CONCURRENTLY cannot run in the transaction the test rolls back.
                statement = finding.remediation.replace(" CONCURRENTLY", "")
                if statement.startswith("VACUUM"):  # runs outside any transaction, changes no schema
                    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                        conn.exec_driver_sql(statement)
                    checked.add(finding.advisor)
                    continue
                with engine.connect() as conn, conn.begin():
                    conn.exec_driver_sql(statement)
                    conn.rollback()
                checked.add(finding.advisor)
        finally:
            engine.dispose()
    assert checked == set(ADVISOR_NAMES)


def test_placeholders_only_as_whole_literals() -> None:
    text, names = parametrize(
        "-- for tenant '[TENANT_ID]'\n"
        "SELECT * FROM t /* '[X]' */ WHERE id = '[ID]' AND code ~ '[A-F]' AND note = 'see [ID]'"
        " AND \"'[Y]'\" = $$'[Z]'$$ AND e = E'\\'[W]'"
    )
    assert names == ("ID",)
    assert "WHERE id = $1 AND code ~ '[A-F]' AND note = 'see [ID]'" in text
    assert text.startswith("-- for tenant '[TENANT_ID]'") and "/* '[X]' */" in text


def test_patterns_never_execute(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE TABLE tgt (id int PRIMARY KEY, v int); INSERT INTO tgt SELECT g, g FROM generate_series(1, 100) g;"
        "CREATE SEQUENCE seq;"
        "CREATE FUNCTION bump() RETURNS bigint LANGUAGE sql VOLATILE AS $$ SELECT nextval('seq') $$;"
        "CREATE FUNCTION slow() RETURNS int LANGUAGE sql STABLE AS $$ SELECT 1 FROM pg_sleep(60) $$;"
    )
    patterns = [
        "DELETE FROM tgt WHERE id = '[ID]'",
        "UPDATE tgt SET v = 0",
        "INSERT INTO tgt SELECT g + 1000, bump() FROM generate_series(1, 10) g",
        "WITH gone AS (DELETE FROM tgt RETURNING id) SELECT count(*) FROM gone",
        "SELECT bump(), nextval('seq')",
    ]
    page = "".join(f"```sql\n-- explain\n{p};\n```\n\n" for p in patterns)
    page += "```sql\n-- explain\nSELECT * FROM tgt WHERE v = slow();\n```\n"
    allowed = ["public.bump", "public.slow"]  # planning would refuse them otherwise (see below)
    result = build(
        tmp_path, {"index.md": page}, {"dsn": url, "statement_timeout": 2000, "plan_functions": allowed}
    )
    assert result.returncode == 0, result.log
    assert "canceling statement due to statement timeout" in result.log  # slow() bounded, not run to the end
    assert result.text().count("Est. rows") == len(patterns)
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*), sum(v) FROM tgt").one() == (100, 5050)
            assert conn.exec_driver_sql("SELECT last_value, is_called FROM seq").one() == (1, False)
    finally:
        engine.dispose()


def test_patterns_reaching_functions_that_are_not_built_in_are_not_planned(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        "CREATE SCHEMA app;"
        "CREATE FUNCTION app.boom(int) RETURNS int LANGUAGE plpgsql STABLE AS $$ BEGIN RAISE EXCEPTION 'boom ran'; END $$;"
        "CREATE FUNCTION app.calm(int) RETURNS int LANGUAGE plpgsql VOLATILE AS $$ BEGIN RETURN 1; END $$;"
        "CREATE TABLE t (id int PRIMARY KEY, v int);"
        "CREATE VIEW boomy AS SELECT id, app.boom(1) AS b FROM t;"
        "CREATE TABLE guarded (id int PRIMARY KEY, v int DEFAULT app.boom(2));"
        "CREATE FUNCTION app.eq(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS $$ SELECT app.boom(3) = $1 $$;"
        "CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = app.eq);"
    )
    patterns = {
        "SELECT * FROM t WHERE v = app.boom(4)": "app.boom() (called as boom)",
        "SELECT * FROM boomy": "app.boom() (used by boomy)",
        "INSERT INTO guarded (id) VALUES (1)": "app.boom() (used by guarded)",
        "SELECT * FROM t WHERE v === 1": "app.eq() (behind the operator ===)",
    }
    trusted = [
        "SELECT * FROM t WHERE v = app.calm(1) AND id = abs(-1)",  # VOLATILE plpgsql: never evaluated
        "SELECT * FROM t WHERE v = 1 -- app.boom(5) in a comment",
        "SELECT 'boom(6)' FROM t",
    ]
    page = "".join(f"```sql\n-- explain\n{p};\n```\n\n" for p in [*patterns, *trusted])
    result = build(tmp_path, {"index.md": page}, {"dsn": url})
    assert result.returncode == 0, result.log
    assert "boom ran" not in result.log and "boom ran" not in result.text()
    warnings = [line for line in result.log.splitlines() if "not planned" in line]
    assert len(warnings) == len(patterns), result.log
    for reached, warning in zip(patterns.values(), warnings, strict=True):
        assert f"it may run {reached}" in warning and "plan_functions" in warning
    assert result.text().count("Not planned: planning would run functions that are not built in") == len(
        patterns
    )
    assert result.text().count("Est. rows") == len(trusted)
    strict = build(tmp_path / "strict", {"index.md": page}, {"dsn": url}, strict=True)
    assert strict.returncode != 0
    # Allowed on the page, for one pattern: that one is planned, the others still refused.
    first = "-- explain\nSELECT * FROM t WHERE v = app.boom(4)"
    opted = page.replace(first, first.replace("-- explain", "-- explain | functions: app.b*"))
    page_allowed = build(tmp_path / "page", {"index.md": opted}, {"dsn": url})
    assert "index.md:1: query pattern does not plan: boom ran" in page_allowed.log
    assert len([line for line in page_allowed.log.splitlines() if "not planned" in line]) == len(patterns) - 1
    # Allowed by the configuration: planned, and boom() runs (and raises) while planning.
    allowed = build(tmp_path / "allowed", {"index.md": page}, {"dsn": url, "plan_functions": ["app.*"]})
    assert "not planned" not in allowed.log and "boom ran" in allowed.log


def test_operators_a_keyword_implies_count_as_reached(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """IN applies `=`, BETWEEN `>=` and `<=`, LIKE `~~`: a pattern never spells them, and
    planning still folds or prices them with the operator's function."""
    url = make_db(
        "CREATE SCHEMA app;"
        "CREATE FUNCTION app.boom(int) RETURNS int LANGUAGE plpgsql STABLE AS $$ BEGIN RAISE EXCEPTION 'boom ran'; END $$;"
        "CREATE TYPE app.level AS ENUM ('low', 'high');"
        "CREATE FUNCTION app.level_eq(app.level, app.level) RETURNS bool LANGUAGE sql IMMUTABLE "
        "AS $$ SELECT app.boom(7) = 1 $$;"
        "CREATE OPERATOR = (LEFTARG = app.level, RIGHTARG = app.level, FUNCTION = app.level_eq);"
        # VOLATILE, yet estimating `l < 'high'` calls it on the column's common values.
        "CREATE FUNCTION app.level_lt(app.level, app.level) RETURNS bool LANGUAGE plpgsql VOLATILE "
        "AS $$ BEGIN RETURN app.boom(8) = 1; END $$;"
        "CREATE OPERATOR < (LEFTARG = app.level, RIGHTARG = app.level, FUNCTION = app.level_lt);"
        "CREATE TABLE t (id int PRIMARY KEY, l app.level);"
    )
    patterns = {
        "SELECT * FROM t WHERE 'low'::app.level IN ('high'::app.level)": "app.level_eq() (behind the operator =)",
        "SELECT * FROM t WHERE id IN (1, 2)": "app.level_eq() (behind the operator =)",  # by name only
        "SELECT * FROM t WHERE id=-1": "app.level_eq() (behind the operator =)",  # `=` then a unary `-`
        "SELECT * FROM t WHERE l < 'high'": "app.level_lt() (behind the operator <)",
    }
    page = "".join(f"```sql\n-- explain\n{p};\n```\n\n" for p in patterns)
    page += "```sql\n-- explain\nSELECT * FROM t WHERE id > 1;\n```\n"
    result = build(tmp_path, {"index.md": page}, {"dsn": url})
    assert result.returncode == 0, result.log
    assert "boom ran" not in result.log
    warnings = [line for line in result.log.splitlines() if "not planned" in line]
    assert len(warnings) == len(patterns)
    for reached, warning in zip(patterns.values(), warnings, strict=True):
        assert reached in warning
    assert result.text().count("Est. rows") == 1
    allowed = build(tmp_path / "allowed", {"index.md": page}, {"dsn": url, "plan_functions": ["app.*"]})
    assert "boom ran" in allowed.log  # what the refusal prevented


def test_cast_functions_count_as_reached(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A cast folds with its constant while planning: an explicit cast names its type; an
    implicit or assignment cast applies where no type is named, so every pattern needs it
    allowed."""
    setup = (
        "CREATE SCHEMA app;"
        "CREATE FUNCTION app.boom(int) RETURNS int LANGUAGE plpgsql STABLE AS $$ BEGIN RAISE EXCEPTION 'boom ran'; END $$;"
        "CREATE TYPE app.level AS ENUM ('low', 'high');"
        "CREATE FUNCTION app.to_level(int) RETURNS app.level LANGUAGE plpgsql IMMUTABLE "
        "AS $$ BEGIN RETURN CASE WHEN app.boom($1) = 1 THEN 'low' END; END $$;"
        "CREATE CAST (int AS app.level) WITH FUNCTION app.to_level(int);"
        "CREATE TABLE t (id int PRIMARY KEY, l app.level);"
    )
    explicit = "SELECT * FROM t WHERE l = 1::app.level"
    plain = "SELECT * FROM t WHERE id > 1"
    page = "".join(f"```sql\n-- explain\n{p};\n```\n\n" for p in (explicit, plain))
    result = build(tmp_path / "explicit", {"index.md": page}, {"dsn": make_db(setup)})
    assert result.returncode == 0 and "boom ran" not in result.log, result.log
    (warning,) = [line for line in result.log.splitlines() if "not planned" in line]
    assert "app.to_level() (in a cast to level)" in warning
    assert result.text().count("Est. rows") == 1  # the pattern naming no such type plans
    implicit = build(
        tmp_path / "implicit",
        {"index.md": page},
        {
            "dsn": make_db(
                setup.replace(
                    "WITH FUNCTION app.to_level(int);", "WITH FUNCTION app.to_level(int) AS ASSIGNMENT;"
                )
            )
        },
    )
    warnings = [line for line in implicit.log.splitlines() if "not planned" in line]
    assert len(warnings) == 2 and all("in an implicit or assignment cast" in w for w in warnings)
    allowed = build(
        tmp_path / "allowed", {"index.md": page}, {"dsn": make_db(setup), "plan_functions": ["app.*"]}
    )
    assert "boom ran" in allowed.log  # what the refusal prevented


def test_policies_for_everyone_are_named_as_such(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        ensure_role("dbschema_app")
        + "CREATE TABLE notes (id int PRIMARY KEY); ALTER TABLE notes ENABLE ROW LEVEL SECURITY;"
        "CREATE POLICY mine ON notes FOR SELECT TO dbschema_app USING (id > 0);"
        "CREATE POLICY anyone ON notes FOR SELECT USING (id < 10);"
    )
    (finding,) = [
        f
        for f in advise(read(url, "notes"), OPTIONS)["public.notes"]
        if f.advisor == "multiple_permissive_policies"
    ]
    assert finding.what == (
        "role dbschema_app has 2 permissive SELECT policies (anyone, mine); anyone applies to every role (TO public)"
    )


def test_unused_index_speaks_only_with_activity_statistics(advisors_url: str, tmp_path: Path) -> None:
    catalog = read(advisors_url, "unused_idx")
    assert "unused_index" not in {
        f.advisor for f in advise(catalog, AdvisorOptions(activity=False))["public.unused_idx"]
    }
    page = {"index.md": "<< table: unused_idx >>\n"}
    quiet = build(tmp_path / "quiet", page, {"dsn": advisors_url, "samples": 0})  # activity_stats off
    loud = build(tmp_path / "loud", page, {"dsn": advisors_url, "samples": 0, "activity_stats": True})
    assert "unused_index" not in quiet.text() and "INFO · unused_index: index unused_idx_v" in loud.text()


def test_advisor_review_cases(make_db) -> None:  # type: ignore[no-untyped-def]
    url = make_db(
        ensure_role("dbschema_edge_reader") + "CREATE SCHEMA auth;"
        "CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT NULL::uuid $$;"
        "CREATE FUNCTION auth.has_role(uuid) RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT true $$;"
        "CREATE TABLE orgs (id int PRIMARY KEY, selected_org uuid);"
        "ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;"
        "CREATE POLICY nested ON orgs FOR SELECT TO dbschema_edge_reader USING (auth.has_role(auth.uid()));"
        "CREATE POLICY column_named_select ON orgs FOR SELECT TO dbschema_edge_reader"
        " USING (selected_org = auth.uid());"
        # A partition's copy of its parent's index cannot be dropped on its own.
        "CREATE TABLE p (k int, note text) PARTITION BY RANGE (k);"
        "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);"
        "CREATE INDEX p_k ON p (k); CREATE INDEX p1_k_copy ON p1 (k);"
        "CREATE TABLE crowded (id int, row_id int, pk_id int);"
        # The attached copy is the only index of q1; r1's own index, alike, is a control.
        "CREATE TABLE q (k int) PARTITION BY RANGE (k);"
        "CREATE TABLE q1 PARTITION OF q FOR VALUES FROM (0) TO (10); CREATE INDEX q_k ON q (k);"
        "CREATE TABLE r1 (k int); CREATE INDEX r1_k ON r1 (k);"
    )
    findings = advise(read(url, "orgs", "p1", "crowded", "q1", "r1"), OPTIONS)
    initplan = {f.what: f.remediation for f in findings["public.orgs"] if f.advisor == "auth_rls_initplan"}
    assert set(initplan) == {
        "policy nested calls auth.has_role() per row in USING",
        "policy column_named_select calls auth.uid() per row in USING",
    }
    assert (
        "USING ((SELECT auth.has_role(auth.uid())));"
        in initplan["policy nested calls auth.has_role() per row in USING"]
    )
    p1 = {f.advisor: f for f in findings["public.p1"]}
    assert "unused_index" not in {f.advisor for f in findings.get("public.q1", [])}
    assert [f.remediation for f in findings["public.r1"] if f.advisor == "unused_index"] == [
        "DROP INDEX CONCURRENTLY public.r1_k;"
    ]
    assert p1["duplicate_index"].remediation == "DROP INDEX CONCURRENTLY public.p1_k_copy;"
    (nopk,) = [f for f in findings["public.crowded"] if f.advisor == "no_primary_key"]
    assert "ADD COLUMN id_1 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY" in nopk.remediation
