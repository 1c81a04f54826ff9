"""Writer metadata and section choice, in a built site."""

from __future__ import annotations

from pathlib import Path

import pytest
from sites import build

pytestmark = pytest.mark.embedded_only

METADATA = """\
tables:
  bookings:
    purpose: Every stay a guest booked.
    group: Stays
    integration:
      sync_frequency: hourly
      sync_direction: one-way (`PMS` → MUVA)
    key_fields:
      external_ref: the PMS booking number.
    migration_notes:
      do: [Keep `external_ref` unchanged.]
      dont: [Truncate without CASCADE.]
    growth_rate: Fast
    indexing_strategy: by status for the scheduler
    columns:
      status: Where the booking stands.
    relations:
      - columns: [parent_id]
        references: tenants
        comment: kept by the app
"""


def _site(tmp_path: Path, sections_url: str, metadata: str, page: str, **options: object):  # type: ignore[no-untyped-def]
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "meta.yml").write_text(metadata)
    plugin = {"dsn": sections_url, "metadata": ["meta.yml"], "groups": {"Other": ["*"]}, **options}
    return build(tmp_path, {"index.md": page}, plugin, strict=True)


def test_metadata_fills_the_card(sections_url: str, tmp_path: Path) -> None:
    result = _site(tmp_path, sections_url, METADATA, "<< table: bookings >>\n")
    assert result.returncode == 0, result.log
    text = result.text()
    assert "Purpose: Every stay a guest booked." in text and "Group: Stays" in text  # metadata wins
    assert "Sync Frequency: hourly" in text and "Growth Rate: Fast" in text
    assert "<code>PMS</code>" in result.article()  # the writer's Markdown, rendered
    assert "external_ref: the PMS booking number." in text
    assert "tenant_id: Tenant of the row" in text and "(found by its name)" in text
    assert "✅ Keep external_ref unchanged." in text and "❌ Truncate without CASCADE." in text
    assert "Where the booking stands." in text
    assert "Documented relations" in text and "kept by the app" in text
    assert "documented: 1" in text


@pytest.mark.parametrize(
    ("metadata", "warning"),
    [
        (METADATA.replace("status: Where", "state: Where"), "meta.yml:16: bookings has no column 'state'"),
        (
            METADATA.replace("references: tenants", "references: tenantz"),
            "meta.yml:18: relation of bookings: no table named tenantz",
        ),
        ("tables:\n  bookings:\n    purpose: [oops\n", "meta.yml:4: not valid YAML"),
    ],
)
def test_metadata_mistakes_are_located_and_fail_strict(
    sections_url: str, tmp_path: Path, metadata: str, warning: str
) -> None:
    result = _site(tmp_path, sections_url, metadata, "<< table: bookings >>\n")
    assert result.returncode != 0 and "Traceback" not in result.log
    assert warning in result.log


def test_sections_and_hide_pick_what_a_card_shows(sections_url: str, tmp_path: Path) -> None:
    page = "<< table: bookings | sections: schema, indexes >>\n\n<< table: tenants | hide: samples, advisors >>\n"
    result = _site(tmp_path, sections_url, "tables: {}\n", page)
    assert result.returncode == 0, result.log
    bookings, tenants = result.text().split("Purpose: One row per hotel.")
    assert "Schema · bookings" in bookings and "Indexes:" in bookings
    assert "Security and Triggers" not in bookings and "Sample Data" not in bookings
    assert "Sample Data" not in tenants and "Advisors:" not in tenants and "Security and Triggers" in tenants
    bad = _site(tmp_path / "bad", sections_url, "tables: {}\n", "<< table: bookings | hide: sample >>\n")
    assert bad.returncode != 0
    assert (
        "index.md:1: << table: bookings | hide: sample >>: unknown section 'sample' (known: schema,"
        in bad.log
    )


def test_a_missing_markdown_extension_is_one_clear_warning(sections_url: str, tmp_path: Path) -> None:
    result = build(
        tmp_path,
        {"index.md": "<< table: tenants >>\n"},
        {"dsn": sections_url},
        extensions=["tables", "toc"],
    )
    warnings = [x for x in result.log.splitlines() if "WARNING" in x]
    assert len(warnings) == 1, result.log
    assert "without admonition (notice boxes), pymdownx.details" in warnings[0]
