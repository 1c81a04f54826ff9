"""The theme's templates compiled during the read (theme.py): the build's environment
gets them only when it compiles as the one that compiled them, and only where the
source is still the same."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest
from mkdocs.config import load_config
from mkdocs.theme import Theme

from mkdocs_dbschema.theme import CompiledAhead


def _material(root: Path) -> Theme:
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text("site_name: t\ntheme:\n  name: material\n", "utf-8")
    return load_config(config_file=str(root / "mkdocs.yml")).theme


def test_the_cache_holds_what_the_build_would_compile(tmp_path: Path) -> None:
    theme = _material(tmp_path)
    cache = CompiledAhead()
    cache.fill(theme.get_env())
    assert len(cache.code) > 10  # the page templates, base.html and the partials they name
    env, fresh = theme.get_env(), theme.get_env()
    assert cache.give_to(env)
    for name in ("main.html", "base.html", "partials/header.html", "partials/toc-item.html"):
        code = env.get_template(name).root_render_func.__code__
        assert code == fresh.get_template(name).root_render_func.__code__, name
    assert cache.hits == 4


@pytest.mark.parametrize(
    "change",
    [
        lambda env: env.filters.__setitem__("date", str),  # checked when compiling
        lambda env: env.filters.__setitem__("upper", str.lower),  # constant arguments are folded
        lambda env: env.add_extension("jinja2.ext.loopcontrols"),
        lambda env: setattr(env, "newstyle_gettext", not env.newstyle_gettext),  # i18n's compile setting
        lambda env: setattr(env, "trim_blocks", True),
        lambda env: setattr(env, "finalize", str),
    ],
    ids=["filter", "filter replaced", "extension", "extension setting", "syntax", "finalize"],
)
def test_an_environment_that_compiles_otherwise_keeps_compiling_itself(
    tmp_path: Path, change: Callable[[jinja2.Environment], Any]
) -> None:
    theme = _material(tmp_path)
    cache = CompiledAhead()
    cache.fill(theme.get_env())
    env = theme.get_env()
    change(env)
    assert not cache.give_to(env) and env.bytecode_cache is None


def test_a_template_changed_since_is_compiled_again(tmp_path: Path) -> None:
    (tmp_path / "main.html").write_text(
        "{% include 'part.html' %} {% include 'missing.html' ignore missing %}"
    )
    (tmp_path / "part.html").write_text("old")
    (tmp_path / "broken.html").write_text("{% if %}")

    def environment() -> jinja2.Environment:
        return jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)))

    cache = CompiledAhead()
    cache.fill(environment(), ["main.html", "broken.html"])  # what does not compile is left to the build
    assert len(cache.code) == 2
    (tmp_path / "part.html").write_text("new")
    env = environment()
    assert cache.give_to(env)
    assert env.get_template("main.html").render().strip() == "new" and cache.hits == 1
    with pytest.raises(jinja2.TemplateSyntaxError):
        env.get_template("broken.html")


# A plugin's on_env adds an extension that changes what base.html compiles to.
HOOK = """
from pathlib import Path
import jinja2.ext

class Marker(jinja2.ext.Extension):
    def preprocess(self, source, name, filename=None):
        return source.replace("</body>", "<!--marked--></body>") if name == "base.html" else source

def on_env(env, config, files):
    if MARK:
        env.add_extension(Marker)

def on_post_build(config):
    hits = config.plugins["dbschema"].theme_templates.hits
    Path(config.site_dir, "hits.txt").write_text(str(hits))
"""


def test_the_build_uses_them_unless_a_plugin_changed_its_environment(make_db: Any, tmp_path: Path) -> None:
    url = make_db("CREATE TABLE rooms (id int PRIMARY KEY);")
    for mark in (False, True):
        root = tmp_path / str(mark)
        root.mkdir()
        (root / "hook.py").write_text(f"MARK = {mark}\n{HOOK}", "utf-8")
        # A process of its own, as `mkdocs build` runs: no other test's threads in it.
        script = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(Path(__file__).parent.parent)!r})
from sites import build
result = build(Path({str(root)!r}), {{"index.md": "<< table: rooms >>"}}, {{"dsn": {url!r}}}, extra_config={{"hooks": ["hook.py"]}})
assert result.returncode == 0, result.log
"""
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        hits = int((root / "site" / "hits.txt").read_text())
        assert ("<!--marked-->" in (root / "site" / "index.html").read_text()) is mark
        assert hits == 0 if mark else hits > 5
