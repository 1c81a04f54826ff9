"""Run the `mkdocs-dbschema` command in process, as a shell would."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from mkdocs_dbschema.cli import main


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    saved = os.environ.pop("DBSCHEMA_DSN", None)
    try:
        return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    finally:
        if saved is not None:
            os.environ["DBSCHEMA_DSN"] = saved


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def site(root: Path, pages: dict[str, str], plugin: dict[str, Any]) -> Path:
    """A site's mkdocs.yml, like tests/sites.py writes it, without building it."""
    import yaml
    from sites import EXTENSIONS

    (root / "docs").mkdir(parents=True, exist_ok=True)
    for name, text in pages.items():
        (root / "docs" / name).write_text(text, "utf-8")
    config = {
        "site_name": "test",
        "theme": {"name": "material"},
        "plugins": ["search", {"dbschema": plugin}],
        "markdown_extensions": EXTENSIONS,
    }
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    return root / "mkdocs.yml"
