"""The redactor on its own: column rules, value rules, JSON at any depth; the narrow masking
of schema text; and connection errors that never show the password."""

from __future__ import annotations

import gc
import json
import math
import random
import re
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from mkdocs_dbschema.analysis.redaction import (
    _MAYBE_UNAMBIGUOUS,
    REDACTED,
    Masked,
    Pseudonyms,
    Redactor,
    _mask_each_unambiguous,
    mask_unambiguous,
    mask_url,
    redact_sample,
)
from mkdocs_dbschema.catalog.connection import (
    DatabaseError,
    SessionSettings,
    connect,
    create_engine,
    mask_secrets,
    parse_url,
)
from mkdocs_dbschema.catalog.model import Table
from mkdocs_dbschema.catalog.samples import RawSample


def cell(column: str, value: str | None, type_name: str = "text", redactor: Redactor | None = None):  # type: ignore[no-untyped-def]
    return (redactor or Redactor()).cell(column, type_name, value, Pseudonyms())


@pytest.mark.parametrize(
    "column, value, expected, rule",
    [
        ("access_token", "EAAGm0PBZCFAKE123", REDACTED, "column token"),
        ("api_key", "anything at all", REDACTED, "column token"),
        ("app_secret", "deadbeef", REDACTED, "column secret"),
        ("password_hash", "$2b$12$abc", REDACTED, "column secret"),
        ("authorization", "Basic dXNlcjpwYXNz", REDACTED, "column token"),
        ("guest_phone", "+57 300 555 0177", "+•• ••• ••• ••••", "column phone"),
        ("contact_email", "ana@hotel.co", "•••@•••.co", "column email"),
        (
            "wamid",
            "wamid.HBgMNTczMDA1NTUwMTc3FQIAEhgg",
            "wamid.xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "column external id",
        ),
        ("motopress_id", "4312", "xxxx", "column external id"),
        ("external_id", "MOTO_58213", "MOTO_xxxxx", "column external id"),
        (
            "ics_feed_url",
            "https://www.airbnb.com/calendar/ical/1234.ics?s=3f9a77&lang=es",
            "https://www.airbnb.com/calendar/ical/1234.ics?s=•••&lang=es",
            "column url",
        ),
    ],
)
def test_column_rules(column: str, value: str, expected: str, rule: str) -> None:
    result = cell(column, value)
    assert (result.text, result.rules) == (expected, {rule})


def test_internal_uuids_and_plain_values_are_kept() -> None:
    uuid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert cell("tenant_id", uuid).text == uuid and not cell("tenant_id", uuid).rules
    assert cell("airbnb_listing_id", uuid).text == uuid  # an id column holding a uuid stays
    assert cell("sync_status", "error").text == "error"
    assert cell("notes", None).text is None


def test_account_names_become_stable_pseudonyms() -> None:
    redactor, names = Redactor(), Pseudonyms()
    first = redactor.cell("business_account_name", "text", "Hotel Caribe SAS", names)
    second = redactor.cell("business_account_name", "text", "Posada Medellín", names)
    again = redactor.cell("business_account_name", "text", "Hotel Caribe SAS", names)
    guest = redactor.cell("guest_name", "text", "Ana María", names)
    assert (first.text, second.text, again.text, guest.text) == (
        "Account A",
        "Account B",
        "Account A",
        "Guest A",
    )


@pytest.mark.parametrize(
    "value, expected, rule",
    [
        (
            "failed: Authorization: Bearer abcDEF123456789xyz rejected",
            "failed: Authorization: Bearer [REDACTED] rejected",
            "http auth",
        ),
        (
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2Zha2U expired",
            "token [REDACTED] expired",
            "jwt",
        ),
        ("key sk_live_51FAKEabcdefghijklmnop used", "key sk_live_[REDACTED] used", "api key"),
        ("secret whsec_FAKEdemo1234567890abc", "secret whsec_[REDACTED]", "api key"),
        ("meta EAAGm0PBZCFAKEdemoTOKEN1234567890abc", "meta EAA[REDACTED]", "api key"),
        ("woo ck_0123456789abcdef0123456789abcdef01234567", "woo ck_[REDACTED]", "api key"),
        ("mail juan.perez+vip@gmail.com now", "mail •••@•••.com now", "email address"),
        ("call +573005550177 today", "call +•••••••••••• today", "phone number"),
        (
            "GET https://admin:hunter2@pms.example.com/wp-json/mphb/v1/bookings?consumer_key=ck_x&page=2",
            "GET https://•••:•••@pms.example.com/wp-json/mphb/v1/bookings?consumer_key=•••&page=2",
            "url with secrets",
        ),
        ("blob 8f14e45fceea167a5a36dedd4bea2543ab12cd34ef56 end", "blob [REDACTED] end", "random token"),
    ],
)
def test_value_rules_in_free_text(value: str, expected: str, rule: str) -> None:
    result = cell("sync_error", value)
    assert result.text == expected and rule in result.rules


def test_json_is_redacted_at_any_depth() -> None:
    document = {
        "auth": {
            "api_key": "k-123",
            "client_secret": "s-456",
            "nested": [{"access_token": "t-789"}],
        },
        "webhooks": [{"url": "https://hooks.example.com/in?token=abc123", "verify_token": "v-1"}],
        "contact": {"email": "ops@hotel.co", "note": "call +573005550177"},
        "retries": 3,
        "enabled": True,
    }
    result = cell("config", json.dumps(document), "jsonb")
    redacted = json.loads(result.text)
    assert redacted["auth"] == REDACTED  # an object under a secret key is hidden whole
    assert redacted["webhooks"] == [
        {"url": "https://hooks.example.com/in?token=•••", "verify_token": REDACTED}
    ]
    assert redacted["contact"] == {"email": "•••@•••.co", "note": "call +••••••••••••"}
    assert (redacted["retries"], redacted["enabled"]) == (3, True)
    assert {
        "JSON key token",
        "JSON key email",
        "phone number",
        "url with secrets",
    } <= result.rules


def test_a_secret_named_json_column_is_redacted_whole() -> None:
    assert cell("credentials", '{"user": "a", "pass": "b"}', "jsonb").text == REDACTED


def test_arrays_are_redacted_element_by_element_in_their_text_form() -> None:
    result = cell("notify", '{ana@hotel.co,"+573005550177",plain}', "text[]")
    assert result.text == '{•••@•••.co,"+••••••••••••",plain}'


def test_url_masking_keeps_scheme_host_and_path() -> None:
    assert mask_url(
        "https://calendar.google.com/calendar/ical/abc%40group/private-8f14e45fceea167a5a36dedd4bea2543/basic.ics"
    ) == ("https://calendar.google.com/calendar/ical/abc%40group/[REDACTED]/basic.ics")
    assert mask_url("postgresql://app:pw@db:5432/muva") == "postgresql://•••:•••@db:5432/muva"


def test_rules_are_configurable() -> None:
    custom = Redactor.configured({"loyalty": r"loyalty_code"}, {"ticket": r"TCK-\d{6}"}, ["phone number"])
    assert cell("loyalty_code", "GOLD-1", redactor=custom).text == REDACTED
    assert cell("note", "see TCK-123456", redactor=custom).text == "see [REDACTED]"
    assert cell("note", "call +573005550177", redactor=custom).text == "call +573005550177"
    with pytest.raises(ValueError, match="unknown redaction rule"):
        Redactor.configured({}, {}, ["nope"])
    with pytest.raises(ValueError, match="bad regular expression"):
        Redactor.configured({"broken": "("}, {}, [])


@pytest.mark.parametrize(
    "column, type_name, value, leaked",
    [
        # Objects and arrays under a secret key are hidden whole.
        ("meta", "jsonb", '{"secret": {"value": "hunter2"}}', "hunter2"),
        ("meta", "jsonb", '{"auth": {"user": "admin", "pass": "hunter2"}}', "hunter2"),
        ("meta", "jsonb", '{"password": ["a", {"x": "hunter2"}]}', "hunter2"),
        # WhatsApp webhook payloads: profile names and wa_id / from numbers.
        (
            "payload",
            "jsonb",
            '{"contacts": [{"profile": {"name": "Andrés Felipe"}, "wa_id": "573185550142"}]}',
            "Andrés",
        ),
        (
            "payload",
            "jsonb",
            '{"messages": [{"from": "573185550142", "text": {"body": "hola"}}]}',
            "573185550142",
        ),
        # JSON that is not a json column, and key=value secrets in any text.
        ("payloads", "jsonb[]", '{"{\\"password\\": \\"hunter2\\"}"}', "hunter2"),
        ("settings", "text", '{"client_secret": "hunter2"}', "hunter2"),
        ("h", "hstore", '"password"=>"hunter2", "user"=>"x"', "hunter2"),
        ("note", "text", "host=db user=app password=hunter2", "hunter2"),
        ("note", "text", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
        ("note", "text", "https://us02web.zoom.us/j/855123?pwd=Vm1aT0xwMExlZz09", "Vm1aT0xwMExlZz09"),
        (
            "note",
            "text",
            "https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/aB3dE5gH7jK9mN1pQ3rS5tU7",
            "aB3dE5gH7",
        ),
        ("note", "text", "glpat-abcdefghij1234567890", "abcdefghij1234567890"),
        ("note", "text", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "eyJzdWIiOiIxIn0"),
        # A JSON column named like a rule gets that rule.
        ("contact_name", "jsonb", '"Juan Perez"', "Juan"),
        ("external_id", "jsonb", '"MOTO_12345"', "12345"),
        # Too deep to inspect: nothing of it is published.
        ("deep", "jsonb", "[" * 5000 + '"hunter2"' + "]" * 5000, "hunter2"),
    ],
)
def test_no_leak(column: str, type_name: str, value: str, leaked: str) -> None:
    result = cell(column, value, type_name)
    assert leaked not in (result.text or "") and result.rules


def test_disabling_a_column_rule_keeps_the_value_rule_of_the_same_kind() -> None:
    no_column_rule = Redactor.configured({}, {}, ["phone"])
    assert cell("guest_phone", "call +573005550177", redactor=no_column_rule).text == "call +••••••••••••"


# --- Audit: national phone numbers, URL internals, JSON keys, variant key names, base64,
# PEM blocks, quoted values, Unicode emails, short path tokens, read-error notes.


@pytest.mark.parametrize(
    "value, leaked",
    [
        ("call (415) 555-2671 today", "555-2671"),
        ("or 415-555-2672 later", "555-2672"),
        ("from London 0044 20 7946 0959", "7946 0959"),
        ("portable 06 12 34 56 78", "12 34 56 78"),
        ("móvil 612 345 678", "345 678"),
        ("US 415.555.2673", "555.2673"),
        ("tel:415-555-2674", "555-2674"),
        ("+1 (415) 555-2675", "555-2675"),
    ],
)
def test_national_and_00_phone_numbers_are_masked(value: str, leaked: str) -> None:
    result = cell("notes", value)
    assert leaked not in (result.text or "") and result.rules == {"phone number"}


@pytest.mark.parametrize(
    "value",
    [
        "due 2026-11-30",
        "at 14:02:01",
        "synced 2026-11-10 14:02:01+00 and 2026-11-10T14:02:01.123456Z",
        "stay [2026-11-01,2026-11-05)",
        "on 30-11-2026 and 30/11/2026",
        "tenant 0f8fad5b-d9cb-469f-a165-70867728950e",
        "uuid 12345678-1234-1234-1234-123456789012",
        "host 192.168.100.200 and 10.0.0.1",
        "phone_number_id 119000000000014",
        "listing 987654321012345678",
        "total 1 234 567,89 COP or $1,234.56 or 1.234.567",
        "version 2.10.1 / 10.15.7 / v3.11.4",
        "sizes 10 20 30 40 50",
        "Phone Number (Last 4 Digits): 0187",
        "took 1234 ms; 12 rows; HTTP 410",
    ],
)
def test_phone_rule_leaves_dates_ids_addresses_prices_and_versions(value: str) -> None:
    result = cell("notes", value)
    assert (result.text, result.rules) == (value, set())


def test_url_query_values_and_path_segments_are_redacted_decoded() -> None:
    url = "https://u:p@api.example.com/cb?token=t&email=AUDqmail@example.com&phone=%2B15557654321&page=2"
    result = cell("notes", url)
    assert result.text == (
        "https://•••:•••@api.example.com/cb?token=•••&email=•••@•••.com&phone=%2B•••••••••••&page=2"
    )
    assert {"url with secrets", "URL parameter email", "URL parameter phone"} <= result.rules
    # Percent-encoded, under innocent keys, in a nested URL, in a path segment.
    for value, leaked in [
        ("https://x.example/a?to=AUDenc%40example.com", "AUDenc"),
        ("https://x.example/a?note=call%20%2B15557654321", "5557654321"),
        ("https://x.example/a?next=https%3A%2F%2Fy.example%2Fb%3Fpassword%3DAUDnested9", "AUDnested9"),
        ("https://x.example/users/AUDpath%40example.com/profile", "AUDpath"),
    ]:
        masked = cell("notes", value)
        assert leaked not in (masked.text or "") and "url with secrets" in masked.rules, value
    plain = "https://pms.example.com/wp-json/mphb/v1/accommodation_types/2026?page=2&q=a+b"
    assert cell("notes", plain).text == plain  # nothing secret: kept as written


def test_json_object_keys_get_the_value_rules() -> None:
    value = '{"AUDkeyemail@example.com": {"x": 1}, "+15551234567": true, "a@b.co": 1, "c@d.co": 2}'
    result = cell("payload", value, "jsonb")
    redacted = json.loads(result.text or "")
    assert "AUDkeyemail" not in (result.text or "") and "5551234567" not in (result.text or "")
    assert redacted == {
        "•••@•••.com": {"x": 1},  # the masked key is data, not a name the column rules read
        "+•••••••••••": True,
        "•••@•••.co": 1,
        "•••@•••.co (2)": 2,  # two keys masked alike both stay
    }
    assert result.rules == {"email address in a JSON key", "phone number in a JSON key"}


@pytest.mark.parametrize(
    "value, leaked",
    [
        ("X-Api-Key: AUDxapikey1 PGPASSWORD=AUDpgpw1", "AUDxapikey1"),
        ("X-Api-Key: AUDxapikey1 PGPASSWORD=AUDpgpw1", "AUDpgpw1"),
        ("AWS_SECRET_ACCESS_KEY=AUDaws1 MYSQL_PWD=AUDmysql1", "AUDaws1"),
        ("AWS_SECRET_ACCESS_KEY=AUDaws1 MYSQL_PWD=AUDmysql1", "AUDmysql1"),
        ("X-Hub-Signature-256: sha256=AUDhubsig1", "AUDhubsig1"),
        ("pass=AUDpass1 passphrase: AUDphrase1 key=AUDkey1", "AUDpass1"),
        ("pass=AUDpass1 passphrase: AUDphrase1 key=AUDkey1", "AUDphrase1"),
        ("pass=AUDpass1 passphrase: AUDphrase1 key=AUDkey1", "AUDkey1"),
        ("sig=AUDsig1&signature=AUDsig2", "AUDsig1"),
        ("sig=AUDsig1; signature=AUDsig2", "AUDsig2"),
        ("door pin: 4321, otp=998877", "4321"),
        ("door pin: 4321, otp=998877", "998877"),
        ("password_hash: AUDhash1", "AUDhash1"),
    ],
)
def test_header_style_and_variant_secret_keys_in_text(value: str, leaked: str) -> None:
    result = cell("notes", value)
    assert leaked not in (result.text or "") and "secret pair" in result.rules


def test_variant_secret_keys_in_json() -> None:
    document = {
        "X-Api-Key": "AUDj1",
        "X-Hub-Signature-256": "sha256=AUDj2",
        "pass": "AUDj3",
        "passphrase": "AUDj4",
        "key": "AUDj5",
        "sig": "AUDj6",
        "signature": "AUDj7",
        "pin": "AUDj8",
        "otp": "AUDj9",
        "twoStepPin": "AUDj10",
        # not secrets
        "otp_type": "COPY_CODE",
        "passenger": "Ana",
        "keyboard": "qwerty",
        "design": "modern",
        "pinned": True,
    }
    result = cell("payload", json.dumps(document), "jsonb")
    redacted = json.loads(result.text or "")
    assert all(redacted[k] == REDACTED for k in list(document)[:10])
    assert {k: redacted[k] for k in list(document)[10:]} == {k: document[k] for k in list(document)[10:]}


@pytest.mark.parametrize(
    "column, rule",
    [
        ("pass", "secret"),
        ("passphrase", "secret"),
        ("api-key", "token"),
        ("signature", "secret"),
        ("pin", "secret"),
        ("otp", "secret"),
        ("two_step_pin", "secret"),
        ("twoStepPin", "secret"),
        ("private", "secret"),
        ("key", "bare key"),
        ("verified_name", "name"),
        ("contact-email", "email"),
        ("passenger", None),
        ("compass", None),
        ("bypass", None),
        ("keyboard", None),
        ("monkey", None),
        ("turkey", None),
        ("design", None),
        ("spinach", None),
        ("pinned", None),
        ("otp_type", None),
        ("primary_key_hint", None),
    ],
)
def test_variant_column_names(column: str, rule: str | None) -> None:
    assert Redactor().column_rule(column) == rule


def test_two_step_pin_and_verified_name_as_in_the_demo() -> None:
    assert cell("two_step_pin", "000000").text == REDACTED
    assert cell("verified_name", "Casa Laureles Suites").text == "Business A"
    assert cell("is_private", "true", "boolean").text == "true"  # a boolean holds no secret


def test_secret_pair_leaves_look_alike_words() -> None:
    value = (
        "passenger: Ana, compass: north, bypass: on, keyboard: qwerty, monkey=1, turkey=2,"
        " design: x, spinach: 3, pinned: yes, sort_key: name, token_type: bearer"
    )
    assert cell("notes", value).text == value


@pytest.mark.parametrize(
    "value, leaked",
    [
        ("aws wJalrXUtnFEMI/K7MDENG/bPxRfiCYAUDAWSKEY done", "bPxRfiCYAUDAWSKEY"),
        ("b64 q8Zr+T0x/9kLmN2pQ7sV4wYb3Hc6Jd1Fg5Aa== end", "q8Zr+T0x"),
        (
            "key\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAAUDpem1\nabc/DEF+ghi=\n"
            "-----END RSA PRIVATE KEY-----\nafter",
            "AUDpem1",
        ),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktAUDpem2 cut short", "AUDpem2"),
    ],
)
def test_base64_tokens_and_private_key_blocks(value: str, leaked: str) -> None:
    result = cell("notes", value)
    assert leaked not in (result.text or "") and result.rules


def test_pem_block_keeps_its_label_and_the_text_around() -> None:
    value = "k=\n-----BEGIN PRIVATE KEY-----\nMIIE/AUD+x==\n-----END PRIVATE KEY-----\nok"
    result = cell("notes", value)
    assert result.text == f"k=\n-----BEGIN PRIVATE KEY-----{REDACTED}-----END PRIVATE KEY-----\nok"


@pytest.mark.parametrize(
    "value",
    [
        "/var/lib/postgresql/18/main/base/16384/2619_fsm",
        "GET /api/v1/Bookings/ABC123/Rooms/456/getBookingDetailsById",
        "see /tenants/0f8fad5b-d9cb-469f-a165-70867728950e/rooms/accommodation_types",
    ],
)
def test_paths_are_not_base64_tokens(value: str) -> None:
    assert cell("notes", value).text == value


def test_quoted_values_are_masked_whole() -> None:
    value = 'password: \'AUDquoted pw\' secret="two words" {\\"token\\": \\"a b\\"} pwd=""'
    assert cell("notes", value).text == (
        'password: \'[REDACTED]\' secret="[REDACTED]" {\\"token\\": \\"[REDACTED]\\"} pwd=""'
    )


def test_unicode_emails() -> None:
    result = cell("notes", "escribe a josé@exämple.com o 山田@例え.jp")
    assert result.text == "escribe a •••@•••.com o •••@•••.jp" and result.rules == {"email address"}


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://x.example/reset/AUDshort9", "https://x.example/reset/[REDACTED]"),
        ("https://x.example/invite/123456", "https://x.example/invite/[REDACTED]"),
        (
            "https://x.example/verify/0f8fad5b-d9cb-469f-a165-70867728950e",  # a uuid as a token
            "https://x.example/verify/[REDACTED]",
        ),
        (
            "https://www.airbnb.com/hosting/reservations/details/HMFAKE0002",
            "https://www.airbnb.com/hosting/reservations/details/[REDACTED]",
        ),
        ("https://x.example/feeds/ab12cd34ef.ics", "https://x.example/feeds/[REDACTED].ics"),
        # kept: plain words, numbers, versions, uuids elsewhere, listing ids, file names
        ("https://x.example/reset/password", "https://x.example/reset/password"),
        (
            "https://pms.example.com/wp-json/mphb/v1/accommodation_types/2026",
            "https://pms.example.com/wp-json/mphb/v1/accommodation_types/2026",
        ),
        (
            "https://x.example/tenants/0f8fad5b-d9cb-469f-a165-70867728950e/rooms",
            "https://x.example/tenants/0f8fad5b-d9cb-469f-a165-70867728950e/rooms",
        ),
        (
            "https://www.airbnb.com/calendar/ical/34567890.ics",
            "https://www.airbnb.com/calendar/ical/34567890.ics",
        ),
        ("https://x.example/2026-11-30-checkin-report", "https://x.example/2026-11-30-checkin-report"),
        ("https://x.example/ipv6-test/room-101a/python3", "https://x.example/ipv6-test/room-101a/python3"),
    ],
)
def test_short_path_tokens(url: str, expected: str) -> None:
    assert mask_url(url) == expected


def test_read_error_notes_get_the_value_rules() -> None:
    table = Table(
        key="public.v",
        schema="public",
        name="v",
        display="v",
        kind="view",
        comment=None,
        row_estimate=None,
        total_bytes=0,
        table_bytes=0,
        index_bytes=0,
        rls_enabled=False,
        rls_forced=False,
    )
    raw = RawSample(
        columns=("id",),
        hidden=(),
        rows=(),
        note="rows could not be read: bad row for guest AUDnote@example.com with phone 415-555-2671",
        problem=True,
    )
    note = redact_sample(raw, table, 5, Redactor(), 80).note
    assert note == "rows could not be read: bad row for guest •••@•••.com with phone •••-•••-••••"
    assert redact_sample(raw, table, 5, None, 80).note == raw.note  # redaction off: as read


def _best_of_3(work: Callable[[], object]) -> float:
    """CPU time of this thread, not the wall clock: other processes on a loaded machine
    preempt a long run more often than a short one, and that is no growth of the work."""
    best = math.inf
    gc.disable()  # a collection landing in one run is noise, not growth
    try:
        for _ in range(3):
            started = time.thread_time()
            work()
            best = min(best, time.thread_time() - started)
    finally:
        gc.enable()
    return best


def assert_linear(work: Callable[[str], object], unit: str, n: int = 10_000) -> None:
    """`work` on `unit` repeated to n and to 4n characters takes ~4 times as long if linear,
    ~16 if quadratic: the ratio must stay under 8. Timed again (twice at most) before failing,
    since a loaded machine can stall one measurement but never makes quadratic work fast."""
    small, large = unit * max(1, n // len(unit)), unit * max(4, 4 * n // len(unit))
    ratios = []
    for _ in range(3):
        ratios.append(_best_of_3(lambda: work(large)) / max(_best_of_3(lambda: work(small)), 1e-6))
        if ratios[-1] < 8:
            return
    raise AssertionError(f"{unit[:40]!r}: 4x the input took {min(ratios):.1f}x the time")


@pytest.mark.parametrize("unit", ["a-", "a1/", "12 ", "password="])
def test_long_values_are_scanned_in_linear_time(unit: str) -> None:
    # Every `a` after a `-` could open a URL scheme: an unbounded scheme made this quadratic.
    assert_linear(lambda value: cell("notes", value), unit)


def test_the_growth_check_catches_quadratic_work() -> None:
    # Every step a Python step: `value.count` per character was quadratic in C but linear
    # in Python calls, and on a fast machine the calls hid the growth (ratio under 8).
    with pytest.raises(AssertionError, match="4x the input"):
        assert_linear(lambda value: sum(a == b for a in value for b in value), "ab", 800)


@pytest.mark.parametrize(
    "column, type_name, value",
    [
        ("token_type", "text", "user"),
        ("token_expires_at", "timestamp with time zone", "2026-12-01 00:00:00+00"),
        ("password_changed_at", "timestamp(3) without time zone", "2026-11-01 10:00:00.000"),
        ("secret_rotated_on", "date", "2026-11-01"),
        ("has_password", "boolean", "true"),
    ],
)
def test_what_describes_a_secret_without_holding_it_stays(column: str, type_name: str, value: str) -> None:
    result = cell(column, value, type_name)
    assert (result.text, result.rules) == (value, set())


def test_a_secret_left_in_a_describing_column_is_still_caught_by_value() -> None:
    assert cell("token_type", "Bearer abcdefgh12345678").text == f"Bearer {REDACTED}"
    assert cell("access_token", "user").text == REDACTED  # the token column itself stays masked


def test_display_names_become_neutral_pseudonyms() -> None:
    # integration_configs.display_name holds an account label, not always a person.
    assert cell("display_name", "MotoPress - posadadelmar.example").text == "Name A"
    assert cell("guest_name", "Ana Gómez").text == "Guest A"


# A URL nested in a URL: each level is masked part by part, to a depth; none may recurse.
# The others open a match of some rule over and over without closing it.
_ADVERSARIAL = ("http://a/?b=", "%2F", "@", "password=", "'", '"', "eyJ", "1", " ")
_ADVERSARIAL_NEW_RULES = (
    "-eyJ",
    "a-eyJab",
    "mysql ",
    "-u x ",
    "mysql 'x ",
    "--password ",
    "PASSWORD '",
    "<password>",
    "<a b>",
    "<a ",
    "<p><![CDATA[x]",
    "password:\n",
    " - password:\n  ",
    "key:\n  x\n",
    "[s]\n",
    "[s]\npassword=",
    "4018 ",
    "4018-",
    "1234 1234 ",
    "1 (",
    "1-",
    "1.",
)


@pytest.mark.parametrize(
    "unit",
    [
        "http://x/?",
        "http://a/?b=%2F@password='\"eyJ1 ",
        "http://a/?next=",
        *_ADVERSARIAL,
        *_ADVERSARIAL_NEW_RULES,
        "".join(_ADVERSARIAL),
        "".join(reversed(_ADVERSARIAL)),
    ],
)
def test_no_input_makes_a_cell_raise_or_hang(unit: str) -> None:
    # Each column reaches the same value rules, so one is timed; all must return.
    assert_linear(lambda value: cell("notes", value), unit)
    assert_linear(mask_unambiguous, unit)
    value = unit * (10_000 // len(unit))
    for column, type_name, text in [
        ("notes", "text", value),
        ("callback_url", "text", value),
        ("guest_phone", "text", value),
        ("payload", "jsonb", json.dumps({"note": value, "callback_url": value})),
    ]:
        assert cell(column, text, type_name).text is not None, column
    assert isinstance(mask_unambiguous(value), str)


def test_urls_nested_in_urls_are_masked_to_a_depth_then_hidden() -> None:
    value = "https://app.example/login?next=https://idp.example/cb?token=AUDnested1"
    result = cell("notes", value)
    assert "AUDnested1" not in (result.text or "") and "https://app.example/login" in (result.text or "")
    deep = "http://x/?" * 150
    result = cell("notes", deep)
    assert result.text is not None and result.text.endswith(REDACTED) and len(result.text) < 100
    assert "url with secrets" in result.rules
    result = cell("redirect_url", "https://a.example/?u=" * 50 + "https://b.example/reset/AUDdeep1")
    assert "AUDdeep1" not in (result.text or "")


def test_a_value_too_complex_to_inspect_is_hidden_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object) -> str:
        raise RecursionError

    redactor = Redactor()
    monkeypatch.setattr(redactor, "_by_value", explode)
    assert (
        cell("notes", "password=AUDboom", redactor=redactor).text,
        cell("notes", "x", redactor=redactor).rules,
    ) == (
        REDACTED,
        {"value too complex to inspect"},
    )
    assert redactor.text("password=AUDboom") == REDACTED


@pytest.mark.parametrize(
    "value, expected",
    [
        ('password="AUDopen1', f'password="{REDACTED}'),
        ("pwd: 'AUDopen2 and more\nnext line", f"pwd: '{REDACTED}\nnext line"),
        ('{\\"token\\": \\"AUDopen3', f'{{\\"token\\": \\"{REDACTED}'),
        ("password = 'it''s AUDdoubled1' ok", f"password = '{REDACTED}' ok"),
        ("password='it\\'s AUDescaped1' ok", f"password='{REDACTED}' ok"),
        ('secret="say ""AUDdoubled2""" ok', f'secret="{REDACTED}" ok'),
        ("secret=\\AUDbackslash1 ok", f"secret={REDACTED} ok"),
        ("token='x' y='z'", f"token='{REDACTED}' y='z'"),
        ("{'password': '', 'user': 'bob'}", "{'password': '', 'user': 'bob'}"),
    ],
)
def test_unclosed_doubled_and_escaped_quotes_in_secret_pairs(value: str, expected: str) -> None:
    result = cell("notes", value)
    assert result.text == expected
    assert "AUD" not in (result.text or "") and ("secret pair" in result.rules or value == expected)


# --- Card numbers: 13 to 19 digits passing the Luhn check, in any text and at any depth.

CARD = "4018185296307417"  # Luhn-valid


def luhn_check_digit(body: str) -> str:
    """The digit that makes `body` + it pass the Luhn check, computed the long way round."""
    return next(d for d in "0123456789" if _luhn_sum(body + d) % 10 == 0)


def _luhn_sum(number: str) -> int:
    doubled = [int(c) * 2 if i % 2 else int(c) for i, c in enumerate(reversed(number))]
    return sum(sum(map(int, str(d))) for d in doubled)


def digits_of(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


@pytest.mark.parametrize("seed", range(40))
def test_any_luhn_valid_number_of_13_to_19_digits_is_masked_and_its_neighbours_stay(seed: int) -> None:
    rng = random.Random(seed)
    length = rng.randint(13, 19)
    body = rng.choice("3456") + "".join(rng.choice("0123456789") for _ in range(length - 2))
    valid = body + luhn_check_digit(body)
    invalid = body + str((int(valid[-1]) + rng.randint(1, 9)) % 10)
    spaced = " ".join(valid[i : i + 4] for i in range(0, len(valid), 4))
    for text in (valid, spaced, spaced.replace(" ", "-")):
        result = cell("notes", f"paid with {text}, thanks")
        assert result.text == f"paid with {re.sub(r'[0-9]', '•', text)}, thanks" and result.rules == {
            "card number"
        }
    assert cell("notes", f"order {invalid} shipped").text == f"order {invalid} shipped"


@pytest.mark.parametrize(
    "column, type_name, value",
    [
        ("card_number", "text", "4018 1852 9630 7417"),
        ("notes", "text", "charged 4018 1852 9630 7417 today"),
        ("notes", "text", "charged 4018-1852-9630-7417."),
        ("notes", "text", f"ref:{CARD}"),
        ("notes", "text[]", f"{{{CARD},4111111111111111,plain}}"),
        ("notes", "text", f'({CARD},"Ana",12)'),  # a composite literal
        ("payload", "jsonb", json.dumps({"a": [{"b": {"c": f"card {CARD} ok"}}]})),
        ("payload", "jsonb", json.dumps({"order": {"n": int(CARD)}})),  # a JSON number
        ("payload", "jsonb", json.dumps({"payment": {"card": {"number": "4018 1852 9630 7417"}}})),
        ("payload", "jsonb", json.dumps({f"{CARD}": True})),  # a JSON key
        ("notes", "text", f"https://pay.example/cards/{CARD}?ref={CARD}"),
        ("cc", "bigint", CARD),  # a number column whose name says nothing
    ],
)
def test_card_numbers_are_never_published(column: str, type_name: str, value: str) -> None:
    result = cell(column, value, type_name)
    assert CARD not in digits_of(result.text) and result.rules


@pytest.mark.parametrize(
    "value, expected",
    [
        ("charged 4018 1852 9630 7417 today", "charged •••• •••• •••• •••• today"),
        (f"{{{CARD},1234567890123456}}", "{••••••••••••••••,1234567890123456}"),
        ("card 3782 822463 10005 (amex) cvv 123", "card •••• •••••• ••••• (amex) cvv 123"),
        ("4018 1852 9630 7417 12/27", "•••• •••• •••• •••• 12/27"),
    ],
)
def test_card_masks_keep_no_digit_and_the_text_around(value: str, expected: str) -> None:
    assert cell("notes", value).text == expected


@pytest.mark.parametrize(
    "value",
    [
        "order 4018185296307418 shipped",  # one digit off: fails the Luhn check
        "at 20261130140201 and 20261130140202",
        "ids 1234567890123456 9223372036854775807",
        "hash a4018185296307417f and 4018185296307417abc",  # part of a word
        "pi 0.4018185296307417",  # a decimal fraction
        "placeholder 0000000000000000",
        "stay 2026-11-01 2026-11-05 4018 18",
        "uuid 12345678-1234-1234-1234-123456789012",
    ],
)
def test_luhn_invalid_runs_and_words_stay(value: str) -> None:
    result = cell("notes", value)
    assert (result.text, result.rules) == (value, set())


@pytest.mark.parametrize(
    "column",
    [
        "card_number",
        "cardnumber",
        "cardNumber",
        "pan",
        "cc_number",
        "ccnum",
        "credit_card",
        "creditCard",
        "debit_card",
        "card_no",
        "card_num",
        "card_numbers",
        "primary_account_number",
        "customer_card_number",
    ],
)
def test_card_number_names_mask_the_value_whole(column: str) -> None:
    assert Redactor().column_rule(column) == "card"
    assert cell(column, "4018 1852 9630 7418").text == "•••• •••• •••• ••••"  # Luhn or not
    assert cell(column, "visa ending 7417").text == REDACTED


@pytest.mark.parametrize(
    "column",
    [
        "card_id",
        "credit_card_type",
        "credit_card_expiry",
        "company",
        "span",
        "expand",
        "panel",
        "cc",
        "card_notes",
    ],
)
def test_names_about_cards_or_like_pan_hold_no_card_number(column: str) -> None:
    assert Redactor().column_rule(column) != "card"


def test_a_card_under_a_card_named_json_key_is_masked_and_its_siblings_stay() -> None:
    document = {"credit_card": {"number": "4018 1852 9630 7418", "brand": "visa", "last4": "7418"}}
    result = cell("payload", json.dumps(document), "jsonb")
    assert json.loads(result.text or "") == {
        "credit_card": {"number": "•••• •••• •••• ••••", "brand": "visa", "last4": "7418"}
    }
    assert result.rules == {"JSON key card"}


# --- Passwords in SQL, on command lines, in XML, YAML and INI files.


@pytest.mark.parametrize(
    "value, expected",
    [
        (
            "ALTER ROLE bob WITH ENCRYPTED PASSWORD 'AUDsql1'",
            "ALTER ROLE bob WITH ENCRYPTED PASSWORD '[REDACTED]'",
        ),
        (
            "CREATE USER u PASSWORD 'md5AUDsql2' VALID UNTIL '2027-01-01'",
            "CREATE USER u PASSWORD '[REDACTED]' VALID UNTIL '2027-01-01'",
        ),
        ("alter user x password 'it''s AUDsql3';", "alter user x password '[REDACTED]';"),
        ("CREATE USER 'u'@'%' IDENTIFIED BY 'AUDsql4'", "CREATE USER 'u'@'%' IDENTIFIED BY '[REDACTED]'"),
        ("ALTER ROLE bob PASSWORD NULL", "ALTER ROLE bob PASSWORD NULL"),
        ("mysql -u root -pAUDcli1 shop", "mysql -u root -p[REDACTED] shop"),
        ("mysqldump -h db -P 3306 -pAUDcli2 shop", "mysqldump -h db -P 3306 -p[REDACTED] shop"),
        ("/usr/bin/mariadb -uroot -p'AUD cli3'", "/usr/bin/mariadb -uroot -p'[REDACTED]'"),
        ("tool --user admin -pAUDcli4", "tool --user admin -p[REDACTED]"),
        ("backup --password AUDcli5 --verbose", "backup --password [REDACTED] --verbose"),
        ("backup --db-password 'AUD cli6'", "backup --db-password '[REDACTED]'"),
        ("backup --password=AUDcli7", "backup --password=[REDACTED]"),
        # not passwords: a port, hyphenated words, an option with no value
        ("pg_dump -h db -p 5432 -U app shop", "pg_dump -h db -p 5432 -U app shop"),
        ("psql -h db -p5432 -d shop", "psql -h db -p5432 -d shop"),
        ("a self-paced, re-processed -pretty list", "a self-paced, re-processed -pretty list"),
        ("mysql -u root -p shop", "mysql -u root -p shop"),
        ("pg_dump --no-password shop", "pg_dump --no-password shop"),
        ("mysql -u root -P3306 shop", "mysql -u root -P3306 shop"),
        ("find / -user root -perm 644", "find / -user root -perm 644"),
        ("tar -u -pf x.tar", "tar -u -pf x.tar"),
    ],
)
def test_sql_and_command_line_passwords(value: str, expected: str) -> None:
    result = cell("notes", value)
    assert result.text == expected
    assert "AUD" not in (result.text or "") and bool(result.rules) == (value != expected)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("<password>AUDxml1</password>", "<password>[REDACTED]</password>"),
        ("<db><Password>AUD xml2</Password></db>", "<db><Password>[REDACTED]</Password></db>"),
        ('<secret id="1">AUDxml3</secret>', '<secret id="1">[REDACTED]</secret>'),
        (
            "<token>AUDxml4</token><apiKey>AUDxml5</apiKey>",
            "<token>[REDACTED]</token><apiKey>[REDACTED]</apiKey>",
        ),
        ("<ns:passwordHash>AUDxml6</ns:passwordHash>", "<ns:passwordHash>[REDACTED]</ns:passwordHash>"),
        ("<pwd><![CDATA[AUD<xml>7]]></pwd>", "<pwd>[REDACTED]</pwd>"),
        ("<cardNumber>AUDxml8</cardNumber>", "<cardNumber>[REDACTED]</cardNumber>"),
        ("<password>AUDxml9", "<password>[REDACTED]"),  # cut short
        # kept: other elements, what describes a secret, an empty one
        (
            "<user>ana</user><tokenType>bearer</tokenType><password/>x<pass></pass>",
            "<user>ana</user><tokenType>bearer</tokenType><password/>x<pass></pass>",
        ),
    ],
)
def test_xml_elements_named_like_secrets(value: str, expected: str) -> None:
    result = cell("notes", value)
    assert result.text == expected and "AUD" not in (result.text or "")


def test_xml_element_names_follow_the_configured_column_rules() -> None:
    custom = Redactor.configured({"loyalty": r"loyalty_code"}, {}, [])
    assert (
        cell("notes", "<loyaltyCode>AUDx</loyaltyCode>", redactor=custom).text
        == "<loyaltyCode>[REDACTED]</loyaltyCode>"
    )
    assert cell("notes", "<loyaltyCode>GOLD</loyaltyCode>").text == "<loyaltyCode>GOLD</loyaltyCode>"


@pytest.mark.parametrize(
    "value, expected",
    [
        (
            "db:\n  password:\n    AUDyaml1\n  user: app\n",
            "db:\n  password:\n    [REDACTED]\n  user: app\n",
        ),
        (
            "client_secret: |\n  AUDyaml2\n  AUDyaml3\n\n  AUDyaml4\nnext: 1",
            "client_secret:\n  [REDACTED]\nnext: 1",
        ),
        ("token: >-  # folded\n    AUDyaml5 AUDyaml6\n", "token:\n    [REDACTED]\n"),
        ("users:\n  - password:\n      AUDyaml7\n", "users:\n  - password:\n      [REDACTED]\n"),
        ('"api_key":\n  "AUDyaml8"', '"api_key":\n  [REDACTED]'),
        # kept: a value on the same line gets the secret pair rule; less indented lines are no value
        ("password: AUDyaml9\nhost: db", "password: [REDACTED]\nhost: db"),
        ("password:\nhost: db\n", "password:\nhost: db\n"),
        ("password_policy:\n  min_length: 12\n", "password_policy:\n  min_length: 12\n"),
    ],
)
def test_yaml_secret_values_on_the_lines_below(value: str, expected: str) -> None:
    result = cell("notes", value)
    assert result.text == expected and "AUD" not in (result.text or "")


@pytest.mark.parametrize(
    "value, expected",
    [
        (
            "[client]\nuser = root\npassword = AUD ini1; still it\nhost = db\n",
            "[client]\nuser = root\npassword = [REDACTED]\nhost = db\n",
        ),
        (
            "[default]\nregion = eu-west-1\naws_secret_access_key = AUDini2/K7MDENG+bPxRfiCY\n[other]\nx = 1",
            "[default]\nregion = eu-west-1\naws_secret_access_key = [REDACTED]\n[other]\nx = 1",
        ),
        ('[database]\npassword = "AUD ini3"\n', '[database]\npassword = "[REDACTED]"\n'),
        ("[s]\npassenger = Ana Gómez\nsort_key: name\n", "[s]\npassenger = Ana Gómez\nsort_key: name\n"),
    ],
)
def test_ini_sections_mask_secret_values_to_the_end_of_the_line(value: str, expected: str) -> None:
    result = cell("notes", value)
    assert result.text == expected and "AUD" not in (result.text or "")


# --- Masked phone numbers keep no digit.


@pytest.mark.parametrize(
    "value, expected",
    [
        ("fax 1 (780) 836-9543", "fax • (•••) •••-••••"),
        ("call 1-780-836-9543 now", "call •-•••-•••-•••• now"),
        ("call 1 780 836 9543", "call • ••• ••• ••••"),
        ("call 1.780.836.9543", "call •.•••.•••.••••"),
        ("+1 (415) 555-2675", "+• (•••) •••-••••"),
        ("call 44 (20) 7946 0959", "call •• (••) •••• ••••"),
    ],
)
def test_masked_phone_numbers_keep_none_of_their_digits(value: str, expected: str) -> None:
    result = cell("notes", value)
    assert (result.text, result.rules) == (expected, {"phone number"})


@pytest.mark.parametrize("country", ["1", "7", "44", "573"])
@pytest.mark.parametrize(
    "shape", ["{c} ({a}) {b}-{d}", "{c}-{a}-{b}-{d}", "{c} {a} {b} {d}", "+{c} {a} {b} {d}"]
)
def test_no_phone_format_leaves_a_digit_behind(country: str, shape: str) -> None:
    number = shape.format(c=country, a="780", b="836", d="9543")
    assert not digits_of(cell("notes", f"tel {number}.").text)
    assert not digits_of(cell("guest_phone", number).text)


# --- mask_unambiguous: for view definitions, constraints, policies, comments.

VIEW_DEFINITION = """ SELECT g.id,
    g.email,
    g.phone,
    b.status
   FROM (guests g
     JOIN bookings b ON ((b.guest_id = g.id)))
  WHERE ((b.status = ANY (ARRAY['active'::text, 'pending'::text])) AND (g.email ~~ '%@hotel.co'::text)
    AND (g.phone <> '+57 300 555 0177'::text) AND (b.tenant_id = '0f8fad5b-d9cb-469f-a165-70867728950e'::uuid)
    AND (b.check_in >= '2026-11-30'::date) AND (b.total < 9999999999999999::numeric)
    AND (b.ref <> 'ord-1234567890123456'::text) AND (g.note !~ 'Bearer authentication'::text)
    AND (b.callback <> 'https://api.example.com/cb?page=2&token_type=bearer'::text)
    AND (b.source <> 'postgresql://db:5432/app'::text) AND (g.login <> 'postgresql://admin@db/app'::text))"""
CHECK_CONSTRAINT = (
    "CHECK (((email)::text ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$'::text) "
    "AND (char_length(password_hash) = 60) AND (pin ~ '^[0-9]{4}$'::text) "
    "AND (phone ~ '^\\+?[0-9 ()-]{7,20}$'::text) AND (id <> 9223372036854775807))"
)
POLICY_EXPRESSION = (
    "((tenant_id = (current_setting('app.tenant_id'::text))::uuid) "
    "AND (owner_email = current_setting('app.user_email'::text)) "
    "AND (created_at > (now() - '30 days'::interval)) AND (api_token IS NOT NULL))"
)


@pytest.mark.parametrize(
    "text",
    [
        VIEW_DEFINITION,
        CHECK_CONSTRAINT,
        POLICY_EXPRESSION,
        "((b.total > 0) AND (b.total < 1000000))",  # an index predicate
        "(NEW.status IS DISTINCT FROM OLD.status)",  # a trigger's WHEN
        "needs_review",  # an enum label
        "Guest contact: ana@hotel.co, +57 300 555 0177. Access with Bearer authentication; see v2.10.1.",
        "",
    ],
)
def test_unambiguous_masking_leaves_text_without_secrets_byte_identical(text: str) -> None:
    assert mask_unambiguous(text) == text


def test_the_redactor_would_mask_what_unambiguous_masking_keeps() -> None:
    masked = cell("definition", VIEW_DEFINITION).text or ""
    assert "'+57 300 555 0177'" not in masked and "'+57 300 555 0177'" in mask_unambiguous(VIEW_DEFINITION)


@pytest.mark.parametrize(
    "secret_part, masked_part",
    [
        ("'postgresql://admin:Pw@db/app'::text", "'postgresql://admin:***@db/app'::text"),
        ("'mysql://u:p%40ss@db:3306/x?ssl=1'", "'mysql://u:***@db:3306/x?ssl=1'"),
        ("'AKIAAUDFAKE123456789'", "'AKIA[REDACTED]'"),
        ("'ASIAAUDFAKE987654321'", "'ASIA[REDACTED]'"),
        (
            "'aws_secret_access_key=AUDfakeSecretKey/K7MDENG+bPxRfiCYEXAMPLE'",
            "'aws_secret_access_key=[REDACTED]'",
        ),
        (
            "jsonb_build_object('aws_secret_access_key', 'AUDwJalrXUtnFEMI/K7MDENG')",
            "jsonb_build_object('aws_secret_access_key', '[REDACTED]')",
        ),
        ("'ghp_AUD0fake1token2with3thirty4six5chars'", "'ghp_[REDACTED]'"),
        ("'github_pat_11AUDFAKE0_abcdefghijklmnopqrstuvwxyz0123'", "'github_pat_[REDACTED]'"),
        ("'glpat-AUDfake1234567890abc'", "'glpat-[REDACTED]'"),
        ("'sk_live_AUDfake51abcdef'", "'sk_live_[REDACTED]'"),
        ("'rk_test_AUDfake51abcdef'", "'rk_test_[REDACTED]'"),
        ("'whsec_AUDfake1234567890abcd'", "'whsec_[REDACTED]'"),
        ("'xoxb-123456-AUDfake-token'", "'xoxb-[REDACTED]'"),
        (
            "'https://hooks.slack.com/services/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'",
            "'https://hooks.slack.com/services/[REDACTED]'",
        ),
        ("'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJBVUQifQ.c2lnbmF0dXJl'", "'[REDACTED]'"),
        ("'Bearer AUDabc123def456ghi789'", "'Bearer [REDACTED]'"),
        ("'4018 1852 9630 7417'::text", "'•••• •••• •••• ••••'::text"),
        (
            "'-----BEGIN PRIVATE KEY-----\nMIIEAUD+x==\n-----END PRIVATE KEY-----'",
            f"'-----BEGIN PRIVATE KEY-----{REDACTED}-----END PRIVATE KEY-----'",
        ),
    ],
)
def test_unambiguous_secrets_are_masked_and_the_sql_still_reads(secret_part: str, masked_part: str) -> None:
    template = "SELECT {} AS v, 'ana@hotel.co'::text AS e, 'active'::text AS s WHERE id = 42"
    assert mask_unambiguous(template.format(secret_part)) == template.format(masked_part)


UNAMBIGUOUS_SECRETS = [
    "'postgresql://admin:Pw@db/app'",
    "mysql://u:p%40ss@db:3306/x?ssl=1",
    "AKIAAUDFAKE123456789",
    "aws_secret_access_key=AUDfakeSecretKey/K7MDENG+bPxRfiCYEXAMPLE",
    "'AWS_Secret-Access-Key' => 'AUDwJalrXUtnFEMI/K7MDENG'",
    "ghp_AUD0fake1token2with3thirty4six5chars",
    "github_pat_11AUDFAKE0_abcdefghijklmnopqrstuvwxyz0123",
    "glpat-AUDfake1234567890abc",
    "sk_live_AUDfake51abcdef",
    "whsec_AUDfake1234567890abcd",
    "xoxb-123456-AUDfake-token",
    "https://hooks.slack.com/services/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",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJBVUQifQ.c2lnbmF0dXJl",
    "BEARER AUDabc123def456ghi789",
    "4018 1852 9630 7417",
    "4018-1852-9630-7417",
    "3782 822463 10005",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEAUD+x==\n-----END RSA PRIVATE KEY-----",
]
FRAGMENTS = [*UNAMBIGUOUS_SECRETS, "SELECT ", "'", " ", "\n", "id = 42", "2024-01-31", "eyJ", "://", "@", "-"]


@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=8).map("".join))
def test_the_quick_test_never_skips_text_a_rule_would_mask(text: str) -> None:
    """mask_unambiguous skips text its quick test does not match: every text any rule
    changes must match it."""
    assert mask_unambiguous(text) == _mask_each_unambiguous(text)


@pytest.mark.parametrize("secret", UNAMBIGUOUS_SECRETS)
def test_every_unambiguous_secret_passes_the_quick_test(secret: str) -> None:
    assert _mask_each_unambiguous(secret) != secret, secret
    assert _MAYBE_UNAMBIGUOUS.search(secret)
    assert mask_unambiguous(secret) != secret


def test_a_view_holding_a_connection_url_loses_only_the_password() -> None:
    definition = VIEW_DEFINITION.replace("'postgresql://db:5432/app'", "'postgresql://admin:Pw@db/app'")
    masked = mask_unambiguous(definition)
    assert "Pw" not in masked
    assert masked == VIEW_DEFINITION.replace("'postgresql://db:5432/app'", "'postgresql://admin:***@db/app'")


def test_unambiguous_masking_returns_redacted_only_for_what_it_cannot_inspect() -> None:
    assert mask_unambiguous(None) == REDACTED  # type: ignore[arg-type]
    assert mask_unambiguous("[REDACTED] stays as written") == "[REDACTED] stays as written"


# --- mask_secrets: connection errors, with the known password as a whole token only.


@pytest.mark.parametrize(
    "message, password, keep, expected",
    [
        (
            'role "nosuchuser" does not exist',
            "x",
            (),
            'role "nosuchuser" does not exist',
        ),
        (
            "cannot connect to PostgreSQL (host db, port 5432, database postgres): bad",
            "postgres",
            ("app", "postgres", "db"),
            "cannot connect to PostgreSQL (host db, port 5432, database postgres): bad",
        ),
        ("auth failed for x: x is wrong (x)", "x", (), "auth failed for ***: *** is wrong (***)"),
        (
            "host db.app.internal said: app rejected",
            "app",
            ("db.app.internal",),
            "host db.app.internal said: *** rejected",
        ),
        ("password=hunter2 host=db", "other", (), "password=*** host=db"),
        ("postgresql://u:s3cret@db/app failed", None, (), "postgresql://u:***@db/app failed"),
        ("got !pw! back", "!pw!", (), "got *** back"),
    ],
)
def test_mask_secrets_masks_whole_tokens_and_keeps_names(
    message: str, password: str | None, keep: tuple[str, ...], expected: str
) -> None:
    assert mask_secrets(message, password, keep=keep) == expected


def test_connection_errors_keep_their_words_and_names(server) -> None:  # type: ignore[no-untyped-def]
    admin = sa.make_url(server.admin_url)

    def failure(user: str, password: str, database: str) -> str:
        url = admin.set(username=user, password=password, database=database)
        engine = create_engine(parse_url(url.render_as_string(hide_password=False)), SessionSettings())
        try:
            with pytest.raises(DatabaseError) as error:
                connect(engine)
        finally:
            engine.dispose()
        return str(error.value)

    message = failure("nosuchuser", "x", "postgres")
    assert 'role "nosuchuser" does not exist' in message and "***" not in message
    message = failure("nosuchuser", "postgres", "postgres")
    assert "database postgres" in message and "***" not in message
    message = failure(str(admin.username), "x", "nosuch-x")  # `x` is a token in the name only
    assert 'database "nosuch-x" does not exist' in message and "database nosuch-x" in message
    message = failure("nosuchuser", "does", "postgres")  # a password that is a word of the reason
    assert 'role "nosuchuser" *** not exist' in message


# Values the redactor skips the value rules for: as PostgreSQL prints them, under every
# DateStyle and IntervalStyle, they are published as printed. For all but intervals that is
# what the value rules gave anyway; an ISO 8601 interval (`P-178956970Y-2147483648DT...`)
# read to them as a random token.
FIXED_FORM_VALUES = """
SELECT * FROM (VALUES
  ('uuid', gen_random_uuid()::text), ('uuid', '41111111-1111-1111-1111-111111111111'::uuid::text),
  ('uuid', '00000000-0000-0000-0000-000000000000'::uuid::text),
  ('boolean', true::text), ('boolean', false::text),
  ('timestamp with time zone', now()::text), ('date', now()::date::text),
  ('time without time zone', now()::time::text), ('time with time zone', now()::timetz::text),
  ('timestamp with time zone', '4111-11-11 11:11:11.111111+11'::timestamptz::text),
  ('date', '0044-03-15 BC'::date::text), ('timestamp with time zone', 'infinity'::timestamptz::text),
  ('date', '-infinity'::date::text), ('date', '294276-12-31'::date::text),
  ('timestamp(0) without time zone', now()::timestamp(0)::text),
  ('time with time zone', '12:34:56+05:30'::timetz::text),
  ('interval', '4111 years 11 mons 1111 days 11:11:11.111111'::interval::text),
  ('interval', '-178956970 years -2147483648 days -2562047:00:54.775808'::interval::text)
) AS t(type, value)
"""


def test_uuids_booleans_and_times_are_published_as_printed(server) -> None:  # type: ignore[no-untyped-def]
    engine = sa.create_engine(server.admin_url)
    values = []
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT set_config('timezone', 'Asia/Kolkata', false)"))
            for style in ("ISO, MDY", "SQL, DMY", "Postgres, MDY", "German, DMY"):
                for interval in ("postgres", "postgres_verbose", "sql_standard", "iso_8601"):
                    conn.execute(sa.text("SELECT set_config('datestyle', :s, false)"), {"s": style})
                    conn.execute(sa.text("SELECT set_config('intervalstyle', :s, false)"), {"s": interval})
                    values += conn.execute(sa.text(FIXED_FORM_VALUES)).all()
    finally:
        engine.dispose()
    assert any(value.startswith("P-178956970Y") for _, value in values)  # ISO 8601 was among them
    redactor = Redactor()
    for type_name, value in values:
        assert cell("note", value, type_name, redactor) == Masked(value), (type_name, value)
        if type_name != "interval":  # skipping the value rules changed nothing but the time
            hits: set[str] = set()
            assert redactor._by_value(value, hits, Pseudonyms()) == value and not hits, value


@given(st.uuids())
def test_value_rules_find_nothing_in_any_uuid(value: object) -> None:
    hits: set[str] = set()
    assert Redactor()._by_value(str(value), hits, Pseudonyms()) == str(value) and not hits


def test_a_uuid_column_named_as_a_secret_is_still_masked() -> None:
    token = "6f1c2a9e-3b7d-4c55-9e21-0a8b7c6d5e4f"
    assert cell("reset_token", token, "uuid").text != token
    assert cell("guest_id", token, "uuid").text == token
