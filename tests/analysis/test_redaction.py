"""The redactor on its own: column rules, value rules, JSON at any depth."""

from __future__ import annotations

import json
import time

import pytest

from mkdocs_dbschema.analysis.redaction import REDACTED, Pseudonyms, Redactor, mask_url, redact_sample
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
    table = Table("public.v", "public", "v", "v", "view", None, None, 0, 0, 0, False, False)
    raw = RawSample(
        ("id",),
        (),
        (),
        "rows could not be read: bad row for guest AUDnote@example.com with phone 415-555-2671",
        True,
    )
    note = redact_sample(raw, table, 5, Redactor(), 80).note
    assert note == "rows could not be read: bad row for guest •••@•••.com with phone •••-•••-••••"
    assert redact_sample(raw, table, 5, None, 80).note == raw.note  # redaction off: as read


def test_long_values_are_scanned_in_linear_time() -> None:
    # Every `a` after a `-` could open a URL scheme: an unbounded scheme made this quadratic.
    started = time.monotonic()
    for value in ("a-" * 100_000, "a1/" * 70_000, "12 " * 70_000, "password=" * 20_000):
        cell("notes", value)
    assert time.monotonic() - started < 5


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
_ADVERSARIAL = ("http://a/?b=", "%2F", "@", "password=", "'", '"', "eyJ", "1", " ")


@pytest.mark.parametrize(
    "value",
    ["http://x/?" * 150]
    + [piece * (200_000 // len(piece)) for piece in _ADVERSARIAL]
    + ["".join(_ADVERSARIAL) * (200_000 // len("".join(_ADVERSARIAL)))]
    + ["".join(reversed(_ADVERSARIAL)) * (200_000 // len("".join(_ADVERSARIAL)))]
    + ["http://a/?b=%2F@password='\"eyJ1 " * 6_000, "http://a/?next=" * 15_000],
)
def test_no_input_makes_a_cell_raise_or_hang(value: str) -> None:
    for column, type_name, text in [
        ("notes", "text", value),
        ("callback_url", "text", value),
        ("guest_phone", "text", value),
        ("payload", "jsonb", json.dumps({"note": value, "callback_url": value})),
    ]:
        started = time.monotonic()
        result = cell(column, text, type_name)
        assert result.text is not None and time.monotonic() - started < 2, (column, value[:40])


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
