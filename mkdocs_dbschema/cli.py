"""`mkdocs-dbschema`: snapshots, drift checks and site checks from the terminal and CI.

Exit codes follow `mkdocs`: 0 all is well, 1 a failure (or, for `diff`, differences),
2 a usage error. Progress goes to stderr, results to stdout; no credential is printed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import click
from click.core import ParameterSource

from .analysis.advisors import Finding
from .analysis.redaction import Redactor
from .catalog.connection import DatabaseError, SessionSettings, mask_secrets, parse_url
from .catalog.names import TableNameError, parse_table_name
from .catalog.planner import PlannerStats
from .collect import Collection, SampleRequest, collect, read_planner
from .diff import as_json, as_text, compare
from .snapshot import Snapshot, SnapshotError
from .sources import Source, SourceError

LEVELS = ("INFO", "WARN", "ERROR")
FORMATS = click.Choice(["text", "json"])


def _fail(message: str) -> NoReturn:
    raise click.ClickException(mask_secrets(message))


def _progress(message: str) -> None:
    click.echo(mask_secrets(message), err=True)


def _source_options(function: Any) -> Any:
    options = [
        click.option("--dsn", envvar="DBSCHEMA_DSN", help="PostgreSQL URL (default: $DBSCHEMA_DSN)."),
        click.option(
            "--sql",
            "sql_files",
            multiple=True,
            metavar="FILE",
            help="Load the embedded PostgreSQL from SQL files or globs, in order (repeatable).",
        ),
        click.option(
            "--models",
            metavar="MODULE:ATTR",
            help="Create SQLAlchemy models (such as app.models:Base.metadata) in the embedded PostgreSQL.",
        ),
        click.option(
            "--alembic",
            type=click.Path(dir_okay=False, path_type=Path),
            metavar="INI",
            help="Run Alembic migrations (upgrade head) of this alembic.ini in the embedded PostgreSQL.",
        ),
        click.option("--search-path", help="search_path for unqualified names (default: the role's)."),
        click.option("--connect-timeout", type=click.IntRange(2, 600), default=5, show_default=True),
        click.option(
            "--statement-timeout",
            type=click.IntRange(1),
            default=30_000,
            show_default=True,
            help="Milliseconds.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _settings(search_path: str | None, connect_timeout: int, statement_timeout: int) -> SessionSettings:
    return SessionSettings(
        connect_timeout=connect_timeout, statement_timeout=statement_timeout, search_path=search_path
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Document, snapshot and check PostgreSQL schemas for mkdocs-dbschema sites."""


# -- reading a site ---------------------------------------------------------------


@dataclass
class SiteRun:
    plugin: Any
    problems: list[str] = field(default_factory=list)  # warnings the plugin logged


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(mask_secrets(record.getMessage().removeprefix("mkdocs_dbschema: ")))


@contextmanager
def _site(config_file: Path, source: Source | None, *, expand: bool) -> Iterator[SiteRun]:
    """Run the site's dbschema plugin over its pages, as `mkdocs build` would, writing
    nothing: every directive is read (and, with `expand`, expanded), every warning kept."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import ConfigurationError, MkDocsException
    from mkdocs.structure.files import get_files
    from mkdocs.structure.pages import Page

    problems: list[str] = []
    handler = _Collect(problems)
    logger = logging.getLogger("mkdocs.plugins.mkdocs_dbschema")
    logger.addHandler(handler)
    plugin: Any = None
    saved_dsn = os.environ.pop("DBSCHEMA_DSN", None) if source and source.snapshot else None
    try:
        try:
            config = load_config(config_file=str(config_file))
        except (ConfigurationError, MkDocsException, OSError) as error:
            _fail(f"{config_file}: {error}")
        plugin = config.plugins.get("dbschema")
        if plugin is None:
            _fail(f"{config_file} does not use the dbschema plugin")
        if source is not None:
            if source.snapshot is not None:
                plugin.config["dsn"], plugin.config["snapshot"] = None, str(source.snapshot.resolve())
            else:
                plugin.config["dsn"], plugin.config["snapshot"] = source.url(), None
        plugin.on_startup(command="build", dirty=False)
        try:
            plugin.on_config(config)
            files = get_files(config)
            plugin.on_files(files, config=config)
            if expand:
                for file in sorted(files.documentation_pages(), key=lambda f: f.src_uri):
                    page = Page(None, file, config)
                    page.read_source(config)
                    plugin.expand_page(page.markdown or "", page=page, config=config, files=files)
        except MkDocsException as error:
            _fail(str(error))
        yield SiteRun(plugin, problems)
    finally:
        logger.removeHandler(handler)
        if saved_dsn is not None:
            os.environ["DBSCHEMA_DSN"] = saved_dsn
        if plugin is not None:
            plugin.on_shutdown()
        if source is not None:
            source.close()  # an embedded server started for --sql / --models / --alembic


def _source(
    dsn: str | None,
    sql_files: Sequence[str],
    models: str | None,
    alembic: Path | None = None,
    base: Path | None = None,
) -> Source | None:
    if not (dsn or sql_files or models or alembic):
        return None
    source = Source(
        dsn=dsn, sql_files=tuple(sql_files), models=models, alembic=alembic, base=base or Path.cwd()
    )
    try:
        source.check()
    except SourceError as error:
        raise click.UsageError(str(error)) from None
    return source


def _read_live(
    source: Source,
    settings: SessionSettings,
    schemas: Sequence[str],
    names: Sequence[str],
    samples: int,
) -> Collection:
    try:
        refs = {parse_table_name(n): SampleRequest(samples) for n in names}
    except TableNameError as error:
        _fail(str(error))
    try:
        url = source.url()
        what = ", ".join([*(f"schema {s}" for s in schemas), *names]) or "nothing"
        _progress(f"reading {what} from {source.describe()} ...")
        collection = collect(
            parse_url(url),
            settings,
            refs,
            redactor=Redactor.configured({}, {}, []),
            max_value_length=80,
            overview_schemas=list(schemas),
            schemas=list(schemas),
            schema_samples=SampleRequest(samples),
        )
    except (DatabaseError, SourceError) as error:
        _fail(str(error))
    _progress(f"read {len(collection.catalog.tables)} relations")
    return collection


# -- snapshot -----------------------------------------------------------------------


@main.command()
@_source_options
@click.option("--schema", "schemas", multiple=True, help="Read every relation of this schema (repeatable).")
@click.option(
    "--site",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read what the directives of this site (its mkdocs.yml) ask for, with its settings.",
)
@click.option(
    "--samples",
    type=click.IntRange(0, 1000),
    default=0,
    show_default=True,
    help="Redacted sample rows per table of a --schema read.",
)
@click.option(
    "--activity-stats",
    is_flag=True,
    help="Keep scan and write counters (they change as the database is used, so the file does too).",
)
@click.option(
    "--planner-stats",
    is_flag=True,
    help="Also keep planner statistics and the schema's DDL (pg_dump), so a site built from the file "
    "plans new query patterns as this database would (on the embedded PostgreSQL 18).",
)
@click.option(
    "--planner-values",
    is_flag=True,
    help="With --planner-stats: also keep most common values and histograms of columns other "
    "than enums and booleans (closer plans; column values, redacted by the rules, in the file).",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The JSON file."
)
def snapshot(
    dsn: str | None,
    sql_files: tuple[str, ...],
    models: str | None,
    alembic: Path | None,
    search_path: str | None,
    connect_timeout: int,
    statement_timeout: int,
    schemas: tuple[str, ...],
    site: Path | None,
    samples: int,
    activity_stats: bool,
    planner_stats: bool,
    planner_values: bool,
    output: Path,
) -> None:
    """Save a database's catalog as deterministic JSON, for offline builds and diffs.

    Reads whole schemas (--schema, default public) or what a site's directives ask
    for (--site). Sample rows are written only redacted. An unchanged database gives
    an identical file; row estimates, sizes and counters sit apart, under "stats".
    """
    if site is not None and schemas:
        raise click.UsageError("give --site or --schema, not both")
    if planner_values and not planner_stats:
        raise click.UsageError("--planner-values goes with --planner-stats")
    source = _source(dsn, sql_files, models, alembic, site.parent if site else None)
    if site is not None:
        with _site(site, source, expand=False) as run:
            plugin = run.plugin
            if plugin.snapshot is not None:
                _fail(f"{site} builds from a snapshot: give --dsn (or set DBSCHEMA_DSN)")
            collection = plugin.collection
            if collection is None:
                _fail(f"{site}: no page has a dbschema directive")
            if plugin.redactor is None and any(s.rows for s in collection.samples.values()):
                _fail(
                    "refusing to write unredacted sample rows: the site sets redaction.enabled: false; "
                    "turn redaction on, or set samples: 0"
                )
            names = [name for name in collection.catalog.resolved]
            planner = (
                _read_planner(
                    plugin.database_url(), plugin.settings(), collection, plugin.redactor, planner_values
                )
                if planner_stats
                else None
            )
            result = Snapshot.of(
                collection, (), names, activity=plugin.config.activity_stats, planner=planner
            )
    else:
        if source is None:
            raise click.UsageError(
                "no source: give --dsn (or set DBSCHEMA_DSN), --sql, --models or --alembic"
            )
        settings = _settings(search_path, connect_timeout, statement_timeout)
        try:
            collection = _read_live(source, settings, schemas or ("public",), (), samples)
            planner = (
                _read_planner(
                    source.url(), settings, collection, Redactor.configured({}, {}, []), planner_values
                )
                if planner_stats
                else None
            )
        finally:
            source.close()
        result = Snapshot.of(collection, schemas or ("public",), (), activity=activity_stats, planner=planner)
    try:
        result.write(output)
    except OSError as error:
        _fail(f"cannot write {output}: {error.strerror or error}")
    _progress(f"wrote {output}: {len(result.catalog.tables)} relations, {len(result.samples)} with samples")


def _read_planner(
    url: str, settings: SessionSettings, collection: Collection, redactor: Redactor | None, values: bool
) -> PlannerStats:
    _progress("reading planner statistics and the schema's DDL (pg_dump) ...")
    try:
        return read_planner(parse_url(url), settings, collection.catalog, redactor, values=values)
    except (DatabaseError, SourceError) as error:
        _fail(str(error))


# -- diff ---------------------------------------------------------------------------


def _side(
    operand: str, other: Snapshot | None, schemas: Sequence[str], settings: SessionSettings
) -> Snapshot:
    source = Source.parse(operand)
    try:
        source.check()
    except SourceError as error:
        raise click.UsageError(str(error)) from None
    if not source.live:
        try:
            return source.load()
        except SnapshotError as error:
            _fail(str(error))
    # Read what the other side holds, so both cover the same relations.
    names: Sequence[str] = ()
    if not schemas and other is not None:
        schemas, names = other.schemas, other.names
    if not schemas and not names:
        schemas = ("public",)
    try:
        return Snapshot.of(_read_live(source, settings, schemas, names, 0), schemas, names)
    finally:
        source.close()


@main.command()
@click.argument("before")
@click.argument("after")
@click.option("--schema", "schemas", multiple=True, help="Schemas to read from a URL (repeatable).")
@click.option("--stats", is_flag=True, help="Compare row estimates, sizes and counters too.")
@click.option("--format", "output_format", type=FORMATS, default="text", show_default=True)
@click.option("--search-path", help="search_path for reading a URL.")
def diff(
    before: str,
    after: str,
    schemas: tuple[str, ...],
    stats: bool,
    output_format: str,
    search_path: str | None,
) -> None:
    """Compare two schemas, each a PostgreSQL URL or a snapshot file.

    Lists tables, columns, constraints, foreign keys, indexes, policies, triggers,
    partitions and types added, removed or changed. Exits 1 when they differ.
    """
    settings = SessionSettings(search_path=search_path)
    # A snapshot first: a URL is then read for what the snapshot holds.
    if Source.parse(before).live and not Source.parse(after).live:
        b = _side(after, None, schemas, settings)
        a = _side(before, b, schemas, settings)
    else:
        a = _side(before, None, schemas, settings)
        b = _side(after, a, schemas, settings)
    changes = compare(a.catalog, b.catalog, stats=stats)
    click.echo(as_json(changes) if output_format == "json" else as_text(changes), nl=False)
    sys.exit(1 if changes else 0)


# -- check --------------------------------------------------------------------------


def finding_id(finding: Finding) -> str:
    """Stable across runs and unrelated changes: advisor, table and what it found."""
    digest = hashlib.sha256(finding.what.encode("utf-8")).hexdigest()[:12]
    return f"{finding.advisor}:{finding.table}:{digest}"


def _baseline(path: Path) -> set[str]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as error:
        _fail(f"cannot read baseline {path}: {error}")
    accepted = data.get("accepted") if isinstance(data, dict) else None
    if not isinstance(accepted, list) or not all(isinstance(a, str) for a in accepted):
        _fail(f'baseline {path}: expected {{"accepted": [finding ids]}}')
    return set(accepted)


@main.command()
@_source_options
@click.option(
    "--site",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default="mkdocs.yml",
    show_default=True,
)
@click.option(
    "--snapshot",
    "snapshot_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check against a snapshot instead of a database.",
)
@click.option(
    "--fail-on",
    type=click.Choice([*LEVELS, "never"], case_sensitive=False),
    default="ERROR",
    show_default=True,
    help="Fail on advisor findings at or above this level.",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON file of accepted finding ids; those never fail the check.",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every current finding id to this file, accepting them.",
)
@click.option("--format", "output_format", type=FORMATS, default="text", show_default=True)
def check(
    dsn: str | None,
    sql_files: tuple[str, ...],
    models: str | None,
    alembic: Path | None,
    search_path: str | None,
    connect_timeout: int,
    statement_timeout: int,
    config_file: Path,
    snapshot_file: Path | None,
    fail_on: str,
    baseline: Path | None,
    write_baseline: Path | None,
    output_format: str,
) -> None:
    """Run every directive of a site and the advisors, writing no site.

    Fails (exit 1) on a broken directive, a query pattern that does not plan, any
    other plugin warning, or an advisor finding at or above --fail-on that the
    --baseline does not accept.
    """
    if snapshot_file is not None:
        from_env = click.get_current_context().get_parameter_source("dsn") == ParameterSource.ENVIRONMENT
        if (dsn and not from_env) or sql_files or models or alembic:
            raise click.UsageError("give a database or --snapshot, not both")
        source: Source | None = Source(snapshot=snapshot_file)
    else:
        source = _source(dsn, sql_files, models, alembic, config_file.parent)
    accepted = _baseline(baseline) if baseline else set()
    _progress(f"checking {config_file} ...")
    with _site(config_file, source, expand=True) as run:
        findings: list[Finding] = [f for fs in run.plugin.findings.values() for f in fs]
        problems = list(run.problems)
    threshold = LEVELS.index(fail_on.upper()) if fail_on.lower() != "never" else len(LEVELS)
    rows = []
    failing = 0
    for finding in sorted(findings, key=lambda f: (f.table, f.advisor, f.what)):
        identifier = finding_id(finding)
        is_accepted = identifier in accepted
        fails = not is_accepted and LEVELS.index(finding.level) >= threshold
        failing += fails
        rows.append((finding, identifier, is_accepted, fails))
    if write_baseline is not None:
        ids = sorted({identifier for _, identifier, _, _ in rows})
        write_baseline.write_text(json.dumps({"accepted": ids}, indent=2) + "\n", "utf-8")
        _progress(f"wrote {write_baseline}: {len(ids)} accepted findings")
    failed = bool(problems) or failing > 0
    if output_format == "json":
        report = {
            "problems": problems,
            "findings": [
                {
                    "id": identifier,
                    "advisor": f.advisor,
                    "level": f.level,
                    "table": f.table,
                    "what": f.what,
                    "remediation": f.remediation,
                    "accepted": is_accepted,
                    "fails": fails,
                }
                for f, identifier, is_accepted, fails in rows
            ],
            "failed": failed,
        }
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for problem in problems:
            click.echo(f"problem: {problem}")
        for f, identifier, is_accepted, _ in rows:
            mark = " (accepted)" if is_accepted else ""
            click.echo(f"{f.level:<5} {f.table_display}: {f.what}  [{identifier}]{mark}")
        accepted_count = sum(1 for row in rows if row[2])
        click.echo(
            f"{len(problems)} problem(s), {len(rows)} finding(s) ({accepted_count} accepted, "
            f"{failing} at or above {fail_on.upper()})"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
