"""Whole-schema directives over model objects: selection, anchors, listings, ERD, coverage."""

from __future__ import annotations

import re
from html import unescape

import markdown
import pytest
from document_model import HOSTILE, by_key, column, fk, table
from pymdownx import superfences

from mkdocs_dbschema.document import (
    DocumentError,
    Site,
    anchor,
    context,
    erd,
    erd_options,
    first_sentence,
    integration_reasons,
    link_to,
    listings,
    neighbourhood,
    overall,
    percent,
    render,
    select,
)
from mkdocs_dbschema.document.erd import diagram_problem, label, type_word, word
from mkdocs_dbschema.document.listing import coverage, levels_of
from mkdocs_dbschema.document.selection import Selection
from mkdocs_dbschema.render.cards import CardRenderer, RenderOptions

GROUPS = {"Motopress": ["motopress_*", "airbnb_motopress_*"], "Airbnb": ["airbnb_*"]}

SITE = by_key(
    table("tenants", comment="One row per hotel. Created at sign-up."),
    table(
        "motopress_accommodations",
        column("id", pk=True),
        column("tenant_id", nullable=False),
        fks=[fk(["tenant_id"], "tenants")],
        comment="Synced properties.",
        rows=120,
    ),
    table(
        "motopress_units",
        column("id", pk=True, comment="Unit id"),
        column("accommodation_id", nullable=False, comment="Its property"),
        fks=[fk(["accommodation_id"], "motopress_accommodations")],
        comment="Synced rooms. More text.",
        rows=None,
    ),
    table("airbnb_motopress_comparison", rows=0, comment=None),
    table("airbnb_sync_log", column("id", pk=True), column("details", "jsonb"), rows=85, size=16384),
    table("guests", column("id", pk=True), column("external_id", "text")),
    table("open_stays", column("id"), kind="view", rows=None, size=0, comment="Stays now."),
    table("jobs", schema="ops", comment="Background jobs"),
)


# -- selection ---------------------------------------------------------------------


def test_selects_every_table_a_group_a_glob_a_schema_or_one_table() -> None:
    def keys(argument: str) -> tuple[str, ...]:
        selection = select(argument, SITE, GROUPS)
        assert isinstance(selection, Selection), selection
        return selection.keys

    assert keys("*") == tuple(sorted(SITE))
    # The first group whose pattern matches wins: airbnb_motopress_* is Motopress, not Airbnb.
    assert keys("Motopress") == (
        "public.airbnb_motopress_comparison",
        "public.motopress_accommodations",
        "public.motopress_units",
    )
    assert keys("Airbnb") == ("public.airbnb_sync_log",)
    assert keys("airbnb_*") == ("public.airbnb_motopress_comparison", "public.airbnb_sync_log")
    assert keys("ops") == keys("ops.*") == keys("OPS.*") == ("ops.jobs",)
    assert len(keys("public")) == 7
    assert keys("tenants") == keys("public.tenants") == ("public.tenants",)
    assert select("jobs", SITE, GROUPS) == Selection("jobs", "table", ("ops.jobs",))
    # Several, separated by commas: every table any of them names, once.
    assert keys("Airbnb, ops, airbnb_*") == (
        "ops.jobs",
        "public.airbnb_motopress_comparison",
        "public.airbnb_sync_log",
    )
    assert "no group, schema or table named 'nope'" in str(select("Airbnb, nope", SITE, GROUPS))


def test_unknown_arguments_say_what_is_known() -> None:
    assert select("Whatsapp", SITE, GROUPS) == (
        "no group, schema or table named 'Whatsapp' (groups: Motopress, Airbnb; schemas: ops, public)"
    )
    message = select("whatsapp_*", SITE, GROUPS)
    assert isinstance(message, str)
    assert message.startswith("'whatsapp_*' matches no table") and "Motopress, Airbnb" in message
    assert "holds no table" in str(select("Empty", SITE, {"Empty": ["nothing_*"]}))
    twice = by_key(table("items"), table("items", schema="ops"), table("items", schema="sales"))
    assert select("items", twice, {}) == Selection("items", "table", ("public.items",))  # on the path
    hidden = by_key(table("items", schema="ops"), table("items", schema="sales"))
    assert "ambiguous" in str(select("items", hidden, {}))


# -- anchors -----------------------------------------------------------------------

AWKWARD_KEYS = [
    "public.tenants",
    'public."Tenants"',
    'public."Odd Name"',
    'public."odd-name"',
    'public."reservación"',
    'public."ホテル"',
    'public."a""b"',
    'ops."odd.name"',
    'ops."odd name"',
    '"Sales".leads',
    "public.odd_name",
    "a_b.c",
    "a.b_c",
]


def test_anchors_are_stable_valid_and_unique() -> None:
    anchors = [anchor(key) for key in AWKWARD_KEYS]
    assert anchors[0] == "public-tenants"
    assert anchor("a_b.c") == "a_b-c" and anchor("a.b_c") == "a-b_c"
    assert re.fullmatch(r"public-odd-name--[0-9a-f]{8}", anchor('public."Odd Name"'))
    assert anchor('public."reservación"').startswith("public-reservacion--")
    assert len(set(anchors)) == len(anchors)
    assert all(re.fullmatch(r"[a-z0-9_][a-z0-9_-]*", a) for a in anchors)
    assert [anchor(key) for key in AWKWARD_KEYS] == anchors  # derived from the key alone


def test_anchors_work_as_attr_list_ids() -> None:
    for key in AWKWARD_KEYS:
        html = markdown.markdown(f"## A heading {{#{anchor(key)}}}", extensions=["attr_list"])
        assert html == f'<h2 id="{anchor(key)}">A heading</h2>'


def test_links_are_relative_to_the_current_page() -> None:
    link = link_to(
        {"public.tenants": "core/tenants.md", "ops.jobs": "ops.md"}, "integrations/index.md", anchor
    )
    assert link("public.tenants") == "../core/tenants.md#public-tenants"
    assert link("ops.jobs") == "../ops.md#ops-jobs"
    assert link("public.guests") is None
    assert link_to({"ops.jobs": "ops.md"}, "ops.md", anchor)("ops.jobs") == "#ops-jobs"


# -- navigation and summary -------------------------------------------------------


def test_first_sentence() -> None:
    assert first_sentence("Synced rooms. More text.") == "Synced rooms."
    assert first_sentence("One row per hotel.\nSecond line") == "One row per hotel."
    assert first_sentence("\n  Version 1.2 data only\nmore") == "Version 1.2 data only"
    assert first_sentence("Wait... then more") == "Wait..."
    assert first_sentence("Is it synced? Yes.") == "Is it synced?"
    assert first_sentence("") is None and first_sentence(None) is None


def cards_at(*keys: str):  # type: ignore[no-untyped-def]
    pages = dict.fromkeys(keys, "tables.md")
    return link_to(pages, "index.md", anchor)


def test_listings_group_tables_in_option_order_with_levels() -> None:
    levels = levels_of(SITE)
    parts = listings(sorted(SITE), SITE, GROUPS, levels, cards_at("public.motopress_units"))
    assert [p.name for p in parts] == ["Motopress", "Airbnb", None]
    motopress = parts[0]
    assert [(e.display, e.level) for e in motopress.entries] == [
        ("airbnb_motopress_comparison", 0),
        ("motopress_accommodations", 1),
        ("motopress_units", 2),
    ]
    units = motopress.entries[2]
    assert units.purpose == "Synced rooms."
    assert units.url == "tables.md#public-motopress_units"
    assert motopress.entries[0].url is None
    assert (motopress.rows, motopress.unanalyzed, motopress.levels) == (120, 1, (0, 2))
    other = parts[2]
    assert other.entries[-1].display == "open_stays" and other.entries[-1].level is None  # a view: last
    everything = overall(parts)
    assert len(everything.entries) == len(SITE)
    assert everything.total_bytes == sum(t.total_bytes for t in SITE.values())
    assert everything.unanalyzed == 1  # the view has no estimate, but it stores no rows


def renderer(**options: object) -> CardRenderer:
    return CardRenderer(RenderOptions(groups=GROUPS, **options))  # type: ignore[arg-type]


def test_tables_directive_links_carded_tables_only() -> None:
    site = Site(SITE, GROUPS, cards_at("public.motopress_units", "public.tenants"))
    text = render(renderer(), "tables", "Motopress", {}, site)
    assert text.startswith("### Motopress\n\n| Table | Level | Rows | Size | Purpose |")
    assert (
        "| [motopress&#95;units](tables.md#public-motopress_units) | 2 | not analyzed | 8192 bytes |" in text
    )
    assert "| motopress&#95;accommodations | 1 | 120 | 8192 bytes | Synced properties&#46; |" in text
    assert "](" not in text.replace("](tables.md#public-motopress_units)", "")  # no dead links
    html = markdown.markdown(text, extensions=["tables"])
    assert '<a href="tables.md#public-motopress_units">motopress&#95;units</a>' in html
    # Without groups: one table, no heading.
    plain = render(renderer(), "tables", "ops", {}, Site(SITE, {}))
    assert plain.startswith("| Table |") and "Background jobs" in plain


def test_summary_directive_totals_and_groups() -> None:
    text = render(renderer(), "summary", "*", {}, Site(SITE, GROUPS))
    assert "- **Tables:** 8\n" in text
    assert "- **Total Rows:** 235 (1 not analyzed) (planner estimates)\n" in text
    assert "- **Dependency Levels:** 0\u20132\n" in text
    assert "| Motopress | 3 | 120 (1 not analyzed) | 24 kB | 0\u20132 |" in text
    assert "| Airbnb | 1 | 85 | 16 kB | 0 |" in text
    assert "| Other tables | 4 | 30 | 24 kB | 0 |" in text


# -- ERD ---------------------------------------------------------------------------


def diagram(*tables, columns: str = "keys") -> str:  # type: ignore[no-untyped-def]
    summaries = by_key(*tables)
    return erd(sorted(summaries), summaries, columns)


def relationship_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if ' : "' in line]


def test_erd_cardinality_follows_nullability_and_uniqueness() -> None:
    tenants = table("tenants")
    required = table(
        "rooms",
        column("id", pk=True),
        column("tenant_id", nullable=False),
        fks=[fk(["tenant_id"], "tenants")],
    )
    assert relationship_lines(diagram(tenants, required)) == [
        't_public_tenants ||..o{ t_public_rooms : "tenant_id"'
    ]
    optional = table("rooms", column("id", pk=True), column("tenant_id"), fks=[fk(["tenant_id"], "tenants")])
    assert relationship_lines(diagram(tenants, optional)) == [
        't_public_tenants |o..o{ t_public_rooms : "tenant_id"'
    ]
    one_to_one = table(
        "profiles",
        column("id", pk=True),
        column("tenant_id"),
        fks=[fk(["tenant_id"], "tenants")],
        unique=[["tenant_id"]],
    )
    assert relationship_lines(diagram(tenants, one_to_one)) == [
        't_public_tenants |o..o| t_public_profiles : "tenant_id"'
    ]
    # Key columns inside the primary key: an identifying (solid) line; the key is unique.
    extension = table("tenant_settings", column("id", pk=True), fks=[fk(["id"], "tenants", ["id"])])
    assert relationship_lines(diagram(tenants, extension)) == [
        't_public_tenants ||--o| t_public_tenant_settings : "id"'
    ]
    # A multi-column key, part of a longer primary key: identifying, many per parent.
    rooms = table("rooms", column("tenant_id", pk=True), column("room_no", pk=True))
    beds = table(
        "beds",
        column("tenant_id", pk=True),
        column("room_no", pk=True),
        column("bed", pk=True),
        fks=[fk(["tenant_id", "room_no"], "rooms", ["tenant_id", "room_no"])],
    )
    assert relationship_lines(diagram(rooms, beds)) == [
        't_public_rooms ||--o{ t_public_beds : "tenant_id, room_no"'
    ]


def test_erd_columns_markers_types_and_outside_boxes() -> None:
    tenants = table(
        "tenants", column("id", pk=True), column("slug", "text", nullable=False), unique=[["slug"]]
    )
    bookings = table(
        "bookings",
        column("id", "bigint", pk=True),
        column("tenant_id", nullable=False),
        column("made_at", "timestamp with time zone", nullable=False),
        column("amount", "numeric(12,2)"),
        column("user_id", "uuid"),
        fks=[fk(["tenant_id"], "tenants"), fk(["user_id"], "users", ref_schema="auth")],
    )
    summaries = by_key(tenants, bookings)
    keys_only = erd(["public.bookings"], summaries)
    assert keys_only == (
        "erDiagram\n"
        '    t_auth_users["auth.users"]\n'
        '    t_public_bookings["public.bookings"] {\n'
        "        bigint id PK\n"
        "        integer tenant_id FK\n"
        "        uuid user_id FK\n"
        "    }\n"
        '    t_public_tenants["public.tenants"]\n'
        '    t_auth_users |o..o{ t_public_bookings : "user_id"\n'
        '    t_public_tenants ||..o{ t_public_bookings : "tenant_id"\n'
    )
    every = erd(sorted(summaries), summaries, "all")
    assert "        timestamp_with_time_zone made_at\n" in every
    assert "        numeric(12,2) amount\n" in every
    assert "        text slug UK\n" in every
    assert '    t_public_tenants["tenants"] {' not in every  # two schemas: names qualified
    bare = erd(["public.tenants"], by_key(tenants), "none")
    assert bare == 'erDiagram\n    t_public_tenants["tenants"]\n'


def test_erd_depth_walks_foreign_keys_both_ways() -> None:
    chain = by_key(
        table("a"),
        table("b", column("id", pk=True), column("a_id"), fks=[fk(["a_id"], "a")]),
        table("c", column("id", pk=True), column("b_id"), fks=[fk(["b_id"], "b")]),
        table("d", column("id", pk=True), column("c_id"), fks=[fk(["c_id"], "c")]),
    )
    assert neighbourhood("public.c", chain, 0) == ("public.c",)
    assert neighbourhood("public.c", chain, 1) == ("public.b", "public.c", "public.d")
    assert neighbourhood("public.c", chain, 2) == ("public.a", "public.b", "public.c", "public.d")
    _, values = context("erd", "c", {"depth": "1"}, Site(chain))
    assert values["tables"] == ("public.b", "public.c", "public.d")
    assert '    t_public_a["a"]\n' in values["diagram"]  # referenced by b, outside: a plain box
    _, default = context("erd", "c", {}, Site(chain))
    assert default["tables"] == values["tables"]
    with pytest.raises(DocumentError, match="depth applies to one table"):
        context("erd", "*", {"depth": "2"}, Site(chain))


def test_erd_options_are_checked() -> None:
    assert erd_options({}) == erd_options({"columns": "keys"})
    assert erd_options({"columns": "ALL", "depth": "3"}).depth == 3  # type: ignore[union-attr]
    assert erd_options({"columns": "some"}) == "columns: 'some' is not one of keys, all, none"
    assert erd_options({"depth": "-1"}) == "depth: '-1' is not a whole number of foreign-key hops"
    assert str(erd_options({"colour": "red"})).startswith("unknown option 'colour'")
    with pytest.raises(DocumentError, match="takes no options"):
        context("tables", "*", {"columns": "all"}, Site(SITE))


def test_hostile_names_cannot_break_the_diagram_or_the_fence() -> None:
    hostile = table(
        HOSTILE,
        column("id", pk=True),
        column(HOSTILE, HOSTILE, nullable=False),
        column("pk", "uk"),
        column("9lives"),
        fks=[fk([HOSTILE], "tenants")],
        comment="<script>alert(1)</script> ]] ``` %% comment",
        unique=[["pk"]],
    )
    summaries = by_key(table("tenants"), hostile)
    text = erd(sorted(summaries), summaries, "all")
    body = text.splitlines()[1:]
    for line in body:
        assert re.fullmatch(
            r'    t_[a-z0-9_]+(\["[^"%\\`<>&#*\n]+"\])?( \{)?'
            r"|        \S+ \S+( (PK|FK|UK)(, (PK|FK|UK))*)?"
            r"|    \}"
            r'|    t_[a-z0-9_]+ [|}][|o](--|\.\.)[o|][|{] t_[a-z0-9_]+ : "[^"%\\`<>&#*\n]+"',
            line,
        ), line
    assert "script>" not in text and "%%" not in text and "`" not in text
    assert not re.search(r"direction\s+tb", text, re.IGNORECASE)
    assert "        uk _pk UK\n" not in text and "        _uk _pk UK\n" in text  # never a key marker
    assert "        integer _9lives\n" in text
    rendered = render(renderer(), "erd", "*", {"columns": "all"}, Site(summaries))
    fenced, names = rendered.split("\n```\n")
    assert fenced.startswith("```mermaid\nerDiagram\n") and fenced.count("```") == 1
    # Below the diagram, every table by name (linked where carded), escaped for Markdown.
    assert names.strip().startswith("**In this diagram:**") and "<script>" not in names


def test_words_and_labels() -> None:
    assert type_word("character varying(20)[]") == "character_varying(20)[]"
    assert type_word('public."My Type"') == "public.My_Type"
    assert word("Weird Col") == "Weird_Col" and word("habitación") == "habitación"
    assert word("fk-id") == "_fk-id" and word("fk_id") == "fk_id"
    assert label("a\tb\u2028c\x00d") == "a b c d"
    assert label("") == "_"
    assert label('50% "off"') == "50\uff05 \uff02off\uff02"


def test_oversized_diagrams_are_refused() -> None:
    wide = by_key(
        *(table(f"t{i:03}", *(column(f"c{j:03}", pk=j == 0) for j in range(60))) for i in range(40))
    )
    text = erd(sorted(wide), wide, "all")
    assert "more than Mermaid draws" in str(diagram_problem(text))
    with pytest.raises(DocumentError, match="columns: keys"):
        context("erd", "*", {"columns": "all"}, Site(wide))
    assert diagram_problem(erd(sorted(wide), wide, "keys")) is None


def test_output_is_deterministic() -> None:
    shuffled = dict(reversed(list(SITE.items())))
    for kind in ("tables", "summary", "erd", "coverage"):
        assert render(renderer(), kind, "*", {}, Site(SITE, GROUPS)) == render(
            renderer(), kind, "*", {}, Site(shuffled, GROUPS)
        )


# -- coverage ----------------------------------------------------------------------


def test_percent_never_rounds_to_all_or_nothing() -> None:
    assert [
        percent(1, 3),
        percent(2, 3),
        percent(199, 200),
        percent(1, 1000),
        percent(0, 4),
        percent(4, 4),
    ] == [
        "33%",
        "67%",
        "99%",
        "1%",
        "0%",
        "100%",
    ]
    assert percent(0, 0) == "n/a"


def test_coverage_counts_carded_and_commented_tables_and_columns() -> None:
    link = cards_at("public.motopress_units", "public.motopress_accommodations")
    parts = listings(sorted(SITE), SITE, GROUPS, levels_of(SITE), link)
    motopress = coverage(parts[0], SITE)
    assert [e.display for e in motopress.carded] == ["motopress_accommodations", "motopress_units"]
    assert [e.display for e in motopress.uncarded] == ["airbnb_motopress_comparison"]
    assert motopress.carded_percent == "67%"
    assert [e.display for e in motopress.uncommented_tables] == ["airbnb_motopress_comparison"]
    assert motopress.commented_tables_percent == "67%"
    # 1 + 2 + 2 columns; only motopress_units' two have comments.
    assert (motopress.columns, motopress.uncommented_column_count) == (5, 3)
    assert motopress.commented_columns_percent == "40%"
    text = unescape(render(renderer(), "coverage", "*", {}, Site(SITE, GROUPS, link)))
    assert "| Motopress | 3 | 2 (67%) | 2 (67%) | 2 of 5 (40%) |" in text
    assert "| All | 8 | 2 (25%) | 5 (62%) | 2 of 12 (17%) |" in text
    assert "- Carded on no page: airbnb_motopress_comparison\n" in text
    assert "- Carded on no page: guests, open_stays, ops.jobs, tenants\n" in text
    assert (
        "- Columns without comment in [motopress_accommodations](tables.md#public-motopress_accommodations): <code>id</code>, <code>tenant_id</code>\n"
        in text
    )


def test_integration_candidates_by_each_rule() -> None:
    assert integration_reasons(table("whatsapp_messages")) == ("name starts with whatsapp_",)
    assert integration_reasons(table("calendar_sync_log")) == ("name ends with _sync_log",)
    assert integration_reasons(table("guests", column("external_id", "text"))) == (
        "column external_id (external id)",
    )
    assert integration_reasons(table("units", column("airbnb_external_id"))) == (
        "column airbnb_external_id (external id)",
    )
    assert integration_reasons(table("rooms", column("motopress_id"))) == (
        "column motopress_id (external id)",
    )
    assert integration_reasons(table("feeds", column("last_synced_at", "timestamptz"))) == (
        "column last_synced_at (sync state)",
    )
    assert integration_reasons(table("feeds", column("sync_status", "text"))) == (
        "column sync_status (sync state)",
    )
    assert integration_reasons(table("feeds", column("ical_sync_token"))) == (
        "column ical_sync_token (sync state)",
    )
    assert integration_reasons(table("jobs", column("async_job"), column("synchronous"))) == (
        "column synchronous (sync state)",
    )
    assert integration_reasons(table("tenants")) == ()
    site = by_key(*SITE.values(), table("whatsapp_messages"), table("ical_sync_log"))
    text = unescape(render(renderer(), "coverage", "*", {}, Site(site, GROUPS)))
    candidates = text.split("Integration candidates", 1)[1]
    # In a group already (airbnb_sync_log) or matching nothing (tenants): not listed.
    assert "airbnb_sync_log" not in candidates and "tenants" not in candidates
    assert "| guests | column external_id (external id) |" in candidates
    assert "| ical_sync_log | name ends with _sync_log |" in candidates
    assert "| whatsapp_messages | name starts with whatsapp_ |" in candidates
    none = render(renderer(), "coverage", "Motopress", {}, Site(SITE, GROUPS))
    assert "No table outside the groups matches the integration rules." in none


def test_database_text_never_becomes_markup() -> None:
    evil = table(
        "x<script>|[a](b)`*_",
        column("id", pk=True, comment=None),
        comment="<img src=x onerror=alert(1)> | **bold** [link](javascript:alert(1)). Rest",
    )
    site = Site(by_key(evil), {"<b>Group</b>": ["x*"]}, cards_at(evil.key))
    for kind in ("tables", "summary", "coverage"):
        html = markdown.markdown(render(renderer(), kind, "*", {}, site), extensions=["tables", "attr_list"])
        assert (
            "<script" not in html and "<img" not in html and "<b>" not in html and "<strong>bold" not in html
        )
        assert 'href="javascript' not in html
    html = markdown.markdown(render(renderer(), "tables", "*", {}, site), extensions=["tables"])
    link = re.search(r'<a href="([^"]*)">([^<]*)</a>', html)
    assert link and link[1] == f"tables.md#{anchor(evil.key)}"
    assert unescape(link[2]) == evil.display


def test_the_diagram_reaches_material_as_a_mermaid_block() -> None:
    hostile = table(HOSTILE, column("id", pk=True), comment="</pre><script>x</script>")
    site = Site(by_key(hostile))
    text = render(renderer(), "erd", "*", {"columns": "all"}, site)
    fences = {"name": "mermaid", "class": "mermaid", "format": superfences.fence_code_format}
    html = markdown.markdown(
        text,
        extensions=["pymdownx.superfences"],
        extension_configs={"pymdownx.superfences": {"custom_fences": [fences]}},
    )
    diagram, names = html.split("</code></pre>")
    assert diagram.startswith('<pre class="mermaid"><code>erDiagram\n')
    assert names.startswith("\n<p><strong>In this diagram:</strong>")
    assert html.count("<pre") == 1 and "<script" not in html
    # Without superfences the diagram source shows as an indented code block.
    plain = render(renderer(extensions=frozenset()), "erd", "*", {}, site)
    assert plain.startswith("    erDiagram\n")
