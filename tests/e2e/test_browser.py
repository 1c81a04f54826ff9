"""The demo site, and a card as wide as a real table's, in a real browser: Debian's
Chromium driven by Playwright.

Skipped, with the reason, where Chromium or Playwright is missing, and the demo site
also where a local Mermaid is (`.ci/run` installs all three); never silently.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sites import build, build_config

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


def _missing_browser() -> str | None:
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed (.ci/run installs it with apt)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    return None


def _missing() -> str | None:
    if reason := _missing_browser():
        return reason
    if not MERMAID.exists():
        return "no local Mermaid: set DBSCHEMA_MERMAID_DIR to a folder where `npm install mermaid@11` ran"
    return None


@contextlib.contextmanager
def _serve(site: Path) -> Iterator[str]:
    """A built site on a loopback port, for as long as the block runs."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


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
    with _serve(result.site) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _missing_browser()
    if reason:
        pytest.skip(reason)
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


# A table as wide as the issue's: 20 columns, 5 indexes, 3 policies (RLS on), 2 triggers,
# 6 rows (the card samples 5) with long text and JSON, a foreign key out and one in, a
# check constraint, comments; query patterns planned under the card.
WIDE_SQL = """
CREATE TABLE public.hotels (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE public.bookings (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hotel_id bigint NOT NULL REFERENCES public.hotels (id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL,
    reference text NOT NULL,
    guest_name text NOT NULL,
    guest_email text,
    guest_phone text,
    check_in date NOT NULL,
    check_out date NOT NULL,
    adults smallint NOT NULL DEFAULT 2,
    children smallint NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'pending',
    total_amount numeric(12, 2),
    currency char(3) NOT NULL DEFAULT 'EUR',
    source text,
    notes text,
    raw_payload jsonb,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    cancelled_at timestamp with time zone,
    CONSTRAINT bookings_dates_check CHECK (check_out > check_in)
);
COMMENT ON TABLE public.bookings IS 'Reservations imported from every channel, one row per stay.';
COMMENT ON COLUMN public.bookings.hotel_id IS 'The hotel the guest stays at.';
COMMENT ON COLUMN public.bookings.tenant_id IS 'The hotel group; every policy filters on it.';
COMMENT ON COLUMN public.bookings.reference IS 'The channel''s own booking reference, shown to staff.';
COMMENT ON COLUMN public.bookings.guest_email IS 'Contact address the channel passed on, if any.';
COMMENT ON COLUMN public.bookings.status IS 'pending, confirmed or cancelled.';
COMMENT ON COLUMN public.bookings.total_amount IS 'What the guest pays, in currency.';
COMMENT ON COLUMN public.bookings.source IS 'The channel: airbnb, motopress or direct.';
COMMENT ON COLUMN public.bookings.notes IS 'Free text from the guest or staff.';
COMMENT ON COLUMN public.bookings.raw_payload IS 'The last payload the channel sent, for debugging.';
COMMENT ON COLUMN public.bookings.cancelled_at IS 'Set once when the booking is cancelled.';
CREATE UNIQUE INDEX bookings_tenant_reference_key ON public.bookings (tenant_id, reference);
CREATE INDEX bookings_hotel_dates_idx ON public.bookings (hotel_id, check_in, check_out);
CREATE INDEX bookings_open_idx ON public.bookings (status, updated_at) WHERE cancelled_at IS NULL;
CREATE INDEX bookings_email_idx ON public.bookings (lower(guest_email));
CREATE TABLE public.booking_payments (
    id bigint PRIMARY KEY,
    booking_id bigint NOT NULL REFERENCES public.bookings (id),
    amount numeric(12, 2) NOT NULL
);
ALTER TABLE public.bookings ENABLE ROW LEVEL SECURITY;
CREATE POLICY bookings_tenant_read ON public.bookings FOR SELECT
    USING (tenant_id = current_setting('app.tenant', true)::uuid);
CREATE POLICY bookings_tenant_write ON public.bookings FOR INSERT
    WITH CHECK (tenant_id = current_setting('app.tenant', true)::uuid AND status IN ('pending', 'confirmed'));
CREATE POLICY bookings_tenant_update ON public.bookings FOR UPDATE
    USING (tenant_id = current_setting('app.tenant', true)::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant', true)::uuid);
COMMENT ON POLICY bookings_tenant_read ON public.bookings IS 'Staff read the bookings of their own hotel group.';
CREATE FUNCTION public.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE FUNCTION public.log_cancellation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RETURN NEW; END $$;
CREATE TRIGGER bookings_touch BEFORE UPDATE ON public.bookings
    FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();
CREATE TRIGGER bookings_cancelled AFTER UPDATE OF cancelled_at ON public.bookings
    FOR EACH ROW WHEN (NEW.cancelled_at IS NOT NULL AND OLD.cancelled_at IS NULL)
    EXECUTE FUNCTION public.log_cancellation();
COMMENT ON TRIGGER bookings_touch ON public.bookings IS 'Keeps updated_at current.';
INSERT INTO public.hotels VALUES (1, 'Casa Azul'), (2, 'Hotel Mar');
INSERT INTO public.bookings (hotel_id, tenant_id, reference, guest_name, guest_email, guest_phone,
    check_in, check_out, status, total_amount, source, notes, raw_payload) VALUES
 (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'HMABCD1234', 'Ana Pérez', 'ana@example.com', '+34 600 000 001',
  '2024-05-01', '2024-05-04', 'confirmed', 420.00, 'airbnb',
  'Late arrival around midnight; the guest asked for a quiet room away from the street, an extra '
  'pillow, a baby cot and directions from the airport by public transport as they do not rent a car.',
  '{"id": 98765, "status": "confirmed", "guest": {"first_name": "Ana", "last_name": "Pérez", "locale": "es"},
    "listing": {"id": 4455, "name": "Casa Azul double room with sea view"},
    "payout": {"amount": 420.0, "currency": "EUR"}}'),
 (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'HMEFGH5678', 'John Smith', 'john@example.com', NULL,
  '2024-05-10', '2024-05-12', 'pending', 180.50, 'motopress', NULL, '{"id": 1, "status": "pending"}'),
 (2, 'b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a22', 'BK-2024-0003', 'Marie Curie', NULL, '+33 1 23 45 67 89',
  '2024-06-01', '2024-06-08', 'confirmed', 1290.00, 'direct', 'Anniversary', NULL),
 (2, 'b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a22', 'BK-2024-0004', 'Li Wei', 'li@example.com', NULL,
  '2024-07-01', '2024-07-02', 'cancelled', 95.00, 'direct', NULL, '{"id": 4}'),
 (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'HMIJKL9012', 'Olu Ade', 'olu@example.com', '+234 800 000 0000',
  '2024-08-15', '2024-08-20', 'confirmed', 610.00, 'airbnb', 'Business trip, invoice needed',
  '{"id": 98770, "status": "confirmed"}'),
 (2, 'b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a22', 'BK-2024-0006', 'Sam Lee', NULL, NULL,
  '2024-09-01', '2024-09-03', 'pending', NULL, NULL, NULL, NULL);
INSERT INTO public.booking_payments VALUES (1, 1, 420.00);
ANALYZE;
"""
WIDE_PAGE = """# Bookings

<< table: bookings >>

### Common Query Patterns

```sql
-- explain
SELECT * FROM bookings WHERE tenant_id = '[TENANT_ID]' AND reference = 'HMABCD1234';
```

```sql
-- explain
SELECT id, guest_name FROM bookings WHERE hotel_id = 1 AND check_in >= '2024-06-01' ORDER BY check_in;
```

<< table: hotels >>
"""
# The card's height and the table-of-contents entries that lead into it.
CARD_BOX = """
(anchor) => {
  const card = document.getElementById(anchor).closest("div.dbschema-card");
  const inside = new Set([...card.querySelectorAll("[id]")].map((e) => e.id));
  const toc = new Map();
  for (const a of document.querySelectorAll("nav.md-nav--secondary a.md-nav__link[href^='#']")) {
    const target = decodeURIComponent(a.hash.slice(1));
    if (inside.has(target)) toc.set(target, a.textContent.trim());
  }
  return {height: card.getBoundingClientRect().height, toc: [...toc.values()], text: card.textContent};
}
"""


@pytest.fixture(scope="module")
def wide_card(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("wide")
    (root / "wide.sql").write_text(WIDE_SQL, "utf-8")
    result = build(root, {"index.md": WIDE_PAGE}, {"embedded_sql": ["wide.sql"]}, strict=True)
    assert result.returncode == 0, result.log
    with _serve(result.site) as url:
        yield url


def test_a_wide_table_card_fits_three_screens_with_a_short_table_of_contents(
    browser: Any, wide_card: str
) -> None:
    visit = Visit(browser, f"{wide_card}/")
    visit.page.wait_for_load_state("networkidle")
    box = visit.page.evaluate(CARD_BOX, "public-bookings")
    # 20 columns, 5 indexes, 3 policies, 2 triggers, 5 sample rows: three 900 px screens.
    assert box["height"] <= 3 * 900, f"the card is {box['height']:.0f} px tall"
    assert 2 <= len(box["toc"]) <= 6, box["toc"]
    assert box["toc"][0] == "bookings" and not any("·" in label for label in box["toc"]), box["toc"]
    # Folded, never dropped: every definition and every sample row is still in the card.
    text = box["text"]
    for fact in [
        "raw_payload",
        "cancelled_at",
        "CREATE INDEX bookings_email_idx",
        "CREATE POLICY bookings_tenant_update",
        "CREATE TRIGGER bookings_cancelled",
        "CONSTRAINT bookings_dates_check CHECK",
        "REFERENCES hotels(id)",
        "booking_payments",
        "BK-2024-0004",
        "HMIJKL9012",
    ]:
        assert fact in text, fact
    # What stays in view: the one-line-per-item tables of columns, indexes, policies, triggers.
    for name in ["cancelled_at", "bookings_open_idx", "bookings_tenant_write", "bookings_touch"]:
        assert visit.page.locator("div.dbschema-card td code", has_text=name).first.is_visible(), name
    planned = visit.page.locator("details > summary", has_text=re.compile("^Plan: "))
    assert planned.count() == 2  # the query patterns under the card
    assert visit.own_errors() == [] and visit.dialogs == []
