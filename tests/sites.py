"""Build throwaway MkDocs sites with the real `mkdocs` command."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

EXTENSIONS = [
    "admonition",
    "pymdownx.details",
    "pymdownx.superfences",
    "tables",
    "attr_list",
    "toc",
]


@dataclass
class Build:
    returncode: int
    log: str
    site: Path

    def page(self, name: str = "index") -> str:
        path = self.site / ("index.html" if name == "index" else f"{name}/index.html")
        return path.read_text("utf-8")

    def article(self, name: str = "index") -> str:
        """The page's content, HTML as built."""
        text = self.page(name)
        return text[text.index("<article") : text.index("</article>")]

    def text(self, name: str = "index") -> str:
        """The page's content as a reader sees it: tags dropped, entities decoded."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.article(name)))


def build(
    root: Path,
    pages: dict[str, str],
    plugin: dict[str, Any] | None = None,
    *,
    strict: bool = False,
    extensions: list[Any] | None = None,
    env: dict[str, str] | None = None,
    extra_config: dict[str, Any] | None = None,
    timeout: float = 300,
) -> Build:
    (root / "docs").mkdir(parents=True, exist_ok=True)
    for name, text in pages.items():
        (root / "docs" / name).write_text(text, "utf-8")
    config: dict[str, Any] = {
        "site_name": "test",
        "theme": {"name": "material"},
        "plugins": ["search", {"dbschema": plugin or {}}],
        "markdown_extensions": EXTENSIONS if extensions is None else extensions,
        **(extra_config or {}),
    }
    config_text = yaml.safe_dump(config, allow_unicode=True)
    (root / "mkdocs.yml").write_text(config_text, "utf-8")
    command = [sys.executable, "-m", "mkdocs", "build", "-f", str(root / "mkdocs.yml")]
    if strict:
        command.append("--strict")
    environment = {k: v for k, v in os.environ.items() if k != "DBSCHEMA_DSN"}
    environment.update(env or {})
    environment["NO_MKDOCS_2_WARNING"] = "1"
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=environment, check=False
    )
    return Build(result.returncode, result.stdout + result.stderr, root / "site")
