"""The project's own site: the MUVA integration-tables reference on the embedded default."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAN_TABLES = {
    "motopress.md": [
        "motopress_accommodations",
        "motopress_accommodation_units",
        "motopress_room_types",
        "motopress_sync_log",
        "airbnb_motopress_comparison",
    ],
    "airbnb.md": [
        "airbnb_accommodations",
        "airbnb_calendar_sync_status",
        "airbnb_sync_log",
        "airbnb_mphb_imported_reservations",
    ],
    "whatsapp.md": [
        "whatsapp_business_accounts",
        "whatsapp_phone_numbers",
        "whatsapp_messages",
        "whatsapp_message_templates",
    ],
    "generic.md": ["integration_configs", "ics_feed_configurations", "sync_history"],
    "core.md": [
        "tenant_registry",
        "accommodations",
        "accommodation_units",
        "staff_users",
        "guest_conversations",
        "calendar_events",
    ],
}


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("demo") / "site"
    env = {k: v for k, v in os.environ.items() if k != "DBSCHEMA_DSN"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(site),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**env, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "documenting embedded postgresql://" in result.stderr
    return site


@pytest.mark.parametrize("page", sorted(PLAN_TABLES))
def test_every_plan_table_has_a_live_card(demo_site: Path, page: str) -> None:
    html = (demo_site / "reference" / page.removesuffix(".md") / "index.html").read_text()
    for table in PLAN_TABLES[page]:
        assert f'<h2 id="public-{table}">' in html, table
    assert html.count("Row Count:</strong>") == len(PLAN_TABLES[page])
    assert "admonition failure" not in html


def test_demo_groups_follow_the_plan(demo_site: Path) -> None:
    html = (demo_site / "reference" / "motopress" / "index.html").read_text()
    groups = re.findall(r"Integration Platform:</strong> (\w+)", html)
    assert groups == ["Motopress"] * 5


def test_every_query_pattern_of_the_reference_plans(demo_site: Path) -> None:
    for page in sorted(PLAN_TABLES):
        source = (ROOT / "docs" / "reference" / page).read_text()
        patterns = len(re.findall(r"^```sql\n-- explain$", source, re.M))
        built = (demo_site / "reference" / page.removesuffix(".md") / "index.html").read_text()
        assert patterns >= 2, page
        assert built.count("Plan: ") == patterns, page


# "Served by `index`" / "Matches the partial index `index`" right after a pattern.
CLAIM = re.compile(r"^```sql\n-- explain\n(?:.*\n)*?```\n\n(?P<prose>.+)$", re.M)
CLAIMED_INDEX = re.compile(r"(?:Served by|Matches the partial index) `(\w+)")


def test_the_demo_plans_use_the_indexes_its_narrative_names(demo_site: Path) -> None:
    """On the embedded PostgreSQL 18 the demo restores production-like planner statistics
    (demo/muva_statistics.json): a pattern the text says an index serves plans with it."""
    claims = 0
    for page in sorted(PLAN_TABLES):
        source = (ROOT / "docs" / "reference" / page).read_text()
        built = html.unescape((demo_site / "reference" / page.removesuffix(".md") / "index.html").read_text())
        summaries = re.findall(r"Plan: ([^<]*)", built)
        blocks = list(re.finditer(r"^```sql\n-- explain$", source, re.M))
        for number, block in enumerate(blocks):
            prose = CLAIM.match(source, block.start())
            named = CLAIMED_INDEX.search(prose["prose"]) if prose else None
            if named:
                claims += 1
                assert f"index {named[1]}" in summaries[number], (page, number, summaries[number])
    assert claims >= 4


def test_demo_cards_show_the_restored_row_counts(demo_site: Path) -> None:
    text = html.unescape((demo_site / "reference" / "airbnb" / "index.html").read_text())
    assert "480,000 (estimate from planner statistics)" in text


def test_demo_advisors_find_the_planted_problems(demo_site: Path) -> None:
    text = html.unescape((demo_site / "reference" / "whatsapp" / "index.html").read_text())
    assert (
        "WARN · duplicate_index: indexes" in text
        and "WARN · auth_rls_initplan: policy tenant_isolation" in text
    )
