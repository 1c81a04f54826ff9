"""Build throwaway MkDocs sites, in process, as `mkdocs build` does."""

from __future__ import annotations

import html
import io
import logging
import os
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.exceptions import ConfigurationError, MkDocsException

EXTENSIONS: list[Any] = [
    "admonition",
    "pymdownx.details",
    {
        "pymdownx.superfences": {
            "custom_fences": [
                {
                    "name": "mermaid",
                    "class": "mermaid",
                    "format": "!!python/name:pymdownx.superfences.fence_code_format",
                }
            ]
        }
    },
    "tables",
    "attr_list",
    "md_in_html",
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
    # A Python tag, as mkdocs.yml writes it: safe_dump can only quote it.
    fence = "!!python/name:pymdownx.superfences.fence_code_format"
    config_text = yaml.safe_dump(config, allow_unicode=True).replace(f"'{fence}'", fence)
    (root / "mkdocs.yml").write_text(config_text, "utf-8")
    return build_config(root / "mkdocs.yml", strict=strict, env=env)


def build_config(config_file: Path, *, strict: bool = False, env: dict[str, str] | None = None) -> Build:
    """`mkdocs build` in this process, as mkdocs' CLI runs it (mkdocstrings' tests do the
    same): a subprocess per site cost most of the suite's time. The log reads like the
    CLI's; an error that would end the CLI ends here with return code 1 and its traceback
    in the log, so tests can still say "no traceback"."""
    logger = logging.getLogger("mkdocs")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)-8s-  %(message)s"))
    saved_level, saved_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    saved_env = dict(os.environ)
    os.environ.pop("DBSCHEMA_DSN", None)
    os.environ.update(env or {})
    returncode = 0
    try:
        config = load_config(config_file=str(config_file), strict=strict)
        config.plugins.on_startup(command="build", dirty=False)
        try:
            mkdocs_build(config)
        finally:
            config.plugins.on_shutdown()
    except (MkDocsException, ConfigurationError) as error:
        stream.write(f"Error: {error}\n")  # what the CLI prints, without a traceback
        returncode = 1
    except Exception:
        stream.write(traceback.format_exc())
        returncode = 1
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        logger.removeHandler(handler)
        logger.setLevel(saved_level)
        logger.propagate = saved_propagate
    return Build(returncode, stream.getvalue(), config_file.parent / "site")


# The same extensions by name alone, for Python-Markdown called directly.
EXTENSION_NAMES = [e if isinstance(e, str) else next(iter(e)) for e in EXTENSIONS]
