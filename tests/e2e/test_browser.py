"""The demo site in a real browser: Debian's Chromium driven by Playwright.

Skipped, with the reason, where Chromium, Playwright or a local Mermaid is missing
(`.ci/run` installs all three); never silently.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sites import build_config

from mkdocs_dbschema.catalog.embedded import demo_schema

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Material loads Mermaid from a CDN unless the page already has it; tests have no network.
MERMAID = Path(os.environ.get("DBSCHEMA_MERMAID_DIR", "")) / "node_modules/mermaid/dist/mermaid.min.js"
HOSTILE_SQL = """
CREATE TABLE public.guestbook (
    id int PRIMARY KEY,
    "<img src=x onerror=alert('column')>" text,
    note text
);
COMMENT ON TABLE public.guestbook IS '<script>alert("comment")</script> <img src=x onerror=alert(1)>';
COMMENT ON COLUMN public.guestbook.note IS '<svg onload=alert(2)>';
INSERT INTO public.guestbook VALUES
    (1, '<script>alert("row")</script>', '<img src=x onerror=alert(3)>'),
    (2, 'javascript:alert(4)', '"><iframe src=javascript:alert(5)>');
ANALYZE public.guestbook;
"""
HOSTILE_PAGE = "# Guest book\n\n<< table: guestbook >>\n"
# Every closed shadow root opens, so the test can see the SVG Material draws into one.
OPEN_SHADOWS = """
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) { return attach.call(this, {...init, mode: "open"}); };
"""


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed (.ci/run installs it with apt)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    if not MERMAID.exists():
        return "no local Mermaid: set DBSCHEMA_MERMAID_DIR to a folder where `npm install mermaid@11` ran"
    return None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(ROOT / "docs", root / "docs")
    (root / "docs" / "javascripts").mkdir(exist_ok=True)
    shutil.copy(MERMAID, root / "docs" / "javascripts" / "mermaid.min.js")
    (root / "docs" / "guestbook.md").write_text(HOSTILE_PAGE)
    (root / "hostile.sql").write_text(HOSTILE_SQL)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=_Loader)
    config["extra_javascript"] = ["javascripts/mermaid.min.js"]
    config["nav"].append({"Guest book": "guestbook.md"})
    dbschema = next(p["dbschema"] for p in config["plugins"] if isinstance(p, dict) and "dbschema" in p)
    dbschema.pop("dsn", None)
    dbschema["embedded_sql"] = [str(demo_schema()), str(root / "hostile.sql")]
    (root / "mkdocs.yml").write_text(yaml.dump(config, Dumper=_Dumper, allow_unicode=True))
    result = build_config(root / "mkdocs.yml", strict=True)
    assert result.returncode == 0, result.log
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(result.site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(served: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


class Visit:
    """A page with its console errors and dialogs recorded."""

    def __init__(self, browser: Any, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.add_init_script(OPEN_SHADOWS)
        self.page.goto(url)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def own_errors(self) -> list[str]:
        """Console errors, less the web fonts this offline machine cannot fetch."""
        return [e for e in self.errors if "fonts.g" not in e and "ERR_NAME_NOT_RESOLVED" not in e]


def test_a_card_renders_and_its_foreign_key_link_lands_on_the_referenced_card(
    browser: Any, served: str
) -> None:
    visit = Visit(browser, f"{served}/reference/motopress/")
    card = visit.page.locator("h2#public-motopress_accommodations")
    assert card.is_visible()
    references = visit.page.locator("p", has_text="Outgoing (Dependencies)").first
    references.get_by_role("link", name="tenant_registry").click()
    visit.page.wait_for_load_state()
    assert visit.page.url.endswith("/reference/core/#public-tenant_registry")
    assert visit.page.locator("h2#public-tenant_registry").is_visible()
    assert visit.own_errors() == [] and visit.dialogs == []


def test_the_diagram_renders_to_svg(browser: Any, served: str, tmp_path: Path) -> None:
    visit = Visit(browser, f"{served}/reference/motopress/")
    svg = visit.page.locator("div.mermaid svg").first
    svg.wait_for(timeout=15_000)
    assert visit.page.locator("pre.mermaid").count() == 0  # every diagram was drawn
    assert "motopress_accommodations" in (svg.text_content() or "")
    box = svg.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    svg.screenshot(path=str(tmp_path / "diagram.png"))
    assert visit.own_errors() == [] and visit.dialogs == []


def test_search_finds_a_column_name(browser: Any, served: str) -> None:
    visit = Visit(browser, f"{served}/reference/")
    visit.page.wait_for_load_state("networkidle")
    visit.page.keyboard.press("/")  # Material's shortcut to the search box
    visit.page.keyboard.type("motopress_id", delay=20)
    result = visit.page.locator(".md-search-result__item").first
    result.wait_for(timeout=20_000)
    # A card section is found, and its title names its table.
    titles = visit.page.locator(".md-search-result__item h2").all_text_contents()
    assert any("· motopress_" in title for title in titles), titles
    assert visit.own_errors() == []


def test_hostile_comments_and_rows_fire_no_dialog(browser: Any, served: str) -> None:
    visit = Visit(browser, f"{served}/guestbook/")
    visit.page.wait_for_timeout(1000)
    text = visit.page.locator("article").inner_text()
    assert '<script>alert("comment")</script>' in text  # shown as text, never run
    assert "onerror=alert(" in text
    assert visit.dialogs == [] and visit.own_errors() == []
    assert visit.page.locator("article script, article img[src='x'], article iframe").count() == 0


class _Loader(yaml.SafeLoader):
    """mkdocs.yml as data: !ENV and !!python/name tags kept for writing back."""


def _keep_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    return _Tagged(
        node.tag, loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode) else node.value
    )


class _Tagged:
    def __init__(self, tag: str, value: Any) -> None:
        self.tag, self.value = tag, value


class _Dumper(yaml.SafeDumper):
    pass


def _represent_tagged(dumper: yaml.SafeDumper, data: _Tagged) -> yaml.Node:
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value)
    return dumper.represent_scalar(data.tag, data.value)


_Loader.add_multi_constructor("!", _keep_tag)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", _keep_tag)
_Dumper.add_representer(_Tagged, _represent_tagged)


FIT_CHECK = """
() => {
  const problems = [];
  const scrolls = (e, card) => {
    for (let a = e.parentElement; a && a !== card; a = a.parentElement) {
      if (["auto", "scroll"].includes(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  };
  for (const card of document.querySelectorAll("div.dbschema-card")) {
    const limit = card.getBoundingClientRect().right + 1;
    for (const e of card.querySelectorAll("p, ul, ol, table, pre, div.admonition, details, h2, h3, h4")) {
      if (e.getBoundingClientRect().right > limit && !scrolls(e, card)) {
        problems.push(`${card.querySelector("h2").id}: <${e.tagName}> ${e.textContent.slice(0, 40)}`);
      }
    }
    for (const code of card.querySelectorAll("td code")) {
      if (!/\\s/.test(code.textContent.trim()) && code.getClientRects().length > 1) {
        problems.push(`${card.querySelector("h2").id}: ${code.textContent} is broken across lines`);
      }
    }
  }
  return problems;
}
"""


@pytest.mark.parametrize("page", ["reference/motopress/", "reference/whatsapp/", "reference/core/"])
def test_cards_fit_the_column_and_never_break_an_identifier(browser: Any, served: str, page: str) -> None:
    visit = Visit(browser, f"{served}/{page}")
    visit.page.wait_for_load_state("networkidle")
    assert visit.page.locator("div.dbschema-card").count() >= 4
    assert visit.page.evaluate(FIT_CHECK) == []
