"""The `--alembic` source: `upgrade head` of an Alembic project in the embedded PostgreSQL."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from clirun import load, run, site

pytestmark = pytest.mark.embedded_only

# As `alembic init` writes it, logging sections included: env.py's fileConfig must not
# silence the plugin's warnings.
INI = """\
[alembic]
script_location = {script_location}
path_separator = os

[loggers]
keys = root,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""

ENV_PY = """\
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
engine = engine_from_config(
    config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""

REVISION = """\
import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{body}


def downgrade():
    pass
"""

FIRST = """\
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
    )"""

SECOND = """\
    op.add_column("customers", sa.Column("email", sa.String(200)))
    op.create_index("ix_customers_email", "customers", ["email"], unique=True)"""


def project(root: Path, second: str = SECOND, script_location: str = "migrations") -> Path:
    """A tiny Alembic project: alembic.ini, env.py and two revisions; its ini."""
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text(INI.format(script_location=script_location), "utf-8")
    (root / "migrations" / "env.py").write_text(ENV_PY, "utf-8")
    (versions / "0001_customers.py").write_text(
        REVISION.format(revision="0001", down=None, body=FIRST), "utf-8"
    )
    (versions / "0002_email.py").write_text(
        REVISION.format(revision="0002", down="0001", body=second), "utf-8"
    )
    return root / "alembic.ini"


@contextmanager
def cwd(path: Path) -> Iterator[None]:
    saved = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(saved)


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Error:")]


def test_upgrade_head_from_another_folder(tmp_path: Path) -> None:
    # script_location relative, as older `alembic init` wrote it: resolved beside the ini,
    # though the command runs from elsewhere.
    project(tmp_path / "app")
    out = tmp_path / "out.json"
    with cwd(tmp_path):
        result = run(
            "snapshot", "--alembic", "app/alembic.ini", "-o", out, "--schema", "public", "--samples", "5"
        )
    assert result.exit_code == 0, result.output
    assert "embedded PostgreSQL with Alembic migrations app/alembic.ini" in result.output
    data = load(out)
    tables = data["catalog"]["tables"]
    assert set(tables) == {"public.customers", "public.alembic_version"}
    customers = tables["public.customers"]
    assert [c["name"] for c in customers["columns"]] == ["id", "name", "email"]  # revision 2 ran
    assert [i["name"] for i in customers["indexes"] if i["name"] == "ix_customers_email"]
    version = data["samples"]["public.alembic_version"]["rows"]
    assert [[cell["text"] for cell in row] for row in version] == [["0002"]]  # at head


def test_a_failing_migration_fails_in_one_line(tmp_path: Path) -> None:
    ini = project(tmp_path, second='    op.execute("SELECT 1/0")', script_location="%(here)s/migrations")
    result = run("snapshot", "--alembic", ini, "-o", tmp_path / "out.json")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    [line] = error_lines(result.output)
    assert str(ini) in line and "upgrade head failed" in line and "division by zero" in line
    assert not (tmp_path / "out.json").exists()


def test_a_missing_or_broken_ini_fails_in_one_line(tmp_path: Path) -> None:
    missing = run("snapshot", "--alembic", tmp_path / "nope.ini", "-o", tmp_path / "out.json")
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    [line] = error_lines(missing.output)
    assert "alembic: no such file" in line and "nope.ini" in line

    broken = tmp_path / "alembic.ini"
    broken.write_text("[alembic]\n", "utf-8")  # no script_location
    result = run("snapshot", "--alembic", broken, "-o", tmp_path / "out.json")
    assert result.exit_code == 1 and "Traceback" not in result.output
    [line] = error_lines(result.output)
    assert str(broken) in line and "script_location" in line


def test_without_alembic_installed_the_error_says_how(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ini = project(tmp_path)
    monkeypatch.setitem(sys.modules, "alembic", None)  # what an import finds when it is absent
    result = run("snapshot", "--alembic", ini, "-o", tmp_path / "out.json")
    assert result.exit_code == 1
    [line] = error_lines(result.output)
    assert "pip install mkdocs-dbschema[alembic]" in line


def test_check_a_site_against_migrations_keeps_its_warnings(tmp_path: Path) -> None:
    project(tmp_path / "db")
    page = "# Tables\n\n<< table: customers >>\n\n<< table: nope >>\n"
    config = site(tmp_path, {"index.md": page}, {"advisors": {"exposed_schemas": []}})
    # Relative to the site's folder, as --sql and --models are.
    result = run("check", "--site", config, "--alembic", "db/alembic.ini", "--format", "json")
    assert result.exit_code == 1, result.output
    assert "no table or view named nope" in result.stdout  # env.py's fileConfig silenced nothing


def test_one_source_only(tmp_path: Path) -> None:
    result = run("snapshot", "--models", "m:Base", "--alembic", "alembic.ini", "-o", tmp_path / "x.json")
    assert result.exit_code == 2 and "--alembic" in result.output
    assert "--alembic" in run("snapshot", "-o", tmp_path / "x.json").output  # the no-source message
    assert "--alembic INI" in run("snapshot", "--help").output
    assert "--alembic INI" in run("check", "--help").output
